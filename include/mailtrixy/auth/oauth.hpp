#pragma once
// The browser sign-in with Microsoft: OAuth 2.0 authorization code flow with PKCE (RFC 7636,
// S256) for a confidential client (graph-facts A2-A8).
//
//   GET /email-oauth/microsoft/start     → web calls begin_sign_in(browser_session), answers 302
//                                          to SignInStart::authorize_url
//   GET /email-oauth/microsoft/callback  → web calls finish_sign_in(parse_callback_query(query),
//                                          browser_session) and renders the outcome
//
// Pending sign-ins. begin_sign_in() creates a random `state` (256 bits) and a PKCE verifier
// (43 characters of base64url = 256 bits) and stores, in store family web_sessions under
// "oauth-state/" + sha256_hex(state), one sealed record {verifier, browser session hash,
// redirect URI and client id used, created}. finish_sign_in() deletes that record before doing
// anything else (single use: a replayed callback finds nothing, even if the first attempt
// failed), refuses it after 10 minutes, and refuses it when the browser session differs (the
// callback arrived in another browser than the one that started: login CSRF / a link sent to a
// victim). Expired records are swept by begin_sign_in() and sweep_expired().
//
// The browser session is the web module's opaque id for the browser (a cookie set before the
// redirect to Microsoft, e.g. a pre-login session); only its SHA-256 is stored.
//
// finish_sign_in(), when state checks pass:
//   1. a callback `error` (access_denied, ...) → the classified error;
//   2. redeem `code` at {login_url}/{tenant}/oauth2/v2.0/token with client_id, client_secret,
//      grant_type=authorization_code, code, redirect_uri, code_verifier, scope;
//   3. the granted scopes must include offline_access, and a refresh token must be present
//      (else missing_offline_access: access would end after about an hour);
//   4. GET {graph_url}/v1.0/me with the access token;
//   5. oid/tid from the id token's claims (decoded without signature check, see
//      token_endpoint.hpp for why), with /me `id` as fallback oid; address = mail ??
//      userPrincipalName;
//   6. AccountStore::link() — account, tokens and bridge password in one batch — which fires
//      the account-connected event.
// It blocks for the two HTTPS round trips (bounded by request_timeout each): call it from a
// handler that may block briefly, or from a worker.
//
// Thread safety: both methods may be called from any thread concurrently.

#include <chrono>
#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "mailtrixy/auth/accounts.hpp"
#include "mailtrixy/auth/clock.hpp"
#include "mailtrixy/auth/integration.hpp"
#include "mailtrixy/auth/sign_in_error.hpp"
#include "mailtrixy/base/result.hpp"
#include "mailtrixy/net/http_client.hpp"

namespace mailtrixy::auth {

// The delegated permissions the bridge asks for, in this order.
inline constexpr const char* kSignInScopes =
    "offline_access openid profile email https://graph.microsoft.com/Mail.ReadWrite "
    "https://graph.microsoft.com/Mail.Send https://graph.microsoft.com/User.Read";

inline constexpr std::chrono::minutes kPendingSignInLifetime{10};

// PKCE (RFC 7636).
struct Pkce {
  std::string verifier;   // 43 characters of [A-Za-z0-9-_] (32 random bytes, base64url)
  std::string challenge;  // base64url(sha256(verifier)), no padding
};
Pkce make_pkce();
// The S256 challenge of a verifier (RFC 7636 §4.2).
std::string pkce_challenge_s256(std::string_view verifier);

struct SignInStart {
  std::string authorize_url;  // 302 Location
  std::string state;
};

// The callback's query parameters (percent-decoded).
struct CallbackQuery {
  std::string state;
  std::string code;
  std::string error;
  std::string error_description;
};
// Parses "code=...&state=..." (the part after '?'); unknown parameters are ignored, a malformed
// query gives empty fields (which finish_sign_in() reports as an unknown state).
CallbackQuery parse_callback_query(std::string_view query);

struct SignInSuccess {
  Account account;
  bool relinked = false;
  Secret<std::string> bridge_password;  // show once
};

// Either a success or a SignInError.
struct SignInOutcome {
  std::optional<SignInSuccess> success;
  std::optional<SignInError> error;
  bool ok() const { return success.has_value(); }
};

struct SignInFlowOptions {
  std::chrono::milliseconds request_timeout{30000};  // per HTTPS call to Microsoft
};

class SignInFlow {
 public:
  // All references must outlive the flow. `http` should trust integration.current().ca_file
  // (create it with HttpClientOptions::extra_ca_file = that file).
  SignInFlow(Integration& integration, AccountStore& accounts, net::HttpClient& http,
             Clock clock = system_clock(), SignInFlowOptions options = {});

  // Errors: the integration is not configured (message says so; the page should show
  // make_sign_in_error(integration_not_configured)), the store failed, browser_session empty.
  Result<SignInStart> begin_sign_in(std::string_view browser_session);

  SignInOutcome finish_sign_in(const CallbackQuery& callback, std::string_view browser_session);

  // Deletes pending sign-ins older than 10 minutes; returns how many.
  Result<std::size_t> sweep_expired();

 private:
  Integration& integration_;
  AccountStore& accounts_;
  net::HttpClient& http_;
  Clock clock_;
  SignInFlowOptions options_;
  std::mutex sweep_mutex_;
  std::chrono::system_clock::time_point last_sweep_{};
};

}  // namespace mailtrixy::auth
