#include "mailtrixy/graph/graph_client.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cmath>
#include <deque>
#include <map>
#include <random>
#include <set>

#include "mailtrixy/auth/token_manager.hpp"
#include "mailtrixy/base/log.hpp"
#include "mailtrixy/base/metrics.hpp"
#include "json.hpp"

namespace mailtrixy::graph {

using namespace std::chrono_literals;

std::string_view to_string(CallFailure failure) {
  switch (failure) {
    case CallFailure::none: return "none";
    case CallFailure::unavailable: return "unavailable";
    case CallFailure::needs_sign_in: return "needs_sign_in";
    case CallFailure::not_configured: return "not_configured";
    case CallFailure::invalid_request: return "invalid_request";
    case CallFailure::shut_down: return "shut_down";
  }
  return "unknown";
}

namespace {

// Graph traffic of every mailbox together: per-mailbox labels would grow with the accounts.
struct GraphMetrics {
  metrics::Family<metrics::Counter>& requests = metrics::global().counter(
      "mailtrixy_graph_requests_total",
      "HTTP requests sent to Microsoft Graph, by method and status class (2xx..5xx, or error for no answer).",
      {"method", "status"});
  metrics::Family<metrics::Histogram>& latency = metrics::global().histogram(
      "mailtrixy_graph_request_duration_seconds", "Time for one HTTP request to Microsoft Graph, by method.",
      {"method"}, metrics::latency_buckets());
  metrics::Gauge& in_flight =
      metrics::global().gauge("mailtrixy_graph_requests_in_flight", "Requests to Microsoft Graph waiting for an answer.").get();
  metrics::Counter& throttled = metrics::global()
                                    .counter("mailtrixy_graph_throttled_total",
                                             "Graph answers (also $batch items) of 429 or 503 that carried Retry-After.")
                                    .get();
  metrics::Counter& retries =
      metrics::global().counter("mailtrixy_graph_retries_total", "Graph requests sent again after a failure or throttling.").get();
};

GraphMetrics& graph_metrics() {
  static GraphMetrics instance;
  return instance;
}

std::string_view method_label(std::string_view method) {
  for (std::string_view known : {"GET", "POST", "PATCH", "PUT", "DELETE"})
    if (method == known) return known;
  return "other";
}

std::string_view status_class(int status) {
  static constexpr std::string_view kClasses[] = {"1xx", "2xx", "3xx", "4xx", "5xx"};
  const int digit = status / 100;
  return digit >= 1 && digit <= 5 ? kClasses[digit - 1] : std::string_view("other");
}

void count_if_throttled(int status, bool has_retry_after) {
  if ((status == 429 || status == 503) && has_retry_after) graph_metrics().throttled.inc();
}

}  // namespace

TokenSource token_source(auth::TokenManager& tokens, std::string account_key) {
  TokenSource source;
  source.get = [&tokens, account_key](CallFailure* failure) -> Result<Secret<std::string>> {
    auth::TokenFailure why = auth::TokenFailure::none;
    auto token = tokens.access_token(account_key, &why);
    if (!token.ok() && failure != nullptr) {
      switch (why) {
        case auth::TokenFailure::needs_sign_in:
        case auth::TokenFailure::unknown_account: *failure = CallFailure::needs_sign_in; break;
        case auth::TokenFailure::integration_broken:
        case auth::TokenFailure::not_configured: *failure = CallFailure::not_configured; break;
        default: *failure = CallFailure::unavailable; break;
      }
    }
    return token;
  };
  source.invalidate = [&tokens, account_key](const Secret<std::string>& rejected) {
    tokens.invalidate(account_key, rejected);
  };
  return source;
}

std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  if (value.empty() || value.size() > 20) return std::nullopt;
  std::int64_t whole = 0;
  std::int64_t fraction_millis = 0;
  const auto dot = value.find('.');
  const std::string_view integral = value.substr(0, dot);
  if (integral.empty()) return std::nullopt;
  for (char c : integral) {
    if (c < '0' || c > '9') return std::nullopt;
    whole = whole * 10 + (c - '0');
    if (whole > 86400 * 365) return std::nullopt;
  }
  if (dot != std::string_view::npos) {
    const std::string_view decimals = value.substr(dot + 1);
    if (decimals.empty()) return std::nullopt;
    std::int64_t scale = 100;
    bool remainder = false;
    for (char c : decimals) {
      if (c < '0' || c > '9') return std::nullopt;
      if (scale > 0) {
        fraction_millis += (c - '0') * scale;
        scale /= 10;
      } else if (c != '0') {
        remainder = true;  // below a millisecond: round up, never retry early
      }
    }
    if (remainder) ++fraction_millis;
  }
  return std::chrono::milliseconds(whole * 1000 + fraction_millis);
}

