#include "mailtrixy/imap/server.hpp"

#include <openssl/ssl.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <cctype>
#include <condition_variable>
#include <exception>
#include <future>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <vector>

#include "mailtrixy/base/log.hpp"
#include "mailtrixy/base/metrics.hpp"
#include "mailtrixy/net/listen_address.hpp"

namespace mailtrixy::imap {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

class Connection;

constexpr std::chrono::seconds kCloseTimeout{1};
constexpr std::chrono::seconds kTimeoutBeforeSession{60};
constexpr std::string_view kTooManyConnections = "* BYE Too many connections; try again later\r\n";

std::string lower_first(std::string text) {
  if (!text.empty()) text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
  return text;
}

Error listen_error(const std::string& what, const std::string& address, const boost::system::error_code& ec) {
  std::string message = what + ": cannot listen on " + address + ": " + lower_first(ec.message());
  if (ec == asio::error::address_in_use) {
    message += "; another program (or another bridge) uses that port, stop it or choose another port";
  } else if (ec == asio::error::access_denied) {
    message += "; ports below 1024 need extra privileges, choose a port above 1023";
  } else if (ec == boost::system::errc::address_not_available) {
    message += "; that address does not belong to this machine, use 127.0.0.1 or 0.0.0.0";
  }
  return make_error(std::move(message));
}

}  // namespace

struct ImapServer::Core {
  Core(ImapServerOptions server_options, HandlerFactory handler_factory)
      : options(std::move(server_options)),
        factory(std::move(handler_factory)),
        workers(static_cast<std::size_t>(options.worker_threads)) {}
  ~Core() { stop(std::chrono::milliseconds(0)); }

  void accept(tcp::acceptor& acceptor, bool implicit_tls);
  void on_accepted(tcp::socket socket, bool implicit_tls);
  bool register_connection(const std::shared_ptr<Connection>& connection);
  void unregister_connection(Connection* connection);
  void for_each_connection(void (Connection::*action)());
  bool wait_for_connections(Clock::time_point deadline);
  void session_created();
  void session_destroyed();
  void stop(std::chrono::milliseconds grace);

  ImapServerOptions options;
  HandlerFactory factory;
  // Before `io`: connections still queued in `io` when it is destroyed hold TLS streams.
  std::unique_ptr<asio::ssl::context> tls;
  asio::io_context io;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  asio::thread_pool workers;
  std::vector<std::thread> io_threads;

  std::unique_ptr<tcp::acceptor> plain_acceptor;
  std::unique_ptr<tcp::acceptor> tls_acceptor;
  std::string plain_address;
  std::string tls_address;
  std::uint16_t plain_port = 0;
  std::uint16_t tls_port = 0;

  mutable std::mutex registry_mutex;
  std::condition_variable registry_changed;
  std::unordered_map<Connection*, std::weak_ptr<Connection>> connections;
  std::size_t live_sessions = 0;  // handlers made and not yet destroyed (on a worker)
  bool stopping = false;

  std::mutex stop_mutex;
  bool stopped = false;
};

namespace {

// Connection series for /metrics, by listener ("imap": plain with STARTTLS, "imaps": implicit TLS).
metrics::ConnectionSeries& connection_metrics() {
  static metrics::ConnectionSeries series = metrics::connection_series(metrics::global(), "imap");
  return series;
}

std::string_view listener_name(bool implicit_tls) { return implicit_tls ? "imaps" : "imap"; }

struct Outcome {
  std::string out;
  SessionAction action = SessionAction::keep_going;
  std::chrono::seconds idle_timeout{0};
  std::string account;
};

// One client connection. Every member except `handler_` and `wake_queued_` is touched only on
// `strand_` (the socket's executor); `handler_` only on worker threads, one call at a time
// (`busy_` guarantees it), so the session needs no locking of its own.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(ImapServer::Core& core, tcp::socket socket, bool implicit_tls, bool rejected)
      : core_(core),
        socket_(std::move(socket)),
        strand_(socket_.get_executor()),
        timer_(strand_),
        implicit_tls_(implicit_tls),
        rejected_(rejected) {
    boost::system::error_code ignored;
    socket_.set_option(tcp::no_delay(true), ignored);
    socket_.non_blocking(true, ignored);
    const auto remote = socket_.remote_endpoint(ignored);
    if (!ignored) {
      auto address = remote.address();
      if (address.is_v6() && address.to_v6().is_v4_mapped()) {
        address = asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
      }
      info_.peer_address = address.to_string();
      info_.peer = net::ListenAddress{info_.peer_address, remote.port()}.to_string();
      info_.loopback = address.is_loopback();
      info_.trusted_proxy = core_.options.is_trusted_proxy && core_.options.is_trusted_proxy(info_.peer_address);
    } else {
      info_.peer = info_.peer_address = "unknown";
      info_.loopback = false;
    }
    info_.tls = implicit_tls;
    info_.starttls_available = !implicit_tls && core_.tls != nullptr;
    connection_metrics().accepted.with({listener_name(implicit_tls)}).inc();
    connection_metrics().open.with({listener_name(implicit_tls)}).add();
  }

