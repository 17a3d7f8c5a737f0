// The web handler end to end in-process: real sessions, real auth objects (integration, account
// store, sign-in flow) over a temporary store, requests built by hand. No network is used: the
// routes tested here never reach Microsoft (the full flow is tests/integration/test_signin.py).

#include "mailtrixy/web/server.hpp"

#include <gtest/gtest.h>

#include "mailtrixy/auth/accounts.hpp"
#include "mailtrixy/auth/integration.hpp"
#include "mailtrixy/auth/oauth.hpp"
#include "mailtrixy/config/load.hpp"
#include "mailtrixy/crypto/password.hpp"
#include "mailtrixy/net/http_client.hpp"
#include "mailtrixy/web/forms.hpp"
#include "test_support.hpp"

namespace mailtrixy::web {
namespace {

constexpr const char* kClientId = "6731de76-14a6-49ae-97bc-6eba6914391e";
constexpr const char* kAdminPassword = "correct horse battery staple";

std::optional<std::string> header(const net::HttpResponse& response, std::string_view name) {
  for (const auto& [key, value] : response.headers) {
    if (key == name) return value;
  }
  return std::nullopt;
}

class WebServerTest : public ::testing::Test {
 protected:
  void SetUp() override { start(true); }

  void start(bool with_admin, const std::string& extra_yaml = "") {
    handler = nullptr;
    sign_in.reset();
    accounts.reset();
    integration.reset();
    store.reset();
    std::string yaml =
        "public_url: https://localhost:8443\n"
        "data_dir: data\n"
        "microsoft:\n"
        "  client_id: " +
        std::string(kClientId) +
        "\n"
        "  client_secret: Qx48Q~tEsTsEcReT.vAlUe-0123456789abcdefXY\n"
        "  login_url: https://login.example.test\n" +
        extra_yaml;
    if (with_admin) {
      yaml += "admin:\n  password_hash: \"" + crypto::hash_password(kAdminPassword, {10, 8, 1}) + "\"\n";
    }
    const config::Environment no_environment = [](const std::string&) -> std::optional<std::string> {
      return std::nullopt;
    };
    auto loaded = config::load_from_string(yaml, temp.path() / "mailtrixy.yaml", no_environment);
    ASSERT_TRUE(loaded.ok()) << loaded.error().message;
    settings = std::move(loaded).value();
    store = testing::open_store(settings.data_dir, key);
    auto loaded_integration = auth::Integration::load(settings, *store, no_environment);
    ASSERT_TRUE(loaded_integration.ok()) << loaded_integration.error().message;
    integration = std::move(loaded_integration).value();
    accounts = std::make_unique<auth::AccountStore>(*store);
    if (!http) http = std::move(net::HttpClient::create().value());
    sign_in = std::make_unique<auth::SignInFlow>(*integration, *accounts, *http);
    WebDependencies dependencies;
    dependencies.settings = &settings;
    dependencies.store = store.get();
    dependencies.integration = integration.get();
    dependencies.accounts = accounts.get();
    dependencies.sign_in = sign_in.get();
    dependencies.version = "9.9.9";
    handler = make_web_handler(std::move(dependencies));
  }

  net::HttpResponse get(const std::string& target, const std::string& cookie = "") {
    return send("GET", target, cookie, "", {});
  }

  net::HttpResponse post(const std::string& path, const std::string& cookie, const std::string& body,
                         net::HttpHeaders extra = {{"Origin", "https://localhost:8443"}}) {
    extra.emplace_back("Content-Type", "application/x-www-form-urlencoded");
    return send("POST", path, cookie, body, std::move(extra));
  }