std::optional<std::string_view> GraphResponse::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (key.size() == name.size() &&
        std::equal(key.begin(), key.end(), name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
        })) {
      return std::string_view(value);
    }
  }
  return std::nullopt;
}

GraphError GraphResponse::error() const {
  GraphError out;
  rapidjson::Document document;
  document.Parse(body.data(), body.size());
  if (document.HasParseError() || !document.IsObject()) return out;
  const auto* error = json::member(document, "error");
  if (error == nullptr || !error->IsObject()) return out;
  out.code = json::string_or(*error, "code", "");
  out.message = json::string_or(*error, "message", "");
  return out;
}

std::string GraphResponse::describe() const {
  const GraphError decoded = error();
  std::string text = "Graph answered " + std::to_string(status);
  if (!decoded.code.empty()) text += " " + decoded.code;
  if (!decoded.message.empty()) text += ": " + redact_text(decoded.message);
  return text;
}

// FIFO slots for one mailbox, shared by every GraphClient with the same key.
struct GraphClient::Gate {
  std::mutex mutex;
  std::condition_variable changed;
  int limit = 4;
  int in_flight = 0;
  std::uint64_t next_ticket = 0;
  std::deque<std::uint64_t> queue;

  bool acquire(const std::atomic<bool>& stopped) {
    std::unique_lock lock(mutex);
    const std::uint64_t ticket = next_ticket++;
    queue.push_back(ticket);
    changed.wait(lock, [&] { return stopped.load() || (queue.front() == ticket && in_flight < limit); });
    if (stopped.load()) {
      queue.erase(std::find(queue.begin(), queue.end(), ticket));
      changed.notify_all();
      return false;
    }
    queue.pop_front();
    ++in_flight;
    changed.notify_all();
    return true;
  }
  void release() {
    {
      std::lock_guard lock(mutex);
      --in_flight;
    }
    changed.notify_all();
  }
};

namespace {

std::mutex gates_mutex;
std::map<std::string, std::weak_ptr<GraphClient::Gate>>& gates() {
  static auto* registry = new std::map<std::string, std::weak_ptr<GraphClient::Gate>>();
  return *registry;
}

std::shared_ptr<GraphClient::Gate> gate_for(const std::string& key, int limit) {
  std::lock_guard lock(gates_mutex);
  auto& registry = gates();
  for (auto it = registry.begin(); it != registry.end();) {
    it = it->second.expired() ? registry.erase(it) : std::next(it);
  }
  if (!key.empty()) {
    if (auto existing = registry[key].lock()) return existing;
  }
  auto gate = std::make_shared<GraphClient::Gate>();
  gate->limit = limit;
  if (!key.empty()) registry[key] = gate;
  return gate;
}

bool idempotent(std::string_view method) {
  return method == "GET" || method == "PUT" || method == "PATCH" || method == "DELETE" || method == "HEAD";
}

bool retryable_status(int status) { return status == 429 || status == 503 || status == 504; }

}  // namespace

GraphClient::GraphClient(net::HttpClient& http, TokenSource tokens, GraphClientOptions options)
    : http_(http), tokens_(std::move(tokens)), options_(std::move(options)) {
  while (!options_.graph_url.empty() && options_.graph_url.back() == '/') options_.graph_url.pop_back();
  const auto scheme_end = options_.graph_url.find("://");
  const auto path_start = options_.graph_url.find('/', scheme_end + 3);
  origin_ = options_.graph_url.substr(0, path_start);
  gate_ = gate_for(options_.mailbox_key, options_.max_in_flight);
}