  ~Connection() { connection_metrics().open.with({listener_name(implicit_tls_)}).sub(); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void start() {
    asio::post(strand_, [self = shared_from_this()] {
      log::debug("IMAP connection opened",
                 {{"peer", self->info_.peer}, {"tls", self->implicit_tls_ ? "yes" : "no"}});
      if (self->rejected_) {
        log::warn("IMAP connection refused: too many connections",
                  {{"peer", self->info_.peer}, {"max_connections", self->core_.options.max_connections}});
        self->phase_ = Phase::running;
        self->enqueue(std::string(kTooManyConnections));
        self->begin_close();
      } else if (self->implicit_tls_) {
        self->start_handshake();
      } else {
        self->open_session();
      }
    });
  }

  // Server shutdown: "* BYE" from the session, then close.
  void request_shutdown() {
    switch (phase_) {
      case Phase::handshaking: hard_close(); return;
      case Phase::running:
      case Phase::starting_tls:
        shutdown_pending_ = true;
        pump();
        return;
      default: return;  // already closing
    }
  }

  void force_close() { hard_close(); }

  const asio::any_io_executor& strand() const { return strand_; }

 private:
  enum class Phase { handshaking, running, starting_tls, closing, tls_closing, draining, closed };

  // ---- session calls (on a worker thread, one at a time) --------------------------------------

  template <class Call, class Done>
  void call_session(Call call, Done done) {
    busy_ = true;
    rearm();
    asio::post(
        core_.workers, [self = shared_from_this(), call = std::move(call), done = std::move(done)]() mutable {
          Outcome outcome;
          try {
            outcome.action = call(self->handler_, outcome.out);
            if (self->handler_) {
              outcome.idle_timeout = self->handler_->idle_timeout();
              outcome.account = self->handler_->account_key();
            }
          } catch (const std::exception& error) {
            log::error("IMAP session failed; closing the connection",
                       {{"peer", self->info_.peer}, {"reason", error.what()}});
            outcome.action = SessionAction::close;
          }
          asio::post(self->strand_, [self, outcome = std::move(outcome), done = std::move(done)]() mutable {
            self->busy_ = false;
            if (self->phase_ == Phase::closed) {
              self->release_handler();
              return;
            }
            if (outcome.idle_timeout.count() > 0) self->idle_timeout_ = outcome.idle_timeout;
            if (!outcome.account.empty()) self->account_ = outcome.account;
            done(std::move(outcome));
          });
        });
  }

  // The common continuation: write the output, act on the action, carry on.
  void after_call(Outcome outcome, bool was_input) {
    enqueue(std::move(outcome.out));
    if (was_input) last_input_ = Clock::now();
    switch (outcome.action) {
      case SessionAction::close: begin_close(); break;
      case SessionAction::start_tls:
        if (phase_ == Phase::running && core_.tls) {
          phase_ = Phase::starting_tls;
          write_more();  // starts the handshake once the output is flushed
        } else {
          begin_close();  // the session asked for TLS where none can be had
        }
        break;
      case SessionAction::keep_going: break;
    }
    rearm();
    pump();
  }

  std::function<void()> make_wake() {
    return [weak = weak_from_this()] {
      auto self = weak.lock();
      if (!self || self->wake_queued_.exchange(true)) return;
      asio::post(self->strand_, [self] {
        self->wake_queued_ = false;
        self->wake_pending_ = true;
        self->pump();
      });
    };
  }

  // Runs on a worker, inside a session call: queue the bytes, then wait (off the I/O threads)
  // until the client has taken enough of them.
  std::function<void(std::string_view)> make_writer() {
    return [weak = weak_from_this()](std::string_view bytes) {
      auto self = weak.lock();
      if (!self || bytes.empty()) return;
      std::promise<void> drained;
      auto done = drained.get_future();
      asio::post(self->strand_, [self, data = std::string(bytes), &drained]() mutable {
        self->enqueue(std::move(data));
        if (self->phase_ == Phase::closed ||
            self->pending_output() <= self->core_.options.max_pending_output) {
          drained.set_value();
        } else {
          self->drain_waiters_.push_back(&drained);
        }
      });
      self.reset();  // a connection closed meanwhile must be able to go away
      done.wait();
    };
  }

  void release_drain_waiters() {
    if (drain_waiters_.empty()) return;
    if (phase_ != Phase::closed && pending_output() > core_.options.max_pending_output) return;
    for (auto* waiter : drain_waiters_) waiter->set_value();
    drain_waiters_.clear();
  }

  void open_session() {
    phase_ = Phase::running;
    last_input_ = Clock::now();
    call_session(
        [info = info_, hooks = ConnectionHooks{make_wake(), make_writer()}, &factory = core_.factory,
         &core = core_](std::unique_ptr<ConnectionHandler>& handler, std::string& out) {
          handler = factory(info, hooks);
          if (!handler) throw std::runtime_error("the IMAP session factory returned no session");
          core.session_created();
          out = handler->greeting();
          return SessionAction::keep_going;
        },
        [this](Outcome outcome) { after_call(std::move(outcome), true); });
  }

  // Decides what happens next; called after every event. At most one session call at a time,
  // input before wake-ups, and neither reads nor wake-ups while too much output waits.
  void pump() {
    if (phase_ == Phase::closed || busy_) return;
    if (shutdown_pending_ && (phase_ == Phase::running || phase_ == Phase::starting_tls)) {
      shutdown_pending_ = false;
      call_session(
          [](std::unique_ptr<ConnectionHandler>& handler, std::string& out) {
            if (handler) handler->on_shutdown(out);
            return SessionAction::close;
          },
          [this](Outcome outcome) {
            enqueue(std::move(outcome.out));
            begin_close();
          });
      return;
    }
    if (phase_ != Phase::running) return;
    if (!input_.empty()) {
      call_session([data = std::move(input_)](std::unique_ptr<ConnectionHandler>& handler,
                                              std::string& out) { return handler->receive(data, out); },
                   [this](Outcome outcome) { after_call(std::move(outcome), true); });
      input_.clear();
      return;
    }
    if (pending_output() > core_.options.max_pending_output) return;
    // Keep a read pending while wake-ups are handled, so a stream of them cannot starve input.
    if (!reading_) start_read();
    if (wake_pending_) {
      wake_pending_ = false;
      call_session(
          [](std::unique_ptr<ConnectionHandler>& handler, std::string& out) { return handler->on_wake(out); },
          [this](Outcome outcome) { after_call(std::move(outcome), false); });
    }
  }

  // ---- reading ---------------------------------------------------------------------------------

  void start_read() {
    reading_ = true;
    rearm();
    if (tls_up_) {
      // OpenSSL hands out at most one record (16 KiB) per read.
      if (!tls_buffer_) tls_buffer_ = std::make_unique<std::array<char, 16 * 1024>>();
      tls_->async_read_some(asio::buffer(*tls_buffer_),
                            [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
                              self->on_read(ec, std::string_view(self->tls_buffer_->data(), n));
                            });
      return;
    }
    // Plain: wait for readability and read into a per-thread buffer, so an idle connection
    // holds no read buffer at all.
    socket_.async_wait(tcp::socket::wait_read, [self = shared_from_this()](boost::system::error_code ec) {
      if (ec) return self->on_read(ec, {});
      thread_local std::array<char, 64 * 1024> buffer;
      const std::size_t n = self->socket_.read_some(asio::buffer(buffer), ec);
      if (ec == asio::error::would_block || ec == asio::error::try_again) {
        self->reading_ = false;
        if (self->phase_ == Phase::running) {
          self->start_read();
        } else {
          self->continue_close();
        }
        return;
      }
      self->on_read(ec, std::string_view(buffer.data(), n));
    });
  }

  void on_read(boost::system::error_code ec, std::string_view data) {
    reading_ = false;
    if (phase_ == Phase::closed) return;
    if (phase_ == Phase::closing) return continue_close();
    if (ec) {
      const bool clean = ec == asio::error::eof || ec == asio::ssl::error::stream_truncated;
      log::debug(clean ? "IMAP client closed the connection" : "IMAP connection read failed",
                 {{"peer", info_.peer}, {"account", account_}, {"reason", ec.message()}});
      // A client that half-closes after its last command still gets the answers to it.
      if (clean) {
        begin_close();
      } else {
        hard_close();
      }
      return;
    }
    last_input_ = Clock::now();
    input_.append(data);
    pump();
  }

  // ---- writing ---------------------------------------------------------------------------------

  std::size_t pending_output() const { return (sending_.size() - sent_) + queued_.size(); }

  void enqueue(std::string data) {
    if (data.empty() || phase_ == Phase::closed) return;
    if (queued_.empty()) {
      queued_ = std::move(data);
    } else {
      queued_ += data;
    }
    write_more();
  }

  void write_more() {
    if (writing_ || phase_ == Phase::closed || phase_ == Phase::handshaking || phase_ == Phase::tls_closing ||
        phase_ == Phase::draining) {
      return;
    }
    if (sent_ == sending_.size()) {
      // Give the memory of a large response back instead of keeping it per idle connection.
      std::string().swap(sending_);
      sent_ = 0;
      if (queued_.empty()) return on_drained();
      sending_.swap(queued_);
    }
    writing_ = true;
    last_write_progress_ = Clock::now();
    rearm();
    auto done = [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
      self->on_written(ec, n);
    };
    const auto buffer = asio::buffer(sending_.data() + sent_, sending_.size() - sent_);
    if (tls_up_) {
      tls_->async_write_some(buffer, std::move(done));
    } else {
      socket_.async_write_some(buffer, std::move(done));
    }
  }

  void on_written(boost::system::error_code ec, std::size_t n) {
    writing_ = false;
    if (phase_ == Phase::closed) return;
    if (ec) {
      log::debug("IMAP connection write failed", {{"peer", info_.peer}, {"reason", ec.message()}});
      return hard_close();
    }
    sent_ += n;
    last_write_progress_ = Clock::now();
    write_more();
    release_drain_waiters();
    pump();
  }

  void on_drained() {
    rearm();
    if (phase_ == Phase::closing) return continue_close();
    if (phase_ == Phase::starting_tls) return start_handshake();
  }

  // ---- TLS -------------------------------------------------------------------------------------

  void start_handshake() {
    // No read runs while a command is handled, so none can be pending here; if one were, the
    // handshake would race it for the socket: give up on the connection rather than hang it.
    if (reading_) return hard_close();
    const bool implicit = phase_ != Phase::starting_tls;
    phase_ = Phase::handshaking;
    handshake_started_ = Clock::now();
    rearm();
    tls_ = std::make_unique<asio::ssl::stream<tcp::socket&>>(socket_, *core_.tls);
    tls_->async_handshake(asio::ssl::stream_base::server,
                          [self = shared_from_this(), implicit](boost::system::error_code ec) {
                            self->on_handshake(ec, implicit);
                          });
  }

  void on_handshake(boost::system::error_code ec, bool implicit) {
    if (phase_ == Phase::closed) return;
    if (ec) {
      connection_metrics().tls_failed.inc();
      log::debug("IMAP TLS handshake failed", {{"peer", info_.peer}, {"reason", ec.message()}});
      return hard_close();
    }
    tls_up_ = true;
    info_.tls = true;
    if (implicit) return open_session();
    phase_ = Phase::running;
    call_session(
        [](std::unique_ptr<ConnectionHandler>& handler, std::string&) {
          handler->on_tls_started();
          return SessionAction::keep_going;
        },
        [this](Outcome outcome) { after_call(std::move(outcome), true); });
  }

  // ---- closing ---------------------------------------------------------------------------------

  void begin_close() {
    if (phase_ == Phase::closed || phase_ == Phase::closing || phase_ == Phase::tls_closing ||
        phase_ == Phase::draining) {
      return;
    }
    if (phase_ == Phase::handshaking) return hard_close();
    phase_ = Phase::closing;
    input_.clear();
    rearm();
    if (!writing_ && pending_output() == 0) return continue_close();
    write_more();
  }

  // Output is flushed: stop the read, say close_notify, half-close and drain.
  void continue_close() {
    if (phase_ != Phase::closing || writing_ || pending_output() > 0) return;
    if (reading_) {
      boost::system::error_code ignored;
      socket_.cancel(ignored);  // on_read comes back here
      return;
    }
    close_started_ = Clock::now();
    if (tls_up_) {
      phase_ = Phase::tls_closing;
      rearm();
      tls_->async_shutdown([self = shared_from_this()](boost::system::error_code) {
        if (self->phase_ == Phase::tls_closing) self->drain();
      });
      return;
    }
    drain();
  }

  void drain() {
    phase_ = Phase::draining;
    rearm();
    boost::system::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_send, ignored);
    drain_more();
  }