  net::HttpResponse send(const std::string& method, const std::string& target, const std::string& cookie,
                         const std::string& body, net::HttpHeaders extra) {
    net::HttpRequest request;
    request.method = method;
    request.target = target;
    const auto question = target.find('?');
    request.path = target.substr(0, question);
    if (question != std::string::npos) request.query = target.substr(question + 1);
    request.headers = std::move(extra);
    request.headers.emplace_back("Host", "localhost:8443");
    if (!cookie.empty()) request.headers.emplace_back("Cookie", cookie);
    request.body = body;
    request.remote_address = "127.0.0.1";
    request.tls = true;
    return handler(request);
  }

  // "name=value" of the response's session cookie, or "" when it sets none.
  static std::string session_cookie(const net::HttpResponse& response) {
    const auto set_cookie = header(response, "Set-Cookie");
    if (!set_cookie) return "";
    return set_cookie->substr(0, set_cookie->find(';'));
  }

  static std::string csrf_from(const std::string& page) {
    const std::string marker = R"(name="csrf_token" value=")";
    const auto start = page.find(marker);
    if (start == std::string::npos) return "";
    const auto begin = start + marker.size();
    return page.substr(begin, page.find('"', begin) - begin);
  }

  // Signs the admin in; returns the admin session cookie.
  std::string admin_cookie() {
    const net::HttpResponse form = get("/admin/login");
    const std::string cookie = session_cookie(form);
    const net::HttpResponse signed_in = post(
        "/admin/login", cookie,
        "username=admin&password=" + percent_encode(kAdminPassword) + "&csrf_token=" + csrf_from(form.body));
    EXPECT_EQ(signed_in.status, 303) << signed_in.body;
    return session_cookie(signed_in);
  }

