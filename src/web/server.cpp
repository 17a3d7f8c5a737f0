// The router of the web listener: sessions, CSRF and origin checks, and the glue between the
// pages (pages_*.cpp, pure rendering) and the auth module (sign-in flow, accounts, integration).

#include "mailtrixy/web/server.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <ctime>
#include <map>
#include <memory>
#include <mutex>
#include <utility>

#include "layout.hpp"
#include "mailtrixy/auth/accounts.hpp"
#include "mailtrixy/auth/health.hpp"
#include "mailtrixy/auth/integration.hpp"
#include "mailtrixy/auth/login_rate_limiter.hpp"
#include "mailtrixy/auth/oauth.hpp"
#include "mailtrixy/base/log.hpp"
#include "mailtrixy/config/diagnose.hpp"
#include "mailtrixy/config/settings.hpp"
#include "mailtrixy/crypto/hash.hpp"
#include "mailtrixy/crypto/password.hpp"
#include "mailtrixy/net/listen_address.hpp"
#include "mailtrixy/web/forms.hpp"
#include "mailtrixy/web/mail_proxy.hpp"
#include "pages.hpp"

namespace mailtrixy::web {
namespace {

using net::HttpRequest;
using net::HttpResponse;

constexpr std::size_t kMaxLoginHintBytes = 254;  // the longest e-mail address

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string human_time(std::chrono::system_clock::time_point when) {
  if (when.time_since_epoch().count() == 0) return "never";
  const std::time_t seconds = std::chrono::system_clock::to_time_t(when);
  std::tm parts{};
  gmtime_r(&seconds, &parts);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M UTC", &parts);
  return text;
}

bool is_loopback_host(std::string_view host) {
  return host == "localhost" || host.starts_with("127.") || host == "::1" || host == "[::1]";
}

// ---- request counting for /metrics --------------------------------------------------------

class RequestCounters {
 public:
  void count(std::string_view route, int status) {
    std::lock_guard lock(mutex_);
    ++counts_[{std::string(route), status}];
  }
  std::string prometheus() const {
    std::string out =
        "# HELP mailtrixy_http_requests_total Requests answered by the web listener, by route and status.\n"
        "# TYPE mailtrixy_http_requests_total counter\n";
    std::lock_guard lock(mutex_);
    for (const auto& [key, count] : counts_) {
      out += "mailtrixy_http_requests_total{route=\"" + key.first + "\",code=\"" +
             std::to_string(key.second) + "\"} " + std::to_string(count) + "\n";
    }
    return out;
  }

 private:
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, int>, unsigned long long> counts_;
};

// ---- the handler's shared state -----------------------------------------------------------

struct State {
  explicit State(WebDependencies deps)
      : dependencies(std::move(deps)),
        sessions(*dependencies.store, dependencies.clock),
        admin_limiter(auth::LoginRateLimiterOptions{},
                      dependencies.clock ? auth::Clock(dependencies.clock) : auth::system_clock()) {}

  WebDependencies dependencies;
  SessionManager sessions;
  auth::LoginRateLimiter admin_limiter;
  RequestCounters counters;

  const config::Settings& settings() const { return *dependencies.settings; }
  bool tls() const { return settings().web.tls; }
  bool auth_ready() const {
    return dependencies.integration != nullptr && dependencies.accounts != nullptr &&
           dependencies.sign_in != nullptr;
  }
};

// A request in progress: the parsed pieces every route needs.
struct Exchange {
  const HttpRequest& request;
  State& state;
  std::string route = "other";  // label for /metrics
  std::optional<BrowserSession> session;