  void drain_more() {
    reading_ = true;
    socket_.async_wait(tcp::socket::wait_read, [self = shared_from_this()](boost::system::error_code ec) {
      self->reading_ = false;
      if (self->phase_ != Phase::draining) return;
      if (ec) return self->hard_close();
      thread_local std::array<char, 16 * 1024> discard;
      self->socket_.read_some(asio::buffer(discard), ec);
      if (ec && ec != asio::error::would_block && ec != asio::error::try_again) return self->hard_close();
      self->drain_more();
    });
  }

  void hard_close() {
    if (phase_ == Phase::closed) return;
    phase_ = Phase::closed;
    boost::system::error_code ignored;
    timer_.cancel();
    socket_.close(ignored);
    input_.clear();
    std::string().swap(sending_);
    std::string().swap(queued_);
    release_drain_waiters();
    log::debug("IMAP connection closed", {{"peer", info_.peer}, {"account", account_}});
    if (!busy_) release_handler();
    core_.unregister_connection(this);
  }

  // The session is destroyed on a worker thread: its destructor may block like its calls.
  void release_handler() {
    if (released_) return;
    released_ = true;
    asio::post(core_.workers, [self = shared_from_this()] {
      if (!self->handler_) return;
      self->handler_.reset();
      self->core_.session_destroyed();
    });
  }

