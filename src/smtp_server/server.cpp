#include "mailtrixy/smtp/server.hpp"

#include <openssl/ssl.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <condition_variable>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "mailtrixy/base/log.hpp"
#include "mailtrixy/base/metrics.hpp"
#include "mailtrixy/net/listen_address.hpp"
#include "mailtrixy/smtp/reply.hpp"

namespace mailtrixy::smtp {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

std::string lower_first(std::string text) {
  if (!text.empty()) text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
  return text;
}

Error listen_error(const std::string& key, const std::string& address, const error_code& ec) {
  std::string message = key + ": cannot listen on " + address + ": " + lower_first(ec.message());
  if (ec == asio::error::address_in_use) {
    message += "; another program (or another bridge) uses that port, stop it or choose another port";
  } else if (ec == asio::error::access_denied) {
    message += "; ports below 1024 need extra privileges, choose a port above 1023";
  } else if (ec == boost::system::errc::address_not_available) {
    message += "; that address does not belong to this machine, use 127.0.0.1 or 0.0.0.0";
  }
  return make_error(std::move(message));
}

bool is_loopback(const asio::ip::address& address) {
  if (address.is_loopback()) return true;
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    return asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6()).is_loopback();
  }
  return false;
}

// Connection series for /metrics, by listener ("smtp": plain with STARTTLS, "smtps": implicit TLS).
metrics::ConnectionSeries& connection_metrics() {
  static metrics::ConnectionSeries series = metrics::connection_series(metrics::global(), "smtp");
  return series;
}

std::string_view listener_name(bool implicit_tls) { return implicit_tls ? "smtps" : "smtp"; }

struct Listener {
  std::string key;  // "smtp.listen" / "smtp.tls_listen", for messages
  bool implicit_tls = false;
  std::optional<tcp::acceptor> acceptor;
  std::string bound_address;
};

}  // namespace

class Connection;

struct SmtpServer::Core {
  Core(ServerOptions options_in, mail::LoginService& logins_in, mail::SubmissionQueue& queue_in)
      : options(std::move(options_in)),
        logins(logins_in),
        queue(queue_in),
        workers(static_cast<std::size_t>(options.worker_threads)) {}
  ~Core() { stop(std::chrono::milliseconds(0)); }

  void stop(std::chrono::milliseconds grace);
  bool register_connection(const std::shared_ptr<Connection>& connection);
  void unregister_connection(const Connection* connection);
  template <class Action>
  void for_each_connection(Action action);

  ServerOptions options;
  mail::LoginService& logins;
  mail::SubmissionQueue& queue;

  asio::io_context io;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  asio::thread_pool workers;
  std::vector<std::thread> threads;
  std::optional<net::TlsServerContext> tls_owner;
  std::optional<asio::ssl::context> tls;
  std::vector<std::unique_ptr<Listener>> listeners;
  std::atomic<std::uint64_t> next_session{1};

  std::mutex registry_mutex;
  std::condition_variable registry_changed;
  std::map<const Connection*, std::weak_ptr<Connection>> connections;
  bool stopping = false;

  std::mutex stop_mutex;
  bool stopped = false;
};

