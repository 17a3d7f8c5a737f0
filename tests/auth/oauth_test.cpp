#include "mailtrixy/auth/oauth.hpp"

#include <gtest/gtest.h>

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include <map>

#include "auth_test_support.hpp"

namespace mailtrixy::auth {
namespace {

using namespace std::chrono_literals;
using Kind = SignInError::Kind;
using testing::FakeClock;
using testing::FakeMicrosoft;
using testing::kClientId;
using testing::kClientSecret;
using testing::make_id_token;
using testing::open_store;
using testing::TempDir;

constexpr const char* kOid = "00000000-0000-0000-1d0f-ddbd1dab94fe";
constexpr const char* kTid = "9188040d-6c67-4c5b-b112-36a304b66dad";

std::map<std::string, std::string> query_of(const std::string& url) {
  auto parsed = boost::urls::parse_absolute_uri(url);
  EXPECT_TRUE(parsed.has_value()) << url;
  std::map<std::string, std::string> out;
  if (!parsed) return out;
  for (const auto& param : parsed->params()) out[std::string(param.key)] = std::string(param.value);
  return out;
}

TEST(Pkce, MatchesTheRfc7636AppendixBVector) {
  EXPECT_EQ(pkce_challenge_s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
}

TEST(Pkce, VerifiersAreLongRandomAndUnreserved) {
  const Pkce a = make_pkce();
  const Pkce b = make_pkce();
  EXPECT_NE(a.verifier, b.verifier);
  for (const Pkce& pkce : {a, b}) {
    EXPECT_GE(pkce.verifier.size(), 43U);
    EXPECT_LE(pkce.verifier.size(), 128U);
    for (const char c : pkce.verifier) {
      EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_' || c == '.' || c == '~');
    }
    EXPECT_EQ(pkce.challenge, pkce_challenge_s256(pkce.verifier));
    EXPECT_EQ(pkce.challenge.size(), 43U);
  }
}

TEST(CallbackQuery, ParsesMicrosoftsEncodings) {
  const CallbackQuery ok = parse_callback_query("code=M.C5_a%2Bb&state=s1&session_state=x");
  EXPECT_EQ(ok.code, "M.C5_a+b");
  EXPECT_EQ(ok.state, "s1");
  EXPECT_TRUE(ok.error.empty());
  const CallbackQuery denied = parse_callback_query(
      "?error=access_denied&error_description=AADSTS65004%3a+User+declined+to+consent.%0d%0aTrace+ID%3a+x&state=s2");
  EXPECT_EQ(denied.error, "access_denied");
  EXPECT_EQ(denied.error_description, "AADSTS65004: User declined to consent.\r\nTrace ID: x");
  EXPECT_EQ(denied.state, "s2");
  EXPECT_EQ(parse_callback_query("state=first&state=second").state, "first");
  EXPECT_TRUE(parse_callback_query("").state.empty());
  EXPECT_TRUE(parse_callback_query("&&=&%zz").code.empty());
}

class SignInTest : public ::testing::Test {
 protected:
  SignInTest()
      : microsoft_(dir_.path()),
        key_(crypto::Key::generate()),
        store_(open_store(dir_ / "data", key_)),
        accounts_(*store_, clock_.clock()) {
    settings_ = testing::settings_for(microsoft_.base_url(), microsoft_.ca_file());
    auto loaded = Integration::load(settings_, *store_, testing::no_environment());
    if (!loaded) throw std::runtime_error(loaded.error().message);
    integration_ = std::move(*loaded);
    flow_ = std::make_unique<SignInFlow>(*integration_, accounts_, microsoft_.client(), clock_.clock());
    microsoft_.on_token([this](const std::map<std::string, std::string>& form) { return issue(form); });
    microsoft_.on_me([this](const net::HttpRequest& request) {
      if (request.header("authorization").value_or("") != "Bearer EwB-access-1") {
        return FakeMicrosoft::json(401, R"({"error":{"code":"InvalidAuthenticationToken","message":"bad"}})");
      }
      return FakeMicrosoft::json(200, me_body_);
    });
  }

  // A well-behaved token endpoint: checks what a real one checks (client, secret, PKCE).
  net::HttpResponse issue(const std::map<std::string, std::string>& form) {
    if (form.at("client_secret") != kClientSecret) {
      return FakeMicrosoft::aad_error(401, "invalid_client", 7000215, "Invalid client secret provided.");
    }
    if (pkce_challenge_s256(form.at("code_verifier")) != expected_challenge_) {
      return FakeMicrosoft::aad_error(400, "invalid_grant", 50148, "The code_verifier does not match.");
    }
    return FakeMicrosoft::json(200, R"({"token_type":"Bearer","scope":")" + granted_scope_ +
                                        R"(","expires_in":3599,"ext_expires_in":3599,"access_token":"EwB-access-1",)" +
                                        refresh_field_ + R"("id_token":")" + id_token_ + R"("})");
  }