Result<std::unique_ptr<GraphClient>> GraphClient::create(net::HttpClient& http, TokenSource tokens,
                                                         GraphClientOptions options) {
  const std::string& url = options.graph_url;
  if (!(url.starts_with("https://") || url.starts_with("http://")) || url.find("://") + 3 >= url.size()) {
    return make_error("The Graph URL '" + url +
                      "' is not an absolute http(s) URL; set microsoft.graph_url to e.g. https://graph.microsoft.com.");
  }
  if (options.max_in_flight < 1) return make_error("The Graph client needs max_in_flight of at least 1.");
  if (options.max_attempts < 1) return make_error("The Graph client needs max_attempts of at least 1.");
  if (options.call_deadline.count() < 0) return make_error("The Graph client needs a call_deadline of 0 (none) or more.");
  if (!tokens.get || !tokens.invalidate) {
    return make_error("The Graph client needs a token source with both get and invalidate.");
  }
  return std::unique_ptr<GraphClient>(new GraphClient(http, std::move(tokens), std::move(options)));
}


GraphClient::~GraphClient() {
  stop();
}

void GraphClient::stop() {
  {
    std::lock_guard lock(mutex_);
    stopped_ = true;
  }
  stop_requested_.store(true);
  wake_.notify_all();
  {
    std::lock_guard lock(gate_->mutex);
  }
  gate_->changed.notify_all();
}

GraphClientStats GraphClient::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

std::string GraphClient::url_for(std::string_view path) const {
  std::string url = options_.graph_url + "/v1.0";
  if (!path.starts_with('/')) url += '/';
  url += path;
  return url;
}

bool GraphClient::sleep_for(std::chrono::milliseconds delay) {
  std::unique_lock lock(mutex_);
  wake_.wait_for(lock, delay, [&] { return stopped_; });
  return !stopped_;
}

std::chrono::milliseconds GraphClient::backoff(int attempt) {
  thread_local std::mt19937_64 random{std::random_device{}()};
  const int doublings = std::min(attempt - 1, 20);
  const auto full = std::min(options_.backoff_max, options_.backoff_initial * (std::int64_t{1} << doublings));
  std::uniform_int_distribution<std::int64_t> pick(full.count() / 2, std::max<std::int64_t>(full.count(), 1));
  return std::chrono::milliseconds(pick(random));
}

Result<GraphResponse> GraphClient::send_once(const GraphRequest& request, const Secret<std::string>& token,
                                             std::chrono::milliseconds timeout, net::HttpFailure* network) {
  net::HttpClientRequest http_request;
  http_request.method = request.method;
  http_request.url = request.target.starts_with("http://") || request.target.starts_with("https://")
                         ? request.target
                         : url_for(request.target);
  http_request.timeout = timeout;
  std::string prefer = "IdType=\"ImmutableId\"";
  for (const auto& value : request.prefer) prefer += ", " + value;
  http_request.headers = {{"Authorization", "Bearer " + token.reveal()}, {"Prefer", prefer}, {"Accept", "application/json"}};
  if (!request.content_type.empty()) http_request.headers.emplace_back("Content-Type", request.content_type);
  http_request.body = request.body;
  {
    std::lock_guard lock(mutex_);
    ++stats_.requests;
    ++in_flight_;
    stats_.max_in_flight = std::max(stats_.max_in_flight, in_flight_);
  }
  GraphMetrics& measured = graph_metrics();
  measured.in_flight.add();
  const auto started = std::chrono::steady_clock::now();
  auto response = http_.send(http_request, network);
  measured.in_flight.sub();
  measured.latency.with({method_label(request.method)})
      .observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  measured.requests.with({method_label(request.method), response.ok() ? status_class(response->status) : "error"})
      .inc();
  if (response.ok()) count_if_throttled(response->status, response->header("Retry-After").has_value());
  {
    std::lock_guard lock(mutex_);
    --in_flight_;
  }
  if (!response.ok()) return response.error();
  GraphResponse out;
  out.status = response->status;
  out.headers = std::move(response->headers);
  out.body = std::move(response->body);
  return out;
}