// One client connection: its socket (and TLS layer once there is one), its session, and a timer
// that cancels the socket when the client (or the handshake) takes too long.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(SmtpServer::Core& core, tcp::socket socket, bool implicit_tls)
      : core_(core),
        socket_(std::move(socket)),
        timer_(socket_.get_executor()),
        implicit_tls_(implicit_tls) {
    connection_metrics().accepted.with({listener_name(implicit_tls)}).inc();
    connection_metrics().open.with({listener_name(implicit_tls)}).add();
  }
  ~Connection() { connection_metrics().open.with({listener_name(implicit_tls_)}).sub(); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  asio::any_io_executor executor() { return socket_.get_executor(); }

  // Runs on the strand: asks the session to end at the next chance.
  void request_stop() {
    stopping_ = true;
    error_code ignored;
    socket_.cancel(ignored);
  }
  void force_close() {
    stopping_ = true;
    error_code ignored;
    socket_.close(ignored);
  }

  asio::awaitable<void> run() {
    error_code ignored;
    socket_.set_option(tcp::no_delay(true), ignored);
    ConnectionInfo info;
    info.session_id = std::to_string(core_.next_session.fetch_add(1));
    if (const auto remote = socket_.remote_endpoint(ignored); !ignored) {
      info.peer_address = remote.address().to_string();
      info.peer = net::ListenAddress{info.peer_address, remote.port()}.to_string();
      info.loopback = is_loopback(remote.address());
      info.trusted_proxy = core_.options.is_trusted_proxy && core_.options.is_trusted_proxy(info.peer_address);
    } else {
      info.peer = info.peer_address = "unknown";
      info.loopback = false;
    }
    info.tls = implicit_tls_;
    info.starttls_available = !implicit_tls_ && core_.tls.has_value();
    const std::string session_id = info.session_id;
    const std::string peer = info.peer;
    log::debug("smtp connection opened", {{"session", session_id}, {"peer", peer}, {"tls", implicit_tls_ ? "implicit" : "no"}});

    if (implicit_tls_ && !co_await handshake()) co_return;
    Session session(core_.options.session, core_.logins, core_.queue, std::move(info));
    co_await serve(session);
    log::debug("smtp connection closed", {{"session", session_id}, {"account", session.account_key()}});
  }

  // Answers a client the server has no room for, then closes.
  asio::awaitable<void> refuse_busy() {
    if (implicit_tls_ && !co_await handshake()) co_return;
    std::string out;
    append_reply(out, 421, "4.3.2", "Too many connections; try again later");
    co_await write(out, std::chrono::seconds(10));
  }

 private:
  asio::awaitable<void> serve(Session& session) {
    if (!co_await write(session.greeting(), core_.options.session.command_timeout)) co_return;
    std::array<char, 16 * 1024> buffer{};
    for (;;) {
      if (stopping_) {
        co_await say_goodbye(session);
        co_return;
      }
      arm_timer(session.idle_timeout());
      auto [ec, received] = co_await read_some(asio::buffer(buffer));
      timer_.cancel();
      if (ec) {
        if (stopping_) {
          co_await say_goodbye(session);
        } else if (timed_out_) {
          timed_out_ = false;
          std::string out;
          session.on_timeout(out);
          co_await write(out, std::chrono::seconds(10));
        }
        co_return;
      }
      std::string out;
      const SessionAction action = co_await receive_on_worker(session, std::string_view(buffer.data(), received), out);
      if (!co_await write(out, core_.options.session.command_timeout)) co_return;
      if (action == SessionAction::close) co_return;
      if (action == SessionAction::start_tls) {
        if (!core_.tls || tls_) co_return;  // the session only asks when STARTTLS was possible
        if (!co_await handshake()) co_return;
        session.on_tls_started();
      }
    }
  }

  asio::awaitable<void> say_goodbye(Session& session) {
    std::string out;
    session.on_shutdown(out);
    stopping_ = false;  // let the last write through; force_close still ends it
    co_await write(out, std::chrono::seconds(2));
  }

  // receive() may block (password hashing, synced writes): it runs on the worker pool, and the
  // coroutine resumes on the connection's strand once it returned.
  asio::awaitable<SessionAction> receive_on_worker(Session& session, std::string_view bytes, std::string& out) {
    co_return co_await asio::co_spawn(
        core_.workers,
        [&session, bytes, &out]() -> asio::awaitable<SessionAction> { co_return session.receive(bytes, out); },
        asio::use_awaitable);
  }

  asio::awaitable<bool> handshake() {
    tls_ = std::make_unique<asio::ssl::stream<tcp::socket&>>(socket_, *core_.tls);
    arm_timer(core_.options.tls_handshake_timeout);
    auto [ec] = co_await tls_->async_handshake(asio::ssl::stream_base::server, use_tuple);
    timer_.cancel();
    if (ec) {
      connection_metrics().tls_failed.inc();
      log::debug("smtp TLS handshake failed", {{"reason", ec.message()}});
      co_return false;
    }
    co_return true;
  }

  asio::awaitable<std::tuple<error_code, std::size_t>> read_some(asio::mutable_buffer buffer) {
    if (tls_) co_return co_await tls_->async_read_some(buffer, use_tuple);
    co_return co_await socket_.async_read_some(buffer, use_tuple);
  }

  asio::awaitable<bool> write(const std::string& data, std::chrono::seconds timeout) {
    if (data.empty()) co_return true;
    arm_timer(timeout);
    error_code ec;
    if (tls_) {
      std::tie(ec, std::ignore) = co_await asio::async_write(*tls_, asio::buffer(data), use_tuple);
    } else {
      std::tie(ec, std::ignore) = co_await asio::async_write(socket_, asio::buffer(data), use_tuple);
    }
    timer_.cancel();
    co_return !ec && !timed_out_;
  }

  // The timer cancels the socket's operations when it fires; a new arm_timer() (or cancel())
  // first aborts the previous wait, whose handler then does nothing.
  void arm_timer(std::chrono::seconds timeout) {
    timer_.expires_after(timeout);
    timer_.async_wait([self = weak_from_this()](error_code ec) {
      if (ec) return;
      if (auto connection = self.lock()) {
        connection->timed_out_ = true;
        error_code ignored;
        connection->socket_.cancel(ignored);
      }
    });
  }

  SmtpServer::Core& core_;
  tcp::socket socket_;
  std::unique_ptr<asio::ssl::stream<tcp::socket&>> tls_;
  asio::steady_timer timer_;
  bool implicit_tls_ = false;
  bool stopping_ = false;
  bool timed_out_ = false;
};

