// `mailtrixy serve`: loads the configuration, opens the encrypted store, makes sure a certificate
// exists, starts the listeners and runs until SIGTERM or SIGINT.

#include <signal.h>

#include <chrono>
#include <cstdlib>
#include <string>

#include "../command.hpp"
#include "../startup.hpp"
#include "mailtrixy/base/log.hpp"
#include "mailtrixy/net/http_server.hpp"
#include "mailtrixy/net/certificate.hpp"
#include "mailtrixy/net/tls.hpp"
#include "mailtrixy/web/server.hpp"

namespace mailtrixy::app {
namespace {

// Shutdown signals are blocked in every thread (the mask is inherited by threads started later)
// and taken synchronously by the main thread with sigwait, so no handler runs in signal context.
sigset_t block_shutdown_signals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  return signals;
}

constexpr std::chrono::seconds kShutdownGrace{3};

}  // namespace

int run_serve(const CommandContext& context) {
  if (!context.args.empty()) {
    print_error("serve takes no arguments besides --config");
    return kUsageError;
  }
  const sigset_t shutdown_signals = block_shutdown_signals();

  auto settings = load_settings_or_report(context.config_path);
  if (!settings) return kUsageError;
  log::configure(settings->log.level, settings->log.format);
  if (!report_startup_diagnoses(*settings)) return kUsageError;

  auto store = open_store(*settings);
  if (!store) {
    print_error(store.error().message);
    return kRuntimeFailure;
  }

  const config::TlsSettings& tls = settings->tls;
  auto created = net::ensure_self_signed_certificate(tls.cert, tls.key);
  if (!created) {
    print_error(created.error().message);
    return kRuntimeFailure;
  }
  if (*created) {
    log::info("generated a self-signed certificate for localhost and 127.0.0.1",
              {{"cert", tls.cert.string()}, {"key", tls.key.string()}});
  }

  net::HttpServerOptions web_options;
  web_options.listen = settings->web.listen;
  if (settings->web.tls) web_options.tls = net::TlsFiles{tls.cert, tls.key};
  web::WebDependencies web_dependencies;
  web_dependencies.version = MAILTRIXY_VERSION;
  web_dependencies.health = [&settings = *settings] { return health_report(settings); };
  auto web_server = net::HttpServer::start(web_options, web::make_web_handler(std::move(web_dependencies)));
  if (!web_server) {
    print_error("web.listen: " + web_server.error().message);
    return kRuntimeFailure;
  }
  const std::string scheme = settings->web.tls ? "https" : "http";
  log::info("web listening", {{"url", scheme + "://" + (*web_server)->address()},
                              {"public_url", settings->public_url}});
  log::info("mailtrixy started", {{"version", MAILTRIXY_VERSION}, {"data_dir", settings->data_dir.string()}});

  int signal_number = 0;
  sigwait(&shutdown_signals, &signal_number);
  log::info("shutting down", {{"signal", signal_number == SIGTERM ? "SIGTERM" : "SIGINT"}});
  (*web_server)->stop(std::chrono::duration_cast<std::chrono::milliseconds>(kShutdownGrace));
  web_server->reset();
  if (auto flushed = (*store)->flush(); !flushed) {
    log::error("could not flush the database at shutdown", {{"error", flushed.error().message}});
  }
  store->reset();
  log::info("stopped cleanly");
  return kSuccess;
}

}  // namespace mailtrixy::app