  // ---- deadlines -------------------------------------------------------------------------------

  Clock::time_point deadline() const {
    constexpr auto never = Clock::time_point::max();
    switch (phase_) {
      case Phase::handshaking: return handshake_started_ + core_.options.tls_handshake_timeout;
      case Phase::tls_closing:
      case Phase::draining: return close_started_ + kCloseTimeout;
      case Phase::closed: return never;
      case Phase::closing:
      case Phase::running:
      case Phase::starting_tls: break;
    }
    auto when = never;
    if (writing_) when = std::min(when, last_write_progress_ + idle_timeout_);
    if (phase_ != Phase::closing && !busy_ && input_.empty())
      when = std::min(when, last_input_ + idle_timeout_);
    return when;
  }

  // Points the one timer at the nearest deadline; a wait made stale by a later rearm() is
  // recognised by its generation and ignored.
  void rearm() {
    if (phase_ == Phase::closed) return;
    const auto when = deadline();
    if (timer_armed_ && when == armed_for_) return;
    armed_for_ = when;
    timer_armed_ = true;
    const auto generation = ++timer_generation_;
    timer_.expires_at(when);
    timer_.async_wait([self = shared_from_this(), generation](boost::system::error_code) {
      if (generation != self->timer_generation_) return;
      self->timer_armed_ = false;
      self->on_deadline();
    });
  }