Result<GraphResponse> GraphClient::send(const GraphRequest& request, CallFailure* failure) {
  CallFailure ignored = CallFailure::none;
  CallFailure& why = failure != nullptr ? *failure : ignored;
  why = CallFailure::none;
  const bool absolute = request.target.starts_with("http://") || request.target.starts_with("https://");
  if (absolute && !request.target.starts_with(origin_ + "/")) {
    why = CallFailure::invalid_request;
    return make_error("Refusing to follow a Graph link to another origin than " + origin_ +
                      "; check microsoft.graph_url.");
  }
  if (!absolute && !request.target.starts_with('/')) {
    why = CallFailure::invalid_request;
    return make_error("A Graph request path must start with '/' (got '" + request.target.substr(0, 40) + "').");
  }
  CallFailure token_failure = CallFailure::unavailable;
  auto token = tokens_.get(&token_failure);
  if (!token.ok()) {
    why = token_failure;
    return token.error();
  }
  Secret<std::string> current = std::move(token).value();
  bool refreshed = false;
  const bool bounded = options_.call_deadline.count() > 0;
  const auto deadline = std::chrono::steady_clock::now() + options_.call_deadline;
  const auto time_left = [&] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  };
  for (int attempt = 1;; ++attempt) {
    if (!gate_->acquire(stop_requested_)) {
      why = CallFailure::shut_down;
      return make_error("The Graph client is stopping.");
    }
    net::HttpFailure network = net::HttpFailure::none;
    const auto attempt_timeout =
        bounded ? std::clamp(time_left(), std::chrono::milliseconds(1), options_.request_timeout) : options_.request_timeout;
    auto response = send_once(request, current, attempt_timeout, &network);
    gate_->release();
    std::optional<std::chrono::milliseconds> wait;
    if (!response.ok()) {
      if (network == net::HttpFailure::shut_down) {
        why = CallFailure::shut_down;
        return response.error();
      }
      if (network == net::HttpFailure::invalid_request) {
        why = CallFailure::invalid_request;
        return response.error();
      }
      const bool nothing_sent = network == net::HttpFailure::resolve || network == net::HttpFailure::connect;
      const bool maybe_acted = network == net::HttpFailure::timeout || network == net::HttpFailure::connection_lost ||
                               network == net::HttpFailure::truncated || network == net::HttpFailure::protocol;
      if (!(nothing_sent || (maybe_acted && idempotent(request.method))) || attempt >= options_.max_attempts) {
        why = CallFailure::unavailable;
        return make_error(response.error().message + " (after " + std::to_string(attempt) + " attempts)");
      }
      log::warn("graph request failed, retrying",
                {{"method", request.method}, {"failure", to_string(network)}, {"attempt", attempt}});
      wait = backoff(attempt);
    } else if (response->status == 401 && !refreshed) {
      refreshed = true;
      tokens_.invalidate(current);
      auto fresh = tokens_.get(&token_failure);
      if (!fresh.ok()) {
        why = token_failure;
        return fresh.error();
      }
      current = std::move(fresh).value();
      {
        std::lock_guard lock(mutex_);
        ++stats_.token_refreshes;
      }
      --attempt;  // a refresh is not a failed attempt
      continue;
    } else if (retryable_status(response->status) && attempt < options_.max_attempts &&
               (response->status != 504 || idempotent(request.method))) {
      // A 504 means the gateway gave up waiting, not that nothing happened: a POST (sendMail,
      // copy, create) may have been carried out, so it goes back to the caller, who can check.
      const auto header = response->header("Retry-After");
      const auto retry_after = header ? parse_retry_after(*header) : std::nullopt;
      if (retry_after && *retry_after > options_.max_retry_after) return response;
      if (retry_after) {
        thread_local std::mt19937_64 random{std::random_device{}()};
        // A little spread so calls throttled together do not all return in the same millisecond;
        // always after Retry-After, never before.
        std::uniform_int_distribution<std::int64_t> spread(0, std::max<std::int64_t>(retry_after->count() / 10, 1));
        wait = *retry_after + std::chrono::milliseconds(spread(random));
      } else {
        wait = backoff(attempt);
      }
      log::info("graph throttled or unavailable, retrying",
                {{"method", request.method}, {"status", response->status}, {"attempt", attempt},
                 {"wait_ms", static_cast<std::int64_t>(wait->count())}});
    } else {
      return response;
    }
    if (bounded && *wait >= time_left()) {
      // Waiting would pass the call's deadline: hand back what we have so the caller can answer
      // NO now (and the sync engine retry next round) rather than a client timing out first.
      log::warn("graph call gave up at its deadline",
                {{"method", request.method}, {"attempt", attempt},
                 {"deadline_ms", static_cast<std::int64_t>(options_.call_deadline.count())}});
      if (response.ok()) return response;
      why = CallFailure::unavailable;
      return make_error(response.error().message + " (gave up after " + std::to_string(attempt) +
                        " attempts: Graph did not answer in time)");
    }
    {
      std::lock_guard lock(mutex_);
      ++stats_.retries;
    }
    graph_metrics().retries.inc();
    if (!sleep_for(*wait)) {
      why = CallFailure::shut_down;
      return make_error("The Graph client is stopping.");
    }
  }
}