  testing::TempDir temp;
  crypto::Key key = crypto::Key::generate();
  config::Settings settings;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<auth::Integration> integration;
  std::unique_ptr<auth::AccountStore> accounts;
  std::unique_ptr<net::HttpClient> http;
  std::unique_ptr<auth::SignInFlow> sign_in;
  net::HttpHandler handler;
};

TEST_F(WebServerTest, EveryResponseCarriesTheSecurityHeaders) {
  for (const char* target :
       {"/", "/settings/email-accounts", "/nope", "/healthz", "/static/app.css", "/admin/login"}) {
    const net::HttpResponse response = get(target);
    const auto csp = header(response, "Content-Security-Policy");
    ASSERT_TRUE(csp) << target;
    EXPECT_NE(csp->find("default-src 'self'"), std::string::npos);
    EXPECT_NE(csp->find("frame-ancestors 'none'"), std::string::npos);
    EXPECT_EQ(csp->find("unsafe-inline"), std::string::npos);
    EXPECT_EQ(header(response, "X-Content-Type-Options"), "nosniff") << target;
    EXPECT_EQ(header(response, "X-Frame-Options"), "DENY") << target;
    EXPECT_TRUE(header(response, "Referrer-Policy")) << target;
  }
  EXPECT_EQ(get("/nope").status, 404);
  EXPECT_EQ(get("/settings/email-accounts").status, 200);
  EXPECT_EQ(header(get("/settings/email-accounts"), "Cache-Control"), "no-store");
}

TEST_F(WebServerTest, RootRedirectsToEmailAccounts) {
  const net::HttpResponse response = get("/");
  EXPECT_EQ(response.status, 302);
  EXPECT_EQ(header(response, "Location"), "/settings/email-accounts");
}

TEST_F(WebServerTest, AccountsPageSetsAHardenedSessionCookie) {
  const net::HttpResponse response = get("/settings/email-accounts");
  const auto set_cookie = header(response, "Set-Cookie");
  ASSERT_TRUE(set_cookie);
  EXPECT_TRUE(set_cookie->starts_with("__Host-mailtrixy_session=")) << *set_cookie;
  EXPECT_NE(set_cookie->find("; Secure"), std::string::npos);
  EXPECT_NE(set_cookie->find("; HttpOnly"), std::string::npos);
  EXPECT_NE(set_cookie->find("; SameSite=Lax"), std::string::npos);
  EXPECT_NE(set_cookie->find("; Path=/"), std::string::npos);
  EXPECT_NE(response.body.find("Sign in with Outlook"), std::string::npos);
  // A browser that already has a cookie is not given another one.
  EXPECT_FALSE(header(get("/settings/email-accounts", session_cookie(response)), "Set-Cookie"));
}

TEST_F(WebServerTest, StartRedirectsToMicrosoftWithStateAndPkce) {
  const net::HttpResponse response = get("/email-oauth/microsoft/start?login_hint=alice%40outlook.com");
  ASSERT_EQ(response.status, 302) << response.body;
  const auto location = header(response, "Location");
  ASSERT_TRUE(location);
  EXPECT_TRUE(location->starts_with("https://login.example.test/common/oauth2/v2.0/authorize?")) << *location;
  EXPECT_NE(location->find("state="), std::string::npos);
  EXPECT_NE(location->find("code_challenge_method=S256"), std::string::npos);
  EXPECT_NE(location->find("login_hint=alice%40outlook.com"), std::string::npos);
  EXPECT_TRUE(header(response, "Set-Cookie"));  // the state is bound to this browser's cookie
}

TEST_F(WebServerTest, CallbackWithUnknownStateShowsTheErrorPage) {
  const net::HttpResponse response = get("/email-oauth/microsoft/callback?code=abc&state=forged");
  EXPECT_EQ(response.status, 400);
  EXPECT_NE(response.body.find("How to fix it"), std::string::npos);
  EXPECT_EQ(response.body.find("Outlook connected successfully!"), std::string::npos);
}

TEST_F(WebServerTest, CallbackFromAnotherBrowserIsRefused) {
  const net::HttpResponse started = get("/email-oauth/microsoft/start");
  const std::string location = *header(started, "Location");
  const auto state_at = location.find("state=") + 6;
  const std::string state = location.substr(state_at, location.find('&', state_at) - state_at);
  // Another browser (no cookie) presents the victim's state.
  const net::HttpResponse response = get("/email-oauth/microsoft/callback?code=abc&state=" + state);
  EXPECT_EQ(response.status, 400);
  EXPECT_NE(response.body.find("How to fix it"), std::string::npos);
}

TEST_F(WebServerTest, CallbackErrorFromMicrosoftIsExplainedAndEscaped) {
  const net::HttpResponse started = get("/email-oauth/microsoft/start");
  const std::string cookie = session_cookie(started);
  const std::string location = *header(started, "Location");
  const auto state_at = location.find("state=") + 6;
  const std::string state = location.substr(state_at, location.find('&', state_at) - state_at);
  const net::HttpResponse response = get(
      "/email-oauth/microsoft/"
      "callback?error=access_denied&error_description=AADSTS65004%3A+%3Cscript%3Ex%3C%2Fscript%3E&state=" +
          state,
      cookie);
  EXPECT_EQ(response.status, 403);
  EXPECT_NE(response.body.find("consent"), std::string::npos);
  EXPECT_EQ(response.body.find("<script>x"), std::string::npos);
  EXPECT_NE(response.body.find("&lt;script&gt;x"), std::string::npos);
}

TEST_F(WebServerTest, AdminPagesExplainHowToEnableThemWhenNoPasswordIsSet) {
  start(false);
  const net::HttpResponse response = get("/admin/login");
  EXPECT_EQ(response.status, 403);
  EXPECT_NE(response.body.find("Admin pages are disabled"), std::string::npos);
  EXPECT_NE(response.body.find("mailtrixy hash-password"), std::string::npos);
  EXPECT_EQ(get("/admin/settings/integrations").status, 403);
}

TEST_F(WebServerTest, IntegrationsNeedTheAdmin) {
  const net::HttpResponse response = get("/admin/settings/integrations");
  EXPECT_EQ(response.status, 303);
  EXPECT_EQ(header(response, "Location"), "/admin/login");
}

TEST_F(WebServerTest, AdminLoginIssuesANewSessionId) {
  const net::HttpResponse form = get("/admin/login");
  const std::string before = session_cookie(form);
  ASSERT_FALSE(before.empty());
  const net::HttpResponse signed_in = post(
      "/admin/login", before,
      "username=admin&password=" + percent_encode(kAdminPassword) + "&csrf_token=" + csrf_from(form.body));
  ASSERT_EQ(signed_in.status, 303) << signed_in.body;
  const std::string after = session_cookie(signed_in);
  EXPECT_FALSE(after.empty());
  EXPECT_NE(after, before);
  EXPECT_EQ(get("/admin/settings/integrations", after).status, 200);
  EXPECT_EQ(get("/admin/settings/integrations", before).status, 303);  // the pre-login id gives nothing
}

TEST_F(WebServerTest, PostsWithoutTheRightCsrfTokenOrFromAnotherSiteAreRefused) {
  const net::HttpResponse form = get("/admin/login");
  const std::string cookie = session_cookie(form);
  const std::string token = csrf_from(form.body);
  const std::string credentials = "username=admin&password=" + percent_encode(kAdminPassword);
  EXPECT_EQ(post("/admin/login", cookie, credentials).status, 403);
  EXPECT_EQ(post("/admin/login", cookie, credentials + "&csrf_token=wrong").status, 403);
  EXPECT_EQ(post("/admin/login", "", credentials + "&csrf_token=" + token).status,
            403);  // token of another browser
  EXPECT_EQ(
      post("/admin/login", cookie, credentials + "&csrf_token=" + token, {{"Origin", "https://evil.example"}})
          .status,
      403);
  EXPECT_EQ(post("/admin/login", cookie, credentials + "&csrf_token=" + token, {{"Origin", "null"}}).status,
            403);
  EXPECT_EQ(post("/admin/login", cookie, credentials + "&csrf_token=" + token,
                 {{"Referer", "https://evil.example/page"}})
                .status,
            403);
  EXPECT_EQ(send("POST", "/admin/login", cookie, credentials + "&csrf_token=" + token,
                 {{"Content-Type", "text/plain"}})
                .status,
            403);
  // Without Origin and Referer (some clients send neither) the token alone decides.
  EXPECT_EQ(post("/admin/login", cookie, credentials + "&csrf_token=" + token, {}).status, 303);
}

TEST_F(WebServerTest, WrongAdminPasswordIsRefusedAndThenRateLimited) {
  const net::HttpResponse form = get("/admin/login");
  const std::string cookie = session_cookie(form);
  const std::string token = csrf_from(form.body);
  int last_status = 0;
  for (int attempt = 0; attempt < 8; ++attempt) {
    const net::HttpResponse response =
        post("/admin/login", cookie, "username=admin&password=guess&csrf_token=" + token);
    last_status = response.status;
    if (attempt == 0) {
      EXPECT_EQ(response.status, 401);
      EXPECT_NE(response.body.find("incorrect"), std::string::npos);
    }
  }
  EXPECT_EQ(last_status, 429);
  // Even the right password waits out the lockout.
  const net::HttpResponse locked =
      post("/admin/login", cookie,
           "username=admin&password=" + percent_encode(kAdminPassword) + "&csrf_token=" + token);
  EXPECT_EQ(locked.status, 429);
  EXPECT_TRUE(header(locked, "Retry-After"));
}

TEST_F(WebServerTest, IntegrationsPageShowsSourcesAndUpdatesTheSecretWithoutShowingIt) {
  const std::string cookie = admin_cookie();
  const net::HttpResponse page = get("/admin/settings/integrations", cookie);
  ASSERT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("Microsoft Client ID"), std::string::npos);
  EXPECT_NE(page.body.find("Microsoft Client Secret"), std::string::npos);
  EXPECT_NE(page.body.find("https://localhost:8443/email-oauth/microsoft/callback"), std::string::npos);
  EXPECT_NE(page.body.find("from YAML"), std::string::npos);
  EXPECT_EQ(page.body.find("Qx48Q~tEsTsEcReT"), std::string::npos);

