#pragma once
// The emulator's whole in-memory world: app registrations, users and their mailboxes, every
// code and token issued, the counters behind /_emulator/stats, the per-mailbox concurrency
// counters and the injected faults. Owned by the emulator core (main, router, identity,
// control); the Graph-mail part reads users through find_user_* and the User it is handed.
//
// Thread-safety: the set of users is fixed when the World is built, so User pointers stay valid
// for the World's lifetime and the find_user_* lookups take no lock. Everything that changes at
// run time (client secrets, codes, tokens, stats, in-flight counts, faults) sits behind the
// World's own mutexes; member functions lock what they touch and return copies, never
// references into locked state. Mailboxes have their own mutex (mailbox.hpp).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "mailbox.hpp"

namespace mailtrixy::emulator {

using Clock = std::chrono::system_clock;

// The tenant id of every personal Microsoft account (graph-facts A1).
inline constexpr std::string_view kPersonalTenantId = "9188040d-6c67-4c5b-b112-36a304b66dad";

struct AppRegistration {
  std::string client_id;
  std::string secret;
  std::vector<std::string> redirect_uris;
  bool secret_expired = false;
};

// One `--user EMAIL:PASSWORD` as given on the command line.
struct UserOption {
  std::string address;
  std::string password;
};

struct User {
  std::string address;       // sign-in name and SMTP address (userPrincipalName)
  std::string password;
  std::string oid;           // Graph user id: a GUID for work accounts, 16 hex digits for personal ones
  std::string tid;           // tenant id; kPersonalTenantId for personal accounts
  std::string display_name;  // derived from the local part: "jane.doe" → "Jane Doe"
  std::string given_name;
  std::string surname;
  bool personal = true;      // personal accounts have "mail": null on /me
  std::shared_ptr<Mailbox> mailbox;

  // The `oid` claim of id tokens and the uid of client_info. For work accounts this is the
  // object id itself; Microsoft writes a personal account's 16-hex-digit id inside a GUID
  // instead: 00000000-0000-0000-xxxx-xxxxxxxxxxxx.
  std::string token_oid() const;
};

// The account rule (docs/emulator.md): an address whose domain ends in ".onmicrosoft.com" is a
// work account of the tenant named by that domain; every other address is a personal Microsoft
// account. Ids are derived from the address alone, so a restarted emulator gives the same user
// the same oid and tid. The mailbox is created empty (Outlook's default folders only).
User make_user(const UserOption& option, Locale locale);

struct EmulatorOptions {
  std::string listen = "127.0.0.1:0";
  std::filesystem::path cert;
  std::filesystem::path key;
  std::vector<AppRegistration> clients;
  std::vector<UserOption> users;
  std::vector<std::pair<std::string, std::filesystem::path>> seeds;  // email → directory
  std::chrono::seconds access_token_lifetime{3599};
  std::chrono::milliseconds latency{0};
  Locale locale = Locale::english;
  int threads = 4;  // HTTP server threads
};

// A failure injected through POST /_emulator/faults.
enum class FaultKind {
  status,     // the request is not executed; the response is an error with `status`
  reset,      // not executed; an empty response with `status` and "Connection: close"
  malformed,  // not executed; 200 with a body that is not valid JSON
  truncated,  // executed; its body is cut in half (a complete HTTP message with broken JSON)
  hang,       // not executed; nothing is answered for `hold`, then an empty `status` and the
              // connection closed (a Graph call that times out on the client's side)
};

struct Fault {
  std::regex route;          // searched in "METHOD /path?query" (percent-decoded)
  std::string route_text;
  FaultKind kind = FaultKind::status;
  int status = 503;
  int remaining = 1;
  // "seconds": the fault hits every matching request until this time instead of `remaining`
  // requests (an outage of a given length, whatever the client's retry pace).
  std::optional<std::chrono::steady_clock::time_point> until;
  std::optional<double> retry_after;  // seconds; sent as Retry-After
  std::string code;                   // overrides the default error code for `status`
  std::string message;                // overrides the default message
  // kind hang: how long the request waits unanswered. Long enough by default (120 s) to outlast
  // any client timeout worth testing.
  std::chrono::milliseconds hold{120000};
};

// A code from /authorize, bound to everything the token request must repeat.
struct AuthorizationCode {
  std::string code;
  std::string client_id;
  std::string redirect_uri;
  std::string tenant;                    // the {tenant} path segment it was issued on
  std::vector<std::string> scopes;       // granted, normalised (see identity.cpp)
  std::string code_challenge;
  std::string code_challenge_method;     // "S256" or "plain"; empty without PKCE
  std::string nonce;
  User* user = nullptr;
  Clock::time_point issued_at;
  Clock::time_point expires_at;
  bool redeemed = false;
};

struct AccessToken {
  std::string token;
  std::string client_id;
  User* user = nullptr;
  std::vector<std::string> scopes;
  Clock::time_point issued_at;
  Clock::time_point expires_at;
};

struct RefreshToken {
  std::string token;
  std::string client_id;
  User* user = nullptr;
  std::vector<std::string> scopes;
  Clock::time_point issued_at;        // of this token
  Clock::time_point grant_issued_at;  // of the sign-in it descends from (AADSTS50173 quotes it)
  bool inactive = false;              // set by expire-refresh-tokens: AADSTS700082 on use
};

// Counters behind GET /_emulator/stats.
struct StatsSnapshot {
  std::uint64_t graph_requests = 0;
  std::uint64_t batch_items = 0;
  std::uint64_t token_requests = 0;
  std::uint64_t authorize_requests = 0;
  std::uint64_t throttled = 0;
  std::uint64_t faults_injected = 0;
  std::map<std::string, std::uint64_t> by_route;
  std::map<std::string, int> max_in_flight;  // mailbox address → highest concurrent count seen
  std::map<std::string, int> in_flight;      // mailbox address → current count
};

class World {
 public:
  // Builds every user and its (empty) mailbox. Seeding is the caller's job (main.cpp), so that
  // seed errors can be reported before anything listens.
  explicit World(EmulatorOptions options);

