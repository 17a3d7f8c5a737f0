#pragma once
// The bridge's Microsoft Graph caller for one mailbox (graph-facts B12, B13, C1-C5). It sits on
// net::HttpClient and adds what Graph needs and HttpClient deliberately leaves out:
//
//   - Authorization: every call carries the account's access token from a TokenSource. A 401
//     answer invalidates exactly that token, asks for a fresh one and repeats the call ONCE; a
//     second 401 is returned to the caller.
//   - Prefer: IdType="ImmutableId" on every call (so message ids survive moves), plus whatever
//     preferences the request adds (odata.maxpagesize=N, outlook.body-content-type=...).
//   - Concurrency: at most max_in_flight (4, Outlook's per app x mailbox limit) requests of one
//     mailbox are on the wire at once, across every GraphClient of that mailbox in the process
//     (the gate is shared by mailbox key). Further calls wait in FIFO order; they do not fail.
//     A call waiting for a retry gives its slot back while it sleeps.
//   - Retries: 429, 503, 504 and network failures are retried up to max_attempts in total. A
//     Retry-After header (seconds, fractional allowed: "2.128") is honoured - the call never
//     repeats earlier - otherwise the wait is exponential backoff with jitter (backoff_initial
//     doubling to backoff_max, a random value in [half, full]). A Retry-After longer than
//     max_retry_after gives up at once with `unavailable`. Network failures after which the
//     server may have acted (timeout, connection lost) are only retried for idempotent methods
//     (GET, PUT, PATCH, DELETE); POSTs are retried only when nothing was sent. Likewise a 504
//     (the gateway gave up waiting; the call may have been carried out) is retried only for
//     idempotent methods: a POST gets the 504 back, so a sender can check before sending again.
//   - $batch: batch() packs up to 20 calls per round trip, matches answers by id (Graph returns
//     them in any order) and re-sends, in a later batch, the items that were throttled (429),
//     unavailable (503/504) or unauthorised (401, after one token refresh), honouring the largest
//     Retry-After among them.
//
// Any HTTP status that is not retried (2xx, 3xx, 4xx, a 5xx after the last attempt) is a
// GraphResponse, not an Error; GraphResponse::error() decodes Graph's error body. An Error
// means no usable answer at all; CallFailure says why.
//
// Links: a request's `target` is either a path below the Graph version root ("/me/mailFolders")
// or an absolute URL that Graph handed out (@odata.nextLink / @odata.deltaLink). Absolute URLs
// must point at the configured Graph origin: the access token is never sent anywhere else.
//
// Threads: send() and batch() block and may be called from any thread that is not one of the
// HttpClient's I/O threads. stop() (also the destructor) wakes every call sleeping before a
// retry or waiting for a slot; those return CallFailure::shut_down.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mailtrixy/base/redact.hpp"
#include "mailtrixy/base/result.hpp"
#include "mailtrixy/net/http_client.hpp"

namespace mailtrixy::auth {
class TokenManager;
}

namespace mailtrixy::graph {

// Why a call produced no response.
enum class CallFailure {
  none,
  unavailable,        // network failures, throttling or 5xx outlasted the retries: try later
  needs_sign_in,      // the account has no usable token (revoked, signed out)
  not_configured,     // the integration is broken or missing: the admin must act
  invalid_request,    // the call itself was malformed (a link to a foreign origin, a bad URL)
  shut_down,          // the client is stopping
};

std::string_view to_string(CallFailure failure);

// Where access tokens come from. `get` returns the current token (refreshing when due) and sets
// the failure kind on error; `invalidate` is told about a token Graph rejected with 401.
struct TokenSource {
  std::function<Result<Secret<std::string>>(CallFailure* failure)> get;
  std::function<void(const Secret<std::string>& rejected)> invalidate;
};

// A TokenSource over the auth module's TokenManager for one account. The manager must outlive it.
TokenSource token_source(auth::TokenManager& tokens, std::string account_key);

struct GraphClientOptions {
  std::string graph_url = "https://graph.microsoft.com";  // microsoft.graph_url, no trailing /v1.0
  std::string mailbox_key;       // the account key: the in-flight gate is shared per mailbox
  int max_in_flight = 4;
  int max_attempts = 8;          // attempts per call, the first included
  std::chrono::milliseconds backoff_initial{500};
  std::chrono::milliseconds backoff_max{30000};
  std::chrono::milliseconds max_retry_after{300000};
  std::chrono::milliseconds request_timeout{60000};  // one attempt, connect to last byte
  // One send(), all attempts and waits included, ends within this (0: no limit). Each attempt's
  // timeout is cut to what is left, and a retry whose wait would pass it is not made: the last
  // answer (or error) goes back instead. IMAP clients give up on a command after 60-120 s, so a
  // hung or throttled Graph must become a clear NO before that, not after 8 attempts x 60 s.
  std::chrono::milliseconds call_deadline{90000};
};

struct GraphRequest {
  std::string method = "GET";
  std::string target;                // "/me/..." or an absolute link from Graph
  std::string body;                  // sent as is
  std::string content_type;          // e.g. "application/json"; empty with no body
  std::vector<std::string> prefer;   // extra Prefer values, e.g. "odata.maxpagesize=100"
};

// Graph's error body {"error":{"code","message"}}, read leniently (graph-facts C4, G5).
struct GraphError {
  std::string code;
  std::string message;
};

struct GraphResponse {
  int status = 0;
  net::HttpHeaders headers;
  std::string body;