  const std::string token = csrf_from(page.body);
  // The Secret ID (a GUID) is refused with the seed's advice.
  const net::HttpResponse guid =
      post("/admin/settings/integrations", cookie,
           "client_id=" + std::string(kClientId) +
               "&client_secret=0b9e5a51-7d38-4a65-9f0e-0a3d2b8c1e77&csrf_token=" + token);
  EXPECT_EQ(guid.status, 400);
  EXPECT_NE(guid.body.find("Secret ID"), std::string::npos);

  const net::HttpResponse saved =
      post("/admin/settings/integrations", cookie,
           "client_id=" + std::string(kClientId) + "&client_secret=New~Secret.Value-abc&csrf_token=" + token);
  ASSERT_EQ(saved.status, 303) << saved.body;
  const net::HttpResponse after = get("/admin/settings/integrations?saved=1", cookie);
  EXPECT_NE(after.body.find("Saved."), std::string::npos);
  EXPECT_NE(after.body.find("from admin page"), std::string::npos);
  EXPECT_EQ(after.body.find("New~Secret.Value-abc"), std::string::npos);
  EXPECT_EQ(integration->current().client_secret.reveal(), "New~Secret.Value-abc");
}

TEST_F(WebServerTest, AdminLogoutNeedsAPostAndEndsTheAdminSession) {
  const std::string cookie = admin_cookie();
  const net::HttpResponse page = get("/admin/logout", cookie);
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(get("/admin/settings/integrations", cookie).status, 200);  // a GET changes nothing
  const net::HttpResponse out = post("/admin/logout", cookie, "csrf_token=" + csrf_from(page.body));
  EXPECT_EQ(out.status, 200);
  EXPECT_EQ(get("/admin/settings/integrations", cookie).status, 303);
  EXPECT_EQ(get("/admin/settings/integrations", session_cookie(out)).status, 303);
}