  SignInStart begin(const std::string& browser = "browser-A") {
    auto start = flow_->begin_sign_in(browser);
    EXPECT_TRUE(start.ok()) << (start.ok() ? "" : start.error().message);
    expected_challenge_ = query_of(start->authorize_url)["code_challenge"];
    return *start;
  }

  SignInOutcome finish(const SignInStart& start, const std::string& browser = "browser-A") {
    CallbackQuery callback;
    callback.state = start.state;
    callback.code = "M.C5-code";
    return flow_->finish_sign_in(callback, browser);
  }

  TempDir dir_;
  FakeMicrosoft microsoft_;
  crypto::Key key_;
  std::unique_ptr<store::Store> store_;
  FakeClock clock_;
  AccountStore accounts_;
  config::Settings settings_;
  std::unique_ptr<Integration> integration_;
  std::unique_ptr<SignInFlow> flow_;
  std::string expected_challenge_;
  std::string granted_scope_ = "Mail.ReadWrite Mail.Send User.Read profile openid email offline_access";
  std::string refresh_field_ = R"("refresh_token":"M.C5-refresh-1",)";
  std::string id_token_ = make_id_token(std::string(R"({"oid":")") + kOid + R"(","tid":")" + kTid +
                                        R"(","preferred_username":"alice@outlook.com"})");
  std::string me_body_ = R"({"id":"1d0fddbd1dab94fe","displayName":"Alice Smith","mail":null,)"
                         R"("userPrincipalName":"alice@outlook.com"})";
};

TEST_F(SignInTest, TheAuthorizeUrlCarriesEverythingMicrosoftNeeds) {
  const SignInStart start = begin();
  EXPECT_TRUE(start.authorize_url.starts_with(microsoft_.base_url() + "/common/oauth2/v2.0/authorize?"));
  auto query = query_of(start.authorize_url);
  EXPECT_EQ(query["client_id"], kClientId);
  EXPECT_EQ(query["response_type"], "code");
  EXPECT_EQ(query["redirect_uri"], "https://bridge.example:8443/email-oauth/microsoft/callback");
  EXPECT_EQ(query["response_mode"], "query");
  EXPECT_EQ(query["scope"],
            "offline_access openid profile email https://graph.microsoft.com/Mail.ReadWrite "
            "https://graph.microsoft.com/Mail.Send https://graph.microsoft.com/User.Read");
  EXPECT_EQ(query["state"], start.state);
  EXPECT_GE(start.state.size(), 43U);
  EXPECT_EQ(query["code_challenge"].size(), 43U);
  EXPECT_EQ(query["code_challenge_method"], "S256");
  EXPECT_EQ(query["prompt"], "select_account");
  EXPECT_NE(begin().state, start.state);
}

