#pragma once
// The inside of HttpServer: the io_context and its threads, the acceptor, and the registry of
// live connections that stop() walks. Shared by the server and the connection sources.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include "http_message.hpp"
#include "mailtrixy/net/http_server.hpp"
#include "mailtrixy/net/tls.hpp"

namespace mailtrixy::net {

namespace asio = boost::asio;

// What stop() needs from a connection; both calls must run on the connection's executor.
class ConnectionControl {
 public:
  virtual ~ConnectionControl() = default;
  virtual asio::any_io_executor executor() = 0;
  // Close at once when waiting for a request; otherwise close after the current response.
  virtual void request_stop() = 0;
  // Close now, whatever the connection is doing.
  virtual void force_close() = 0;
};

struct HttpServer::Core {
  Core(HttpServerOptions server_options, HttpHandler request_handler)
      : options(std::move(server_options)), handler(std::move(request_handler)) {}
  ~Core();

  // Adds a connection unless the server is stopping (then the caller drops it).
  bool register_connection(const std::shared_ptr<ConnectionControl>& connection);
  void unregister_connection(ConnectionControl* connection);

  void stop(std::chrono::milliseconds grace);

  const HttpServerOptions options;
  const HttpHandler handler;
  std::optional<TlsServerContext> tls;
  std::string bound_address;
  std::uint16_t bound_port = 0;
  std::atomic<bool> stopping{false};

  // The registry outlives the io_context (declared first, destroyed last): destroying the
  // io_context destroys suspended connection coroutines, whose destructors unregister.
  std::mutex registry_mutex;
  std::condition_variable registry_changed;
  std::unordered_map<ConnectionControl*, std::weak_ptr<ConnectionControl>> connections;

  std::mutex stop_mutex;
  bool stopped = false;

  asio::io_context io;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::optional<asio::ip::tcp::acceptor> acceptor;  // lives on its own strand
  std::vector<std::thread> threads;

 private:
  // Posts `action` to every registered connection's executor.
  void for_each_connection(void (ConnectionControl::*action)());
  // Waits until no connection is registered or the deadline passes; true when none is left.
  bool wait_for_connections(std::chrono::steady_clock::time_point deadline);
};

namespace detail {
class HttpStream;
}

// Starts serving an accepted connection (its executor is a strand of core.io): registers it and
// spawns its coroutine. Defined in http_connection.cpp.
void serve_connection(HttpServer::Core& core, std::unique_ptr<detail::HttpStream> stream, detail::Peer peer);

}  // namespace mailtrixy::net
