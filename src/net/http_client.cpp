// HttpClient: one coroutine per request over pooled keep-alive connections.
//
// Expected failures (refused, reset, timeout, certificate rejected) come back from Asio as values
// (as_tuple) and become an Error plus an HttpFailure kind; nothing is thrown across the API.
// Beast's HTTP algorithms are instantiated once, for the type-erased HttpStream (see
// http_stream.hpp), whether the connection is plain or TLS.

#include "mailtrixy/net/http_client.hpp"

#include <poll.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <condition_variable>
#include <deque>
#include <exception>
#include <fstream>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

#include "http_client_stream.hpp"
#include "mailtrixy/base/log.hpp"

namespace mailtrixy::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using boost::system::error_code;
using tcp = asio::ip::tcp;
using steady = std::chrono::steady_clock;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr std::uint32_t kMaxResponseHeaderBytes = 256 * 1024;

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

bool is_token(std::string_view text) {
  if (text.empty()) return false;
  return std::all_of(text.begin(), text.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return std::isalnum(u) != 0 || std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
  });
}

bool is_valid_header_value(std::string_view text) {
  return std::none_of(text.begin(), text.end(), [](char c) { return c == '\r' || c == '\n' || c == '\0'; });
}

// Where a request goes: scheme, host and port, which is also the pool key.
struct Origin {
  bool tls = true;
  std::string host;  // without IPv6 brackets
  bool host_is_ip = false;
  bool host_is_ipv6 = false;
  std::uint16_t port = 443;

  std::string bracketed_host() const { return host_is_ipv6 ? "[" + host + "]" : host; }
  std::string key() const {
    return std::string(tls ? "https://" : "http://") + bracketed_host() + ":" + std::to_string(port);
  }
  std::string host_header() const {
    const bool default_port = (tls && port == 443) || (!tls && port == 80);
    return default_port ? bracketed_host() : bracketed_host() + ":" + std::to_string(port);
  }
};

struct ParsedRequest {
  Origin origin;
  std::string method;
  std::string target;
  HttpHeaders headers;
  std::string body;
  std::chrono::milliseconds timeout{0};
};

// The URL may carry secrets in its query, so errors about it never quote it.
Result<ParsedRequest> parse_request(const HttpClientRequest& request) {
  auto parsed_url = boost::urls::parse_absolute_uri(request.url);
  if (!parsed_url) {
    return make_error("the request URL is not a valid absolute URL (" + parsed_url.error().message() +
                      "); pass https://host/path");
  }
  const boost::urls::url_view url = *parsed_url;
  ParsedRequest out;
  const std::string scheme(url.scheme());
  if (iequals(scheme, "https")) {
    out.origin.tls = true;
  } else if (iequals(scheme, "http")) {
    out.origin.tls = false;
  } else {
    return make_error("the request URL has the scheme \"" + scheme + "\"; only http and https are supported");
  }
  if (url.has_userinfo()) return make_error("the request URL contains user credentials; pass them in a header instead");
  if (url.has_fragment()) return make_error("the request URL has a #fragment, which HTTP requests cannot carry");
  switch (url.host_type()) {
    case boost::urls::host_type::name:
      out.origin.host = url.host_name();
      break;
    case boost::urls::host_type::ipv4:
      out.origin.host = url.host_ipv4_address().to_string();
      out.origin.host_is_ip = true;
      break;
    case boost::urls::host_type::ipv6:
      out.origin.host = url.host_ipv6_address().to_string();
      out.origin.host_is_ip = true;
      out.origin.host_is_ipv6 = true;
      break;
    default:
      return make_error("the request URL has no usable host");
  }
  if (out.origin.host.empty()) return make_error("the request URL has an empty host");
  std::transform(out.origin.host.begin(), out.origin.host.end(), out.origin.host.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (url.has_port()) {
    if (url.port().empty() || url.port_number() == 0) {
      return make_error("the request URL has an invalid port; use 1-65535");
    }
    out.origin.port = url.port_number();
  } else {
    out.origin.port = out.origin.tls ? 443 : 80;
  }
  out.target = std::string(url.encoded_path());
  if (out.target.empty()) out.target = "/";
  if (url.has_query()) out.target += "?" + std::string(url.encoded_query());

  if (!is_token(request.method)) {
    return make_error("the HTTP method \"" + request.method.substr(0, 20) + "\" is not a valid method name");
  }
  out.method = request.method;
  for (const auto& [name, value] : request.headers) {
    if (!is_token(name)) return make_error("the request header name \"" + name.substr(0, 40) + "\" is not valid");
    if (!is_valid_header_value(value)) {
      return make_error("the request header " + name + " contains a line break or NUL character");
    }
    for (const std::string_view reserved : {"host", "content-length", "transfer-encoding", "connection"}) {
      if (iequals(name, reserved)) {
        return make_error("the request header " + name + " is set by the HTTP client itself; remove it");
      }
    }
  }
  out.headers = request.headers;
  out.body = request.body;
  if (request.timeout.count() <= 0) return make_error("the request timeout must be positive");
  out.timeout = request.timeout;
  return out;
}

struct PooledConnection {
  std::unique_ptr<detail::HttpStream> stream;
  beast::flat_buffer buffer;
  int fd = -1;  // the socket, to check an idle connection without disturbing the stream
  steady::time_point idle_since{};
};

// An idle keep-alive connection must have nothing to read: data or EOF means the server closed
// it (or broke the protocol), and a request sent on it would be lost.
bool idle_connection_usable(const PooledConnection& connection, steady::time_point now,
                            std::chrono::milliseconds max_idle) {
  if (!connection.stream || !connection.stream->is_open()) return false;
  if (now - connection.idle_since >= max_idle) return false;
  pollfd probe{connection.fd, POLLIN, 0};
  const int ready = ::poll(&probe, 1, 0);
  return ready == 0;
}

struct Failure {
  HttpFailure kind = HttpFailure::none;
  std::string reason;
  bool before_response = false;  // nothing of a response arrived (retryable on a reused connection)
};

}  // namespace