std::vector<Result<GraphResponse>> GraphClient::batch(const std::vector<BatchItem>& items,
                                                      std::vector<CallFailure>* failures) {
  std::vector<std::optional<Result<GraphResponse>>> results(items.size());
  std::vector<CallFailure> why(items.size(), CallFailure::none);
  std::vector<bool> refreshed(items.size(), false);
  std::vector<std::size_t> pending(items.size());
  for (std::size_t i = 0; i < items.size(); ++i) pending[i] = i;

  for (int round = 1; !pending.empty(); ++round) {
    std::vector<std::size_t> again;
    std::optional<std::chrono::milliseconds> retry_after;
    bool token_rejected = false;
    for (std::size_t start = 0; start < pending.size(); start += 20) {
      const std::size_t end = std::min(pending.size(), start + 20);
      rapidjson::Document request(rapidjson::kObjectType);
      auto& allocator = request.GetAllocator();
      rapidjson::Value list(rapidjson::kArrayType);
      for (std::size_t k = start; k < end; ++k) {
        const BatchItem& item = items[pending[k]];
        rapidjson::Value entry(rapidjson::kObjectType);
        entry.AddMember("id", rapidjson::Value(std::to_string(pending[k]).c_str(), allocator), allocator);
        entry.AddMember("method", rapidjson::Value(item.method.c_str(), allocator), allocator);
        entry.AddMember("url", rapidjson::Value(item.path.c_str(), allocator), allocator);
        if (!item.json_body.empty()) {
          rapidjson::Document body(&allocator);
          body.Parse(item.json_body.data(), item.json_body.size());
          if (body.HasParseError()) {
            results[pending[k]] = make_error("A $batch item body is not valid JSON.");
            why[pending[k]] = CallFailure::invalid_request;
            continue;
          }
          rapidjson::Value headers(rapidjson::kObjectType);
          headers.AddMember("Content-Type", "application/json", allocator);
          entry.AddMember("headers", headers, allocator);
          entry.AddMember("body", rapidjson::Value(body, allocator), allocator);
        }
        list.PushBack(entry, allocator);
      }
      if (list.Empty()) continue;
      request.AddMember("requests", list, allocator);
      rapidjson::StringBuffer buffer;
      rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
      request.Accept(writer);

      GraphRequest outer;
      outer.method = "POST";
      outer.target = "/$batch";
      outer.content_type = "application/json";
      outer.body = buffer.GetString();
      CallFailure outer_failure = CallFailure::none;
      auto response = send(outer, &outer_failure);
      std::vector<std::size_t> sent;
      for (std::size_t k = start; k < end; ++k) {
        if (!results[pending[k]]) sent.push_back(pending[k]);
      }
      if (!response.ok() || response->status != 200) {
        for (std::size_t index : sent) {
          results[index] = response.ok() ? Result<GraphResponse>(*response) : Result<GraphResponse>(response.error());
          why[index] = response.ok() ? CallFailure::none : outer_failure;
        }
        continue;
      }
      rapidjson::Document answer;
      answer.Parse(response->body.data(), response->body.size());
      const auto* responses = answer.HasParseError() ? nullptr : json::member(answer, "responses");
      if (responses == nullptr || !responses->IsArray()) {
        for (std::size_t index : sent) {
          results[index] = make_error("Graph answered a $batch with a body that is not a batch response.");
          why[index] = CallFailure::unavailable;
        }
        continue;
      }
      std::set<std::size_t> answered;
      for (const auto& entry : responses->GetArray()) {
        if (!entry.IsObject()) continue;
        const std::string id = json::string_or(entry, "id", "");
        std::size_t index = 0;
        const auto parsed = std::from_chars(id.data(), id.data() + id.size(), index);
        if (parsed.ec != std::errc() || index >= items.size() || results[index]) continue;
        GraphResponse item;
        item.status = json::int_or(entry, "status", 0);
        if (const auto* headers = json::member(entry, "headers"); headers != nullptr && headers->IsObject()) {
          for (const auto& header : headers->GetObject()) {
            if (header.value.IsString()) item.headers.emplace_back(header.name.GetString(), header.value.GetString());
          }
        }
        if (const auto* body = json::member(entry, "body"); body != nullptr) {
          if (body->IsString()) {
            item.body = body->GetString();
          } else {
            rapidjson::StringBuffer text;
            rapidjson::Writer<rapidjson::StringBuffer> body_writer(text);
            body->Accept(body_writer);
            item.body = text.GetString();
          }
        }
        answered.insert(index);
        count_if_throttled(item.status, item.header("Retry-After").has_value());
        if (retryable_status(item.status) && round < options_.max_attempts) {
          graph_metrics().retries.inc();
          if (const auto header = item.header("Retry-After")) {
            if (const auto value = parse_retry_after(*header)) retry_after = std::max(retry_after.value_or(0ms), *value);
          }
          again.push_back(index);
        } else if (item.status == 401 && !refreshed[index]) {
          refreshed[index] = true;
          token_rejected = true;
          again.push_back(index);
        } else {
          results[index] = std::move(item);
        }
      }
      for (std::size_t index : sent) {
        if (!answered.count(index)) {
          if (round < options_.max_attempts) {
            again.push_back(index);
          } else {
            results[index] = make_error("Graph left a $batch item unanswered.");
            why[index] = CallFailure::unavailable;
          }
        }
      }
    }
    pending = std::move(again);
    if (pending.empty()) break;
    if (token_rejected) {
      CallFailure token_failure = CallFailure::unavailable;
      auto token = tokens_.get(&token_failure);
      if (token.ok()) {
        tokens_.invalidate(*token);
        std::lock_guard lock(mutex_);
        ++stats_.token_refreshes;
      }
    }
    if (retry_after && *retry_after > options_.max_retry_after) retry_after = options_.max_retry_after;
    {
      std::lock_guard lock(mutex_);
      stats_.retries += pending.size();
    }
    const auto wait = retry_after ? *retry_after : (token_rejected && !retry_after ? 0ms : backoff(round));
    if (wait > 0ms && !sleep_for(wait)) {
      for (std::size_t index : pending) {
        results[index] = make_error("The Graph client is stopping.");
        why[index] = CallFailure::shut_down;
      }
      break;
    }
  }
  std::vector<Result<GraphResponse>> out;
  out.reserve(items.size());
  for (std::size_t i = 0; i < items.size(); ++i) {
    out.push_back(results[i] ? std::move(*results[i]) : Result<GraphResponse>(make_error("The $batch item was not sent.")));
  }
  if (failures != nullptr) *failures = std::move(why);
  return out;
}

}  // namespace mailtrixy::graph
