// `mailtrixy serve`: loads the configuration, opens the encrypted store, makes sure a certificate
// exists, starts sign-in (integration, accounts, token refresh), the web listener and the
// loopback control endpoint, and runs until SIGTERM or SIGINT.

#include <malloc.h>
#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "../backup.hpp"
#include "../command.hpp"
#include "../login_service.hpp"
#include "../startup.hpp"
#include "mailtrixy/auth/accounts.hpp"
#include "mailtrixy/auth/integration.hpp"
#include "mailtrixy/auth/oauth.hpp"
#include "mailtrixy/auth/token_manager.hpp"
#include "mailtrixy/base/log.hpp"
#include "mailtrixy/base/metrics.hpp"
#include "mailtrixy/config/address_range.hpp"
#include "mailtrixy/config/load.hpp"
#include "mailtrixy/crypto/random.hpp"
#include "mailtrixy/graph/graph_client.hpp"
#include "mailtrixy/graph/graph_remote_mailbox.hpp"
#include "mailtrixy/imap/server.hpp"
#include "mailtrixy/imap/structure_cache.hpp"
#include "mailtrixy/net/certificate.hpp"
#include "mailtrixy/net/http_client.hpp"
#include "mailtrixy/net/http_server.hpp"
#include "mailtrixy/net/tls.hpp"
#include "mailtrixy/outbox/graph_channel.hpp"
#include "mailtrixy/outbox/outbox.hpp"
#include "mailtrixy/smtp/server.hpp"
#include "mailtrixy/sync/sync_engine.hpp"
#include "mailtrixy/web/control.hpp"
#include "mailtrixy/web/mail_proxy.hpp"
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

// Waits for SIGTERM or SIGINT on the main thread and returns it. Once a minute meanwhile it
// hands the pages of freed heap memory back to the system: glibc returns only the top of each
// arena on its own, so the RSS of a server whose memory churns (connections, bodies, memtables)
// otherwise keeps every page it ever freed inside an arena (docs/soak.md).
int wait_for_shutdown_signal(const sigset_t& signals) {
  const timespec interval{60, 0};
  for (;;) {
    const int signal_number = ::sigtimedwait(&signals, nullptr, &interval);
    if (signal_number > 0) return signal_number;
    if (errno == EAGAIN) ::malloc_trim(0);
  }
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

// The bounded memory the bridge holds besides its connections (docs/operations.md).
std::string memory_metrics(const store::Store& store, const imap::StructureCache& structures) {
  const store::Store::MemoryUsage usage = store.memory_usage();
  const imap::StructureCache::Stats cached = structures.stats();
  return "# HELP mailtrixy_store_memory_bytes Memory the database holds, by part.\n"
         "# TYPE mailtrixy_store_memory_bytes gauge\n"
         "mailtrixy_store_memory_bytes{part=\"block_cache\"} " + std::to_string(usage.block_cache) + "\n"
         "mailtrixy_store_memory_bytes{part=\"memtables\"} " + std::to_string(usage.memtables) + "\n"
         "mailtrixy_store_memory_bytes{part=\"table_readers\"} " + std::to_string(usage.table_readers) + "\n"
         "# HELP mailtrixy_imap_structure_cache_bytes Estimated memory of the parsed MIME structures IMAP keeps.\n"
         "# TYPE mailtrixy_imap_structure_cache_bytes gauge\n"
         "mailtrixy_imap_structure_cache_bytes " + std::to_string(cached.bytes) + "\n";
}

// One account's Graph client and the RemoteMailbox over it, kept alive together by the
// shared_ptr the sync engine holds.
struct GraphMailbox {
  std::unique_ptr<graph::GraphClient> client;
  std::unique_ptr<graph::GraphRemoteMailbox> mailbox;
};

// Every Graph client made, so shutdown can wake calls sleeping in a retry before joining the
// sync workers.
struct GraphClients {
  std::mutex mutex;
  std::vector<std::weak_ptr<GraphMailbox>> made;
  void stop_all() {
    std::lock_guard lock(mutex);
    for (auto& weak : made)
      if (auto holder = weak.lock()) holder->client->stop();
  }
};

std::shared_ptr<mail::RemoteMailbox> make_remote(net::HttpClient& http, auth::TokenManager& tokens,
                                                 const config::Settings& settings, const std::string& key,
                                                 GraphClients& clients) {
  graph::GraphClientOptions options;
  options.graph_url = settings.microsoft.graph_url;
  options.mailbox_key = key;
  auto client = graph::GraphClient::create(http, graph::token_source(tokens, key), options);
  if (!client) {
    log::error("cannot create the Graph client; the account is not synced",
               {{"account", key}, {"reason", client.error().message}});
    return nullptr;
  }
  auto holder = std::make_shared<GraphMailbox>();
  holder->client = std::move(client.value());
  holder->mailbox = std::make_unique<graph::GraphRemoteMailbox>(*holder->client);
  {
    std::lock_guard lock(clients.mutex);
    std::erase_if(clients.made, [](const auto& weak) { return weak.expired(); });
    clients.made.push_back(holder);
  }
  return std::shared_ptr<mail::RemoteMailbox>(holder, holder->mailbox.get());
}

// `mailtrixy queue retry|drop` while the bridge runs (through the control endpoint).
std::function<std::pair<int, std::string>(std::string_view, std::string_view)> queue_control(outbox::Outbox& queue) {
  return [&queue](std::string_view action, std::string_view id) -> std::pair<int, std::string> {
    auto changed = action == "retry" ? queue.retry(id) : queue.drop(id);
    if (!changed) {
      const int status = changed.code() == mail::ErrorCode::not_found     ? 404
                         : changed.code() == mail::ErrorCode::unavailable ? 409
                                                                          : 500;
      return {status, changed.error().message};
    }
    if (action == "retry") return {200, "Message " + std::string(id) + " will be tried again now."};
    return {200, "Dropped message " + std::string(id) + " from " + changed->envelope_from + "; it will not be sent."};
  };
}

// `mailtrixy backup` while the bridge runs (through the control endpoint).
std::function<std::pair<int, std::string>(const std::string&, bool)> backup_control(const store::Store& store,
                                                                                   const config::Settings& settings) {
  return [&store, &settings](const std::string& to, bool include_master_key) -> std::pair<int, std::string> {
    auto written = write_backup(store, settings, BackupRequest{to, include_master_key});
    if (!written) return {400, written.error().message};
    log::info("backup written", {{"to", to}, {"master_key", include_master_key ? "yes" : "no"}});
    return {200, *written};
  };
}

}  // namespace