bool SmtpServer::Core::register_connection(const std::shared_ptr<Connection>& connection) {
  std::lock_guard lock(registry_mutex);
  if (stopping) return false;
  connections.emplace(connection.get(), connection);
  return true;
}

void SmtpServer::Core::unregister_connection(const Connection* connection) {
  {
    std::lock_guard lock(registry_mutex);
    connections.erase(connection);
  }
  registry_changed.notify_all();
}

template <class Action>
void SmtpServer::Core::for_each_connection(Action action) {
  std::vector<std::weak_ptr<Connection>> targets;
  {
    std::lock_guard lock(registry_mutex);
    for (const auto& [key, weak] : connections) targets.push_back(weak);
  }
  for (auto& weak : targets) {
    if (auto connection = weak.lock()) {
      asio::post(connection->executor(), [weak, action] {
        if (auto target = weak.lock()) action(*target);
      });
    }
  }
}

namespace {

asio::awaitable<void> accept_loop(SmtpServer::Core& core, Listener& listener) {
  for (;;) {
    auto [ec, socket] = co_await listener.acceptor->async_accept(asio::make_strand(core.io), use_tuple);
    if (ec == asio::error::operation_aborted || !listener.acceptor->is_open()) co_return;
    if (ec) {
      // Typically out of file descriptors: back off instead of spinning on the error.
      log::warn("SMTP server cannot accept a connection", {{"address", listener.bound_address}, {"reason", ec.message()}});
      asio::steady_timer pause(co_await asio::this_coro::executor, std::chrono::milliseconds(100));
      co_await pause.async_wait(use_tuple);
      continue;
    }
    auto connection = std::make_shared<Connection>(core, std::move(socket), listener.implicit_tls);
    const bool busy = [&] {
      std::lock_guard lock(core.registry_mutex);
      return core.connections.size() >= core.options.max_connections;
    }();
    if (busy) {
      asio::co_spawn(connection->executor(), [connection]() { return connection->refuse_busy(); }, asio::detached);
      continue;
    }
    if (!core.register_connection(connection)) co_return;
    SmtpServer::Core* core_pointer = &core;
    asio::co_spawn(connection->executor(), [connection]() { return connection->run(); },
                   [core_pointer, raw = connection.get()](std::exception_ptr failure) {
                     if (failure) {
                       try {
                         std::rethrow_exception(failure);
                       } catch (const std::exception& e) {
                         log::error("SMTP connection failed unexpectedly", {{"error", e.what()}});
                       }
                     }
                     core_pointer->unregister_connection(raw);
                   });
  }
}

Result<void> validate(const ServerOptions& options) {
  if (options.io_threads < 1 || options.io_threads > 64) {
    return make_error("SMTP server io_threads must be between 1 and 64, not " + std::to_string(options.io_threads));
  }
  if (options.worker_threads < 1 || options.worker_threads > 256) {
    return make_error("SMTP server worker_threads must be between 1 and 256, not " +
                      std::to_string(options.worker_threads));
  }
  if (!options.tls_listen.empty() && !options.tls) {
    return make_error("smtp.tls_listen needs a certificate: set tls.cert and tls.key, or set smtp.tls_listen to \"\"");
  }
  if (options.session.max_message_bytes == 0) {
    return make_error("smtp.max_message_bytes must be positive");
  }
  return {};
}

Result<void> bind_listener(SmtpServer::Core& core, Listener& listener, const std::string& text) {
  auto parsed = net::parse_listen_address(text);
  if (!parsed) return make_error(listener.key + ": " + parsed.error().message);
  error_code ec;
  tcp::resolver resolver(core.io);
  const auto endpoints = resolver.resolve(parsed->host, std::to_string(parsed->port),
                                          tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec || endpoints.empty()) {
    return make_error(listener.key + ": cannot resolve host \"" + parsed->host + "\" of " + parsed->to_string() + ": " +
                      lower_first(ec ? ec.message() : "no address found") +
                      "; use an IP address such as 127.0.0.1 or a name listed in /etc/hosts");
  }
  tcp::endpoint endpoint = endpoints.begin()->endpoint();
  for (const auto& entry : endpoints) {
    if (entry.endpoint().address().is_v4()) {
      endpoint = entry.endpoint();
      break;
    }
  }
  tcp::acceptor acceptor(asio::make_strand(core.io));
  const auto fail = [&](const error_code& error) { return listen_error(listener.key, parsed->to_string(), error); };
  acceptor.open(endpoint.protocol(), ec);
  if (ec) return fail(ec);
  acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (ec) return fail(ec);
  acceptor.bind(endpoint, ec);
  if (ec) return fail(ec);
  acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return fail(ec);
  const tcp::endpoint bound = acceptor.local_endpoint(ec);
  if (ec) return fail(ec);
  listener.bound_address = net::ListenAddress{bound.address().to_string(), bound.port()}.to_string();
  listener.acceptor.emplace(std::move(acceptor));
  return {};
}

}  // namespace

