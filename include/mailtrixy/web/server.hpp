#pragma once
// The bridge's web front-end: the routes of product spec §4, rendered on the server (no
// JavaScript anywhere), on the web listener (web.listen).
//
//   GET  /                                  302 → /settings/email-accounts
//   GET  /settings/email-accounts           this browser's connected accounts with their status
//                                           ("Active" / "Needs sign-in" + "Sign in again"), and
//                                           Add Account with the "Sign in with Outlook" tile
//   POST /settings/sign-out                 forgets this browser's session
//   GET  /email-oauth/microsoft/start       state + PKCE (auth::SignInFlow), 302 to Microsoft;
//                                           ?login_hint=ADDRESS is passed on to Microsoft
//   GET  /email-oauth/microsoft/callback    finishes the sign-in: "Outlook connected
//                                           successfully!" with the mail client settings and the
//                                           bridge password (shown once), or an error page with
//                                           title, explanation and fix (auth::SignInError)
//   GET,POST /admin/login                   admin sign-in against admin.password_hash
//   GET,POST /admin/settings/integrations   Microsoft Client ID / Client Secret, their sources,
//                                           the redirect URI, the config diagnoses, the status
//   GET,POST /admin/logout
//   GET  /healthz                           JSON {"status": "ok"|"degraded", "reasons": [...]}
//   GET  /metrics                           Prometheus text format
//   GET  /mail-proxy/auth                   nginx mail proxy's auth_http (mail_proxy.hpp); 404
//                                           unless cluster.auth_http_key_file is set
//   GET  /static/app.css, /static/favicon.svg
//
// Security
//   - Every response carries Content-Security-Policy (default-src 'self'; no inline script or
//     style, no framing, forms only to 'self'), X-Content-Type-Options: nosniff,
//     X-Frame-Options: DENY, Referrer-Policy: same-origin, and Cache-Control: no-store (pages
//     carry passwords and CSRF tokens; only /static/ files may be cached); HTTPS responses add
//     Strict-Transport-Security unless public_url is a loopback host (HSTS would cover every
//     port of localhost).
//   - Browser sessions: see sessions.hpp. The cookie is "__Host-mailtrixy_session" (Secure,
//     HttpOnly, SameSite=Lax, Path=/) on HTTPS and "mailtrixy_session" (HttpOnly, SameSite=Lax)
//     on plain-HTTP localhost set-ups. Every sign-in issues a new session id.
//   - Every POST form carries a CSRF token (hidden field csrf_token) bound to the session; a POST
//     without the right token, with a body that is not application/x-www-form-urlencoded, or with
//     an Origin (or, without Origin, a Referer) other than public_url's or the request's own
//     origin is refused with 403 before anything changes. GET routes change nothing, except
//     /start and /callback, which are protected by the single-use, browser-bound OAuth state.
//   - Everything from users and from Microsoft is HTML-escaped (html.hpp).
//   - Admin sign-in is rate-limited per client address and user name (auth::LoginRateLimiter)
//     and runs scrypt even for a wrong user name (no user enumeration by timing).
//
// Threads: handlers run on the HTTP server's threads. They read and write the store (quick
// RocksDB gets and small batches) and the callback makes two blocking HTTPS calls to Microsoft
// (token redemption and /me, ~100 ms each on a good network, bounded by the sign-in flow's
// timeout). That is acceptable for a sign-in page a person uses a few times; run the web
// listener with a few threads (serve uses 4) so one slow Microsoft answer never stalls the rest.

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "mailtrixy/net/http_server.hpp"
#include "mailtrixy/web/sessions.hpp"

namespace mailtrixy::config {
struct Settings;
}
namespace mailtrixy::auth {
class Integration;
class AccountStore;
class SignInFlow;
}  // namespace mailtrixy::auth

namespace mailtrixy::web {

class MailProxyEndpoint;  // mail_proxy.hpp

// What GET /healthz reports: "ok" when nothing needs attention, otherwise "degraded" with one
// human-readable reason per problem (expiring secret, accounts needing sign-in, queue backlog).
struct HealthReport {
  std::vector<std::string> reasons;
  bool ok() const { return reasons.empty(); }
};
using HealthProbe = std::function<HealthReport()>;

// Extra Prometheus text (complete "# HELP/# TYPE/sample" lines) appended to /metrics by other
// modules, e.g. the token manager's refresh counters.
using MetricsProbe = std::function<std::string()>;

struct WebDependencies {
  // All pointers must outlive the handler. settings and store are required; without
  // integration/accounts/sign_in the sign-in and admin routes answer 503 (used by tests of
  // the plain routes).
  const config::Settings* settings = nullptr;
  store::Store* store = nullptr;
  auth::Integration* integration = nullptr;
  auth::AccountStore* accounts = nullptr;
  auth::SignInFlow* sign_in = nullptr;
  // Reasons from outside the web module (configuration, queue); /healthz adds a broken
  // integration and accounts needing sign-in itself.
  HealthProbe health;
  MetricsProbe metrics;
  std::string version;
  SessionManager::Clock clock;  // tests; defaults to the system clock
  // GET /mail-proxy/auth; nullptr answers 404 (the endpoint is off without a key). Its counters
  // are added to /metrics.
  std::shared_ptr<MailProxyEndpoint> mail_proxy;
};

// Builds the request handler for the web listener. The handler is thread-safe and cheap to copy
// (copies share their state).
net::HttpHandler make_web_handler(WebDependencies dependencies);

// The cookie name for a listener with or without TLS (see above).
std::string session_cookie_name(bool tls);

}  // namespace mailtrixy::web