  void on_deadline() {
    if (phase_ == Phase::closed) return;
    const auto now = Clock::now();
    if (now < deadline()) return rearm();
    switch (phase_) {
      case Phase::handshaking:
        connection_metrics().tls_failed.inc();
        log::debug("IMAP TLS handshake timed out", {{"peer", info_.peer}});
        return hard_close();
      case Phase::tls_closing:
      case Phase::draining: return hard_close();
      default: break;
    }
    if (writing_ && now >= last_write_progress_ + idle_timeout_) {
      log::info("IMAP client stopped reading; closing the connection",
                {{"peer", info_.peer}, {"account", account_}});
      return hard_close();
    }
    if (phase_ == Phase::closing) return rearm();
    log::debug("IMAP connection idle for too long", {{"peer", info_.peer}, {"account", account_}});
    call_session(
        [](std::unique_ptr<ConnectionHandler>& handler, std::string& out) {
          if (handler) handler->on_timeout(out);
          return SessionAction::close;
        },
        [this](Outcome outcome) {
          enqueue(std::move(outcome.out));
          begin_close();
        });
  }

  ImapServer::Core& core_;
  tcp::socket socket_;
  asio::any_io_executor strand_;  // the socket's executor: a strand made when it was accepted
  asio::steady_timer timer_;
  std::unique_ptr<asio::ssl::stream<tcp::socket&>> tls_;
  std::unique_ptr<std::array<char, 16 * 1024>> tls_buffer_;
  ConnectionInfo info_;
  std::string account_;
  const bool implicit_tls_;
  const bool rejected_;