void SmtpServer::Core::stop(std::chrono::milliseconds grace) {
  std::lock_guard stop_lock(stop_mutex);
  if (stopped) return;
  const auto self = std::this_thread::get_id();
  if (std::any_of(threads.begin(), threads.end(), [self](const std::thread& t) { return t.get_id() == self; })) {
    throw std::logic_error("SmtpServer::stop() was called from a server thread; call it from another thread");
  }
  stopped = true;
  {
    std::lock_guard lock(registry_mutex);
    stopping = true;
  }
  for (auto& listener : listeners) {
    if (!listener->acceptor) continue;
    asio::post(listener->acceptor->get_executor(), [raw = listener.get()] {
      error_code ignored;
      raw->acceptor->close(ignored);
    });
  }
  for_each_connection([](Connection& connection) { connection.request_stop(); });
  const auto all_closed = [this] { return connections.empty(); };
  {
    std::unique_lock lock(registry_mutex);
    if (!registry_changed.wait_for(lock, std::max(grace, std::chrono::milliseconds(0)), all_closed)) {
      lock.unlock();
      for_each_connection([](Connection& connection) { connection.force_close(); });
      lock.lock();
      if (!registry_changed.wait_for(lock, std::chrono::seconds(1), all_closed)) {
        log::warn("SMTP server stopped with sessions still busy (a login or a queue write may be blocked)");
      }
    }
  }
  work.reset();
  io.stop();
  for (auto& thread : threads) {
    if (thread.joinable()) thread.join();
  }
  workers.join();
  if (!threads.empty()) log::info("SMTP server stopped");
}