std::string_view to_string(HttpFailure failure) {
  switch (failure) {
    case HttpFailure::none: return "none";
    case HttpFailure::invalid_request: return "invalid_request";
    case HttpFailure::resolve: return "resolve";
    case HttpFailure::connect: return "connect";
    case HttpFailure::tls: return "tls";
    case HttpFailure::timeout: return "timeout";
    case HttpFailure::connection_lost: return "connection_lost";
    case HttpFailure::truncated: return "truncated";
    case HttpFailure::response_too_large: return "response_too_large";
    case HttpFailure::protocol: return "protocol";
    case HttpFailure::shut_down: return "shut_down";
  }
  return "unknown";
}

std::optional<std::string_view> HttpClientResponse::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (iequals(key, name)) return std::string_view(value);
  }
  return std::nullopt;
}

struct HttpClient::Core {
  explicit Core(HttpClientOptions opts) : options(std::move(opts)) {
    io.emplace();
    work.emplace(io->get_executor());
  }

  HttpClientOptions options;
  std::optional<asio::io_context> io;  // reset by stop(), which destroys requests still in flight
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  asio::ssl::context tls{asio::ssl::context::tls_client};
  std::vector<std::thread> threads;
  std::vector<std::thread::id> thread_ids;

  std::mutex mutex;  // guards the pool and `stopping`
  std::map<std::string, std::deque<std::unique_ptr<PooledConnection>>> idle;
  std::size_t idle_total = 0;
  bool stopping = false;
  std::atomic<std::size_t> opened{0};
  std::mutex stop_mutex;
  bool stopped = false;

  bool on_client_thread() const {
    const auto self = std::this_thread::get_id();
    return std::find(thread_ids.begin(), thread_ids.end(), self) != thread_ids.end();
  }

  void sweep_locked(steady::time_point now) {
    for (auto it = idle.begin(); it != idle.end();) {
      auto& list = it->second;
      const auto before = list.size();
      std::erase_if(list, [&](const std::unique_ptr<PooledConnection>& c) {
        return now - c->idle_since >= options.idle_connection_timeout;
      });
      idle_total -= before - list.size();
      it = list.empty() ? idle.erase(it) : std::next(it);
    }
  }