  bool ok() const { return status >= 200 && status < 300; }
  std::optional<std::string_view> header(std::string_view name) const;
  // The decoded error of a non-2xx answer; code/message empty when the body is not Graph's shape.
  GraphError error() const;
  // "Graph answered 404 ErrorItemNotFound: The specified object was not found in the store."
  std::string describe() const;
};

struct BatchItem {
  std::string method = "GET";
  std::string path;        // below the version root: "/me/messages/{id}"
  std::string json_body;   // a JSON object, or empty for none
};

// Per-process counters for tests and metrics.
struct GraphClientStats {
  std::uint64_t requests = 0;       // HTTP requests sent (a $batch counts once)
  std::uint64_t retries = 0;        // of which repeats after 429/503/504/network failures
  std::uint64_t token_refreshes = 0;  // 401 answers that led to a fresh token
  int max_in_flight = 0;            // the most requests this client had on the wire at once
};

class GraphClient {
 public:
  // Errors: an empty or non-http(s) graph_url, max_in_flight < 1, max_attempts < 1, a token
  // source without both functions.
  static Result<std::unique_ptr<GraphClient>> create(net::HttpClient& http, TokenSource tokens,
                                                     GraphClientOptions options);
  ~GraphClient();
  GraphClient(const GraphClient&) = delete;
  GraphClient& operator=(const GraphClient&) = delete;

  Result<GraphResponse> send(const GraphRequest& request, CallFailure* failure = nullptr);

  // One result per item, in the order of `items`. An item's Error (with `failures` set when
  // given) means it outlasted the retries or the batch itself could not be sent.
  std::vector<Result<GraphResponse>> batch(const std::vector<BatchItem>& items,
                                           std::vector<CallFailure>* failures = nullptr);

  void stop();
  GraphClientStats stats() const;
  // The absolute URL of a path below the version root.
  std::string url_for(std::string_view path) const;

  struct Gate;  // the per-mailbox FIFO slot queue, shared by key

 private:
  GraphClient(net::HttpClient& http, TokenSource tokens, GraphClientOptions options);
  bool sleep_for(std::chrono::milliseconds delay);  // false when stopped
  std::chrono::milliseconds backoff(int attempt);
  Result<GraphResponse> send_once(const GraphRequest& request, const Secret<std::string>& token,
                                  std::chrono::milliseconds timeout, net::HttpFailure* network);

  net::HttpClient& http_;
  TokenSource tokens_;
  GraphClientOptions options_;
  std::string origin_;  // scheme://host[:port] of graph_url
  std::shared_ptr<Gate> gate_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stopped_ = false;
  std::atomic<bool> stop_requested_{false};  // read by the gate wait
  GraphClientStats stats_;
  int in_flight_ = 0;
};

// Parses a Retry-After value: seconds as an integer or decimal ("1", "2.128", "0.249"), rounded
// up to whole milliseconds. nullopt for anything else (HTTP dates are not used by Graph).
std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value);

}  // namespace mailtrixy::graph