  std::unique_ptr<ConnectionHandler> handler_;  // worker threads only
  std::atomic<bool> wake_queued_{false};
  std::vector<std::promise<void>*> drain_waiters_;  // workers blocked in a streamed write

  Phase phase_ = Phase::running;
  bool busy_ = false;
  bool reading_ = false;
  bool writing_ = false;
  bool tls_up_ = false;
  bool wake_pending_ = false;
  bool shutdown_pending_ = false;
  bool released_ = false;
  std::string input_;
  std::string sending_;
  std::size_t sent_ = 0;
  std::string queued_;
  std::chrono::seconds idle_timeout_ = kTimeoutBeforeSession;
  Clock::time_point last_input_ = Clock::now();
  Clock::time_point last_write_progress_ = Clock::now();
  Clock::time_point handshake_started_{};
  Clock::time_point close_started_{};
  bool timer_armed_ = false;
  Clock::time_point armed_for_{};
  std::uint64_t timer_generation_ = 0;
};

}  // namespace

void ImapServer::Core::accept(tcp::acceptor& acceptor, bool implicit_tls) {
  acceptor.async_accept(asio::make_strand(io), [this, &acceptor, implicit_tls](boost::system::error_code ec,
                                                                               tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
    if (ec) {
      // Typically out of file descriptors: back off instead of spinning on the error.
      log::warn("IMAP server cannot accept a connection", {{"reason", ec.message()}});
      auto pause = std::make_shared<asio::steady_timer>(io, std::chrono::milliseconds(100));
      pause->async_wait([this, pause, &acceptor, implicit_tls](boost::system::error_code) {
        if (acceptor.is_open()) accept(acceptor, implicit_tls);
      });
      return;
    }
    on_accepted(std::move(socket), implicit_tls);
    accept(acceptor, implicit_tls);
  });
}

void ImapServer::Core::on_accepted(tcp::socket socket, bool implicit_tls) {
  bool rejected = false;
  {
    std::lock_guard lock(registry_mutex);
    if (stopping) return;  // the socket closes as it goes out of scope
    rejected = connections.size() >= options.max_connections;
  }
  auto connection = std::make_shared<Connection>(*this, std::move(socket), implicit_tls, rejected);
  if (!register_connection(connection)) return;
  connection->start();
}

bool ImapServer::Core::register_connection(const std::shared_ptr<Connection>& connection) {
  std::lock_guard lock(registry_mutex);
  if (stopping) return false;
  connections.emplace(connection.get(), connection);
  return true;
}