  std::unique_ptr<PooledConnection> take_idle(const std::string& key) {
    std::vector<std::unique_ptr<PooledConnection>> discarded;  // closed outside the lock
    std::unique_ptr<PooledConnection> found;
    {
      std::lock_guard lock(mutex);
      const auto now = steady::now();
      auto it = idle.find(key);
      while (it != idle.end() && !it->second.empty()) {
        auto candidate = std::move(it->second.back());  // most recently used first: least likely closed
        it->second.pop_back();
        --idle_total;
        if (idle_connection_usable(*candidate, now, options.idle_connection_timeout)) {
          found = std::move(candidate);
          break;
        }
        discarded.push_back(std::move(candidate));
      }
      if (it != idle.end() && it->second.empty()) idle.erase(it);
    }
    return found;
  }

  void give_back(const std::string& key, std::unique_ptr<PooledConnection> connection) {
    std::unique_ptr<PooledConnection> overflow;
    std::lock_guard lock(mutex);
    const auto now = steady::now();
    sweep_locked(now);
    if (stopping) return;
    auto& list = idle[key];
    connection->idle_since = now;
    list.push_back(std::move(connection));
    ++idle_total;
    if (list.size() > options.max_idle_connections_per_host) {
      overflow = std::move(list.front());
      list.pop_front();
      --idle_total;
    }
  }

  void stop() {
    std::lock_guard stop_lock(stop_mutex);
    if (stopped) return;
    if (on_client_thread()) {
      throw std::logic_error("HttpClient::stop() called from one of the client's own threads");
    }
    {
      std::lock_guard lock(mutex);
      stopping = true;
    }
    work.reset();
    io->stop();
    for (auto& thread : threads) thread.join();
    threads.clear();
    {
      std::lock_guard lock(mutex);
      idle.clear();
      idle_total = 0;
    }
    // Requests still in flight are coroutine frames inside pending operations: destroying the
    // io_context destroys them, and each Exchange's destructor reports shut_down to its caller.
    io.reset();
    stopped = true;
  }
};

namespace {

using Callback = HttpClient::Callback;

// One request, from parsing to the callback. The coroutine owns it; if the coroutine is destroyed
// without finishing (client stopping), the destructor still calls back, with shut_down.
class Exchange {
 public:
  Exchange(HttpClient::Core& core, ParsedRequest request, Callback done)
      : core_(core), request_(std::move(request)), done_(std::move(done)),
        deadline_(steady::now() + request_.timeout) {}
  ~Exchange() {
    if (done_) finish(make_error(describe() + " failed: the HTTP client is shutting down"), HttpFailure::shut_down);
  }
  Exchange(const Exchange&) = delete;
  Exchange& operator=(const Exchange&) = delete;

  static asio::awaitable<void> run(std::unique_ptr<Exchange> self) {
    try {
      co_await self->perform();
    } catch (const std::exception& e) {
      self->finish(make_error(self->describe() + " failed: unexpected error (" + std::string(e.what()) + ")"),
                   HttpFailure::protocol);
    }
  }

 private:
  std::string describe() const { return request_.method + " request to " + request_.origin.key(); }

  void finish(Result<HttpClientResponse> result, HttpFailure failure) {
    if (!done_) return;
    Callback done = std::move(done_);
    done_ = nullptr;
    try {
      done(std::move(result), failure);
    } catch (const std::exception& e) {
      log::error("HTTP client callback threw", {{"error", e.what()}});
    }
  }

  void fail(const Failure& failure) {
    finish(make_error(describe() + " failed: " + failure.reason), failure.kind);
  }

