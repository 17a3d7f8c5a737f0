// mailtrixy-emulator: a local stand-in for login.microsoftonline.com and graph.microsoft.com.
// Parses the command line, seeds the mailboxes, listens, prints the ready line and runs until
// SIGTERM or SIGINT. Exit codes: 0 clean stop, 1 runtime failure (certificate, port), 2 usage
// errors (options, seeds).

#include <signal.h>

#include <atomic>
#include <cstdio>
#include <string>
#include <vector>

#include "core.hpp"
#include "mailtrixy/base/log.hpp"
#include "mailtrixy/net/certificate.hpp"
#include "mailtrixy/net/http_server.hpp"
#include "options.hpp"

namespace mailtrixy::emulator {
namespace {

constexpr int kSuccess = 0;
constexpr int kRuntimeFailure = 1;
constexpr int kUsageError = 2;

void print_error(std::string_view message) {
  std::fprintf(stderr, "mailtrixy-emulator: %.*s\n", static_cast<int>(message.size()), message.data());
}

int run(int argc, char** argv) {
  // Shutdown signals are taken synchronously by this thread (sigwait); every thread started
  // later inherits the mask.
  sigset_t shutdown_signals;
  sigemptyset(&shutdown_signals);
  sigaddset(&shutdown_signals, SIGTERM);
  sigaddset(&shutdown_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &shutdown_signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  const std::vector<std::string_view> arguments(argv + 1, argv + argc);
  auto command_line = parse_command_line(arguments);
  if (!command_line) {
    print_error(command_line.error().message);
    return kUsageError;
  }
  if (command_line->help) {
    std::fputs(std::string(usage_text()).c_str(), stdout);
    return kSuccess;
  }
  EmulatorOptions& options = command_line->options;
  log::configure(log::Level::info, log::Format::text);

  auto created = net::ensure_self_signed_certificate(options.cert, options.key);
  if (!created) {
    print_error(created.error().message);
    return kRuntimeFailure;
  }
  auto signer = JwtSigner::generate();
  if (!signer) {
    print_error(signer.error().message);
    return kRuntimeFailure;
  }

  World world(options);
  for (const auto& [address, directory] : options.seeds) {
    User* user = world.find_user_by_address(address);
    auto seeded = user->mailbox->seed_from_directory(directory);
    if (!seeded) {
      print_error("--seed " + address + "=" + directory.string() + ": " + seeded.error().message);
      return kUsageError;
    }
  }

  // Requests that arrive before the base URL is known (an explicit port can be hit at once)
  // wait for nothing: they get a 503 until the emulator is ready.
  std::atomic<bool> ready{false};
  net::HttpHandler handler = make_emulator_handler(CoreServices{world, *signer});
  net::HttpServerOptions server_options;
  server_options.listen = options.listen;
  server_options.tls = net::TlsFiles{options.cert, options.key};
  server_options.threads = options.threads;
  server_options.max_body_bytes = 160 * 1024 * 1024;
  auto server = net::HttpServer::start(
      server_options, [&ready, handler = std::move(handler)](const net::HttpRequest& request) {
        if (!ready.load(std::memory_order_acquire)) {
          return net::HttpResponse::text(503, "mailtrixy-emulator is starting\n");
        }
        return handler(request);
      });
  if (!server) {
    print_error("--listen " + options.listen + ": " + server.error().message);
    return kRuntimeFailure;
  }
  const std::string base_url = "https://" + (*server)->address();
  world.set_base_url(base_url);
  ready.store(true, std::memory_order_release);
  log::info("emulator ready", {{"url", base_url},
                               {"users", static_cast<int>(world.users().size())},
                               {"clients", static_cast<int>(options.clients.size())}});
  std::printf("mailtrixy-emulator listening on %s\n", base_url.c_str());
  std::fflush(stdout);

  int signal_number = 0;
  sigwait(&shutdown_signals, &signal_number);
  log::info("emulator stopping", {{"signal", signal_number == SIGTERM ? "SIGTERM" : "SIGINT"}});
  (*server)->stop(std::chrono::milliseconds(2000));
  server->reset();
  log::info("emulator stopped");
  return kSuccess;
}

}  // namespace
}  // namespace mailtrixy::emulator

int main(int argc, char** argv) { return mailtrixy::emulator::run(argc, argv); }
