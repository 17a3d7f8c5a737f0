// The page renderers with hand-made models: the exact texts the spec names, and hostile strings
// from Microsoft or users coming out escaped.

#include "pages.hpp"

#include <gtest/gtest.h>

#include "layout.hpp"

namespace mailtrixy::web {
namespace {

constexpr const char* kHostile = "<script>alert('x')</script>\"><img src=x onerror=alert(1)>";

void expect_no_raw_markup_from(const std::string& page) {
  EXPECT_EQ(page.find("<script"), std::string::npos) << page;
  EXPECT_EQ(page.find("<img"), std::string::npos) << page;
  EXPECT_NE(page.find("&lt;script&gt;"), std::string::npos) << page;
}

TEST(AccountsPage, ShowsTheOutlookTileMarkedPreferredAndTheAccountsWithTheirStatus) {
  AccountsPageModel model;
  model.csrf_token = "tok";
  model.signed_in = true;
  model.accounts.push_back({"alice@outlook.com", "Alice", false, "", "2026-01-09 14:02 UTC"});
  model.accounts.push_back(
      {"bob@contoso.onmicrosoft.com", "Bob", true, "Microsoft revoked the sign-in.", "2026-01-08 09:00 UTC"});
  const std::string page = accounts_page(model).str();
  EXPECT_NE(page.find("Sign in with Outlook"), std::string::npos);
  EXPECT_NE(page.find("PREFERRED"), std::string::npos);
  EXPECT_NE(page.find(R"(href="/email-oauth/microsoft/start")"), std::string::npos);
  EXPECT_NE(page.find("Add Account"), std::string::npos);
  EXPECT_NE(page.find("alice@outlook.com"), std::string::npos);
  EXPECT_NE(page.find(">Active<"), std::string::npos);
  EXPECT_NE(page.find(">Needs sign-in<"), std::string::npos);
  EXPECT_NE(page.find("Sign in again"), std::string::npos);
  EXPECT_NE(page.find("login_hint=bob%40contoso.onmicrosoft.com"), std::string::npos);
  EXPECT_NE(page.find(R"(name="csrf_token" value="tok")"), std::string::npos);
  EXPECT_NE(page.find("#f25022"), std::string::npos);  // the four-square logo
}

TEST(AccountsPage, DisablesTheTileUntilTheIntegrationIsConfigured) {
  AccountsPageModel model;
  model.integration = IntegrationNotice::not_configured;
  const std::string page = accounts_page(model).str();
  EXPECT_EQ(page.find(R"(href="/email-oauth/microsoft/start")"), std::string::npos);
  EXPECT_NE(page.find("aria-disabled=\"true\""), std::string::npos);
  EXPECT_NE(page.find("Microsoft Client ID"), std::string::npos);
  EXPECT_NE(page.find("No accounts connected"), std::string::npos);
}

TEST(AccountsPage, EscapesAccountData) {
  AccountsPageModel model;
  model.accounts.push_back({kHostile, kHostile, true, kHostile, "now"});
  model.integration = IntegrationNotice::broken;
  model.integration_reason = kHostile;
  expect_no_raw_markup_from(accounts_page(model).str());
}

TEST(SuccessPage, ShowsTheSettingsAndThePasswordInTheNamedElements) {
  SuccessPageModel model;
  model.address = "alice@outlook.com";
  model.username = "alice@outlook.com";
  model.password = "Pw-123";
  model.imap = {"127.0.0.1", 1993, 1143};
  model.smtp = {"127.0.0.1", 0, 1587};
  const std::string page = success_page(model).str();
  EXPECT_NE(page.find("Outlook connected successfully!"), std::string::npos);
  EXPECT_NE(page.find(R"(<code id="bridge-username">alice@outlook.com</code>)"), std::string::npos);
  EXPECT_NE(page.find(R"(<code id="bridge-password" class="secret">Pw-123</code>)"), std::string::npos);
  EXPECT_NE(page.find("<code>1993</code> with SSL/TLS"), std::string::npos);
  EXPECT_NE(page.find("<code>1143</code> with STARTTLS"), std::string::npos);
  EXPECT_NE(page.find("Port <code>1587</code> with STARTTLS"), std::string::npos);
  EXPECT_NE(page.find("initial sync"), std::string::npos);
}

TEST(SuccessPage, SaysWhenAProtocolIsDisabled) {
  SuccessPageModel model;
  model.imap = {"h", 0, 0};
  model.smtp = {"h", 465, 0};
  const std::string page = success_page(model).str();
  EXPECT_NE(page.find("Not enabled on this bridge"), std::string::npos);
}

TEST(SuccessPage, EscapesEverything) {
  SuccessPageModel model;
  model.address = model.display_name = model.username = model.password = kHostile;
  model.imap = {kHostile, 1, 2};
  expect_no_raw_markup_from(success_page(model).str());
}

TEST(ErrorPage, ShowsTitleExplanationFixAndMicrosoftsDetails) {
  ErrorPageModel model;
  model.title = "Microsoft rejected the client secret";
  model.explanation = "the Client Secret doesn't match Azure";
  model.fix = "paste the Value";
  model.admin_action = true;
  model.error = "invalid_client";
  model.codes = "AADSTS7000215";
  model.description = "AADSTS7000215: Invalid client secret provided.";
  const std::string page = error_page(model).str();
  for (const char* expected :
       {"Microsoft rejected the client secret", "the Client Secret doesn&#39;t match Azure",
        "paste the Value", "invalid_client", "AADSTS7000215", "/admin/settings/integrations", "Try again"}) {
    EXPECT_NE(page.find(expected), std::string::npos) << expected;
  }
}

TEST(ErrorPage, EscapesMicrosoftsWords) {
  ErrorPageModel model;
  model.title = model.explanation = model.fix = model.error = model.codes = model.description = kHostile;
  expect_no_raw_markup_from(error_page(model).str());
}

TEST(AdminPages, LoginFormHasLabelledFieldsAndTheCsrfToken) {
  const std::string page = admin_login_page({"tok", "admin", "The username or password is incorrect."}).str();
  EXPECT_NE(page.find(R"(<label for="username">)"), std::string::npos);
  EXPECT_NE(page.find(R"(<label for="password">)"), std::string::npos);
  EXPECT_NE(page.find(R"(value="tok")"), std::string::npos);
  EXPECT_NE(page.find("incorrect"), std::string::npos);
}

TEST(AdminPages, IntegrationsShowsLabelsSourcesRedirectUriAndNeverTheSecret) {
  IntegrationsPageModel model;
  model.csrf_token = "tok";
  model.client_id = "6731de76-14a6-49ae-97bc-6eba6914391e";
  model.client_id_source = "YAML";
  model.secret_set = true;
  model.secret_source = "admin page";
  model.redirect_uri = "https://localhost:8443/email-oauth/microsoft/callback";
  model.status = "broken";
  model.status_reason = "Microsoft rejected the client secret (AADSTS7000215).";
  model.status_fix = "Paste the Value.";
  model.diagnoses.push_back({"warning", "microsoft.client_secret_expires", "expires in 10 days", "renew it"});
  const std::string page = integrations_page(model).str();
  for (const char* expected : {"Microsoft Client ID", "Microsoft Client Secret", R"(<label for="client_id">)",
                               R"(<label for="client_secret">)", "from YAML", "from admin page",
                               "https://localhost:8443/email-oauth/microsoft/callback", "AADSTS7000215",
                               "microsoft.client_secret_expires", "renew it"}) {
    EXPECT_NE(page.find(expected), std::string::npos) << expected;
  }
  // The secret field is never pre-filled.
  const auto secret_input = page.find(R"(id="client_secret")");
  ASSERT_NE(secret_input, std::string::npos);
  const std::string input = page.substr(secret_input, page.find('>', secret_input) - secret_input);
  EXPECT_EQ(input.find("value="), std::string::npos) << input;
}

TEST(AdminPages, IntegrationsEscapesEverything) {
  IntegrationsPageModel model;
  model.client_id = model.form_client_id = model.redirect_uri = model.status_reason = model.form_error =
      kHostile;
  model.diagnoses.push_back({"error", kHostile, kHostile, kHostile});
  expect_no_raw_markup_from(integrations_page(model).str());
}

TEST(Layout, FrameLinksTheStylesheetAndHasNoInlineScriptOrStyle) {
  PageFrame frame;
  frame.title = kHostile;
  frame.section = Section::accounts;
  frame.body = Html::trusted("<p>x</p>");
  const std::string page = render_page(frame);
  EXPECT_NE(page.find(R"(<link rel="stylesheet" href="/static/app.css">)"), std::string::npos);
  EXPECT_EQ(page.find("<script"), std::string::npos);
  EXPECT_EQ(page.find("style="), std::string::npos);
  EXPECT_EQ(page.find("<style"), std::string::npos);
  EXPECT_NE(page.find(R"(aria-current="page">Email Accounts)"), std::string::npos);
  EXPECT_NE(page.find("&lt;script&gt;"), std::string::npos);
}

TEST(Layout, EveryPageRendersWithoutInlineStyles) {
  for (const std::string& page :
       {accounts_page({}).str(), success_page({}).str(), error_page({}).str(), admin_login_page({}).str(),
        admin_disabled_page().str(), integrations_page({}).str(), admin_signed_out_page("t", true).str(),
        message_page("h", "m", "/", "l").str()}) {
    EXPECT_EQ(page.find("style="), std::string::npos) << page;
    EXPECT_EQ(page.find("<script"), std::string::npos) << page;
  }
}

}  // namespace
}  // namespace mailtrixy::web