TEST_F(SignInTest, ACompleteSignInLinksTheAccount) {
  std::vector<std::string> connected;
  accounts_.subscribe_account_connected([&](const Account& account, bool) { connected.push_back(account.key); });
  const SignInStart start = begin();
  const SignInOutcome outcome = finish(start);
  ASSERT_TRUE(outcome.ok()) << (outcome.error ? outcome.error->title + ": " + outcome.error->explanation : "");
  EXPECT_EQ(outcome.success->account.key, std::string(kOid) + "." + kTid);
  EXPECT_EQ(outcome.success->account.address, "alice@outlook.com");
  EXPECT_EQ(outcome.success->account.display_name, "Alice Smith");
  EXPECT_FALSE(outcome.success->relinked);
  EXPECT_EQ(outcome.success->bridge_password.reveal().size(), 24U);
  EXPECT_EQ(connected, std::vector<std::string>{outcome.success->account.key});

  // What the token endpoint received.
  const auto forms = microsoft_.token_forms();
  ASSERT_EQ(forms.size(), 1U);
  const auto& form = forms[0];
  EXPECT_EQ(form.at("grant_type"), "authorization_code");
  EXPECT_EQ(form.at("code"), "M.C5-code");
  EXPECT_EQ(form.at("client_id"), kClientId);
  EXPECT_EQ(form.at("redirect_uri"), "https://bridge.example:8443/email-oauth/microsoft/callback");
  EXPECT_EQ(form.at("code_verifier").size(), 43U);
  EXPECT_EQ(microsoft_.last_token_path(), "/common/oauth2/v2.0/token");

  auto stored = accounts_.load_tokens(outcome.success->account.key);
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ((*stored)->refresh_token.reveal(), "M.C5-refresh-1");
  EXPECT_EQ(accounts_.verify_password("alice@outlook.com", outcome.success->bridge_password.reveal(), "c").outcome,
            LoginAttempt::Outcome::ok);

  // Signing in again keeps the account.
  const SignInOutcome again = finish(begin());
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again.success->relinked);
  EXPECT_EQ(again.success->account.key, outcome.success->account.key);
}

TEST_F(SignInTest, WorkAccountsUseMailAndTheMeIdIsOnlyAFallback) {
  me_body_ = R"({"id":"5c1b6c2b-1111-2222-3333-444455556666","displayName":"Bob","mail":"Bob@Contoso.com",)"
             R"("userPrincipalName":"bob@contoso.onmicrosoft.com"})";
  id_token_ = make_id_token(R"({"tid":"aaaabbbb-0000-1111-2222-333344445555"})");
  const SignInOutcome outcome = finish(begin());
  ASSERT_TRUE(outcome.ok()) << outcome.error->explanation;
  EXPECT_EQ(outcome.success->account.address, "Bob@Contoso.com");
  EXPECT_EQ(outcome.success->account.key,
            "5c1b6c2b-1111-2222-3333-444455556666.aaaabbbb-0000-1111-2222-333344445555");
}

TEST_F(SignInTest, AStateIsSingleUse) {
  const SignInStart start = begin();
  ASSERT_TRUE(finish(start).ok());
  const SignInOutcome replay = finish(start);
  ASSERT_FALSE(replay.ok());
  EXPECT_EQ(replay.error->kind, Kind::state_unknown_or_expired);
  EXPECT_EQ(microsoft_.token_requests(), 1);
}

TEST_F(SignInTest, AFailedAttemptStillConsumesTheState) {
  const SignInStart start = begin();
  CallbackQuery denied;
  denied.state = start.state;
  denied.error = "access_denied";
  denied.error_description = "AADSTS65004: User declined to consent to access the app.\r\nTrace ID: x";
  const SignInOutcome first = flow_->finish_sign_in(denied, "browser-A");
  ASSERT_FALSE(first.ok());
  EXPECT_EQ(first.error->kind, Kind::consent_declined);
  EXPECT_EQ(first.error->error, "access_denied");
  EXPECT_EQ(first.error->description, "AADSTS65004: User declined to consent to access the app.");
  EXPECT_EQ(first.error->error_codes, std::vector<std::int64_t>{65004});
  EXPECT_EQ(finish(start).error->kind, Kind::state_unknown_or_expired);
  EXPECT_EQ(microsoft_.token_requests(), 0);
}

