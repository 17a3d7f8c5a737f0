#pragma once
// Browser sessions of the web UI, kept server-side in the store's `web_sessions` family.
//
// The cookie holds only a random 256-bit id (base64url). The store never sees that id: a record
// is keyed by "session/" + hex(SHA-256(id)), so someone who reads the database cannot take over a
// browser session. A record exists only once the browser has signed in to something:
//   - accounts: the Microsoft accounts connected from this browser (the callback adds one);
//   - admin:    the admin signed in through /admin/login, until admin_until.
// A browser without a record is "anonymous": its id still binds its CSRF token and its pending
// OAuth state, but costs no storage, so anonymous visitors cannot fill the database.
//
// Every sign-in (account or admin) and sign-out moves the session to a NEW id: the old record is
// deleted in the same batch, so an id planted in a browser before sign-in (session fixation) is
// worth nothing afterwards.
//
// Lifetimes: a session record lives kSessionLifetime from its last sign-in; admin rights last
// kAdminLifetime from the admin login. Expired records are deleted when met and by
// purge_expired(), which the manager runs at most once an hour while creating sessions.
//
// CSRF: the token for a browser is HMAC-SHA-256(csrf_key, id), base64url; csrf_key is random per
// process, so a form rendered before a restart is refused afterwards (the page says to reload).
//
// Thread safety: all methods may be called concurrently.

#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mailtrixy/base/result.hpp"
#include "mailtrixy/store/store.hpp"

namespace mailtrixy::web {

inline constexpr std::chrono::hours kSessionLifetime{24 * 30};
inline constexpr std::chrono::hours kAdminLifetime{12};
inline constexpr std::string_view kSessionKeyPrefix = "session/";

struct BrowserSession {
  std::string id;                         // the cookie value; secret
  bool is_new = false;                    // the browser had no usable cookie: the response must set one
  bool stored = false;                    // a record exists in the store
  std::vector<std::string> account_keys;  // accounts connected from this browser, oldest first
  bool admin = false;                     // admin rights, not expired
  std::chrono::system_clock::time_point expires_at{};
  std::chrono::system_clock::time_point admin_until{};

  // hex(SHA-256(id)): how the session is named in the store and in other records that must be
  // bound to this browser (pending OAuth states), without ever storing the id itself.
  std::string binding() const;
};

class SessionManager {
 public:
  using Clock = std::function<std::chrono::system_clock::time_point()>;

  // `store` must outlive the manager. `clock` defaults to the system clock.
  explicit SessionManager(store::Store& store, Clock clock = {});

  // The session named by a cookie value. A missing or malformed value, or one whose record has
  // expired, gives a fresh anonymous session (is_new); a well-formed unknown value is kept as an
  // anonymous session (its owner may have a form open). Store read errors are treated as
  // "anonymous" and logged: a broken database must not lock the admin out of the error pages.
  BrowserSession resume(const std::optional<std::string>& cookie_value);

  // A new id whose record holds `current`'s accounts plus `account_key` (moved to the end when
  // already there) and a fresh lifetime; the old record, if any, is deleted.
  Result<BrowserSession> add_account(const BrowserSession& current, const std::string& account_key);
  // A new id with admin rights for kAdminLifetime (accounts kept).
  Result<BrowserSession> sign_in_admin(const BrowserSession& current);
  // A new id without admin rights; stored only when accounts remain.
  Result<BrowserSession> sign_out_admin(const BrowserSession& current);
  // Forgets everything this browser had: deletes the record, returns a new anonymous session.
  Result<BrowserSession> sign_out(const BrowserSession& current);

  std::string csrf_token(const BrowserSession& session) const;
  // Constant-time comparison with the expected token.
  bool csrf_valid(const BrowserSession& session, std::string_view token) const;

  // Deletes expired records; returns how many.
  Result<std::size_t> purge_expired();

  // Well-formed session id: 43 base64url characters (32 random bytes).
  static bool well_formed_id(std::string_view id);

 private:
  Result<BrowserSession> replace(const BrowserSession& current, BrowserSession next);
  void maybe_purge();
  std::chrono::system_clock::time_point now() const;

  store::Store& store_;
  Clock clock_;
  std::string csrf_key_;
  std::mutex purge_mutex_;
  std::chrono::system_clock::time_point last_purge_{};
};

}  // namespace mailtrixy::web