  std::chrono::milliseconds remaining() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - steady::now());
  }

  Failure timed_out() const {
    return {HttpFailure::timeout,
            "no complete response within " + std::to_string(request_.timeout.count()) + " ms", false};
  }

  asio::awaitable<void> perform() {
    std::unique_ptr<PooledConnection> connection = core_.take_idle(request_.origin.key());
    const bool reused = connection != nullptr;
    if (!connection) {
      Failure failure;
      connection = co_await open_connection(failure);
      if (!connection) {
        fail(failure);
        co_return;
      }
    }
    Failure failure;
    std::optional<HttpClientResponse> response = co_await exchange(*connection, failure);
    if (!response && reused && failure.before_response && failure.kind == HttpFailure::connection_lost) {
      // The server closed the idle connection as we used it: nothing was processed, try once more.
      log::debug("HTTP client retrying on a fresh connection", {{"origin", request_.origin.key()}});
      connection.reset();
      connection = co_await open_connection(failure);
      if (!connection) {
        fail(failure);
        co_return;
      }
      failure = {};
      response = co_await exchange(*connection, failure);
    }
    if (!response) {
      fail(failure);
      co_return;
    }
    if (keep_alive_) {
      core_.give_back(request_.origin.key(), std::move(connection));
    }
    finish(std::move(*response), HttpFailure::none);
  }

  asio::awaitable<std::unique_ptr<PooledConnection>> open_connection(Failure& failure) {
    const Origin& origin = request_.origin;
    auto executor = co_await asio::this_coro::executor;
    const auto connect_budget = std::min(remaining(), core_.options.connect_timeout);
    if (connect_budget.count() <= 0) {
      failure = timed_out();
      co_return nullptr;
    }
    const auto connect_deadline = steady::now() + connect_budget;

    // Resolving cannot be given a deadline directly: a timer cancels it.
    auto resolver = std::make_shared<tcp::resolver>(executor);
    auto resolve_timer = std::make_shared<asio::steady_timer>(executor);
    resolve_timer->expires_at(connect_deadline);
    resolve_timer->async_wait([resolver](const error_code& ec) {
      if (!ec) resolver->cancel();
    });
    auto [resolve_ec, endpoints] =
        co_await resolver->async_resolve(origin.host, std::to_string(origin.port), use_tuple);
    resolve_timer->cancel();
    if (resolve_ec) {
      if (resolve_ec == asio::error::operation_aborted) {
        failure = {HttpFailure::timeout,
                   "resolving " + origin.host + " took longer than " + std::to_string(connect_budget.count()) + " ms",
                   true};
      } else {
        failure = {HttpFailure::resolve, "cannot resolve host " + origin.host + " (" + resolve_ec.message() + ")",
                   true};
      }
      co_return nullptr;
    }

    beast::tcp_stream tcp_stream(executor);
    tcp_stream.expires_at(connect_deadline);
    auto [connect_ec, endpoint] = co_await tcp_stream.async_connect(endpoints, use_tuple);
    if (connect_ec) {
      if (connect_ec == beast::error::timeout) {
        failure = {HttpFailure::timeout,
                   "could not connect within " + std::to_string(connect_budget.count()) + " ms", true};
      } else {
        failure = {HttpFailure::connect, "cannot connect (" + connect_ec.message() + ")", true};
      }
      co_return nullptr;
    }
    core_.opened.fetch_add(1);
    tcp::socket socket = tcp_stream.release_socket();
    error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);

    auto connection = std::make_unique<PooledConnection>();
    connection->fd = socket.native_handle();
    if (origin.tls) {
      connection->stream =
          detail::make_client_tls_stream(std::move(socket), core_.tls, origin.host, origin.host_is_ip);
      connection->stream->expires_after(connect_deadline - steady::now());
      auto [handshake_ec] = co_await connection->stream->async_handshake(use_tuple);
      if (handshake_ec) {
        failure = describe_handshake_failure(handshake_ec, *connection->stream, connect_budget);
        co_return nullptr;
      }
    } else {
      connection->stream = detail::make_plain_stream(std::move(socket));
    }
    co_return connection;
  }

  Failure describe_handshake_failure(const error_code& ec, detail::HttpStream& stream,
                                     std::chrono::milliseconds budget) const {
    if (ec == beast::error::timeout) {
      return {HttpFailure::timeout, "the TLS handshake did not finish within " + std::to_string(budget.count()) + " ms",
              true};
    }
    const long verify = detail::tls_verify_result(stream);
    if (verify == X509_V_ERR_HOSTNAME_MISMATCH || verify == X509_V_ERR_IP_ADDRESS_MISMATCH) {
      return {HttpFailure::tls,
              "the server's certificate is not valid for " + request_.origin.host +
                  " (host name mismatch); connect with a name the certificate lists",
              true};
    }
    if (verify != X509_V_OK) {
      return {HttpFailure::tls,
              std::string("the server's certificate is not trusted (") +
                  X509_verify_cert_error_string(verify) +
                  "); if it is signed by a private CA (such as the emulator's), add that certificate to the "
                  "extra CA file (microsoft.ca_file)",
              true};
    }
    return {HttpFailure::tls, "the TLS handshake failed (" + ec.message() + ")", true};
  }

  // Sends the request and reads the response on `connection`.
  asio::awaitable<std::optional<HttpClientResponse>> exchange(PooledConnection& connection, Failure& failure) {
    detail::HttpStream& stream = *connection.stream;
    http::request<http::string_body> message;
    message.version(11);
    message.method_string(request_.method);
    message.target(request_.target);
    message.set(http::field::host, request_.origin.host_header());
    bool has_user_agent = false;
    for (const auto& [name, value] : request_.headers) {
      if (iequals(name, "user-agent")) has_user_agent = true;
      message.insert(name, value);
    }
    if (!has_user_agent) message.set(http::field::user_agent, core_.options.user_agent);
    message.body() = request_.body;
    const bool needs_length = !request_.body.empty() || request_.method == "POST" || request_.method == "PUT" ||
                              request_.method == "PATCH";
    if (needs_length) message.content_length(request_.body.size());
    message.keep_alive(true);

    auto budget = remaining();
    if (budget.count() <= 0) {
      failure = timed_out();
      co_return std::nullopt;
    }
    stream.expires_after(budget);
    auto [write_ec, written] = co_await http::async_write(stream, message, use_tuple);
    if (write_ec) {
      failure = write_ec == beast::error::timeout
                    ? timed_out()
                    : Failure{HttpFailure::connection_lost,
                              "the connection was lost while sending the request (" + write_ec.message() + ")", true};
      co_return std::nullopt;
    }

    const bool head = request_.method == "HEAD";
    for (;;) {
      http::response_parser<http::string_body> parser;
      parser.header_limit(kMaxResponseHeaderBytes);
      parser.body_limit(core_.options.max_response_body_bytes);
      if (head) parser.skip(true);
      budget = remaining();
      if (budget.count() <= 0) {
        failure = timed_out();
        co_return std::nullopt;
      }
      stream.expires_after(budget);
      auto [read_ec, read] = co_await http::async_read(stream, connection.buffer, parser, use_tuple);
      if (read_ec == asio::ssl::error::stream_truncated && parser.is_header_done() && parser.need_eof()) {
        // A body delimited by the connection closing, from a TLS server that skips close_notify:
        // the length is unknowable either way, so accept what arrived (as browsers and curl do).
        error_code eof_ec;
        parser.put_eof(eof_ec);
        if (!eof_ec) read_ec = {};
      }
      if (read_ec) {
        failure = describe_read_failure(read_ec, parser.got_some());
        co_return std::nullopt;
      }
      const int status = static_cast<int>(parser.get().result_int());
      if (status >= 100 && status < 200 && status != 101) continue;  // interim response; the real one follows
      HttpClientResponse response;
      response.status = status;
      for (const auto& field : parser.get()) {
        response.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
      }
      keep_alive_ = parser.get().keep_alive() && connection.buffer.size() == 0 && status != 101;
      response.body = std::move(parser.get().body());
      co_return response;
    }
  }

  Failure describe_read_failure(const error_code& ec, bool got_some) const {
    if (ec == beast::error::timeout) return timed_out();
    if (ec == http::error::body_limit) {
      return {HttpFailure::response_too_large,
              "the response body is larger than " + std::to_string(core_.options.max_response_body_bytes) + " bytes",
              false};
    }
    if (ec == http::error::header_limit) {
      return {HttpFailure::protocol, "the response header block is too large", false};
    }
    const bool closed = ec == http::error::end_of_stream || ec == http::error::partial_message ||
                        ec == asio::error::eof || ec == asio::error::connection_reset ||
                        ec == asio::error::connection_aborted || ec == asio::error::broken_pipe ||
                        ec == asio::ssl::error::stream_truncated;
    if (closed) {
      if (got_some) {
        return {HttpFailure::truncated, "the response was cut short (" + ec.message() + ")", false};
      }
      return {HttpFailure::connection_lost,
              "the server closed the connection without answering (" + ec.message() + ")", true};
    }
    if (ec.category() == http::make_error_code(http::error::bad_target).category()) {
      return {HttpFailure::protocol, "the server's answer is not valid HTTP/1.1 (" + ec.message() + ")", !got_some};
    }
    return {HttpFailure::connection_lost, "reading the response failed (" + ec.message() + ")", !got_some};
  }

  HttpClient::Core& core_;
  ParsedRequest request_;
  Callback done_;
  steady::time_point deadline_;
  bool keep_alive_ = false;
};