  BrowserSession& browser() {
    if (!session) session = state.sessions.resume(read_cookie(request, session_cookie_name(state.tls())));
    return *session;
  }
};

// ---- responses ----------------------------------------------------------------------------

void add_security_headers(HttpResponse& response, const State& state) {
  response.headers.emplace_back(
      "Content-Security-Policy",
      "default-src 'self'; script-src 'none'; object-src 'none'; frame-ancestors 'none'; "
      "form-action 'self'; base-uri 'none'");
  response.headers.emplace_back("X-Content-Type-Options", "nosniff");
  response.headers.emplace_back("X-Frame-Options", "DENY");
  // same-origin (not no-referrer): browsers then send a real Origin on our own form posts, which
  // the CSRF check needs, while the callback URL (code, state) never leaks to other sites.
  response.headers.emplace_back("Referrer-Policy", "same-origin");
  response.headers.emplace_back("Cross-Origin-Opener-Policy", "same-origin");
  const bool has_cache_control =
      std::any_of(response.headers.begin(), response.headers.end(),
                  [](const auto& header) { return header.first == "Cache-Control"; });
  if (!has_cache_control) response.headers.emplace_back("Cache-Control", "no-store");
  if (state.tls()) {
    // Not for localhost: HSTS covers every port of a host and would force HTTPS on a
    // developer's other local services.
    auto origin = origin_of(state.settings().public_url);
    const std::string host = origin ? origin->substr(origin->find("://") + 3) : std::string();
    const std::string bare_host = host.substr(0, host.starts_with('[') ? host.find(']') + 1 : host.find(':'));
    if (origin && origin->starts_with("https://") && !is_loopback_host(bare_host)) {
      response.headers.emplace_back("Strict-Transport-Security", "max-age=31536000");
    }
  }
}

HttpResponse html_response(int status, const State& state, std::string title, Section section, Html body,
                           Exchange* exchange = nullptr) {
  PageFrame frame;
  frame.title = std::move(title);
  frame.section = section;
  frame.version = state.dependencies.version;
  frame.body = std::move(body);
  if (exchange != nullptr && exchange->session && exchange->session->admin) {
    frame.admin_signed_in = true;
    frame.csrf_token = state.sessions.csrf_token(*exchange->session);
  }
  HttpResponse response = HttpResponse::text(status, render_page(frame), "text/html; charset=utf-8");
  return response;
}

HttpResponse redirect(int status, std::string location) {
  HttpResponse response;
  response.status = status;
  response.headers.emplace_back("Location", std::move(location));
  return response;
}

HttpResponse message(int status, const State& state, const std::string& heading, const std::string& text,
                     const std::string& href = "/settings/email-accounts",
                     const std::string& link = "Back to Email Accounts") {
  return html_response(status, state, heading, Section::none, message_page(heading, text, href, link));
}

HttpResponse method_not_allowed(const State& state, std::string allow) {
  HttpResponse response =
      message(405, state, "Method not allowed", "This address does not accept that kind of request.");
  response.headers.emplace_back("Allow", std::move(allow));
  return response;
}

void set_session_cookie(HttpResponse& response, const State& state, const BrowserSession& session) {
  CookieOptions options;
  options.secure = state.tls();
  if (session.stored) {
    const auto remaining = std::chrono::duration_cast<std::chrono::seconds>(session.expires_at -
                                                                            std::chrono::system_clock::now());
    options.max_age = std::max<long long>(remaining.count(), 0);
  }
  response.headers.emplace_back("Set-Cookie",
                                set_cookie_value(session_cookie_name(state.tls()), session.id, options));
}

// ---- CSRF and origin ----------------------------------------------------------------------

// Empty when the POST may proceed; otherwise why not (for the log; the page is generic).
std::string post_refusal(Exchange& exchange, const FormFields& form) {
  const HttpRequest& request = exchange.request;
  const auto content_type = request.header("Content-Type");
  if (!content_type || !lower(*content_type).starts_with("application/x-www-form-urlencoded")) {
    return "the body is not a form";
  }
  std::vector<std::string> allowed;
  if (auto configured = origin_of(exchange.state.settings().public_url)) allowed.push_back(*configured);
  if (const auto host = request.header("Host")) {
    allowed.push_back((request.tls ? "https://" : "http://") + lower(*host));
  }
  std::optional<std::string> claimed;
  if (const auto origin = request.header("Origin")) {
    claimed = origin_of(*origin);
    if (!claimed) return "the Origin header is " + std::string(*origin);
  } else if (const auto referer = request.header("Referer")) {
    claimed = origin_of(*referer);
    if (!claimed) return "the Referer header is not a URL";
  }
  if (claimed && std::find(allowed.begin(), allowed.end(), *claimed) == allowed.end()) {
    return "the request came from another site (" + *claimed + ")";
  }
  const auto token = form.get("csrf_token");
  if (!token || !exchange.state.sessions.csrf_valid(exchange.browser(), *token)) {
    return "the CSRF token is missing or does not belong to this browser session";
  }
  return {};
}

HttpResponse csrf_failure(Exchange& exchange, const std::string& why, const std::string& back) {
  log::warn("refused a form post",
            {{"path", exchange.request.path}, {"client", exchange.request.remote_address}, {"reason", why}});
  return message(
      403, exchange.state, "This form has expired",
      "For your security the form could not be accepted: it was opened in another session, the bridge "
      "restarted since, or it was sent from another site. Go back, reload the page and try again.",
      back, "Reload the page");
}

// ---- the mail client settings shown after sign-in -----------------------------------------

MailEndpoint mail_endpoint(const State& state, const std::string& plain_listen,
                           const std::string& tls_listen) {
  MailEndpoint endpoint;
  std::string host;
  if (auto plain = net::parse_listen_address(plain_listen); plain_listen.size() && plain) {
    endpoint.starttls_port = plain->port;
    host = plain->host;
  }
  if (auto secure = net::parse_listen_address(tls_listen); tls_listen.size() && secure) {
    endpoint.tls_port = secure->port;
    host = secure->host;
  }
  if (host.empty() || host == "0.0.0.0" || host == "::") {
    // Listening on every interface: clients use the name browsers use.
    const auto origin = origin_of(state.settings().public_url);
    std::string authority = origin ? origin->substr(origin->find("://") + 3) : std::string("localhost");
    if (authority.starts_with('[')) {
      host = authority.substr(1, authority.find(']') - 1);
    } else {
      host = authority.substr(0, authority.find(':'));
    }
  }
  endpoint.host = host;
  return endpoint;
}

// ---- user routes --------------------------------------------------------------------------

IntegrationNotice integration_notice(const State& state, AccountsPageModel* model) {
  if (!state.auth_ready()) return IntegrationNotice::not_configured;
  const auth::IntegrationStatus status = state.dependencies.integration->status();
  switch (status.state) {
    case auth::IntegrationState::ok: return IntegrationNotice::none;
    case auth::IntegrationState::not_configured: return IntegrationNotice::not_configured;
    case auth::IntegrationState::broken:
      if (model != nullptr) {
        model->integration_reason = status.reason;
        model->integration_fix = "An administrator can fix it under Admin → Settings → Integrations.";
      }
      return IntegrationNotice::broken;
  }
  return IntegrationNotice::none;
}

HttpResponse email_accounts(Exchange& exchange) {
  State& state = exchange.state;
  BrowserSession& session = exchange.browser();
  AccountsPageModel model;
  model.integration = integration_notice(state, &model);
  model.csrf_token = state.sessions.csrf_token(session);
  model.signed_in = session.stored && !session.account_keys.empty();
  if (FormFields::parse(exchange.request.query).get("signed_out"))
    model.notice = "You are signed out of this browser.";
  if (state.dependencies.accounts != nullptr) {
    for (auto key = session.account_keys.rbegin(); key != session.account_keys.rend(); ++key) {
      auto account = state.dependencies.accounts->find(*key);
      if (!account) {
        log::error("cannot read an account for the accounts page", {{"error", account.error().message}});
        return message(500, state, "Something went wrong",
                       "The bridge could not read its account database. The administrator can find the "
                       "details in the bridge's log.");
      }
      if (!*account) continue;  // removed since this browser connected it
      AccountView view;
      view.address = (*account)->address;
      view.display_name = (*account)->display_name;
      view.needs_sign_in = (*account)->status == auth::AccountStatus::needs_sign_in;
      view.needs_sign_in_reason = (*account)->needs_sign_in_reason;
      view.connected = human_time((*account)->created);
      model.accounts.push_back(std::move(view));
    }
  }
  HttpResponse response =
      html_response(200, state, "Email Accounts", Section::accounts, accounts_page(model), &exchange);
  if (session.is_new) set_session_cookie(response, state, session);
  return response;
}

HttpResponse sign_out(Exchange& exchange, const FormFields& form) {
  State& state = exchange.state;
  if (auto refused = post_refusal(exchange, form); !refused.empty()) {
    return csrf_failure(exchange, refused, "/settings/email-accounts");
  }
  auto signed_out = state.sessions.sign_out(exchange.browser());
  if (!signed_out) {
    log::error("cannot sign a browser out", {{"error", signed_out.error().message}});
    return message(500, state, "Something went wrong",
                   "The bridge could not update its session database; try again.");
  }
  HttpResponse response = redirect(303, "/settings/email-accounts?signed_out=1");
  set_session_cookie(response, state, *signed_out);
  return response;
}

int status_for(auth::SignInError::Kind kind) {
  using Kind = auth::SignInError::Kind;
  switch (kind) {
    case Kind::state_unknown_or_expired:
    case Kind::state_from_other_browser:
    case Kind::code_already_redeemed:
    case Kind::pkce_mismatch:
    case Kind::invalid_grant_other: return 400;
    case Kind::consent_declined: return 403;
    case Kind::integration_not_configured: return 503;
    case Kind::internal_error: return 500;
    default: return 502;  // Microsoft refused the app's credentials or could not be used
  }
}

HttpResponse sign_in_error_page(Exchange& exchange, const auth::SignInError& error) {
  ErrorPageModel model;
  model.title = error.title;
  model.explanation = error.explanation;
  model.fix = error.fix;
  model.admin_action = error.admin_action;
  model.error = error.error;
  for (const std::int64_t code : error.error_codes) {
    if (!model.codes.empty()) model.codes += ", ";
    model.codes += "AADSTS" + std::to_string(code);
  }
  model.description = error.description;
  model.offer_retry = error.kind != auth::SignInError::Kind::integration_not_configured;
  log::warn("sign-in with Microsoft failed", {{"kind", std::string(auth::to_string(error.kind))},
                                              {"error", error.error},
                                              {"codes", model.codes},
                                              {"client", exchange.request.remote_address}});
  return html_response(status_for(error.kind), exchange.state, error.title, Section::accounts,
                       error_page(model), &exchange);
}

std::string redirect_uri(const State& state) {
  return config::redirect_uri(state.settings());
}

HttpResponse start_sign_in(Exchange& exchange) {
  State& state = exchange.state;
  if (!state.auth_ready() || !state.dependencies.integration->current().configured()) {
    return sign_in_error_page(exchange,
                              auth::make_sign_in_error(auth::SignInError::Kind::integration_not_configured,
                                                       {redirect_uri(state), {}}));
  }
  BrowserSession& session = exchange.browser();
  auto started = state.dependencies.sign_in->begin_sign_in(session.id);
  if (!started) {
    log::error("cannot start a sign-in with Microsoft", {{"error", started.error().message}});
    return sign_in_error_page(exchange, auth::make_sign_in_error(auth::SignInError::Kind::internal_error,
                                                                 {redirect_uri(state), {}}));
  }
  std::string location = started->authorize_url;
  if (auto hint = FormFields::parse(exchange.request.query).get("login_hint");
      hint && !hint->empty() && hint->size() <= kMaxLoginHintBytes) {
    location += (location.find('?') == std::string::npos ? "?" : "&") + std::string("login_hint=") +
                percent_encode(*hint);
  }
  HttpResponse response = redirect(302, std::move(location));
  if (session.is_new) set_session_cookie(response, state, session);
  return response;
}

HttpResponse finish_sign_in(Exchange& exchange) {
  State& state = exchange.state;
  if (!state.auth_ready()) {
    return sign_in_error_page(exchange,
                              auth::make_sign_in_error(auth::SignInError::Kind::integration_not_configured,
                                                       {redirect_uri(state), {}}));
  }
  BrowserSession& session = exchange.browser();
  // Blocks this server thread for the token redemption and /me (two HTTPS round trips, about
  // 100 ms each against Microsoft): acceptable for a page a person opens once per mailbox.
  auth::SignInOutcome outcome = state.dependencies.sign_in->finish_sign_in(
      auth::parse_callback_query(exchange.request.query), session.id);
  if (!outcome.ok()) {
    return sign_in_error_page(
        exchange,
        outcome.error ? *outcome.error : auth::make_sign_in_error(auth::SignInError::Kind::internal_error));
  }
  const auth::SignInSuccess& success = *outcome.success;
  auto signed_in = state.sessions.add_account(session, success.account.key);
  if (!signed_in) {
    // The account is linked; only this browser's session could not be saved. Still show the
    // password: it is the only time it can be shown.
    log::error("cannot save the browser session after a sign-in", {{"error", signed_in.error().message}});
  }
  const config::Settings& settings = state.settings();
  SuccessPageModel model;
  model.address = success.account.address;
  model.display_name = success.account.display_name;
  model.username = success.account.address;
  model.password = success.bridge_password.reveal();
  model.relinked = success.relinked;
  model.imap = mail_endpoint(state, settings.imap.listen, settings.imap.tls_listen);
  model.smtp = mail_endpoint(state, settings.smtp.listen, settings.smtp.tls_listen);
  log::info("Microsoft account connected",
            {{"account", success.account.key}, {"relinked", success.relinked ? "yes" : "no"}});
  if (signed_in) exchange.session = *signed_in;
  HttpResponse response =
      html_response(200, state, "Outlook connected", Section::accounts, success_page(model), &exchange);
  if (signed_in) set_session_cookie(response, state, *signed_in);
  return response;
}

// ---- admin routes -------------------------------------------------------------------------

bool admin_enabled(const State& state) {
  return !state.settings().admin.password_hash.empty();
}

HttpResponse admin_disabled(const State& state) {
  return html_response(403, state, "Admin pages disabled", Section::admin, admin_disabled_page());
}

HttpResponse admin_login_form(Exchange& exchange, int status, std::string username, std::string error) {
  AdminLoginModel model;
  model.csrf_token = exchange.state.sessions.csrf_token(exchange.browser());
  model.username = std::move(username);
  model.error = std::move(error);
  HttpResponse response = html_response(status, exchange.state, "Admin sign-in", Section::admin,
                                        admin_login_page(model), &exchange);
  if (exchange.browser().is_new) set_session_cookie(response, exchange.state, exchange.browser());
  return response;
}

HttpResponse admin_login(Exchange& exchange, const FormFields* form) {
  State& state = exchange.state;
  if (!admin_enabled(state)) return admin_disabled(state);
  if (form == nullptr) {
    if (exchange.browser().admin) return redirect(303, "/admin/settings/integrations");
    return admin_login_form(exchange, 200, state.settings().admin.username, {});
  }
  if (auto refused = post_refusal(exchange, *form); !refused.empty()) {
    return csrf_failure(exchange, refused, "/admin/login");
  }
  const std::string username = form->get("username").value_or("");
  const std::string password = form->get("password").value_or("");
  const std::string& client = exchange.request.remote_address;
  const std::string limiter_key = "admin:" + lower(username);
  if (const auto wait = state.admin_limiter.retry_after(client, limiter_key); wait.count() > 0) {
    const auto seconds = (wait.count() + 999) / 1000;
    log::warn("admin sign-in refused: too many failures", {{"client", client}});
    HttpResponse response = admin_login_form(
        exchange, 429, username,
        "Too many failed sign-ins. Wait " + std::to_string(seconds) + " seconds before trying again.");
    response.headers.emplace_back("Retry-After", std::to_string(seconds));
    return response;
  }
  // scrypt runs whatever the user name, so a wrong name takes as long as a wrong password.
  const bool password_ok = crypto::verify_password(password, state.settings().admin.password_hash);
  const bool username_ok =
      crypto::constant_time_equal(crypto::sha256(username), crypto::sha256(state.settings().admin.username));
  if (!password_ok || !username_ok) {
    state.admin_limiter.record_failure(client, limiter_key);
    log::warn("admin sign-in failed", {{"client", client}});
    return admin_login_form(exchange, 401, username, "The username or password is incorrect.");
  }
  state.admin_limiter.record_success(client, limiter_key);
  auto signed_in = state.sessions.sign_in_admin(exchange.browser());
  if (!signed_in) {
    log::error("cannot save the admin session", {{"error", signed_in.error().message}});
    return message(500, state, "Something went wrong", "The bridge could not save the session; try again.",
                   "/admin/login", "Back to sign-in");
  }
  log::info("admin signed in", {{"client", client}});
  HttpResponse response = redirect(303, "/admin/settings/integrations");
  set_session_cookie(response, state, *signed_in);
  return response;
}

std::vector<DiagnosisView> integration_diagnoses(const State& state,
                                                 const auth::IntegrationSettings& current) {
  // Judge the values in effect (the admin page may have replaced the YAML's), not the file's.
  config::Settings effective = state.settings();
  effective.microsoft.client_id = current.client_id;
  effective.microsoft.client_secret = current.client_secret;
  effective.microsoft.client_secret_source = current.client_secret_source;
  config::DiagnoseOptions options;
  options.probe_listeners = false;  // the running bridge holds its own ports
  std::vector<DiagnosisView> views;
  for (const config::Diagnosis& diagnosis : config::diagnose(effective, options)) {
    if (diagnosis.key != "public_url" && !diagnosis.key.starts_with("microsoft.") &&
        !diagnosis.key.starts_with("web.")) {
      continue;
    }
    views.push_back({std::string(config::to_string(diagnosis.severity)), diagnosis.key, diagnosis.message,
                     diagnosis.fix});
  }
  return views;
}

std::string_view state_name(auth::IntegrationState state) {
  switch (state) {
    case auth::IntegrationState::ok: return "ok";
    case auth::IntegrationState::not_configured: return "not_configured";
    case auth::IntegrationState::broken: return "broken";
  }
  return "ok";
}

HttpResponse integrations_view(Exchange& exchange, int status, std::string saved, std::string form_error,
                               std::optional<std::string> typed_client_id) {
  State& state = exchange.state;
  const auth::IntegrationSettings current = state.dependencies.integration->current();
  const auth::IntegrationStatus integration_status = state.dependencies.integration->status();
  IntegrationsPageModel model;
  model.csrf_token = state.sessions.csrf_token(exchange.browser());
  model.client_id = current.client_id;
  model.client_id_source = std::string(auth::describe(current.client_id_source));
  model.secret_set = !current.client_secret.empty();
  model.secret_source = std::string(auth::describe(current.client_secret_source));
  model.secret_expires = current.client_secret_expires;
  model.redirect_uri = current.redirect_uri.empty() ? redirect_uri(state) : current.redirect_uri;
  model.tenant = current.tenant;
  model.login_url = current.login_url;
  model.status = std::string(state_name(integration_status.state));
  model.status_reason = integration_status.reason;
  model.status_fix = integration_status.fix;
  model.status_code = integration_status.error_code;
  model.diagnoses = integration_diagnoses(state, current);
  model.saved = std::move(saved);
  model.form_error = std::move(form_error);
  model.form_client_id = typed_client_id.value_or(current.client_id);
  return html_response(status, state, "Integrations", Section::admin, integrations_page(model), &exchange);
}

HttpResponse integrations(Exchange& exchange, const FormFields* form) {
  State& state = exchange.state;
  if (!admin_enabled(state)) return admin_disabled(state);
  if (!exchange.browser().admin) return redirect(303, "/admin/login");
  if (!state.auth_ready()) {
    return message(503, state, "Not available", "The sign-in components are not running in this process.");
  }
  if (form == nullptr) {
    const bool saved = FormFields::parse(exchange.request.query).get("saved").has_value();
    return integrations_view(exchange, 200,
                             saved ? "Saved. New sign-ins and token refreshes use these values now." : "", {},
                             std::nullopt);
  }
  if (auto refused = post_refusal(exchange, *form); !refused.empty()) {
    return csrf_failure(exchange, refused, "/admin/settings/integrations");
  }
  const std::string client_id = form->get("client_id").value_or("");
  // Trimmed: a pasted value often carries a space or newline; a real secret has neither.
  std::string secret = form->get("client_secret").value_or("");
  while (!secret.empty() && std::isspace(static_cast<unsigned char>(secret.back()))) secret.pop_back();
  while (!secret.empty() && std::isspace(static_cast<unsigned char>(secret.front())))
    secret.erase(secret.begin());
  std::string trimmed_id = client_id;
  while (!trimmed_id.empty() && std::isspace(static_cast<unsigned char>(trimmed_id.back())))
    trimmed_id.pop_back();
  while (!trimmed_id.empty() && std::isspace(static_cast<unsigned char>(trimmed_id.front())))
    trimmed_id.erase(trimmed_id.begin());
  auto updated =
      state.dependencies.integration->set_from_admin_page(trimmed_id, Secret<std::string>(std::move(secret)));
  if (!updated) {
    return integrations_view(exchange, 400, {}, updated.error().message, client_id);
  }
  log::info("Microsoft integration changed on the admin page", {{"client", exchange.request.remote_address}});
  if (!updated->in_effect) {
    return integrations_view(exchange, 200,
                             "Saved, but not in effect: " + updated->shadowed_by +
                                 " in the bridge's environment takes precedence. Remove it and restart the "
                                 "bridge to use the value saved here.",
                             {}, std::nullopt);
  }
  return redirect(303, "/admin/settings/integrations?saved=1");
}

HttpResponse admin_logout(Exchange& exchange, const FormFields* form) {
  State& state = exchange.state;
  if (form == nullptr) {
    return html_response(
        200, state, "Sign out", Section::admin,
        admin_signed_out_page(state.sessions.csrf_token(exchange.browser()), exchange.browser().admin),
        &exchange);
  }
  if (auto refused = post_refusal(exchange, *form); !refused.empty()) {
    return csrf_failure(exchange, refused, "/admin/logout");
  }
  auto signed_out = state.sessions.sign_out_admin(exchange.browser());
  if (!signed_out) {
    log::error("cannot sign the admin out", {{"error", signed_out.error().message}});
    return message(500, state, "Something went wrong",
                   "The bridge could not update its session database; try again.");
  }
  exchange.session = *signed_out;
  HttpResponse response =
      html_response(200, state, "Signed out", Section::admin, admin_signed_out_page({}, false), &exchange);
  set_session_cookie(response, state, *signed_out);
  return response;
}

// ---- health and metrics -------------------------------------------------------------------

HealthReport full_health(const State& state) {
  HealthReport report = state.dependencies.health ? state.dependencies.health() : HealthReport{};
  if (state.auth_ready()) {
    const auth::AuthHealth health =
        auth::auth_health(*state.dependencies.integration, *state.dependencies.accounts);
    report.reasons.insert(report.reasons.end(), health.reasons.begin(), health.reasons.end());
  }
  return report;
}

HttpResponse healthz(const State& state) {
  const HealthReport report = full_health(state);
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  writer.StartObject();
  writer.Key("status");
  writer.String(report.ok() ? "ok" : "degraded");
  writer.Key("reasons");
  writer.StartArray();
  for (const std::string& reason : report.reasons)
    writer.String(reason.c_str(), static_cast<rapidjson::SizeType>(reason.size()));
  writer.EndArray();
  writer.Key("version");
  writer.String(state.dependencies.version.c_str(),
                static_cast<rapidjson::SizeType>(state.dependencies.version.size()));
  writer.EndObject();
  // A degraded bridge still serves; 200 keeps load balancers from pulling it, the body says why.
  return HttpResponse::text(200, std::string(buffer.GetString(), buffer.GetSize()), "application/json");
}

HttpResponse metrics(const State& state) {
  std::string out;
  if (state.dependencies.accounts != nullptr) {
    if (auto accounts = state.dependencies.accounts->list()) {
      std::size_t active = 0;
      std::size_t needs_sign_in = 0;
      for (const auth::Account& account : *accounts) {
        (account.status == auth::AccountStatus::needs_sign_in ? needs_sign_in : active) += 1;
      }
      out +=
          "# HELP mailtrixy_accounts Linked Microsoft accounts by status.\n"
          "# TYPE mailtrixy_accounts gauge\n"
          "mailtrixy_accounts{status=\"active\"} " +
          std::to_string(active) +
          "\n"
          "mailtrixy_accounts{status=\"needs_sign_in\"} " +
          std::to_string(needs_sign_in) + "\n";
    }
  }
  if (state.dependencies.integration != nullptr) {
    const auth::IntegrationStatus status = state.dependencies.integration->status();
    out +=
        "# HELP mailtrixy_integration_state 1 for the Microsoft integration's current state.\n"
        "# TYPE mailtrixy_integration_state gauge\n";
    for (const auto candidate : {auth::IntegrationState::ok, auth::IntegrationState::not_configured,
                                 auth::IntegrationState::broken}) {
      out += "mailtrixy_integration_state{state=\"" + std::string(state_name(candidate)) + "\"} " +
             (candidate == status.state ? "1" : "0") + "\n";
    }
  }
  out += state.counters.prometheus();
  if (state.dependencies.mail_proxy) out += state.dependencies.mail_proxy->prometheus();
  if (state.dependencies.metrics) out += state.dependencies.metrics();
  return HttpResponse::text(200, std::move(out), "text/plain; version=0.0.4; charset=utf-8");
}

HttpResponse static_file(std::string_view body, std::string content_type) {
  HttpResponse response = HttpResponse::text(200, std::string(body), std::move(content_type));
  response.headers.emplace_back("Cache-Control", "public, max-age=3600");
  return response;
}

// ---- dispatch -----------------------------------------------------------------------------

bool is_get(const HttpRequest& request) {
  return request.method == "GET" || request.method == "HEAD";
}

HttpResponse dispatch(Exchange& exchange) {
  const HttpRequest& request = exchange.request;
  State& state = exchange.state;
  const std::string& path = request.path;
  const bool get = is_get(request);
  const bool post = request.method == "POST";
  std::optional<FormFields> form;
  if (post) form = FormFields::parse(request.body);
  const FormFields* posted = form ? &*form : nullptr;

  if (path == "/") {
    exchange.route = "/";
    return get ? redirect(302, "/settings/email-accounts") : method_not_allowed(state, "GET, HEAD");
  }
  if (path == "/healthz") {
    exchange.route = "/healthz";
    return get ? healthz(state) : method_not_allowed(state, "GET, HEAD");
  }
  if (path == "/metrics") {
    exchange.route = "/metrics";
    return get ? metrics(state) : method_not_allowed(state, "GET, HEAD");
  }
  if (path == "/static/app.css" || path == "/static/favicon.svg") {
    exchange.route = "/static";
    if (!get) return method_not_allowed(state, "GET, HEAD");
    return path == "/static/app.css" ? static_file(app_css(), "text/css; charset=utf-8")
                                     : static_file(favicon_svg(), "image/svg+xml");
  }
  if (path == kMailProxyPath && state.dependencies.mail_proxy) {
    exchange.route = path;
    return get ? state.dependencies.mail_proxy->handle(request) : method_not_allowed(state, "GET, HEAD");
  }
  if (path == "/settings/email-accounts") {
    exchange.route = path;
    return get ? email_accounts(exchange) : method_not_allowed(state, "GET, HEAD");
  }
  if (path == "/settings/sign-out") {
    exchange.route = path;
    return post ? sign_out(exchange, *posted) : method_not_allowed(state, "POST");
  }
  if (path == "/email-oauth/microsoft/start") {
    exchange.route = path;
    return get ? start_sign_in(exchange) : method_not_allowed(state, "GET, HEAD");
  }
  if (path == "/email-oauth/microsoft/callback") {
    exchange.route = path;
    return get ? finish_sign_in(exchange) : method_not_allowed(state, "GET, HEAD");
  }
  if (path == "/admin" || path == "/admin/" || path == "/admin/settings") {
    exchange.route = "/admin";
    return get ? redirect(302, "/admin/settings/integrations") : method_not_allowed(state, "GET, HEAD");
  }
  if (path == "/admin/login") {
    exchange.route = path;
    return get || post ? admin_login(exchange, posted) : method_not_allowed(state, "GET, HEAD, POST");
  }
  if (path == "/admin/settings/integrations") {
    exchange.route = path;
    return get || post ? integrations(exchange, posted) : method_not_allowed(state, "GET, HEAD, POST");
  }
  if (path == "/admin/logout") {
    exchange.route = path;
    return get || post ? admin_logout(exchange, posted) : method_not_allowed(state, "GET, HEAD, POST");
  }
  return message(404, state, "Page not found", "There is no page at this address.");
}

}  // namespace

std::string session_cookie_name(bool tls) {
  return tls ? "__Host-mailtrixy_session" : "mailtrixy_session";
}

net::HttpHandler make_web_handler(WebDependencies dependencies) {
  if (dependencies.settings == nullptr || dependencies.store == nullptr) {
    throw std::invalid_argument("make_web_handler needs settings and a store");
  }
  auto state = std::make_shared<State>(std::move(dependencies));
  return [state](const HttpRequest& request) {
    Exchange exchange{request, *state, "other", std::nullopt};
    HttpResponse response;
    try {
      response = dispatch(exchange);
    } catch (const std::exception& error) {
      // Logged without the query or body: they may hold codes, passwords or tokens.
      log::error("web request failed",
                 {{"method", request.method}, {"path", request.path}, {"error", error.what()}});
      response = message(
          500, *state, "Something went wrong",
          "The bridge hit an internal error. The administrator can find the details in the bridge's log.");
    }
    add_security_headers(response, *state);
    state->counters.count(exchange.route, response.status);
    return response;
  };
}

}  // namespace mailtrixy::web