SmtpServer::SmtpServer(std::shared_ptr<Core> core) : core_(std::move(core)) {}
SmtpServer::~SmtpServer() { stop(std::chrono::milliseconds(0)); }

std::string SmtpServer::address() const {
  for (const auto& listener : core_->listeners)
    if (!listener->implicit_tls) return listener->bound_address;
  return "";
}

std::string SmtpServer::tls_address() const {
  for (const auto& listener : core_->listeners)
    if (listener->implicit_tls) return listener->bound_address;
  return "";
}

void SmtpServer::stop(std::chrono::milliseconds grace) { core_->stop(grace); }

Result<std::unique_ptr<SmtpServer>> SmtpServer::start(ServerOptions options, mail::LoginService& logins,
                                                      mail::SubmissionQueue& queue) {
  if (auto valid = validate(options); !valid) return valid.error();
  auto core = std::make_shared<Core>(std::move(options), logins, queue);
  if (core->options.tls) {
    auto tls = net::make_server_tls(*core->options.tls);
    if (!tls) return tls.error();
    // The asio context takes its own reference to the shared SSL_CTX (see net/tls.hpp).
    SSL_CTX_up_ref(tls->native_handle());
    core->tls.emplace(tls->native_handle());
    core->tls_owner.emplace(std::move(*tls));
  }
  const std::pair<const char*, const std::string*> wanted[] = {{"smtp.listen", &core->options.listen},
                                                               {"smtp.tls_listen", &core->options.tls_listen}};
  for (const auto& [key, text] : wanted) {
    if (text->empty()) continue;
    auto listener = std::make_unique<Listener>();
    listener->key = key;
    listener->implicit_tls = std::string_view(key) == "smtp.tls_listen";
    if (auto bound = bind_listener(*core, *listener, *text); !bound) return bound.error();
    core->listeners.push_back(std::move(listener));
  }
  core->work.emplace(core->io.get_executor());
  Core& ref = *core;
  for (auto& listener : core->listeners) {
    Listener& each = *listener;
    asio::co_spawn(each.acceptor->get_executor(), accept_loop(ref, each), [&each](std::exception_ptr failure) {
      if (!failure) return;
      try {
        std::rethrow_exception(failure);
      } catch (const std::exception& e) {
        log::error("SMTP server stopped accepting connections", {{"address", each.bound_address}, {"error", e.what()}});
      }
    });
    log::info("smtp listening", {{"address", each.bound_address},
                                 {"tls", each.implicit_tls ? "implicit" : (ref.tls ? "starttls" : "none")}});
  }
  core->threads.reserve(static_cast<std::size_t>(core->options.io_threads));
  for (int i = 0; i < core->options.io_threads; ++i) {
    core->threads.emplace_back([&ref] {
      for (;;) {
        try {
          ref.io.run();
          return;
        } catch (const std::exception& e) {
          log::error("SMTP server thread caught an unexpected exception", {{"error", e.what()}});
        }
      }
    });
  }
  return std::unique_ptr<SmtpServer>(new SmtpServer(std::move(core)));
}

}  // namespace mailtrixy::smtp