Result<void> load_extra_ca_file(asio::ssl::context& context, const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error("cannot read the CA file " + path.string() + "; check the path and its permissions");
  std::ostringstream text;
  text << in.rdbuf();
  if (text.str().find("-----BEGIN CERTIFICATE-----") == std::string::npos) {
    return make_error("the CA file " + path.string() + " holds no PEM certificate (-----BEGIN CERTIFICATE-----)");
  }
  error_code ec;
  context.load_verify_file(path.string(), ec);
  if (ec) return make_error("cannot load the CA file " + path.string() + ": " + ec.message());
  return {};
}

}  // namespace

Result<std::unique_ptr<HttpClient>> HttpClient::create(HttpClientOptions options) {
  if (options.threads < 1) return make_error("the HTTP client needs at least 1 thread");
  if (options.connect_timeout.count() <= 0 || options.idle_connection_timeout.count() <= 0) {
    return make_error("the HTTP client's connect and idle timeouts must be positive");
  }
  auto core = std::make_shared<Core>(options);
  SSL_CTX* handle = core->tls.native_handle();
  SSL_CTX_set_min_proto_version(handle, TLS1_2_VERSION);
  core->tls.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_compression);
  error_code ec;
  core->tls.set_default_verify_paths(ec);
  if (ec) log::warn("the system's CA certificates could not be loaded", {{"reason", ec.message()}});
  if (!options.extra_ca_file.empty()) {
    if (auto loaded = load_extra_ca_file(core->tls, options.extra_ca_file); !loaded) return loaded.error();
  }
  core->tls.set_verify_mode(asio::ssl::verify_peer);
  for (int i = 0; i < options.threads; ++i) {
    core->threads.emplace_back([raw = core.get()] {
      for (;;) {
        try {
          raw->io->run();
          return;
        } catch (const std::exception& e) {
          log::error("HTTP client thread caught an unexpected error", {{"error", e.what()}});
        }
      }
    });
    core->thread_ids.push_back(core->threads.back().get_id());
  }
  return std::unique_ptr<HttpClient>(new HttpClient(std::move(core)));
}

