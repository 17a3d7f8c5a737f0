// The emulated Microsoft identity platform (graph-facts A): the sign-in and consent page at
// /{tenant}/oauth2/v2.0/authorize, the token endpoint, and the OpenID discovery documents.
//
// Error texts are Microsoft's, with the app id substituted; token-endpoint errors carry the full
// JSON shape (error_description with \r\n-joined Trace ID, Correlation ID and Timestamp,
// error_codes, timestamp, trace_id, correlation_id, error_uri). Errors that Microsoft cannot
// trust a redirect URI for (unknown app, unregistered redirect URI, unknown tenant) are an HTML
// page with status 400; every later /authorize error is redirected to the app.

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <variant>

#include "core.hpp"
#include "http_text.hpp"
#include "mailtrixy/crypto/encoding.hpp"
#include "mailtrixy/crypto/hash.hpp"
#include "mailtrixy/crypto/random.hpp"

namespace mailtrixy::emulator {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

constexpr auto kCodeLifetime = std::chrono::minutes(10);
constexpr auto kIdTokenLifetime = std::chrono::hours(1);
constexpr std::string_view kGraphResource = "https://graph.microsoft.com/";
constexpr std::string_view kGraphAppId = "00000003-0000-0000-c000-000000000000";
// The permissions an app gets for "https://graph.microsoft.com/.default" (the gateway's set).
constexpr std::array<std::string_view, 3> kDefaultPermissions{"Mail.ReadWrite", "Mail.Send", "User.Read"};

void write(Writer& writer, std::string_view text) {
  writer.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
}

// One identity-platform error: the OAuth `error`, the AADSTS number and its text.
struct IdentityError {
  std::string error;
  int code = 0;
  std::string text;
  int status = 400;
  std::string suberror;
};

IdentityError missing_parameter(std::string_view name) {
  return {"invalid_request", 900144,
          "The request body must contain the following parameter: '" + std::string(name) + "'.", 400, {}};
}

struct Trace {
  std::string trace_id = new_guid();
  std::string correlation_id = new_guid();
  std::string timestamp;
};

std::string describe(const IdentityError& error, const Trace& trace) {
  return "AADSTS" + std::to_string(error.code) + ": " + error.text + "\r\nTrace ID: " + trace.trace_id +
         "\r\nCorrelation ID: " + trace.correlation_id + "\r\nTimestamp: " + trace.timestamp;
}

void add_identity_headers(net::HttpHeaders& headers, const Trace& trace) {
  headers.emplace_back("Cache-Control", "no-store, no-cache");
  headers.emplace_back("Pragma", "no-cache");
  headers.emplace_back("Expires", "-1");
  headers.emplace_back("Strict-Transport-Security", "max-age=31536000; includeSubDomains");
  headers.emplace_back("X-Content-Type-Options", "nosniff");
  headers.emplace_back("x-ms-request-id", trace.trace_id);
}

net::HttpResponse token_error(const World& world, const IdentityError& error) {
  Trace trace;
  trace.timestamp = identity_timestamp(world.now());
  rapidjson::StringBuffer buffer;
  Writer writer(buffer);
  writer.StartObject();
  writer.Key("error");
  write(writer, error.error);
  writer.Key("error_description");
  write(writer, describe(error, trace));
  writer.Key("error_codes");
  writer.StartArray();
  writer.Int(error.code);
  writer.EndArray();
  writer.Key("timestamp");
  write(writer, trace.timestamp);
  writer.Key("trace_id");
  write(writer, trace.trace_id);
  writer.Key("correlation_id");
  write(writer, trace.correlation_id);
  writer.Key("error_uri");
  write(writer, world.base_url() + "/error?code=" + std::to_string(error.code));
  if (!error.suberror.empty()) {
    writer.Key("suberror");
    write(writer, error.suberror);
  }
  writer.EndObject();
  net::HttpResponse response;
  response.status = error.status;
  response.headers.emplace_back("Content-Type", "application/json; charset=utf-8");
  add_identity_headers(response.headers, trace);
  response.body = buffer.GetString();
  return response;
}

constexpr std::string_view kPageStyle = R"(<style>
body{margin:0;font-family:"Segoe UI","Helvetica Neue",Arial,sans-serif;background:#f2f2f2;color:#1b1b1b}
main{max-width:440px;margin:48px auto;background:#fff;padding:44px;box-shadow:0 2px 6px rgba(0,0,0,.2)}
h1{font-size:24px;font-weight:600;margin:16px 0}
.logo{display:grid;grid-template-columns:10px 10px;gap:2px;width:22px}
.logo span{width:10px;height:10px}
label{display:block;margin:14px 0 4px;font-size:15px}
input[type=email],input[type=password]{width:100%;box-sizing:border-box;padding:8px 0;font-size:15px;border:0;
 border-bottom:1px solid #666}
input:focus{outline:2px solid #0067b8;border-bottom-color:#0067b8}
.error{color:#a80000;margin:12px 0}
.permissions{background:#f7f7f7;padding:12px 16px;margin:16px 0;font-size:14px}
.buttons{display:flex;gap:8px;justify-content:flex-end;margin-top:24px}
button{min-width:108px;padding:6px 12px;font-size:15px;border:0;cursor:pointer}
button.primary{background:#0067b8;color:#fff}
button.secondary{background:#ccc;color:#1b1b1b}
.details{font-size:13px;color:#505050;white-space:pre-wrap;word-break:break-word}
</style>)";

constexpr std::string_view kLogo =
    R"(<div class="logo" aria-hidden="true"><span style="background:#f25022"></span><span style="background:#7fba00">)"
    R"(</span><span style="background:#00a4ef"></span><span style="background:#ffb900"></span></div>)";

// The page Microsoft shows when it cannot trust the redirect URI: no redirect, status 400.
net::HttpResponse error_page(const World& world, const IdentityError& error) {
  Trace trace;
  trace.timestamp = iso_seconds(world.now());
  const std::string message = "AADSTS" + std::to_string(error.code) + ": " + error.text;
  std::string html = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Sign in to your account"
                     "</title><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">";
  html += kPageStyle;
  html += "</head><body><main>";
  html += kLogo;
  html += "<h1>Sign in</h1><p>Sorry, but we\xE2\x80\x99re having trouble signing you in.</p>";
  html += "<p id=\"error-message\">" + html_escape(message) + "</p>";
  html += "<div class=\"details\">Request Id: " + trace.trace_id + "\nCorrelation Id: " + trace.correlation_id +
          "\nTimestamp: " + trace.timestamp + "\nMessage: " + html_escape(message) + "</div>";
  html += "</main></body></html>\n";
  net::HttpResponse response = net::HttpResponse::text(error.status, std::move(html), "text/html; charset=utf-8");
  add_identity_headers(response.headers, trace);
  return response;
}

// ---- tenants and scopes ----------------------------------------------------------------------

enum class TenantKind { common, organizations, consumers, personal, work };

struct Tenant {
  TenantKind kind = TenantKind::common;
  std::string tid;  // for personal and work tenants
};

std::optional<Tenant> resolve_tenant(const World& world, std::string_view segment) {
  if (iequals(segment, "common")) return Tenant{TenantKind::common, {}};
  if (iequals(segment, "organizations")) return Tenant{TenantKind::organizations, {}};
  if (iequals(segment, "consumers") || iequals(segment, kPersonalTenantId)) {
    return Tenant{TenantKind::consumers, std::string(kPersonalTenantId)};
  }
  for (const auto& user : world.users()) {
    if (user->personal) continue;
    const std::string_view domain = std::string_view(user->address).substr(user->address.find('@') + 1);
    if (iequals(segment, user->tid) || iequals(segment, domain)) return Tenant{TenantKind::work, user->tid};
  }
  return std::nullopt;
}

IdentityError tenant_not_found(std::string_view segment) {
  return {"invalid_tenant", 90002,
          "Tenant '" + std::string(segment) +
              "' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. "
              "Check with your subscription administrator, this may happen if there are no active subscriptions for "
              "the tenant.",
          400,
          {}};
}

// Why `user` cannot sign in on `tenant`, or an empty string when it can.
std::string tenant_refuses(const Tenant& tenant, const User& user) {
  switch (tenant.kind) {
    case TenantKind::common: return {};
    case TenantKind::organizations:
      return user.personal ? "You can't sign in here with a personal account. Use your work or school account instead."
                           : "";
    case TenantKind::consumers:
    case TenantKind::personal:
      return user.personal ? "" : "That Microsoft account doesn't exist. Enter a different account or get a new one.";
    case TenantKind::work:
      return user.tid == tenant.tid ? ""
                                    : "This account does not exist in this organization. Use another account or "
                                      "sign in to the right organization.";
  }
  return {};
}

struct Scopes {
  std::vector<std::string> permissions;  // Graph permissions, short form ("Mail.ReadWrite")
  bool openid = false, profile = false, email = false, offline_access = false;

  std::vector<std::string> granted() const {
    std::vector<std::string> out = permissions;
    if (profile) out.emplace_back("profile");
    if (openid) out.emplace_back("openid");
    if (email) out.emplace_back("email");
    if (offline_access) out.emplace_back("offline_access");
    return out;
  }
};

bool is_permission_name(std::string_view name) {
  if (name.empty() || name.front() == '.' || name.back() == '.') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '_' || c == '-';
  });
}

void add_permission(Scopes& scopes, std::string_view name) {
  for (const std::string& existing : scopes.permissions) {
    if (iequals(existing, name)) return;
  }
  scopes.permissions.emplace_back(name);
}

// Parses a space-separated scope parameter the way the v2 endpoint reads it: OIDC scopes,
// Graph permissions in short or resource-qualified form, ".default". Other resources are an
// invalid_scope error (the emulator only serves Graph).
std::variant<Scopes, IdentityError> parse_scopes(std::string_view text) {
  Scopes scopes;
  bool any = false;
  for (const std::string_view raw : split(text, ' ')) {
    if (raw.empty()) continue;
    any = true;
    if (iequals(raw, "openid")) {
      scopes.openid = true;
    } else if (iequals(raw, "profile")) {
      scopes.profile = true;
    } else if (iequals(raw, "email")) {
      scopes.email = true;
    } else if (iequals(raw, "offline_access")) {
      scopes.offline_access = true;
    } else {
      std::string_view name = raw;
      if (name.size() > kGraphResource.size() && iequals(name.substr(0, kGraphResource.size()), kGraphResource)) {
        name.remove_prefix(kGraphResource.size());
      } else if (name.size() > kGraphAppId.size() + 1 && iequals(name.substr(0, kGraphAppId.size()), kGraphAppId) &&
                 name[kGraphAppId.size()] == '/') {
        name.remove_prefix(kGraphAppId.size() + 1);
      }
      if (name == ".default") {
        for (const std::string_view permission : kDefaultPermissions) add_permission(scopes, permission);
      } else if (is_permission_name(name)) {
        add_permission(scopes, name);
      } else {
        return IdentityError{"invalid_scope", 70011,
                             "The provided value for the input parameter 'scope' isn't valid. The scope " +
                                 std::string(raw) + " isn't valid.",
                             400,
                             {}};
      }
    }
  }
  if (!any) return missing_parameter("scope");
  // Asking only for OpenID scopes still yields a Graph token for the basic profile.
  if (scopes.permissions.empty()) scopes.permissions.emplace_back("User.Read");
  return scopes;
}

std::string join_scopes(const std::vector<std::string>& scopes) {
  std::string out;
  for (const std::string& scope : scopes) {
    if (!out.empty()) out += ' ';
    out += scope;
  }
  return out;
}

bool contains_scope(const std::vector<std::string>& scopes, std::string_view wanted) {
  return std::any_of(scopes.begin(), scopes.end(), [&](const std::string& s) { return iequals(s, wanted); });
}

// ---- /authorize ------------------------------------------------------------------------------

struct AuthorizeRequest {
  std::string tenant_segment;
  Tenant tenant;
  AppRegistration client;
  std::string redirect_uri;
  std::string response_mode = "query";
  std::string state;
  bool has_state = false;
  Scopes scopes;
  std::string code_challenge;
  std::string code_challenge_method;
  std::string nonce;
  std::string login_hint;
};

// Sends `params` to the app the way response_mode asks: 302 with a query or fragment, or an
// auto-submitting form for form_post.
net::HttpResponse deliver_to_app(const AuthorizeRequest& request, const FormFields& params) {
  if (request.response_mode == "form_post") {
    std::string html =
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Working...</title></head>"
        "<body onload=\"document.forms[0].submit()\"><form method=\"POST\" name=\"hiddenform\" action=\"" +
        html_escape(request.redirect_uri) + "\">";
    for (const auto& [name, value] : params) {
      html += "<input type=\"hidden\" name=\"" + html_escape(name) + "\" value=\"" + html_escape(value) + "\">";
    }
    html += "<noscript><p>Script is disabled. Click Submit to continue.</p><input type=\"submit\" value=\"Submit\">"
            "</noscript></form></body></html>\n";
    return net::HttpResponse::text(200, std::move(html), "text/html; charset=utf-8");
  }
  std::string location = request.redirect_uri;
  char separator = '#';
  if (request.response_mode != "fragment") separator = location.find('?') == std::string::npos ? '?' : '&';
  for (const auto& [name, value] : params) {
    location += separator;
    location += form_encode_lower(name) + "=" + form_encode_lower(value);
    separator = '&';
  }
  net::HttpResponse response;
  response.status = 302;
  response.headers.emplace_back("Location", location);
  response.headers.emplace_back("Cache-Control", "no-store, no-cache");
  return response;
}

net::HttpResponse redirect_error(const World& world, const AuthorizeRequest& request, const IdentityError& error) {
  Trace trace;
  trace.timestamp = identity_timestamp(world.now());
  FormFields params{{"error", error.error},
                    {"error_description", describe(error, trace)},
                    {"error_uri", world.base_url() + "/error?code=" + std::to_string(error.code)}};
  if (request.has_state) params.emplace_back("state", request.state);
  return deliver_to_app(request, params);
}

const char* permission_description(std::string_view permission) {
  if (iequals(permission, "Mail.ReadWrite")) return "Read and write access to your mail";
  if (iequals(permission, "Mail.Read")) return "Read your mail";
  if (iequals(permission, "Mail.Send")) return "Send mail as you";
  if (iequals(permission, "User.Read")) return "Sign you in and read your profile";
  return nullptr;
}

net::HttpResponse sign_in_form(const net::HttpRequest& http, const AuthorizeRequest& request, std::string_view login,
                               std::string_view error) {
  std::string html = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Sign in to your account"
                     "</title><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">";
  html += kPageStyle;
  html += "</head><body><main>";
  html += kLogo;
  html += "<h1>Sign in</h1>";
  html += "<p>App <strong>" + html_escape(request.client.client_id) + "</strong> is requesting permission to:</p>";
  html += "<ul class=\"permissions\">";
  for (const std::string& permission : request.scopes.permissions) {
    const char* description = permission_description(permission);
    html += "<li>" + html_escape(description ? description : permission) + " (" + html_escape(permission) + ")</li>";
  }
  if (request.scopes.offline_access) html += "<li>Maintain access to data you have given it access to</li>";
  if (request.scopes.openid || request.scopes.profile) html += "<li>View your basic profile</li>";
  html += "</ul>";
  if (!error.empty()) html += "<p class=\"error\" id=\"error\" role=\"alert\">" + html_escape(error) + "</p>";
  // The form posts back to exactly this URL, query string included.
  html += "<form method=\"POST\" action=\"" + html_escape(http.target) + "\">";
  html += "<label for=\"login\">Email, phone, or Skype</label>"
          "<input type=\"email\" id=\"login\" name=\"login\" autocomplete=\"username\" required value=\"" +
          html_escape(login) + "\">";
  html += "<label for=\"password\">Password</label>"
          "<input type=\"password\" id=\"password\" name=\"password\" autocomplete=\"current-password\" required>";
  html += "<div class=\"buttons\"><button type=\"submit\" class=\"secondary\" name=\"consent\" value=\"decline\" "
          "formnovalidate>Cancel</button><button type=\"submit\" class=\"primary\" name=\"consent\" "
          "value=\"accept\">Accept</button></div>";
  html += "</form></main></body></html>\n";
  net::HttpResponse response = net::HttpResponse::text(200, std::move(html), "text/html; charset=utf-8");
  response.headers.emplace_back("Cache-Control", "no-store, no-cache");
  response.headers.emplace_back("X-Frame-Options", "DENY");
  return response;
}

net::HttpResponse authorize(CoreServices services, const net::HttpRequest& http, std::string_view tenant_segment) {
  World& world = services.world;
  world.count_authorize_request();
  if (http.method != "GET" && http.method != "POST") {
    return error_page(world, {"invalid_request", 900561,
                              "The endpoint only accepts GET, POST requests. Received a " + http.method + " request.",
                              400,
                              {}});
  }
  const FormFields query = parse_form(http.query);
  AuthorizeRequest request;
  request.tenant_segment = tenant_segment;
  const auto tenant = resolve_tenant(world, tenant_segment);
  if (!tenant) return error_page(world, tenant_not_found(tenant_segment));
  request.tenant = *tenant;

  const auto client_id = form_value(query, "client_id");
  if (!client_id || client_id->empty()) return error_page(world, missing_parameter("client_id"));
  const auto client = world.find_client(*client_id);
  if (!client) {
    return error_page(world, {"unauthorized_client", 700016,
                              "Application with identifier '" + *client_id + "' was not found in the directory '" +
                                  std::string(tenant_segment) +
                                  "'. This can happen if the application has not been installed by the administrator "
                                  "of the tenant or consented to by any user in the tenant. You may have sent your "
                                  "authentication request to the wrong tenant.",
                              400,
                              {}});
  }
  request.client = *client;
  const auto redirect_uri = form_value(query, "redirect_uri");
  if (!redirect_uri || redirect_uri->empty()) return error_page(world, missing_parameter("redirect_uri"));
  if (std::find(client->redirect_uris.begin(), client->redirect_uris.end(), *redirect_uri) ==
      client->redirect_uris.end()) {
    return error_page(world, {"invalid_request", 50011,
                              "The redirect URI '" + *redirect_uri +
                                  "' specified in the request does not match the redirect URIs configured for the "
                                  "application '" + client->client_id +
                                  "'. Make sure the redirect URI sent in the request matches one added to your "
                                  "application in the Azure portal. Navigate to https://aka.ms/redirectUriMismatchError "
                                  "to learn more about how to fix this.",
                              400,
                              {}});
  }
  request.redirect_uri = *redirect_uri;

  // From here on the redirect URI is trusted: errors go back to the app.
  if (const auto state = form_value(query, "state")) {
    request.state = *state;
    request.has_state = true;
  }
  if (const auto mode = form_value(query, "response_mode")) {
    if (*mode != "query" && *mode != "fragment" && *mode != "form_post") {
      return redirect_error(world, request,
                            {"invalid_request", 9002313, "Invalid request. Request is malformed or invalid.", 400, {}});
    }
    request.response_mode = *mode;
  }
  const auto response_type = form_value(query, "response_type");
  if (!response_type || response_type->empty()) {
    return redirect_error(world, request, missing_parameter("response_type"));
  }
  if (*response_type != "code") {
    return redirect_error(world, request,
                          {"unsupported_response_type", 700054,
                           "response_type '" + *response_type + "' is not enabled for the application.", 400, {}});
  }
  auto scopes = parse_scopes(form_value(query, "scope").value_or(""));
  if (auto* error = std::get_if<IdentityError>(&scopes)) return redirect_error(world, request, *error);
  request.scopes = std::get<Scopes>(std::move(scopes));

  request.code_challenge = form_value(query, "code_challenge").value_or("");
  request.code_challenge_method = form_value(query, "code_challenge_method").value_or("");
  if (!request.code_challenge_method.empty() && request.code_challenge.empty()) {
    return redirect_error(world, request, missing_parameter("code_challenge"));
  }
  if (!request.code_challenge.empty()) {
    if (request.code_challenge_method.empty()) request.code_challenge_method = "plain";
    if (request.code_challenge_method != "S256" && request.code_challenge_method != "plain") {
      return redirect_error(world, request,
                            {"invalid_request", 50149, "Invalid Code_Challenge_method parameter.", 400, {}});
    }
    if (request.code_challenge.size() < 43 || request.code_challenge.size() > 128) {
      return redirect_error(world, request,
                            {"invalid_request", 501491, "Invalid size of Code_Challenge parameter.", 400, {}});
    }
  }
  request.nonce = form_value(query, "nonce").value_or("");
  request.login_hint = form_value(query, "login_hint").value_or("");
  if (form_value(query, "prompt") == std::optional<std::string>("none")) {
    return redirect_error(world, request,
                          {"login_required", 50058, "A silent sign-in request was sent but no user is signed in.",
                           400,
                           {}});
  }

  if (http.method == "GET") return sign_in_form(http, request, request.login_hint, "");

  const FormFields form = parse_form(http.body);
  const std::string login = form_value(form, "login").value_or("");
  const std::string password = form_value(form, "password").value_or("");
  const std::string consent = form_value(form, "consent").value_or("");
  if (consent == "decline") {
    return redirect_error(world, request,
                          {"access_denied", 65004, "User declined to consent to access the app.", 400, {}});
  }
  User* user = world.find_user_by_address(login);
  if (!user || !crypto::constant_time_equal(crypto::sha256(password), crypto::sha256(user->password))) {
    return sign_in_form(http, request, login,
                        "Your account or password is incorrect. If you don't remember your password, reset it now.");
  }
  if (const std::string refusal = tenant_refuses(request.tenant, *user); !refusal.empty()) {
    return sign_in_form(http, request, login, refusal);
  }
  if (consent != "accept") {
    return sign_in_form(http, request, login, "Choose Accept to let the app use these permissions, or Cancel.");
  }
  AuthorizationCode code;
  code.client_id = client->client_id;
  code.redirect_uri = request.redirect_uri;
  code.tenant = std::string(tenant_segment);
  code.scopes = request.scopes.granted();
  code.code_challenge = request.code_challenge;
  code.code_challenge_method = request.code_challenge_method;
  code.nonce = request.nonce;
  code.user = user;
  code.issued_at = world.now();
  code.expires_at = code.issued_at + kCodeLifetime;
  FormFields params{{"code", world.add_code(std::move(code))}};
  if (request.has_state) params.emplace_back("state", request.state);
  return deliver_to_app(request, params);
}

// ---- /token ----------------------------------------------------------------------------------

std::string id_token(CoreServices services, const User& user, const std::string& client_id,
                     const std::vector<std::string>& scopes, const std::string& nonce) {
  const auto issued = services.world.now();
  rapidjson::StringBuffer buffer;
  Writer writer(buffer);
  writer.StartObject();
  writer.Key("aud");
  write(writer, client_id);
  writer.Key("iss");
  write(writer, "https://login.microsoftonline.com/" + user.tid + "/v2.0");
  writer.Key("iat");
  writer.Int64(unix_seconds(issued));
  writer.Key("nbf");
  writer.Int64(unix_seconds(issued));
  writer.Key("exp");
  writer.Int64(unix_seconds(issued + kIdTokenLifetime));
  if (contains_scope(scopes, "email")) {
    writer.Key("email");
    write(writer, user.address);
  }
  writer.Key("name");
  write(writer, user.display_name);
  if (!nonce.empty()) {
    writer.Key("nonce");
    write(writer, nonce);
  }
  writer.Key("oid");
  write(writer, user.token_oid());
  writer.Key("preferred_username");
  write(writer, user.address);
  writer.Key("sub");
  // Pairwise: the same user has a different sub in every app.
  write(writer, crypto::base64url_encode(crypto::sha256(user.oid + "\n" + user.tid + "\n" + client_id)).substr(0, 43));
  writer.Key("tid");
  write(writer, user.tid);
  writer.Key("uti");
  write(writer, crypto::random_token(16));
  writer.Key("ver");
  write(writer, "2.0");
  writer.EndObject();
  return services.signer.sign(buffer.GetString());
}

struct Grant {
  User* user = nullptr;
  std::vector<std::string> scopes;
  Clock::time_point grant_issued_at;
  std::string nonce;
};

net::HttpResponse token_success(CoreServices services, const std::string& client_id, const Grant& grant,
                                bool client_info) {
  World& world = services.world;
  const long long lifetime = world.options().access_token_lifetime.count();
  // The scope echoed back: what the access token is for, plus the OpenID scopes granted.
  const std::string scope = join_scopes(grant.scopes);
  const std::string access_token = world.issue_access_token(client_id, *grant.user, grant.scopes);
  rapidjson::StringBuffer buffer;
  Writer writer(buffer);
  writer.StartObject();
  writer.Key("token_type");
  writer.String("Bearer");
  writer.Key("scope");
  write(writer, scope);
  writer.Key("expires_in");
  writer.Int64(lifetime);
  writer.Key("ext_expires_in");
  writer.Int64(lifetime);
  writer.Key("access_token");
  write(writer, access_token);
  if (contains_scope(grant.scopes, "offline_access")) {
    writer.Key("refresh_token");
    write(writer, world.issue_refresh_token(client_id, *grant.user, grant.scopes, grant.grant_issued_at));
  }
  if (contains_scope(grant.scopes, "openid")) {
    writer.Key("id_token");
    write(writer, id_token(services, *grant.user, client_id, grant.scopes, grant.nonce));
  }
  if (client_info) {
    writer.Key("client_info");
    write(writer, crypto::base64url_encode(R"({"uid":")" + grant.user->token_oid() + R"(","utid":")" +
                                           grant.user->tid + R"("})"));
  }
  writer.EndObject();
  Trace trace;
  net::HttpResponse response;
  response.status = 200;
  response.headers.emplace_back("Content-Type", "application/json; charset=utf-8");
  add_identity_headers(response.headers, trace);
  response.body = buffer.GetString();
  return response;
}

std::variant<Grant, IdentityError> redeem_code(World& world, const AppRegistration& client,
                                               std::string_view tenant_segment, const FormFields& form) {
  const auto code_text = form_value(form, "code");
  if (!code_text || code_text->empty()) return missing_parameter("code");
  const auto code = world.find_code(*code_text);
  if (!code || !iequals(code->client_id, client.client_id)) {
    return IdentityError{"invalid_grant", 70000, "The provided value for the 'code' parameter is not valid.", 400, {}};
  }
  const IdentityError already_redeemed{
      "invalid_grant", 54005,
      "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh "
      "token.",
      400,
      {}};
  if (code->redeemed) return already_redeemed;
  if (!iequals(code->tenant, tenant_segment)) {
    return IdentityError{"invalid_grant", 700005,
                         "Provided Authorization Code is intended to use against other tenant, thus rejected.", 400, {}};
  }
  if (world.now() >= code->expires_at) {
    return IdentityError{"invalid_grant", 70008,
                         "The provided authorization code or refresh token has expired due to inactivity. Send a new "
                         "interactive authorization request for this user and resource.",
                         400,
                         {}};
  }
  const auto redirect_uri = form_value(form, "redirect_uri");
  if (!redirect_uri || redirect_uri->empty()) return missing_parameter("redirect_uri");
  if (*redirect_uri != code->redirect_uri) {
    return IdentityError{"invalid_grant", 500112,
                         "The reply address '" + *redirect_uri + "' does not match the reply address '" +
                             code->redirect_uri + "' provided when requesting Authorization code.",
                         400,
                         {}};
  }
  if (!code->code_challenge.empty()) {
    const auto verifier = form_value(form, "code_verifier");
    if (!verifier || !pkce_verifies(code->code_challenge_method, code->code_challenge, *verifier)) {
      return IdentityError{"invalid_grant", 50148,
                           "The code_verifier does not match the code_challenge supplied in the authorization request "
                           "for PKCE.",
                           400,
                           {}};
    }
  }
  if (const auto scope = form_value(form, "scope")) {
    auto requested = parse_scopes(*scope);
    if (auto* error = std::get_if<IdentityError>(&requested)) return *error;
  }
  if (!world.consume_code(*code_text)) return already_redeemed;
  return Grant{code->user, code->scopes, world.now(), code->nonce};
}

std::variant<Grant, IdentityError> redeem_refresh_token(World& world, const AppRegistration& client,
                                                        const FormFields& form) {
  const auto token_text = form_value(form, "refresh_token");
  if (!token_text || token_text->empty()) return missing_parameter("refresh_token");
  const auto token = world.find_refresh_token(*token_text);
  if (!token) {
    return IdentityError{"invalid_grant", 9002313, "Invalid request. Request is malformed or invalid.", 400, {}};
  }
  if (!iequals(token->client_id, client.client_id)) {
    return IdentityError{"invalid_grant", 70000,
                         "The provided value for the input parameter 'refresh_token' or 'assertion' is not valid.",
                         400,
                         {}};
  }
  if (const auto valid_from = world.tokens_valid_from(*token->user); valid_from && token->issued_at <= *valid_from) {
    return IdentityError{"invalid_grant", 50173,
                         "The provided grant has expired due to it being revoked, a fresh auth token is needed. The "
                         "user might have changed or reset their password. The grant was issued on '" +
                             precise_timestamp(token->grant_issued_at) +
                             "' and the TokensValidFrom date (before which tokens are not valid) for this user is '" +
                             precise_timestamp(*valid_from) + "'.",
                         400,
                         {}};
  }
  if (token->inactive) {
    return IdentityError{"invalid_grant", 700082,
                         "The refresh token has expired due to inactivity. The token was issued on " +
                             precise_timestamp(token->issued_at) + " and was inactive for 90.00:00:00.",
                         400,
                         "bad_token"};
  }
  Grant grant{token->user, token->scopes, token->grant_issued_at, {}};
  if (const auto scope = form_value(form, "scope")) {
    auto parsed = parse_scopes(*scope);
    if (auto* error = std::get_if<IdentityError>(&parsed)) return *error;
    const Scopes& requested = std::get<Scopes>(parsed);
    for (const std::string& permission : requested.permissions) {
      if (!contains_scope(token->scopes, permission)) {
        return IdentityError{"invalid_grant", 65001,
                             "The user or administrator has not consented to use the application with ID '" +
                                 client.client_id + "' named '" + client.client_id +
                                 "'. Send an interactive authorization request for this user and resource.",
                             400,
                             "consent_required"};
      }
    }
    // A refresh may narrow the permissions; the OpenID scopes and offline_access carry over.
    Scopes narrowed = requested;
    narrowed.openid = requested.openid && contains_scope(token->scopes, "openid");
    narrowed.profile = requested.profile && contains_scope(token->scopes, "profile");
    narrowed.email = requested.email && contains_scope(token->scopes, "email");
    narrowed.offline_access = true;
    grant.scopes = narrowed.granted();
  }
  return grant;
}

net::HttpResponse identity_fault(const World& world, const Fault& fault) {
  if (fault.kind == FaultKind::reset || fault.kind == FaultKind::hang) {
    net::HttpResponse response;
    response.status = fault.status;
    response.headers.emplace_back("Connection", "close");
    if (fault.kind == FaultKind::hang) response.delay = fault.hold;
    return response;
  }
  if (fault.kind == FaultKind::malformed) {
    return net::HttpResponse::text(200, R"({"token_type":"Bearer","scope":)", "application/json; charset=utf-8");
  }
  IdentityError error;
  error.status = fault.status;
  if (fault.status == 429 || fault.status == 503 || fault.status == 504) {
    error = {"temporarily_unavailable", 90033, "A transient error has occurred. Please try again.", fault.status, {}};
  } else if (fault.status >= 500) {
    error = {"server_error", 50000,
             "There was an error issuing a token or an issue with our sign-in service.", fault.status, {}};
  } else if (fault.status == 401) {
    error = {"invalid_client", 7000215, "Invalid client secret provided.", 401, {}};
  } else {
    error = {"invalid_request", 9002313, "Invalid request. Request is malformed or invalid.", fault.status, {}};
  }
  if (!fault.code.empty()) error.error = fault.code;
  if (!fault.message.empty()) error.text = fault.message;
  net::HttpResponse response = token_error(world, error);
  if (fault.retry_after) {
    char text[32];
    std::snprintf(text, sizeof text, "%g", *fault.retry_after);
    response.headers.emplace_back("Retry-After", text);
  }
  return response;
}

net::HttpResponse token(CoreServices services, const net::HttpRequest& http, std::string_view tenant_segment) {
  World& world = services.world;
  world.count_token_request();
  world.count_route(http.method + " /{tenant}/oauth2/v2.0/token");
  std::optional<Fault> truncate;
  {
    std::string route = http.method + " " + percent_decode(http.path, false);
    if (!http.query.empty()) route += "?" + percent_decode(http.query, false);
    if (auto fault = world.take_fault(route)) {
      if (fault->kind != FaultKind::truncated) return identity_fault(world, *fault);
      truncate = std::move(fault);
    }
  }
  net::HttpResponse response = [&]() -> net::HttpResponse {
    if (http.method != "POST") {
      return token_error(world, {"invalid_request", 900561,
                                 "The endpoint only accepts POST, OPTIONS requests. Received a " + http.method +
                                     " request.",
                                 400,
                                 {}});
    }
    if (!resolve_tenant(world, tenant_segment)) {
      IdentityError error = tenant_not_found(tenant_segment);
      error.error = "invalid_request";
      return token_error(world, error);
    }
    FormFields form;
    const auto content_type = http.header("Content-Type");
    if (content_type && ascii_lower(*content_type).starts_with("application/x-www-form-urlencoded")) {
      form = parse_form(http.body);
    }
    // Client authentication: client_secret_post, or HTTP Basic (RFC 6749 §2.3.1).
    std::optional<std::string> basic_id;
    std::optional<std::string> basic_secret;
    if (const auto authorization = http.header("Authorization");
        authorization && authorization->size() > 6 && iequals(authorization->substr(0, 6), "Basic ")) {
      if (auto decoded = crypto::base64_decode(authorization->substr(6)); decoded) {
        const auto colon = decoded->find(':');
        if (colon != std::string::npos) {
          basic_id = percent_decode(std::string_view(*decoded).substr(0, colon), true);
          basic_secret = percent_decode(std::string_view(*decoded).substr(colon + 1), true);
        }
      }
    }
    const auto client_id = form_value(form, "client_id") ? form_value(form, "client_id") : basic_id;
    if (!client_id || client_id->empty()) return token_error(world, missing_parameter("client_id"));
    const auto grant_type = form_value(form, "grant_type");
    if (!grant_type || grant_type->empty()) return token_error(world, missing_parameter("grant_type"));
    const auto client = world.find_client(*client_id);
    if (!client) {
      return token_error(world, {"unauthorized_client", 700016,
                                 "Application with identifier '" + *client_id + "' was not found in the directory '" +
                                     std::string(tenant_segment) +
                                     "'. This can happen if the application has not been installed by the "
                                     "administrator of the tenant or consented to by any user in the tenant. You may "
                                     "have sent your authentication request to the wrong tenant.",
                                 400,
                                 {}});
    }
    if (*grant_type != "authorization_code" && *grant_type != "refresh_token") {
      return token_error(world, {"unsupported_grant_type", 70003,
                                 "The app requested an unsupported grant type '" + *grant_type + "'.", 400, {}});
    }
    const auto secret = form_value(form, "client_secret") ? form_value(form, "client_secret") : basic_secret;
    if (!secret || secret->empty()) {
      return token_error(world, {"invalid_client", 7000218,
                                 "The request body must contain the following parameter: 'client_assertion' or "
                                 "'client_secret'.",
                                 401,
                                 {}});
    }
    if (!crypto::constant_time_equal(crypto::sha256(*secret), crypto::sha256(client->secret))) {
      return token_error(world, {"invalid_client", 7000215,
                                 "Invalid client secret provided. Ensure the secret being sent in the request is the "
                                 "client secret value, not the client secret ID, for a secret added to app '" +
                                     client->client_id + "'.",
                                 401,
                                 {}});
    }
    if (client->secret_expired) {
      return token_error(world, {"invalid_client", 7000222,
                                 "The provided client secret keys for app '" + client->client_id +
                                     "' are expired. Visit the Azure portal to create new keys for your app: "
                                     "https://aka.ms/NewClientSecret, or consider using certificate credentials for "
                                     "added security: https://aka.ms/certCreds.",
                                 401,
                                 {}});
    }
    auto grant = *grant_type == "authorization_code" ? redeem_code(world, *client, tenant_segment, form)
                                                     : redeem_refresh_token(world, *client, form);
    if (auto* error = std::get_if<IdentityError>(&grant)) return token_error(world, *error);
    return token_success(services, client->client_id, std::get<Grant>(grant), form_value(form, "client_info") == "1");
  }();
  if (truncate && !response.body.empty()) response.body.resize(response.body.size() / 2);
  return response;
}

// ---- discovery -------------------------------------------------------------------------------

net::HttpResponse openid_configuration(const World& world, std::string_view tenant_segment) {
  const auto tenant = resolve_tenant(world, tenant_segment);
  if (!tenant) return token_error(world, tenant_not_found(tenant_segment));
  const std::string base = world.base_url() + "/" + std::string(tenant_segment);
  const std::string issuer_tenant = tenant->tid.empty() ? "{tenantid}" : tenant->tid;
  rapidjson::StringBuffer buffer;
  Writer writer(buffer);
  writer.StartObject();
  const auto field = [&](const char* name, const std::string& value) {
    writer.Key(name);
    write(writer, value);
  };
  const auto list = [&](const char* name, std::initializer_list<const char*> values) {
    writer.Key(name);
    writer.StartArray();
    for (const char* value : values) writer.String(value);
    writer.EndArray();
  };
  field("token_endpoint", base + "/oauth2/v2.0/token");
  list("token_endpoint_auth_methods_supported", {"client_secret_post", "client_secret_basic"});
  field("jwks_uri", base + "/discovery/v2.0/keys");
  list("response_modes_supported", {"query", "fragment", "form_post"});
  list("subject_types_supported", {"pairwise"});
  list("id_token_signing_alg_values_supported", {"RS256"});
  list("response_types_supported", {"code"});
  list("scopes_supported", {"openid", "profile", "email", "offline_access"});
  field("issuer", "https://login.microsoftonline.com/" + issuer_tenant + "/v2.0");
  writer.Key("request_uri_parameter_supported");
  writer.Bool(false);
  field("userinfo_endpoint", world.base_url() + "/oidc/userinfo");
  field("authorization_endpoint", base + "/oauth2/v2.0/authorize");
  list("code_challenge_methods_supported", {"plain", "S256"});
  list("claims_supported", {"sub", "iss", "aud", "exp", "iat", "nbf", "nonce", "preferred_username", "name", "tid",
                            "ver", "oid", "email"});
  field("msgraph_host", world.base_url());
  writer.EndObject();
  return json_response(200, buffer.GetString());
}

}  // namespace

net::HttpResponse handle_identity_request(CoreServices services, const net::HttpRequest& request) {
  std::string_view path = request.path;
  if (path == "/error") {
    const std::string code = form_value(parse_form(request.query), "code").value_or("");
    return net::HttpResponse::text(200,
                                   "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Error "
                                   "lookup</title></head><body><h1>AADSTS" +
                                       html_escape(code) +
                                       "</h1><p>See docs/graph-facts.md section A7 for what this code means.</p>"
                                       "</body></html>\n",
                                   "text/html; charset=utf-8");
  }
  // "/{tenant}/..." — the tenant segment is percent-decoded (a domain may be encoded).
  if (path.size() > 1) {
    path.remove_prefix(1);
    const auto slash = path.find('/');
    if (slash != std::string_view::npos && slash > 0) {
      const std::string tenant = percent_decode(path.substr(0, slash), false);
      const std::string_view rest = path.substr(slash);
      if (rest == "/oauth2/v2.0/authorize") return authorize(services, request, tenant);
      if (rest == "/oauth2/v2.0/token") return token(services, request, tenant);
      if (rest == "/v2.0/.well-known/openid-configuration") return openid_configuration(services.world, tenant);
      if (rest == "/discovery/v2.0/keys") return json_response(200, services.signer.jwks_json());
    }
  }
  return net::HttpResponse::text(404,
                                 "Not found: the emulator serves /{tenant}/oauth2/v2.0/authorize, "
                                 "/{tenant}/oauth2/v2.0/token, /v1.0/... and /_emulator/... (see docs/emulator.md).\n");
}

}  // namespace mailtrixy::emulator