int run_serve(const CommandContext& context) {
  if (!context.args.empty()) {
    print_error("serve takes no arguments besides --config");
    return kUsageError;
  }
  const sigset_t shutdown_signals = block_shutdown_signals();
  // Every IMAP/SMTP login runs scrypt with a 32 MiB working area. glibc raises its mmap threshold
  // after the first such buffer is freed, so later ones would come from, and stay in, the heap
  // arena of whichever worker thread checked the password (tens of MiB per arena, for good). A
  // fixed threshold keeps large buffers in mmap: returned to the system as soon as they are freed.
  mallopt(M_MMAP_THRESHOLD, 256 * 1024);

  auto settings = load_settings_or_report(context.config_path);
  if (!settings) return kUsageError;
  log::configure(settings->log.level, settings->log.format);
  if (!report_startup_diagnoses(*settings)) return kUsageError;
  metrics::register_process_metrics(metrics::global(), MAILTRIXY_VERSION);

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
  tokens.start();

  // Sync: one worker per account, started for every active account now and for every account
  // that signs in later (the account-connected event). Stopped before the token manager and the
  // HTTP client it uses.
  sync::SyncOptions sync_options;
  sync_options.poll_interval = settings->sync.poll_interval;
  sync_options.idle_poll_interval = settings->sync.idle_poll_interval;
  sync_options.body_cache_bytes = settings->sync.body_cache_bytes;
  // Slices of up to 10 downloads, paced to the configured rate.
  sync_options.prefetch_slice = static_cast<std::size_t>(std::min<std::uint64_t>(10, settings->sync.size_learning_per_minute));
  if (sync_options.prefetch_slice > 0) {
    sync_options.prefetch_pause = std::chrono::milliseconds(60'000 * sync_options.prefetch_slice / settings->sync.size_learning_per_minute);
  }
  sync_options.account_exists = [&accounts](const std::string& key) {
    auto found = accounts.find(key);
    return !found.ok() || found.value().has_value();  // a read error is not a removal
  };
  GraphClients graph_clients;
  sync::SyncEngine sync_engine(**store, sync_options);
  if (auto opened = sync_engine.open(); !opened) {
    print_error("cannot read the message body cache: " + opened.error().message);
    return kRuntimeFailure;
  }
  // The outbound SMTP queue (mail::SubmissionQueue for the SMTP server): messages left by an
  // earlier run are delivered as soon as their account's worker starts, next to its sync.
  outbox::OutboxOptions outbox_options;
  outbox_options.max_message_bytes = settings->smtp.max_message_bytes;
  outbox_options.retry_for = settings->queue.retry_for;
  outbox_options.backoff_initial = settings->queue.backoff_initial;
  outbox_options.backoff_max = settings->queue.backoff_max;
  auto outbox = outbox::Outbox::open(**store, outbox_options);
  if (!outbox) {
    print_error(outbox.error().message);
    return kRuntimeFailure;
  }
  mail::SubmissionQueue& submission_queue = **outbox;
  auto start_outbox = [&](const std::string& key) {
    graph::GraphClientOptions options;
    options.graph_url = settings->microsoft.graph_url;
    options.mailbox_key = key;
    auto channel = outbox::GraphDeliveryChannel::create(**http, graph::token_source(tokens, key), options);
    if (!channel) {
      log::error("cannot create the Graph client; queued mail of the account waits",
                 {{"account", key}, {"reason", channel.error().message}});
      return;
    }
    (*outbox)->start_account(key, std::move(channel).value());
  };
  auto start_sync = [&](const std::string& key) -> std::shared_ptr<sync::SyncedMailbox> {
    std::shared_ptr<sync::SyncedMailbox> mailbox;
    if (auto remote = make_remote(**http, tokens, *settings, key, graph_clients)) {
      mailbox = sync_engine.start_account(key, std::move(remote));
      if (mailbox) {
        mailbox->set_sent_copy_check([queue = outbox->get(), key](std::string_view message_id) {
          return queue->recently_sent(key, message_id);
        });
      }
    }
    start_outbox(key);
    return mailbox;
  };
  accounts.subscribe_account_connected([&start_sync](const auth::Account& account, bool relinked) {
    log::info("initial sync requested", {{"account", account.key}, {"relinked", relinked ? "yes" : "no"}});
    start_sync(account.key);
  });
  if (auto linked = accounts.list(); linked) {
    for (const auth::Account& account : *linked)
      if (account.status == auth::AccountStatus::active) start_sync(account.key);
  } else {
    log::error("cannot list the accounts to sync", {{"reason", linked.error().message}});
  }
  // Bridge-password logins for the IMAP and SMTP front-ends (src/app/login_service.hpp).
  BridgeLoginService logins(accounts, sync_engine, start_sync, settings->public_url);
  // Mail proxies in front of several bridges (cluster.trusted_proxies, docs/scaling.md) may LOGIN
  // over plain IMAP and hand SMTP sessions over with XCLIENT. Validated by the loader already.
  auto trusted_proxies = std::make_shared<config::AddressRanges>();
  if (auto parsed = config::AddressRanges::parse(settings->cluster.trusted_proxies)) *trusted_proxies = *parsed;
  auto is_trusted_proxy = [trusted_proxies](std::string_view peer) { return trusted_proxies->contains(peer); };
  // IMAP: after the sync engine (sessions use its mailboxes), stopped before it.
  std::unique_ptr<imap::ImapServer> imap_server;
  auto structure_cache = std::make_shared<imap::StructureCache>();
  if (!settings->imap.listen.empty() || !settings->imap.tls_listen.empty()) {
    imap::ImapServerOptions imap_options;
    imap_options.listen = settings->imap.listen;
    imap_options.tls_listen = settings->imap.tls_listen;
    imap_options.tls = net::TlsFiles{tls.cert, tls.key};
    imap_options.is_trusted_proxy = is_trusted_proxy;
    imap::SessionOptions session_options;
    session_options.version = MAILTRIXY_VERSION;
    session_options.structure_cache = structure_cache;
    auto started = imap::ImapServer::start(imap_options, imap::session_factory(session_options, logins));
    if (!started) {
      print_error(started.error().message);
      return kRuntimeFailure;
    }
    imap_server = std::move(*started);
  }
  // SMTP submission (docs/smtp.md): after the outbox that takes its messages; stopped first at
  // shutdown, so clients get "421 4.3.2" while the queue behind it still accepts.
  std::unique_ptr<smtp::SmtpServer> smtp_server;
  if (!settings->smtp.listen.empty() || !settings->smtp.tls_listen.empty()) {
    smtp::ServerOptions smtp_options;
    smtp_options.listen = settings->smtp.listen;
    smtp_options.tls_listen = settings->smtp.tls_listen;
    smtp_options.tls = net::TlsFiles{tls.cert, tls.key};
    smtp_options.session.max_message_bytes = settings->smtp.max_message_bytes;
    smtp_options.is_trusted_proxy = is_trusted_proxy;
    // XCLIENT LOGIN: the proxy checked the password through /mail-proxy/auth; only the account's
    // presence and state are checked here.
    smtp_options.session.proxy_login = [&accounts, reconnect = BridgeLoginService::reconnect_url(settings->public_url)](
                                           std::string_view user, std::string_view) {
      mail::LoginResult result;
      auto account = accounts.find_by_address(user);
      if (!account) {
        result.outcome = mail::LoginResult::Outcome::unavailable;
        result.message = account.error().message;
        return result;
      }
      if (!*account) {
        result.outcome = mail::LoginResult::Outcome::wrong_credentials;
        return result;
      }
      result.account_key = (*account)->key;
      result.address = (*account)->address;
      result.outcome = (*account)->status == auth::AccountStatus::needs_sign_in
                           ? mail::LoginResult::Outcome::needs_sign_in
                           : mail::LoginResult::Outcome::ok;
      if (result.outcome == mail::LoginResult::Outcome::needs_sign_in) result.reconnect_url = reconnect;
      return result;
    };
    auto started = smtp::SmtpServer::start(std::move(smtp_options), logins, submission_queue);
    if (!started) {
      print_error(started.error().message);
      return kRuntimeFailure;
    }
    smtp_server = std::move(*started);
  }

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
  web_dependencies.health = [&settings = *settings, queue = outbox->get(), &sync_engine, &accounts] {
    web::HealthReport report = health_report(settings);
    if (auto backlog = queue->backlog_warning(std::chrono::minutes(15)); !backlog.empty())
      report.reasons.push_back(std::move(backlog));
    append_sync_failures(report, sync_engine, accounts, 3 * settings.sync.poll_interval);
    return report;
  };
  // GET /mail-proxy/auth for nginx's mail proxy (docs/scaling.md); off without a key.
  std::unique_ptr<net::HttpClient> peer_client;
  if (!settings->cluster.auth_http_key.empty()) {
    web::MailProxyOptions proxy_options;
    proxy_options.key = settings->cluster.auth_http_key;
    proxy_options.imap_backend = !settings->cluster.imap_backend.empty() ? settings->cluster.imap_backend
                                 : imap_server                             ? imap_server->address()
                                                                           : std::string();
    proxy_options.smtp_backend = !settings->cluster.smtp_backend.empty() ? settings->cluster.smtp_backend
                                 : smtp_server                             ? smtp_server->address()
                                                                           : std::string();
    proxy_options.peers = settings->cluster.peers;
    web::PeerTransport transport;
    if (!proxy_options.peers.empty()) {
      net::HttpClientOptions peer_options;
      peer_options.extra_ca_file = settings->cluster.peer_ca_file;
      peer_options.connect_timeout = std::chrono::seconds(3);
      auto created_client = net::HttpClient::create(peer_options);
      if (!created_client) {
        print_error("cluster.peer_ca_file: " + created_client.error().message);
        return kRuntimeFailure;
      }
      peer_client = std::move(*created_client);
      transport = [client = peer_client.get()](const net::HttpClientRequest& request) { return client->send(request); };
    }
    auto endpoint = web::MailProxyEndpoint::create(
        std::move(proxy_options), logins,
        [&accounts](std::string_view address) -> Result<bool> {
          auto account = accounts.find_by_address(address);
          if (!account) return make_error(account.error().message);
          return account->has_value();
        },
        std::move(transport));
    if (!endpoint) {
      print_error("cluster: " + endpoint.error().message);
      return kRuntimeFailure;
    }
    web_dependencies.mail_proxy = std::move(*endpoint);
  }
  web_dependencies.metrics = [&tokens, queue = outbox->get(), database = store->get(), structure_cache] {
    return token_metrics(tokens) + memory_metrics(*database, *structure_cache) +
           outbox::metrics_text(queue->stats()) + metrics::global().render();
  };
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
      net::HttpServer::start(control_options, web::make_control_handler({&accounts, control_token,
                                                                         queue_control(**outbox),
                                                                         backup_control(**store, *settings)}));
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
  if (imap_server && imap_server->port() != 0)
    log::info("imap listening", {{"address", imap_server->address()}, {"starttls", "yes"}});
  if (imap_server && imap_server->tls_port() != 0)
    log::info("imaps listening", {{"address", imap_server->tls_address()}});
  log::info("mailtrixy started", {{"version", MAILTRIXY_VERSION}, {"data_dir", settings->data_dir.string()}});

  const int signal_number = wait_for_shutdown_signal(shutdown_signals);
  log::info("shutting down", {{"signal", signal_number == SIGTERM ? "SIGTERM" : "SIGINT"}});
  if (smtp_server) smtp_server->stop(std::chrono::duration_cast<std::chrono::milliseconds>(kShutdownGrace));
  smtp_server.reset();
  web::remove_control_file(settings->data_dir);
  (*control_server)->stop(std::chrono::milliseconds(500));
  (*web_server)->stop(std::chrono::duration_cast<std::chrono::milliseconds>(kShutdownGrace));
  control_server->reset();
  web_server->reset();
  if (imap_server) imap_server->stop(std::chrono::duration_cast<std::chrono::milliseconds>(kShutdownGrace));
  imap_server.reset();
  graph_clients.stop_all();
  (*outbox)->stop();
  sync_engine.stop();
  tokens.stop();
  (*http)->stop();
  if (auto flushed = (*store)->flush(); !flushed) {
    log::error("could not flush the database at shutdown", {{"error", flushed.error().message}});
  }
  log::info("stopped cleanly");
  return kSuccess;
}

}  // namespace mailtrixy::app
