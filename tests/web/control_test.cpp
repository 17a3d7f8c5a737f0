#include "mailtrixy/web/control.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "mailtrixy/auth/accounts.hpp"
#include "test_support.hpp"

namespace mailtrixy::web {
namespace {

class ControlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auth::TokenSet tokens;
    tokens.access_token = Secret<std::string>("at");
    tokens.refresh_token = Secret<std::string>("rt");
    tokens.expires_at = std::chrono::system_clock::now() + std::chrono::hours(1);
    tokens.expires_in = std::chrono::seconds(3600);
    tokens.scopes = {"Mail.ReadWrite", "offline_access"};
    auto linked = accounts.link({"oid-1", "tid-1", "Alice@Outlook.com", "Alice"}, tokens);
    ASSERT_TRUE(linked.ok()) << linked.error().message;
    original_password = linked->bridge_password.reveal();
    handler = make_control_handler({&accounts, Secret<std::string>("the-token")});
  }

  net::HttpResponse call(const std::string& path, const std::string& authorization = "Bearer the-token",
                         const std::string& method = "POST", const std::string& remote = "127.0.0.1") {
    net::HttpRequest request;
    request.method = method;
    request.path = request.target = path;
    if (!authorization.empty()) request.headers.emplace_back("Authorization", authorization);
    request.remote_address = remote;
    return handler(request);
  }

  testing::TempDir temp;
  std::unique_ptr<store::Store> store = testing::open_store(temp.path() / "data");
  auth::AccountStore accounts{*store};
  std::string original_password;
  net::HttpHandler handler;
};

TEST_F(ControlTest, ResetPasswordReturnsANewWorkingPassword) {
  const net::HttpResponse response = call("/_control/accounts/alice%40outlook.com/reset-password");
  ASSERT_EQ(response.status, 200) << response.body;
  const auto start = response.body.find("\"password\":\"") + 12;
  const std::string password = response.body.substr(start, response.body.find('"', start) - start);
  EXPECT_NE(password, original_password);
  EXPECT_EQ(accounts.verify_password("alice@outlook.com", password, "127.0.0.1").outcome,
            auth::LoginAttempt::Outcome::ok);
  EXPECT_NE(accounts.verify_password("alice@outlook.com", original_password, "127.0.0.1").outcome,
            auth::LoginAttempt::Outcome::ok);
}

TEST_F(ControlTest, RemoveDeletesTheAccount) {
  const net::HttpResponse response = call("/_control/accounts/ALICE%40outlook.com/remove");
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_NE(response.body.find("\"removed\":true"), std::string::npos);
  EXPECT_TRUE(accounts.list().value().empty());
  EXPECT_EQ(call("/_control/accounts/alice%40outlook.com/remove").status, 404);
}

TEST_F(ControlTest, RefusesWithoutTheTokenOrFromElsewhere) {
  EXPECT_EQ(call("/_control/accounts/alice%40outlook.com/remove", "").status, 401);
  EXPECT_EQ(call("/_control/accounts/alice%40outlook.com/remove", "Bearer wrong").status, 401);
  EXPECT_EQ(
      call("/_control/accounts/alice%40outlook.com/remove", "Bearer the-token", "POST", "192.0.2.7").status,
      403);
  EXPECT_EQ(call("/_control/accounts/alice%40outlook.com/remove", "Bearer the-token", "GET").status, 405);
  EXPECT_EQ(call("/_control/accounts/alice%40outlook.com/explode").status, 404);
  EXPECT_EQ(call("/_control/accounts/nobody%40outlook.com/reset-password").status, 404);
  EXPECT_EQ(accounts.list().value().size(), 1u);
}

TEST_F(ControlTest, ControlFileIsPrivateAndRoundTrips) {
  const auto dir = temp.path() / "data";
  ASSERT_TRUE(write_control_file(dir, {"http://127.0.0.1:4242", Secret<std::string>("tok")}).ok());
  struct stat info {};
  ASSERT_EQ(::stat((dir / kControlFileName).c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  auto read = read_control_file(dir);
  ASSERT_TRUE(read.ok()) << read.error().message;
  EXPECT_EQ(read->url, "http://127.0.0.1:4242");
  EXPECT_EQ(read->token.reveal(), "tok");
  remove_control_file(dir);
  EXPECT_FALSE(read_control_file(dir).ok());
}

}  // namespace
}  // namespace mailtrixy::web