TEST_F(WebServerTest, HealthAndMetrics) {
  const net::HttpResponse health = get("/healthz");
  EXPECT_EQ(health.status, 200);
  EXPECT_NE(health.body.find("\"status\":\"ok\""), std::string::npos) << health.body;
  EXPECT_NE(health.body.find("9.9.9"), std::string::npos);
  const net::HttpResponse metrics = get("/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find("mailtrixy_accounts{status=\"active\"} 0"), std::string::npos) << metrics.body;
  EXPECT_NE(metrics.body.find("mailtrixy_http_requests_total{route=\"/healthz\",code=\"200\"} 1"),
            std::string::npos)
      << metrics.body;
  EXPECT_NE(metrics.body.find("mailtrixy_integration_state{state=\"ok\"} 1"), std::string::npos);
}

TEST_F(WebServerTest, BrokenIntegrationDegradesHealthAndShowsOnTheAccountsPage) {
  integration->mark_broken("AADSTS7000222",
                           "AADSTS7000222: The provided client secret keys for app are expired.");
  const net::HttpResponse health = get("/healthz");
  EXPECT_NE(health.body.find("\"status\":\"degraded\""), std::string::npos) << health.body;
  EXPECT_NE(get("/settings/email-accounts").body.find("currently not working"), std::string::npos);
}

TEST_F(WebServerTest, WrongMethodsAreAnswered405WithAllow) {
  const net::HttpResponse response = send("DELETE", "/settings/email-accounts", "", "", {});
  EXPECT_EQ(response.status, 405);
  EXPECT_EQ(header(response, "Allow"), "GET, HEAD");
  EXPECT_EQ(get("/settings/sign-out").status, 405);
}

}  // namespace
}  // namespace mailtrixy::web