  const EmulatorOptions& options() const { return options_; }

  // "https://127.0.0.1:PORT": both the login_url and the graph_url the bridge is configured with.
  // Set once before the server takes requests.
  void set_base_url(std::string url) { base_url_ = std::move(url); }
  const std::string& base_url() const { return base_url_; }

  // The emulator's clock; tests replace it to cross expiry without sleeping.
  Clock::time_point now() const;
  void set_clock(std::function<Clock::time_point()> clock) { clock_ = std::move(clock); }

  // Users by sign-in address or by object id, both case-insensitive. nullptr when unknown.
  User* find_user_by_address(std::string_view address);
  User* find_user_by_id_or_address(std::string_view id_or_address);
  const std::vector<std::unique_ptr<User>>& users() const { return users_; }

  // App registrations (copies; the secret can expire at run time).
  std::optional<AppRegistration> find_client(std::string_view client_id) const;
  bool expire_client_secret(std::string_view client_id);

  // Authorization codes. add_code fills in code.code and returns it. consume_code marks a code
  // redeemed and returns false when it already was (two racing redemptions: one wins).
  std::string add_code(AuthorizationCode code);
  std::optional<AuthorizationCode> find_code(std::string_view code) const;
  bool consume_code(std::string_view code);

  // Tokens. The returned strings are the tokens themselves.
  std::string issue_access_token(std::string client_id, User& user, std::vector<std::string> scopes);
  std::optional<AccessToken> find_access_token(std::string_view token) const;
  std::string issue_refresh_token(std::string client_id, User& user, std::vector<std::string> scopes,
                                  Clock::time_point grant_issued_at);
  std::optional<RefreshToken> find_refresh_token(std::string_view token) const;
  std::vector<AccessToken> access_tokens() const;
  std::vector<RefreshToken> refresh_tokens() const;

  // Revocation: refresh tokens issued before the user's "tokens valid from" time are refused
  // with AADSTS50173. nullopt when the user was never revoked.
  void revoke_user_tokens(const User& user);
  std::optional<Clock::time_point> tokens_valid_from(const User& user) const;
  // Marks every current refresh token of the user as expired by inactivity (AADSTS700082).
  int expire_refresh_tokens(const User& user);
  // Makes every still-valid access token of the user expire now, so the next Graph call with one
  // gets the real 401 "expired" answer; returns how many there were.
  int expire_access_tokens(const User& user);

  // Stats.
  void count_graph_request() { graph_requests_.fetch_add(1, std::memory_order_relaxed); }
  void count_batch_item() { batch_items_.fetch_add(1, std::memory_order_relaxed); }
  void count_token_request() { token_requests_.fetch_add(1, std::memory_order_relaxed); }
  void count_authorize_request() { authorize_requests_.fetch_add(1, std::memory_order_relaxed); }
  void count_throttled() { throttled_.fetch_add(1, std::memory_order_relaxed); }
  void count_route(const std::string& route);
  StatsSnapshot stats() const;
  void reset_stats();

  // Per (app, mailbox) concurrency: try_enter succeeds while fewer than `limit` requests of that
  // app are in flight on that mailbox, and counts one more; leave counts one less.
  bool try_enter_mailbox(const std::string& client_id, const std::string& address, int limit);
  void leave_mailbox(const std::string& client_id, const std::string& address);

  // Faults: take_fault returns the first fault whose regex matches `route_text` and counts one
  // use of it (a fault is dropped when its count reaches zero).
  void add_fault(Fault fault);
  std::optional<Fault> take_fault(const std::string& route_text);
  std::vector<Fault> faults() const;
  void clear_faults();

  // A general lock for code that needs the world to stand still; the members above do not
  // need it.
  std::mutex& mutex() { return mutex_; }

 private:
  EmulatorOptions options_;
  std::string base_url_;
  std::function<Clock::time_point()> clock_;
  std::vector<std::unique_ptr<User>> users_;
  std::unordered_map<std::string, User*> users_by_address_;  // lower-case address
  std::unordered_map<std::string, User*> users_by_id_;

  mutable std::mutex clients_mutex_;
  std::vector<AppRegistration> clients_;

  mutable std::mutex tokens_mutex_;
  std::unordered_map<std::string, AuthorizationCode> codes_;
  std::unordered_map<std::string, AccessToken> access_tokens_;
  std::unordered_map<std::string, RefreshToken> refresh_tokens_;
  std::vector<std::string> access_order_;   // issue order, for the listing
  std::vector<std::string> refresh_order_;
  std::unordered_map<const User*, Clock::time_point> tokens_valid_from_;

  std::atomic<std::uint64_t> graph_requests_{0};
  std::atomic<std::uint64_t> batch_items_{0};
  std::atomic<std::uint64_t> token_requests_{0};
  std::atomic<std::uint64_t> authorize_requests_{0};
  std::atomic<std::uint64_t> throttled_{0};
  std::atomic<std::uint64_t> faults_injected_{0};
  mutable std::mutex stats_mutex_;
  std::map<std::string, std::uint64_t> by_route_;

  mutable std::mutex flight_mutex_;
  std::unordered_map<std::string, int> in_flight_;          // client_id + '\n' + address
  std::map<std::string, int> in_flight_by_address_;
  std::map<std::string, int> max_in_flight_;

  mutable std::mutex faults_mutex_;
  std::vector<Fault> faults_;
  std::atomic<bool> has_faults_{false};

  std::mutex mutex_;
};

}  // namespace mailtrixy::emulator
