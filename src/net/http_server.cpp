#include "mailtrixy/net/http_server.hpp"

#include <openssl/ssl.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <cctype>
#include <stdexcept>

#include "http_server_core.hpp"
#include "http_stream.hpp"
#include "mailtrixy/base/log.hpp"
#include "mailtrixy/net/listen_address.hpp"
#include "tls_context_impl.hpp"

namespace mailtrixy::net {

using asio::ip::tcp;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// HTTP/1.1 is all this server speaks; saying so in ALPN keeps HTTP/2-capable clients from
// guessing. A client that offers only other protocols gets no ALPN answer (and may give up).
int select_http11(SSL*, const unsigned char** out, unsigned char* out_length, const unsigned char* offered,
                  unsigned int offered_length, void*) {
  static constexpr unsigned char kSupported[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  unsigned char* chosen = nullptr;
  if (SSL_select_next_proto(&chosen, out_length, kSupported, sizeof kSupported, offered, offered_length) !=
      OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_NOACK;
  }
  *out = chosen;
  return SSL_TLSEXT_ERR_OK;
}

std::string lower_first(std::string text) {
  if (!text.empty()) text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
  return text;
}

Error listen_error(const std::string& address, const boost::system::error_code& ec) {
  std::string message = "cannot listen on " + address + ": " + lower_first(ec.message());
  if (ec == asio::error::address_in_use) {
    message += "; another program (or another bridge) uses that port, stop it or choose another port";
  } else if (ec == asio::error::access_denied) {
    message += "; ports below 1024 need extra privileges, choose a port above 1023";
  } else if (ec == boost::system::errc::address_not_available) {
    message += "; that address does not belong to this machine, use 127.0.0.1 or 0.0.0.0";
  }
  return make_error(std::move(message));
}

asio::awaitable<void> accept_loop(HttpServer::Core& core) {
  for (;;) {
    auto [ec, socket] = co_await core.acceptor->async_accept(asio::make_strand(core.io), use_tuple);
    if (ec == asio::error::operation_aborted || !core.acceptor->is_open()) co_return;
    if (ec) {
      // Typically out of file descriptors: back off instead of spinning on the error.
      log::warn("HTTP server cannot accept a connection", {{"address", core.bound_address}, {"reason", ec.message()}});
      asio::steady_timer pause(co_await asio::this_coro::executor, std::chrono::milliseconds(100));
      co_await pause.async_wait(use_tuple);
      continue;
    }
    boost::system::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    detail::Peer peer{"unknown", 0, core.tls.has_value()};
    if (const auto remote = socket.remote_endpoint(ignored); !ignored) {
      peer.address = remote.address().to_string();
      peer.port = remote.port();
    }
    auto stream = core.tls ? detail::make_tls_stream(std::move(socket), asio_context(*core.tls))
                           : detail::make_plain_stream(std::move(socket));
    serve_connection(core, std::move(stream), std::move(peer));
  }
}

Result<void> validate(const HttpServerOptions& options, const HttpHandler& handler) {
  if (!handler) return make_error("HTTP server started without a request handler");
  if (options.threads < 1 || options.threads > 256) {
    return make_error("HTTP server threads must be between 1 and 256, not " + std::to_string(options.threads));
  }
  if (options.max_body_bytes == 0) return make_error("HTTP server max_body_bytes must be positive");
  if (options.max_header_bytes < 1024) {
    return make_error("HTTP server max_header_bytes must be at least 1024");
  }
  if (options.idle_timeout.count() <= 0) return make_error("HTTP server idle_timeout must be positive");
  return {};
}

}  // namespace

HttpServer::Core::~Core() {
  // Normally stop() already ran; this covers a failed start() after the threads began.
  stop(std::chrono::milliseconds(0));
}

bool HttpServer::Core::register_connection(const std::shared_ptr<ConnectionControl>& connection) {
  std::lock_guard lock(registry_mutex);
  if (stopping) return false;
  connections.emplace(connection.get(), connection);
  return true;
}

void HttpServer::Core::unregister_connection(ConnectionControl* connection) {
  {
    std::lock_guard lock(registry_mutex);
    connections.erase(connection);
  }
  registry_changed.notify_all();
}

void HttpServer::Core::for_each_connection(void (ConnectionControl::*action)()) {
  std::vector<std::weak_ptr<ConnectionControl>> targets;
  {
    std::lock_guard lock(registry_mutex);
    for (const auto& [key, weak] : connections) targets.push_back(weak);
  }
  for (auto& weak : targets) {
    if (auto connection = weak.lock()) {
      asio::post(connection->executor(), [weak, action] {
        if (auto target = weak.lock()) ((*target).*action)();
      });
    }
  }
}

bool HttpServer::Core::wait_for_connections(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(registry_mutex);
  return registry_changed.wait_until(lock, deadline, [this] { return connections.empty(); });
}

void HttpServer::Core::stop(std::chrono::milliseconds grace) {
  std::lock_guard stop_lock(stop_mutex);
  if (stopped) return;
  const auto self = std::this_thread::get_id();
  if (std::any_of(threads.begin(), threads.end(), [self](const std::thread& t) { return t.get_id() == self; })) {
    throw std::logic_error("HttpServer::stop() was called from a request handler; call it from another thread");
  }
  {
    std::lock_guard lock(registry_mutex);
    stopping = true;
  }
  if (acceptor) {
    asio::post(acceptor->get_executor(), [this] {
      boost::system::error_code ignored;
      acceptor->close(ignored);
    });
  }
  for_each_connection(&ConnectionControl::request_stop);
  const auto start = std::chrono::steady_clock::now();
  if (!wait_for_connections(start + std::max(grace, std::chrono::milliseconds(0)))) {
    for_each_connection(&ConnectionControl::force_close);
    if (!wait_for_connections(std::chrono::steady_clock::now() + std::chrono::seconds(1))) {
      log::warn("HTTP server stopped with connections still busy (a handler may be blocked)",
                {{"address", bound_address}});
    }
  }
  work.reset();
  io.stop();
  for (auto& thread : threads) {
    if (thread.joinable()) thread.join();
  }
  stopped = true;
  if (!threads.empty()) log::info("HTTP server stopped", {{"address", bound_address}});
}

HttpServer::HttpServer(std::shared_ptr<Core> core) : core_(std::move(core)) {}

HttpServer::~HttpServer() { stop(std::chrono::milliseconds(0)); }

std::uint16_t HttpServer::port() const { return core_->bound_port; }
std::string HttpServer::address() const { return core_->bound_address; }
bool HttpServer::tls() const { return core_->tls.has_value(); }
void HttpServer::stop(std::chrono::milliseconds grace) { core_->stop(grace); }

Result<std::unique_ptr<HttpServer>> HttpServer::start(HttpServerOptions options, HttpHandler handler) {
  if (auto valid = validate(options, handler); !valid) return valid.error();
  auto listen = parse_listen_address(options.listen);
  if (!listen) return listen.error();

  auto core = std::make_shared<Core>(std::move(options), std::move(handler));
  if (core->options.tls) {
    auto tls = make_server_tls(*core->options.tls);
    if (!tls) return tls.error();
    SSL_CTX_set_alpn_select_cb(tls->native_handle(), select_http11, nullptr);
    core->tls.emplace(std::move(*tls));
  }

  boost::system::error_code ec;
  tcp::resolver resolver(core->io);
  const auto endpoints = resolver.resolve(listen->host, std::to_string(listen->port),
                                          tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec || endpoints.empty()) {
    return make_error("cannot resolve host \"" + listen->host + "\" of listen address " + listen->to_string() + ": " +
                      lower_first(ec ? ec.message() : "no address found") +
                      "; use an IP address such as 127.0.0.1 or a name listed in /etc/hosts");
  }
  // A name with several addresses is bound on the first one, IPv4 preferred.
  tcp::endpoint endpoint = endpoints.begin()->endpoint();
  for (const auto& entry : endpoints) {
    if (entry.endpoint().address().is_v4()) {
      endpoint = entry.endpoint();
      break;
    }
  }

  tcp::acceptor acceptor(asio::make_strand(core->io));
  const auto fail = [&](const boost::system::error_code& error) { return listen_error(listen->to_string(), error); };
  acceptor.open(endpoint.protocol(), ec);
  if (ec) return fail(ec);
  // Lets a restarted bridge bind while old connections sit in TIME_WAIT; on Linux it never
  // allows two live listeners on one port.
  acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (ec) return fail(ec);
  acceptor.bind(endpoint, ec);
  if (ec) return fail(ec);
  acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return fail(ec);
  const tcp::endpoint bound = acceptor.local_endpoint(ec);
  if (ec) return fail(ec);

  core->bound_port = bound.port();
  core->bound_address = ListenAddress{bound.address().to_string(), bound.port()}.to_string();
  core->acceptor.emplace(std::move(acceptor));
  core->work.emplace(core->io.get_executor());

  Core& ref = *core;
  asio::co_spawn(core->acceptor->get_executor(), accept_loop(ref), [&ref](std::exception_ptr failure) {
    if (!failure) return;
    try {
      std::rethrow_exception(failure);
    } catch (const std::exception& e) {
      log::error("HTTP server stopped accepting connections", {{"address", ref.bound_address}, {"error", e.what()}});
    }
  });
  core->threads.reserve(static_cast<std::size_t>(core->options.threads));
  for (int i = 0; i < core->options.threads; ++i) {
    core->threads.emplace_back([&ref] {
      for (;;) {
        try {
          ref.io.run();
          return;
        } catch (const std::exception& e) {
          log::error("HTTP server thread caught an unexpected exception", {{"error", e.what()}});
        }
      }
    });
  }
  log::info("HTTP server listening",
            {{"address", core->bound_address}, {"tls", core->tls ? "on" : "off"}, {"threads", core->options.threads}});
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(core)));
}

}  // namespace mailtrixy::net