TEST_F(SignInTest, AStateExpiresAfterTenMinutes) {
  const SignInStart start = begin();
  clock_.advance(10min + 1s);
  const SignInOutcome late = finish(start);
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.error->kind, Kind::state_unknown_or_expired);
  const SignInStart fresh = begin();
  clock_.advance(9min);
  EXPECT_TRUE(finish(fresh).ok());
}

TEST_F(SignInTest, AStateFromAnotherBrowserIsRefused) {
  const SignInStart start = begin("browser-A");
  const SignInOutcome foreign = finish(start, "browser-B");
  ASSERT_FALSE(foreign.ok());
  EXPECT_EQ(foreign.error->kind, Kind::state_from_other_browser);
  EXPECT_EQ(microsoft_.token_requests(), 0);
  EXPECT_EQ(finish(start, "browser-A").error->kind, Kind::state_unknown_or_expired);
}

TEST_F(SignInTest, UnknownAndMissingStatesAreRefused) {
  CallbackQuery forged;
  forged.state = "made-up";
  forged.code = "c";
  EXPECT_EQ(flow_->finish_sign_in(forged, "browser-A").error->kind, Kind::state_unknown_or_expired);
  forged.state.clear();
  EXPECT_EQ(flow_->finish_sign_in(forged, "browser-A").error->kind, Kind::state_unknown_or_expired);
  EXPECT_EQ(microsoft_.token_requests(), 0);
}

TEST_F(SignInTest, MissingOfflineAccessIsItsOwnError) {
  granted_scope_ = "Mail.ReadWrite Mail.Send User.Read profile openid email";
  refresh_field_ = "";
  const SignInOutcome outcome = finish(begin());
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.error->kind, Kind::missing_offline_access);
  auto all = accounts_.list();
  EXPECT_TRUE(all->empty());
}

TEST_F(SignInTest, AWrongSecretMarksTheIntegrationBroken) {
  ASSERT_TRUE(integration_->set_from_admin_page(kClientId, Secret<std::string>("Wrong~Secret.Value")).ok());
  const SignInOutcome outcome = finish(begin());
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.error->kind, Kind::invalid_client_secret);
  EXPECT_EQ(outcome.error->error, "invalid_client");
  EXPECT_EQ(outcome.error->error_codes, std::vector<std::int64_t>{7000215});
  EXPECT_EQ(outcome.error->description, "AADSTS7000215: Invalid client secret provided.");
  EXPECT_EQ(integration_->status().state, IntegrationState::broken);
  EXPECT_EQ(integration_->status().error_code, "AADSTS7000215");
  // The secret itself went to Microsoft, never into the error.
  EXPECT_EQ(outcome.error->explanation.find("Wrong~Secret"), std::string::npos);
}

TEST_F(SignInTest, TokenEndpointErrorsAreClassified) {
  const std::vector<std::pair<net::HttpResponse, Kind>> cases = {
      {FakeMicrosoft::aad_error(401, "invalid_client", 7000222, "The provided client secret keys are expired."),
       Kind::expired_client_secret},
      {FakeMicrosoft::aad_error(400, "invalid_grant", 54005, "OAuth2 Authorization code was already redeemed."),
       Kind::code_already_redeemed},
      {FakeMicrosoft::aad_error(400, "invalid_grant", 50148, "The code_verifier does not match."), Kind::pkce_mismatch},
      {FakeMicrosoft::aad_error(400, "invalid_request", 50011, "The redirect URI does not match."),
       Kind::redirect_uri_mismatch},
      {FakeMicrosoft::aad_error(400, "invalid_grant", 70008, "The code has expired."), Kind::invalid_grant_other},
      {FakeMicrosoft::json(503, "<html>down</html>"), Kind::server_error},
      {FakeMicrosoft::json(200, "{not json"), Kind::malformed_response},
  };
  for (const auto& [response, kind] : cases) {
    microsoft_.on_token([response = response](const std::map<std::string, std::string>&) { return response; });
    const SignInOutcome outcome = finish(begin());
    ASSERT_FALSE(outcome.ok());
    EXPECT_EQ(outcome.error->kind, kind) << to_string(outcome.error->kind) << " for " << response.body;
  }
  const SignInError redirect = [&] {
    microsoft_.on_token([](const std::map<std::string, std::string>&) {
      return FakeMicrosoft::aad_error(400, "invalid_request", 50011, "The redirect URI does not match.");
    });
    return *finish(begin()).error;
  }();
  EXPECT_NE(redirect.fix.find("https://bridge.example:8443/email-oauth/microsoft/callback"), std::string::npos);
}