void ImapServer::Core::unregister_connection(Connection* connection) {
  {
    std::lock_guard lock(registry_mutex);
    connections.erase(connection);
  }
  registry_changed.notify_all();
}

void ImapServer::Core::for_each_connection(void (Connection::*action)()) {
  std::vector<std::shared_ptr<Connection>> targets;
  {
    std::lock_guard lock(registry_mutex);
    for (const auto& [key, weak] : connections) {
      if (auto connection = weak.lock()) targets.push_back(std::move(connection));
    }
  }
  for (auto& connection : targets) {
    asio::post(connection->strand(), [connection, action] { ((*connection).*action)(); });
  }
}

void ImapServer::Core::session_created() {
  std::lock_guard lock(registry_mutex);
  ++live_sessions;
}

void ImapServer::Core::session_destroyed() {
  {
    std::lock_guard lock(registry_mutex);
    --live_sessions;
  }
  registry_changed.notify_all();
}

bool ImapServer::Core::wait_for_connections(Clock::time_point deadline) {
  std::unique_lock lock(registry_mutex);
  return registry_changed.wait_until(lock, deadline, [this] { return connections.empty(); });
}

void ImapServer::Core::stop(std::chrono::milliseconds grace) {
  std::lock_guard stop_lock(stop_mutex);
  if (stopped) return;
  stopped = true;
  const auto self = std::this_thread::get_id();
  if (std::any_of(io_threads.begin(), io_threads.end(),
                  [self](const std::thread& t) { return t.get_id() == self; })) {
    throw std::logic_error("ImapServer::stop() was called from one of its own threads");
  }
  {
    std::lock_guard lock(registry_mutex);
    stopping = true;
  }
  asio::post(io, [this] {
    boost::system::error_code ignored;
    if (plain_acceptor) plain_acceptor->close(ignored);
    if (tls_acceptor) tls_acceptor->close(ignored);
  });
  if (!io_threads.empty()) {
    for_each_connection(&Connection::request_shutdown);
    if (!wait_for_connections(Clock::now() + std::max(grace, std::chrono::milliseconds(0)))) {
      for_each_connection(&Connection::force_close);
      if (!wait_for_connections(Clock::now() + std::chrono::seconds(1))) {
        log::warn("IMAP server stopped with connections still open", {{"address", plain_address}});
      }
    }
  }
  // Every closed connection hands its session to a worker for destruction once its last call
  // returns; wait for that while the I/O threads still pass those hand-overs on, so no session
  // outlives stop() (they hold the LoginService and the mailboxes).
  {
    std::unique_lock lock(registry_mutex);
    if (!registry_changed.wait_for(lock, std::chrono::seconds(60), [this] { return live_sessions == 0; })) {
      log::warn("IMAP server stopping while sessions are still busy (a backend call may be blocked)",
                {{"sessions", live_sessions}});
    }
  }
  workers.join();
  work.reset();
  io.stop();
  for (auto& thread : io_threads) {
    if (thread.joinable()) thread.join();
  }
  if (!io_threads.empty()) log::info("IMAP server stopped");
}

