#include "mailtrixy/auth/oauth.hpp"

#include <rapidjson/document.h>

#include <cctype>
#include <mutex>

#include "json_util.hpp"
#include "mailtrixy/base/log.hpp"
#include "mailtrixy/crypto/encoding.hpp"
#include "mailtrixy/crypto/hash.hpp"
#include "mailtrixy/crypto/random.hpp"

namespace mailtrixy::auth {
namespace {

using Kind = SignInError::Kind;
using std::chrono::system_clock;

constexpr std::string_view kStatePrefix = "oauth-state/";
constexpr std::chrono::minutes kSweepInterval{1};

std::string state_record_key(std::string_view state) { return std::string(kStatePrefix) + crypto::sha256_hex(state); }

std::int64_t to_millis(system_clock::time_point when) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(when.time_since_epoch()).count();
}

struct PendingSignIn {
  std::string verifier;
  std::string browser_hash;
  std::string redirect_uri;
  std::string client_id;
  system_clock::time_point created{};
};

std::string encode_pending(const PendingSignIn& pending) {
  rapidjson::StringBuffer buffer;
  detail::JsonWriter writer(buffer);
  writer.StartObject();
  detail::write_string(writer, "verifier", pending.verifier);
  detail::write_string(writer, "browser", pending.browser_hash);
  detail::write_string(writer, "redirect_uri", pending.redirect_uri);
  detail::write_string(writer, "client_id", pending.client_id);
  detail::write_int(writer, "created", to_millis(pending.created));
  writer.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

std::optional<PendingSignIn> decode_pending(std::string_view json) {
  rapidjson::Document document;
  document.Parse(json.data(), json.size());
  if (document.HasParseError() || !document.IsObject()) return std::nullopt;
  PendingSignIn pending;
  pending.verifier = detail::string_member(document, "verifier").value_or("");
  pending.browser_hash = detail::string_member(document, "browser").value_or("");
  pending.redirect_uri = detail::string_member(document, "redirect_uri").value_or("");
  pending.client_id = detail::string_member(document, "client_id").value_or("");
  pending.created = system_clock::time_point(std::chrono::milliseconds(detail::int_member(document, "created").value_or(0)));
  if (pending.verifier.empty() || pending.browser_hash.empty()) return std::nullopt;
  return pending;
}

// Serialises the check-and-delete of a pending sign-in so two callbacks with the same state
// cannot both find it. Process-wide because several flows may share one store.
std::mutex& consume_mutex() {
  static std::mutex mutex;
  return mutex;
}

std::string query_component(std::string_view text) {
  // Decodes %XX and '+' (form encoding: Microsoft writes spaces in error_description as '+').
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c == '%' && i + 2 < text.size() && std::isxdigit(static_cast<unsigned char>(text[i + 1])) != 0 &&
               std::isxdigit(static_cast<unsigned char>(text[i + 2])) != 0) {
      out.push_back(static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace

std::string pkce_challenge_s256(std::string_view verifier) {
  return crypto::base64url_encode(crypto::sha256(verifier));
}

Pkce make_pkce() {
  Pkce pkce;
  pkce.verifier = crypto::random_token(32);  // 43 characters
  pkce.challenge = pkce_challenge_s256(pkce.verifier);
  return pkce;
}

CallbackQuery parse_callback_query(std::string_view query) {
  CallbackQuery out;
  if (!query.empty() && query.front() == '?') query.remove_prefix(1);
  std::size_t start = 0;
  while (start <= query.size()) {
    std::size_t end = query.find('&', start);
    if (end == std::string_view::npos) end = query.size();
    const std::string_view pair = query.substr(start, end - start);
    const auto equals = pair.find('=');
    const std::string name = query_component(pair.substr(0, equals));
    const std::string value = equals == std::string_view::npos ? "" : query_component(pair.substr(equals + 1));
    // The first occurrence wins: a repeated parameter is not allowed to override it.
    if (name == "state" && out.state.empty()) out.state = value;
    else if (name == "code" && out.code.empty()) out.code = value;
    else if (name == "error" && out.error.empty()) out.error = value;
    else if (name == "error_description" && out.error_description.empty()) out.error_description = value;
    start = end + 1;
  }
  return out;
}

SignInFlow::SignInFlow(Integration& integration, AccountStore& accounts, net::HttpClient& http, Clock clock,
                       SignInFlowOptions options)
    : integration_(integration), accounts_(accounts), http_(http), clock_(std::move(clock)), options_(options) {}

Result<SignInStart> SignInFlow::begin_sign_in(std::string_view browser_session) {
  if (browser_session.empty()) return make_error("a sign-in needs the browser's session id; none was given");
  const IntegrationSettings settings = integration_.current();
  if (!settings.configured()) {
    return make_error("sign-in with Microsoft is not configured: enter the Client ID and client secret in "
                      "Admin → Settings → Integrations");
  }
  const auto now = clock_();
  {
    std::lock_guard lock(sweep_mutex_);
    if (now - last_sweep_ >= kSweepInterval || now < last_sweep_) {
      last_sweep_ = now;
      if (auto swept = sweep_expired(); !swept) {
        log::warn("expired sign-ins could not be swept", {{"error", swept.error().message}});
      }
    }
  }

  SignInStart start;
  start.state = crypto::random_token(32);
  const Pkce pkce = make_pkce();
  PendingSignIn pending{pkce.verifier, crypto::sha256_hex(browser_session), settings.redirect_uri, settings.client_id,
                        now};
  if (auto stored = accounts_.store().put_encrypted(store::Family::web_sessions, state_record_key(start.state),
                                                    encode_pending(pending));
      !stored) {
    return make_error("the sign-in could not be started: " + stored.error().message);
  }
  const net::HttpHeaders parameters = {
      {"client_id", settings.client_id},
      {"response_type", "code"},
      {"redirect_uri", settings.redirect_uri},
      {"response_mode", "query"},
      {"scope", kSignInScopes},
      {"state", start.state},
      {"code_challenge", pkce.challenge},
      {"code_challenge_method", "S256"},
      {"prompt", "select_account"},
  };
  start.authorize_url = settings.authorize_endpoint() + "?" + net::form_encode(parameters);
  return start;
}

Result<std::size_t> SignInFlow::sweep_expired() {
  const auto now = clock_();
  std::vector<std::string> expired;
  store::Store& store = accounts_.store();
  auto cursor = store.cursor(store::Family::web_sessions);
  for (cursor.seek(kStatePrefix); cursor.valid() && cursor.key().starts_with(kStatePrefix); cursor.next()) {
    auto value = cursor.decrypted_value();
    const auto pending = value ? decode_pending(*value) : std::nullopt;
    if (!pending || now - pending->created > kPendingSignInLifetime) expired.emplace_back(cursor.key());
  }
  if (auto status = cursor.status(); !status) return status.error();
  if (expired.empty()) return std::size_t{0};
  store::WriteBatch batch = store.batch();
  for (const std::string& key : expired) batch.del(store::Family::web_sessions, key);
  if (auto written = store.write(batch, false); !written) return written.error();
  return expired.size();
}

SignInOutcome SignInFlow::finish_sign_in(const CallbackQuery& callback, std::string_view browser_session) {
  SignInOutcome outcome;
  const IntegrationSettings settings = integration_.current();
  SignInErrorContext context{settings.redirect_uri, ""};
  const auto failed = [&](SignInError error) {
    log::info("sign-in failed", {{"kind", to_string(error.kind)},
                                 {"error", error.error},
                                 {"code", error.error_codes.empty() ? std::string() : std::to_string(error.error_codes.front())}});
    outcome.error = std::move(error);
    return outcome;
  };
  const auto fail_with = [&](Kind kind, std::string detail = {}) {
    SignInErrorContext with = context;
    with.detail = std::move(detail);
    return failed(make_sign_in_error(kind, with));
  };

  // 1. The pending sign-in: found, deleted (single use), fresh, and from this browser.
  if (callback.state.empty()) return fail_with(Kind::state_unknown_or_expired);
  std::optional<PendingSignIn> pending;
  {
    std::lock_guard lock(consume_mutex());
    store::Store& store = accounts_.store();
    const std::string key = state_record_key(callback.state);
    auto raw = store.get_encrypted(store::Family::web_sessions, key);
    if (!raw) {
      // Unreadable (tampered or damaged): treated as unknown, and removed all the same.
      log::warn("a pending sign-in record could not be read", {{"error", raw.error().message}});
    } else if (raw->has_value()) {
      pending = decode_pending(**raw);
    }
    if (!raw || raw->has_value()) {
      if (auto deleted = store.del(store::Family::web_sessions, key); !deleted) {
        return fail_with(Kind::internal_error, deleted.error().message);
      }
    }
  }
  if (!pending) return fail_with(Kind::state_unknown_or_expired);
  if (clock_() - pending->created > kPendingSignInLifetime) return fail_with(Kind::state_unknown_or_expired);
  if (!crypto::constant_time_equal(pending->browser_hash, crypto::sha256_hex(browser_session))) {
    return fail_with(Kind::state_from_other_browser);
  }
  context.redirect_uri = pending->redirect_uri;

  // 2. Microsoft's own error on the callback.
  if (!callback.error.empty()) {
    TokenEndpointError error;
    error.error = callback.error;
    error.description = first_description_line(callback.error_description);
    if (const std::int64_t code = error.aadsts(); code != 0) error.error_codes.push_back(code);
    return failed(classify_sign_in_error(error, context));
  }
  if (callback.code.empty()) return fail_with(Kind::malformed_response, "the callback carried no code");
  if (!settings.configured()) return fail_with(Kind::integration_not_configured);

  // 3. Redeem the code.
  net::HttpClientRequest token_request;
  token_request.method = "POST";
  token_request.url = settings.token_endpoint();
  token_request.timeout = options_.request_timeout;
  token_request.headers = {{"Content-Type", "application/x-www-form-urlencoded"}, {"Accept", "application/json"}};
  token_request.body = net::form_encode({
      {"client_id", settings.client_id},
      {"scope", kSignInScopes},
      {"code", callback.code},
      {"redirect_uri", pending->redirect_uri},
      {"grant_type", "authorization_code"},
      {"code_verifier", pending->verifier},
      {"client_secret", settings.client_secret.reveal()},
  });
  auto token_response = http_.send(token_request);
  if (!token_response) return fail_with(Kind::network, token_response.error().message);
  const auto received = clock_();
  if (token_response->status != 200) {
    const TokenEndpointError error = parse_token_error(token_response->status, token_response->body);
    SignInError classified = classify_sign_in_error(error, context);
    if (classified.kind == Kind::invalid_client_secret || classified.kind == Kind::expired_client_secret) {
      integration_.mark_broken("AADSTS" + std::to_string(error.aadsts()), error.description);
    }
    return failed(std::move(classified));
  }
  auto tokens = parse_token_response(token_response->body, received);
  if (!tokens) return fail_with(Kind::malformed_response, tokens.error().message);

  // 4. offline_access: without it there is no refresh token and access ends within the hour.
  const bool scope_lacks_offline = !tokens->scopes.empty() && !has_scope(tokens->scopes, "offline_access");
  if (scope_lacks_offline || tokens->refresh_token.empty()) return fail_with(Kind::missing_offline_access);

  // 5. Who is it?
  net::HttpClientRequest me_request;
  me_request.url = settings.graph_url + "/v1.0/me";
  me_request.timeout = options_.request_timeout;
  me_request.headers = {{"Authorization", "Bearer " + tokens->access_token.reveal()}, {"Accept", "application/json"}};
  auto me_response = http_.send(me_request);
  if (!me_response) return fail_with(Kind::network, me_response.error().message);
  if (me_response->status != 200) {
    if (me_response->status >= 500) return fail_with(Kind::server_error, "Microsoft Graph /me answered HTTP " +
                                                                          std::to_string(me_response->status));
    rapidjson::Document graph_error;
    graph_error.Parse(me_response->body.data(), me_response->body.size());
    SignInError error = make_sign_in_error(Kind::microsoft_error_other, context);
    error.error = "HTTP " + std::to_string(me_response->status);
    if (!graph_error.HasParseError() && graph_error.IsObject() && graph_error.HasMember("error")) {
      const auto& inner = graph_error["error"];
      error.error = detail::string_member(inner, "code").value_or(error.error);
      error.description = first_description_line(detail::string_member(inner, "message").value_or(""));
    }
    return failed(std::move(error));
  }
  rapidjson::Document me;
  me.Parse(me_response->body.data(), me_response->body.size());
  if (me.HasParseError() || !me.IsObject()) return fail_with(Kind::malformed_response, "/me is not a JSON object");

  MicrosoftProfile profile;
  if (!tokens->id_token.empty()) {
    // No signature check: see decode_id_token_claims() — the token came straight from the token
    // endpoint over verified TLS.
    auto claims = decode_id_token_claims(tokens->id_token.reveal());
    if (!claims) return fail_with(Kind::malformed_response, claims.error().message);
    profile.oid = claims->oid;
    profile.tid = claims->tid;
  }
  if (profile.oid.empty()) profile.oid = detail::string_member(me, "id").value_or("");
  const auto mail = detail::string_member(me, "mail");
  profile.address = mail && !mail->empty() ? *mail : detail::string_member(me, "userPrincipalName").value_or("");
  profile.display_name = detail::string_member(me, "displayName").value_or("");
  if (profile.oid.empty()) return fail_with(Kind::malformed_response, "neither the id token nor /me names the user");
  if (profile.tid.empty()) {
    return fail_with(Kind::malformed_response, "the id token does not name the user's directory (tid)");
  }
  if (profile.address.empty()) return fail_with(Kind::malformed_response, "/me has neither mail nor userPrincipalName");

  // 6. Store account, tokens and bridge password together.
  auto linked = accounts_.link(profile, *tokens);
  if (!linked) return fail_with(Kind::internal_error, linked.error().message);
  outcome.success = SignInSuccess{linked->account, linked->relinked, linked->bridge_password};
  return outcome;
}

}  // namespace mailtrixy::auth
