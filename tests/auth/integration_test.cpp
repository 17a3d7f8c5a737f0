#include "mailtrixy/auth/integration.hpp"

#include <gtest/gtest.h>

#include "auth_test_support.hpp"

namespace mailtrixy::auth {
namespace {

using testing::files_containing;
using testing::kClientId;
using testing::kClientSecret;
using testing::open_store;
using testing::settings_for;
using testing::TempDir;

constexpr const char* kOtherId = "99998888-7777-6666-5555-444433332222";

class IntegrationTest : public ::testing::Test {
 protected:
  IntegrationTest() : key_(crypto::Key::generate()), store_(open_store(dir_ / "data", key_)) {}

  std::unique_ptr<Integration> load(const config::Settings& settings,
                                    config::Environment environment = testing::no_environment()) {
    auto loaded = Integration::load(settings, *store_, environment);
    EXPECT_TRUE(loaded.ok()) << (loaded.ok() ? "" : loaded.error().message);
    return loaded.ok() ? std::move(*loaded) : nullptr;
  }

  TempDir dir_;
  crypto::Key key_;
  std::unique_ptr<store::Store> store_;
};

TEST_F(IntegrationTest, TakesTheConfiguredAppAndItsEndpoints) {
  config::Settings settings = settings_for("https://login.example/", "/etc/ca.pem");
  settings.microsoft.graph_url = "https://graph.example";
  settings.microsoft.tenant = "organizations";
  auto integration = load(settings);
  const IntegrationSettings current = integration->current();
  EXPECT_EQ(current.client_id, kClientId);
  EXPECT_EQ(current.client_secret.reveal(), kClientSecret);
  EXPECT_EQ(current.client_id_source, config::Source::yaml);
  EXPECT_EQ(current.client_secret_source, config::Source::yaml);
  EXPECT_EQ(current.redirect_uri, "https://bridge.example:8443/email-oauth/microsoft/callback");
  EXPECT_EQ(current.authorize_endpoint(), "https://login.example/organizations/oauth2/v2.0/authorize");
  EXPECT_EQ(current.token_endpoint(), "https://login.example/organizations/oauth2/v2.0/token");
  EXPECT_EQ(current.graph_url, "https://graph.example");
  EXPECT_EQ(current.ca_file, "/etc/ca.pem");
  EXPECT_EQ(integration->status().state, IntegrationState::ok);
  EXPECT_EQ(describe(current.client_id_source), "YAML");
}

TEST_F(IntegrationTest, NotConfiguredUntilBothValuesExist) {
  config::Settings settings = settings_for("https://login.example", "");
  settings.microsoft.client_secret = Secret<std::string>();
  settings.microsoft.client_secret_source = config::Source::defaults;
  auto integration = load(settings);
  const IntegrationStatus status = integration->status();
  EXPECT_EQ(status.state, IntegrationState::not_configured);
  EXPECT_NE(status.reason.find("client secret is not set"), std::string::npos);
  EXPECT_NE(status.fix.find("Admin → Settings → Integrations"), std::string::npos);
  EXPECT_FALSE(integration->current().configured());
}

TEST_F(IntegrationTest, AdminPageValuesWinOverYamlAtOnceAndSurviveARestart) {
  const config::Settings settings = settings_for("https://login.example", "");
  auto integration = load(settings);
  int changes = 0;
  integration->subscribe_changed([&] { ++changes; });
  const auto before = integration->generation();
  auto updated = integration->set_from_admin_page(std::string(" ") + kOtherId + " ",
                                                  Secret<std::string>("New~Secret.Value_123"));
  ASSERT_TRUE(updated.ok()) << updated.error().message;
  EXPECT_TRUE(updated->in_effect);
  EXPECT_EQ(changes, 1);
  EXPECT_GT(integration->generation(), before);
  IntegrationSettings current = integration->current();
  EXPECT_EQ(current.client_id, kOtherId);
  EXPECT_EQ(current.client_secret.reveal(), "New~Secret.Value_123");
  EXPECT_EQ(current.client_id_source, config::Source::admin_page);
  EXPECT_EQ(current.client_secret_source, config::Source::admin_page);

  // An empty secret keeps the stored one; the Client ID can change alone.
  ASSERT_TRUE(integration->set_from_admin_page(kClientId, Secret<std::string>()).ok());
  EXPECT_EQ(integration->current().client_secret.reveal(), "New~Secret.Value_123");
  EXPECT_EQ(integration->current().client_id, kClientId);

  // A restart reads them back; the secret is sealed in the store, never in plain text.
  integration.reset();
  auto reloaded = load(settings);
  EXPECT_EQ(reloaded->current().client_secret.reveal(), "New~Secret.Value_123");
  EXPECT_EQ(reloaded->current().client_secret_source, config::Source::admin_page);
  auto raw = store_->get(store::Family::settings, kClientSecretSettingKey);
  ASSERT_TRUE(raw.ok());
  ASSERT_TRUE(raw->has_value());
  EXPECT_EQ((*raw)->find("New~Secret"), std::string::npos);
  ASSERT_TRUE(store_->flush().ok());
  EXPECT_TRUE(files_containing(dir_.path(), "New~Secret.Value_123").empty());
}

TEST_F(IntegrationTest, TheEnvironmentWinsOverTheAdminPage) {
  config::Settings settings = settings_for("https://login.example", "");
  settings.microsoft.client_secret_source = config::Source::environment;
  auto integration = load(settings, [](const std::string& name) -> std::optional<std::string> {
    if (name == "MAILTRIXY_MICROSOFT_CLIENT_ID") return std::string(kClientId);
    return std::nullopt;
  });
  EXPECT_EQ(integration->current().client_id_source, config::Source::environment);
  auto updated = integration->set_from_admin_page(kOtherId, Secret<std::string>("Page~Secret.Value_1"));
  ASSERT_TRUE(updated.ok());
  EXPECT_FALSE(updated->in_effect);
  EXPECT_EQ(updated->shadowed_by, "MAILTRIXY_MICROSOFT_CLIENT_ID");
  EXPECT_EQ(integration->current().client_id, kClientId);
  EXPECT_EQ(integration->current().client_secret.reveal(), kClientSecret);
}

TEST_F(IntegrationTest, AdminPageRefusesWhatCannotWork) {
  auto integration = load(settings_for("https://login.example", ""));
  const std::vector<std::pair<std::pair<std::string, std::string>, std::string>> cases = {
      {{"", "x"}, "Enter the Microsoft Client ID"},
      {{"my-app", "x"}, "must be the Application (client) ID"},
      {{kOtherId, "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"}, "This looks like the Secret ID; paste the secret Value"},
      {{kOtherId, kOtherId}, "This looks like the Secret ID"},
      {{kOtherId, "two words"}, "spaces or control characters"},
  };
  for (const auto& [input, expected] : cases) {
    auto updated = integration->set_from_admin_page(input.first, Secret<std::string>(input.second));
    ASSERT_FALSE(updated.ok()) << input.first << " / " << input.second;
    EXPECT_NE(updated.error().message.find(expected), std::string::npos) << updated.error().message;
  }
  EXPECT_EQ(integration->current().client_id, kClientId);
  EXPECT_FALSE(store_->get(store::Family::settings, kClientIdSettingKey)->has_value());
}

TEST_F(IntegrationTest, BrokenUntilTheSecretChanges) {
  auto integration = load(settings_for("https://login.example", ""));
  int changes = 0;
  integration->subscribe_changed([&] { ++changes; });
  integration->mark_broken("AADSTS7000222", "AADSTS7000222: The provided client secret keys for app are expired.");
  IntegrationStatus status = integration->status();
  EXPECT_EQ(status.state, IntegrationState::broken);
  EXPECT_EQ(status.error_code, "AADSTS7000222");
  EXPECT_NE(status.reason.find("expired"), std::string::npos);
  EXPECT_NE(status.fix.find("New client secret"), std::string::npos);
  integration->mark_broken("AADSTS7000222", "again");  // the same diagnosis: no new event
  EXPECT_EQ(changes, 1);
  integration->mark_broken("AADSTS7000215", "AADSTS7000215: Invalid client secret provided.");
  EXPECT_NE(integration->status().reason.find("Secret ID was pasted instead of the Value"), std::string::npos);
  EXPECT_EQ(changes, 2);
  ASSERT_TRUE(integration->set_from_admin_page(kClientId, Secret<std::string>("Fresh~Value.1")).ok());
  EXPECT_EQ(integration->status().state, IntegrationState::ok);
  EXPECT_EQ(changes, 3);
}

TEST(Guid, Shapes) {
  EXPECT_TRUE(looks_like_guid("00001111-aaaa-2222-BBBB-3333cccc4444"));
  EXPECT_FALSE(looks_like_guid("00001111-aaaa-2222-bbbb-3333cccc444"));
  EXPECT_FALSE(looks_like_guid("00001111aaaa-2222-bbbb-3333cccc44445"));
  EXPECT_FALSE(looks_like_guid("g0001111-aaaa-2222-bbbb-3333cccc4444"));
  EXPECT_FALSE(looks_like_guid(""));
}

}  // namespace
}  // namespace mailtrixy::auth