namespace {

Result<void> validate(const ImapServerOptions& options, const HandlerFactory& factory) {
  if (!factory) return make_error("IMAP server started without a session factory");
  if (options.listen.empty() && options.tls_listen.empty()) {
    return make_error("IMAP server has no listener: set imap.listen or imap.tls_listen");
  }
  if (!options.tls_listen.empty() && !options.tls) {
    return make_error("imap.tls_listen needs a certificate and key (tls.cert, tls.key)");
  }
  if (options.io_threads < 1 || options.io_threads > 64) {
    return make_error("IMAP server io_threads must be between 1 and 64, not " +
                      std::to_string(options.io_threads));
  }
  if (options.worker_threads < 1 || options.worker_threads > 1024) {
    return make_error("IMAP server worker_threads must be between 1 and 1024, not " +
                      std::to_string(options.worker_threads));
  }
  if (options.max_connections < 1) return make_error("IMAP server max_connections must be at least 1");
  if (options.max_pending_output < 1024)
    return make_error("IMAP server max_pending_output must be at least 1024");
  if (options.tls_handshake_timeout.count() <= 0) {
    return make_error("IMAP server tls_handshake_timeout must be positive");
  }
  return {};
}

Result<std::unique_ptr<tcp::acceptor>> bind_listener(asio::io_context& io, const std::string& what,
                                                     const std::string& text, std::string& bound_address,
                                                     std::uint16_t& bound_port) {
  auto listen = net::parse_listen_address(text);
  if (!listen) return make_error(what + ": " + listen.error().message);
  boost::system::error_code ec;
  tcp::resolver resolver(io);
  const auto endpoints = resolver.resolve(listen->host, std::to_string(listen->port),
                                          tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec || endpoints.empty()) {
    return make_error(what + ": cannot resolve host " + listen->host + " in " + text +
                      "; use an IP address such as 127.0.0.1 or a name this machine can resolve");
  }
  const tcp::endpoint endpoint = endpoints.begin()->endpoint();
  auto acceptor = std::make_unique<tcp::acceptor>(io);
  acceptor->open(endpoint.protocol(), ec);
  if (!ec) acceptor->set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor->bind(endpoint, ec);
  if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return listen_error(what, text, ec);
  const auto local = acceptor->local_endpoint(ec);
  if (ec) return listen_error(what, text, ec);
  bound_port = local.port();
  bound_address = net::ListenAddress{local.address().to_string(), bound_port}.to_string();
  return acceptor;
}

}  // namespace

ImapServer::ImapServer(std::shared_ptr<Core> core) : core_(std::move(core)) {}

ImapServer::~ImapServer() {
  stop(std::chrono::milliseconds(0));
}

std::string ImapServer::address() const {
  return core_->plain_address;
}
std::uint16_t ImapServer::port() const {
  return core_->plain_port;
}
std::string ImapServer::tls_address() const {
  return core_->tls_address;
}
std::uint16_t ImapServer::tls_port() const {
  return core_->tls_port;
}

std::size_t ImapServer::connections() const {
  std::lock_guard lock(core_->registry_mutex);
  return core_->connections.size();
}

void ImapServer::stop(std::chrono::milliseconds grace) {
  core_->stop(grace);
}

Result<std::unique_ptr<ImapServer>> ImapServer::start(ImapServerOptions options, HandlerFactory factory) {
  if (auto valid = validate(options, factory); !valid) return valid.error();
  auto core = std::make_shared<Core>(std::move(options), std::move(factory));

  if (core->options.tls) {
    auto tls = net::make_server_tls(*core->options.tls);
    if (!tls) return tls.error();
    SSL_CTX* handle = tls->native_handle();
    // Idle connections give OpenSSL's record buffers back (about 34 KB each).
    SSL_CTX_ctrl(handle, SSL_CTRL_MODE, SSL_MODE_RELEASE_BUFFERS, nullptr);
    SSL_CTX_up_ref(handle);
    core->tls = std::make_unique<asio::ssl::context>(handle);
  }

  if (!core->options.listen.empty()) {
    auto acceptor =
        bind_listener(core->io, "imap.listen", core->options.listen, core->plain_address, core->plain_port);
    if (!acceptor) return acceptor.error();
    core->plain_acceptor = std::move(*acceptor);
  }
  if (!core->options.tls_listen.empty()) {
    auto acceptor = bind_listener(core->io, "imap.tls_listen", core->options.tls_listen, core->tls_address,
                                  core->tls_port);
    if (!acceptor) return acceptor.error();
    core->tls_acceptor = std::move(*acceptor);
  }

  if (core->plain_acceptor) core->accept(*core->plain_acceptor, false);
  if (core->tls_acceptor) core->accept(*core->tls_acceptor, true);
  core->work.emplace(core->io.get_executor());
  for (int i = 0; i < core->options.io_threads; ++i) {
    core->io_threads.emplace_back([&io = core->io] {
      for (;;) {
        try {
          io.run();
          return;
        } catch (const std::exception& error) {
          log::error("IMAP server I/O thread caught an exception; continuing", {{"reason", error.what()}});
        }
      }
    });
  }
  return std::unique_ptr<ImapServer>(new ImapServer(std::move(core)));
}

}  // namespace mailtrixy::imap