TEST_F(SignInTest, GraphAndNetworkFailuresAreReported) {
  me_body_ = "not json";
  EXPECT_EQ(finish(begin()).error->kind, Kind::malformed_response);
  microsoft_.on_me([](const net::HttpRequest&) {
    return FakeMicrosoft::json(403, R"({"error":{"code":"MailboxNotEnabledForRESTAPI","message":"No mailbox."}})");
  });
  const SignInOutcome forbidden = finish(begin());
  EXPECT_EQ(forbidden.error->kind, Kind::microsoft_error_other);
  EXPECT_EQ(forbidden.error->error, "MailboxNotEnabledForRESTAPI");

  config::Settings unreachable = settings_;
  unreachable.microsoft.login_url = "https://127.0.0.1:1";
  auto integration = Integration::load(unreachable, *store_, testing::no_environment());
  ASSERT_TRUE(integration.ok());
  SignInFlow flow(**integration, accounts_, microsoft_.client(), clock_.clock());
  auto start = flow.begin_sign_in("b");
  ASSERT_TRUE(start.ok());
  CallbackQuery callback{start->state, "code", "", ""};
  const SignInOutcome offline = flow.finish_sign_in(callback, "b");
  ASSERT_FALSE(offline.ok());
  EXPECT_EQ(offline.error->kind, Kind::network);
  EXPECT_NE(offline.error->explanation.find("refused"), std::string::npos) << offline.error->explanation;
}

TEST_F(SignInTest, NotConfiguredRefusesToStart) {
  config::Settings empty = settings_;
  empty.microsoft.client_id.clear();
  TempDir other;
  auto other_store = open_store(other / "data", crypto::Key::generate());
  auto integration = Integration::load(empty, *other_store, testing::no_environment());
  ASSERT_TRUE(integration.ok());
  AccountStore accounts(*other_store);
  SignInFlow flow(**integration, accounts, microsoft_.client());
  auto start = flow.begin_sign_in("b");
  ASSERT_FALSE(start.ok());
  EXPECT_NE(start.error().message.find("not configured"), std::string::npos);
  EXPECT_FALSE(flow_->begin_sign_in("").ok());
}

TEST_F(SignInTest, ExpiredPendingSignInsAreSwept) {
  begin();
  begin();
  clock_.advance(5min);
  const SignInStart recent = begin();
  clock_.advance(6min);
  auto swept = flow_->sweep_expired();
  ASSERT_TRUE(swept.ok());
  EXPECT_EQ(*swept, 2U);
  EXPECT_TRUE(finish(recent).ok());
}

TEST_F(SignInTest, TheVerifierIsNotStoredInPlaintext) {
  const SignInStart start = begin();
  ASSERT_TRUE(store_->flush().ok());
  int records = 0;
  ASSERT_TRUE(store_
                  ->for_each_prefix(store::Family::web_sessions, "oauth-state/",
                                    [&](std::string_view key, std::string_view value) {
                                      ++records;
                                      EXPECT_EQ(key.find(start.state), std::string_view::npos);
                                      EXPECT_EQ(value.find("verifier"), std::string_view::npos);
                                      return true;
                                    })
                  .ok());
  EXPECT_EQ(records, 1);
}

}  // namespace
}  // namespace mailtrixy::auth