HttpClient::HttpClient(std::shared_ptr<Core> core) : core_(std::move(core)) {}

HttpClient::~HttpClient() {
  if (core_) core_->stop();
}

void HttpClient::stop() { core_->stop(); }

void HttpClient::send_async(HttpClientRequest request, Callback done) {
  auto parsed = parse_request(request);
  if (!parsed) {
    done(make_error("HTTP request not sent: " + parsed.error().message), HttpFailure::invalid_request);
    return;
  }
  {
    // Spawning under the lock: stop() cannot tear the io_context down between check and spawn.
    std::lock_guard lock(core_->mutex);
    if (!core_->stopping) {
      auto exchange = std::make_unique<Exchange>(*core_, std::move(*parsed), std::move(done));
      asio::co_spawn(asio::make_strand(*core_->io), Exchange::run(std::move(exchange)), asio::detached);
      return;
    }
  }
  done(make_error(parsed->method + " request to " + parsed->origin.key() + " failed: the HTTP client is shutting down"),
       HttpFailure::shut_down);
}

Result<HttpClientResponse> HttpClient::send(const HttpClientRequest& request, HttpFailure* failure) {
  if (core_->on_client_thread()) {
    throw std::logic_error("HttpClient::send() called on one of the client's own threads; use send_async()");
  }
  struct Outcome {
    Result<HttpClientResponse> result;
    HttpFailure failure;
  };
  std::promise<Outcome> promise;
  auto future = promise.get_future();
  send_async(request, [&promise](Result<HttpClientResponse> result, HttpFailure kind) {
    promise.set_value(Outcome{std::move(result), kind});
  });
  Outcome outcome = future.get();
  if (failure != nullptr) *failure = outcome.failure;
  return std::move(outcome.result);
}

std::size_t HttpClient::connections_opened() const { return core_->opened.load(); }

std::size_t HttpClient::idle_connections() const {
  std::lock_guard lock(core_->mutex);
  return core_->idle_total;
}

std::string url_encode_component(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size() * 3);
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) != 0 || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 0x0F]);
    }
  }
  return out;
}

std::string form_encode(const HttpHeaders& fields) {
  std::string out;
  for (const auto& [name, value] : fields) {
    if (!out.empty()) out.push_back('&');
    out += url_encode_component(name);
    out.push_back('=');
    out += url_encode_component(value);
  }
  return out;
}

}  // namespace mailtrixy::net
