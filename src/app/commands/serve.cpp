// `mailtrixy serve`: loads the configuration, opens the encrypted store, makes sure a certificate
// exists, starts sign-in (integration, accounts, token refresh), the web listener and the
// loopback control endpoint, and runs until SIGTERM or SIGINT.

#include <signal.h>

#include <chrono>
#include <cstdlib>
#include <string>

#include "../command.hpp"
#include "../startup.hpp"
#include "mailtrixy/auth/accounts.hpp"
#include "mailtrixy/auth/integration.hpp"
#include "mailtrixy/auth/oauth.hpp"
#include "mailtrixy/auth/token_manager.hpp"
#include "mailtrixy/base/log.hpp"
#include "mailtrixy/config/load.hpp"
#include "mailtrixy/crypto/random.hpp"
#include "mailtrixy/net/certificate.hpp"
#include "mailtrixy/net/http_client.hpp"
#include "mailtrixy/net/http_server.hpp"
#include "mailtrixy/net/tls.hpp"
#include "mailtrixy/web/control.hpp"
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
// The callback handler blocks for two HTTPS calls to Microsoft; a few threads keep the other
// pages responsive meanwhile.
constexpr int kWebThreads = 4;

std::string token_metrics(const auth::TokenManager& tokens) {
  return "# HELP mailtrixy_token_refresh_requests_total Refresh-token grants sent to Microsoft.\n"
         "# TYPE mailtrixy_token_refresh_requests_total counter\n"
         "mailtrixy_token_refresh_requests_total " +
         std::to_string(tokens.refresh_requests()) + "\n";
}

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

  // Sign-in: the app registration, the accounts, and the token refresher. Destroyed in reverse
  // order (tokens before the HTTP client before the accounts before the store).
  auto integration = auth::Integration::load(*settings, **store, config::process_environment());
  if (!integration) {
    print_error(integration.error().message);
    return kRuntimeFailure;
  }
  auth::AccountStore accounts(**store);
  net::HttpClientOptions client_options;
  client_options.extra_ca_file = (*integration)->current().ca_file;
  client_options.threads = 2;
  auto http = net::HttpClient::create(client_options);
  if (!http) {
    print_error("microsoft.ca_file: " + http.error().message);
    return kRuntimeFailure;
  }
  auth::SignInFlow sign_in(**integration, accounts, **http);
  auth::TokenManager tokens(**integration, accounts, **http);
  // The sync engine will start the initial sync from this event; until it exists the event is
  // recorded in the log so an operator can see the hand-over happen.
  accounts.subscribe_account_connected([](const auth::Account& account, bool relinked) {
    log::info("initial sync requested", {{"account", account.key}, {"relinked", relinked ? "yes" : "no"}});
  });
  tokens.start();

  net::HttpServerOptions web_options;
  web_options.listen = settings->web.listen;
  web_options.threads = kWebThreads;
  if (settings->web.tls) web_options.tls = net::TlsFiles{tls.cert, tls.key};
  web::WebDependencies web_dependencies;
  web_dependencies.settings = &*settings;
  web_dependencies.store = store->get();
  web_dependencies.integration = integration->get();
  web_dependencies.accounts = &accounts;
  web_dependencies.sign_in = &sign_in;
  web_dependencies.version = MAILTRIXY_VERSION;
  web_dependencies.health = [&settings = *settings] { return health_report(settings); };
  web_dependencies.metrics = [&tokens] { return token_metrics(tokens); };
  auto web_server = net::HttpServer::start(web_options, web::make_web_handler(std::move(web_dependencies)));
  if (!web_server) {
    print_error("web.listen: " + web_server.error().message);
    return kRuntimeFailure;
  }

  // The loopback control endpoint for `mailtrixy accounts remove|reset-password` while the
  // bridge holds the database (docs/adr/0004-cli-while-running.md).
  Secret<std::string> control_token(crypto::random_token(32));
  net::HttpServerOptions control_options;
  control_options.listen = "127.0.0.1:0";
  control_options.threads = 1;
  control_options.max_body_bytes = 4096;
  auto control_server =
      net::HttpServer::start(control_options, web::make_control_handler({&accounts, control_token}));
  if (!control_server) {
    print_error("cannot start the loopback control endpoint: " + control_server.error().message);
    return kRuntimeFailure;
  }
  if (auto written = web::write_control_file(settings->data_dir,
                                             {"http://" + (*control_server)->address(), control_token});
      !written) {
    print_error(written.error().message);
    return kRuntimeFailure;
  }

  const std::string scheme = settings->web.tls ? "https" : "http";
  log::info("web listening",
            {{"url", scheme + "://" + (*web_server)->address()}, {"public_url", settings->public_url}});
  log::info("mailtrixy started", {{"version", MAILTRIXY_VERSION}, {"data_dir", settings->data_dir.string()}});

  int signal_number = 0;
  sigwait(&shutdown_signals, &signal_number);
  log::info("shutting down", {{"signal", signal_number == SIGTERM ? "SIGTERM" : "SIGINT"}});
  web::remove_control_file(settings->data_dir);
  (*control_server)->stop(std::chrono::milliseconds(500));
  (*web_server)->stop(std::chrono::duration_cast<std::chrono::milliseconds>(kShutdownGrace));
  control_server->reset();
  web_server->reset();
  tokens.stop();
  (*http)->stop();
  if (auto flushed = (*store)->flush(); !flushed) {
    log::error("could not flush the database at shutdown", {{"error", flushed.error().message}});
  }
  log::info("stopped cleanly");
  return kSuccess;
}

}  // namespace mailtrixy::app
