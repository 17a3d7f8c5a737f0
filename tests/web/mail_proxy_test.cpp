// The auth_http endpoint (mail_proxy.hpp): header parsing, the key, outcome mapping, routing to
// peers. Peers are fakes of PeerTransport that run another endpoint in-process, so forwarding is
// exercised end to end without sockets.

#include "mailtrixy/web/mail_proxy.hpp"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace mailtrixy::web {
namespace {

constexpr const char* kKey = "0123456789abcdef0123456789abcdef";
using Accounts = std::map<std::string, std::string>;  // address → bridge password

// Accepts `accounts` (address → password); everything else is wrong_credentials.
class FakeLogins final : public mail::LoginService {
 public:
  explicit FakeLogins(Accounts accounts) : accounts_(std::move(accounts)) {}
  mail::LoginResult login(std::string_view user, std::string_view password, std::string_view client) override {
    calls.push_back(std::string(user) + "|" + std::string(client));
    mail::LoginResult result;
    auto found = accounts_.find(std::string(user));
    if (found == accounts_.end() || found->second != password) {
      result.outcome = mail::LoginResult::Outcome::wrong_credentials;
      return result;
    }
    result.outcome = forced;
    result.account_key = "key." + found->first;
    result.address = found->first;
    result.reconnect_url = "https://b1.example/settings/email-accounts";
    result.retry_after = std::chrono::milliseconds(4200);
    return result;
  }
  bool holds(std::string_view user) const { return accounts_.count(std::string(user)) != 0; }
  std::vector<std::string> calls;
  mail::LoginResult::Outcome forced = mail::LoginResult::Outcome::ok;

 private:
  Accounts accounts_;
};

net::HttpRequest query(std::string user, std::string password, std::string protocol = "imap",
                       std::string key = kKey) {
  net::HttpRequest request;
  request.method = "GET";
  request.path = request.target = kMailProxyPath;
  request.remote_address = "127.0.0.1";
  if (!key.empty()) request.headers.emplace_back(kMailProxyKeyHeader, key);
  request.headers.emplace_back("Auth-Method", "plain");
  request.headers.emplace_back("Auth-User", std::move(user));
  request.headers.emplace_back("Auth-Pass", std::move(password));
  request.headers.emplace_back("Auth-Protocol", std::move(protocol));
  request.headers.emplace_back("Auth-Login-Attempt", "1");
  request.headers.emplace_back("Client-IP", "198.51.100.7");
  request.headers.emplace_back("Client-Host", "[UNAVAILABLE]");
  return request;
}

std::string header(const net::HttpResponse& response, std::string_view name) {
  for (const auto& [key, value] : response.headers) {
    if (key == name) return value;
  }
  return "(absent)";
}

std::unique_ptr<MailProxyEndpoint> endpoint(FakeLogins& logins, std::vector<std::string> peers = {},
                                            PeerTransport transport = {}) {
  MailProxyOptions options;
  options.key = Secret<std::string>(kKey);
  options.imap_backend = "10.0.0.1:1143";
  options.smtp_backend = "10.0.0.1:1587";
  options.peers = std::move(peers);
  auto created = MailProxyEndpoint::create(
      std::move(options), logins, [&logins](std::string_view user) -> Result<bool> { return logins.holds(user); },
      std::move(transport));
  if (!created) throw std::runtime_error(created.error().message);
  return std::move(*created);
}

TEST(MailProxyQuery, ParsesNginxHeaders) {
  auto parsed = parse_mail_proxy_query(query("a@example.com", "p w", "SMTP"));
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed->method, "plain");
  EXPECT_EQ(parsed->user, "a@example.com");
  EXPECT_EQ(parsed->password.reveal(), "p w");
  EXPECT_EQ(parsed->protocol, MailProtocol::smtp);
  EXPECT_EQ(parsed->client_ip, "198.51.100.7");
  EXPECT_FALSE(parsed->forwarded);
}

TEST(MailProxyQuery, UserAndPasswordArePercentDecodedLikeNginxEncodesThem) {
  auto parsed = parse_mail_proxy_query(query("a%40x@example.com", "p%25%20w%C3%A9", "imap"));
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed->user, "a@x@example.com");
  EXPECT_EQ(parsed->password.reveal(), "p% w\xC3\xA9");
  auto broken = parse_mail_proxy_query(query("a@example.com", "100%", "imap"));
  ASSERT_FALSE(broken);
  EXPECT_NE(broken.error().message.find("Auth-Pass"), std::string::npos);
  EXPECT_EQ(broken.error().message.find("100"), std::string::npos);  // never the password
}

TEST(MailProxyQuery, MissingOrBadHeadersAreNamed) {
  net::HttpRequest request = query("a@example.com", "pw");
  request.headers.erase(request.headers.begin() + 3);  // Auth-Pass
  auto parsed = parse_mail_proxy_query(request);
  ASSERT_FALSE(parsed);
  EXPECT_NE(parsed.error().message.find("Auth-Pass"), std::string::npos);

  auto unknown = parse_mail_proxy_query(query("a@example.com", "pw", "nntp"));
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message.find("imap, smtp or pop3"), std::string::npos);

  request = query("a@example.com", "pw");
  request.headers.emplace_back("Auth-Login-Attempt", "x");
  request.headers.erase(request.headers.begin() + 5);  // the first Auth-Login-Attempt
  EXPECT_FALSE(parse_mail_proxy_query(request));
}

TEST(MailProxyEndpoint, KeyIsRequired) {
  FakeLogins logins(Accounts{{"a@example.com", "pw"}});
  auto proxy = endpoint(logins);
  EXPECT_EQ(proxy->handle(query("a@example.com", "pw", "imap", "")).status, 403);
  EXPECT_EQ(proxy->handle(query("a@example.com", "pw", "imap", "wrong-key-wrong-key-wrong-key-00")).status, 403);
  EXPECT_TRUE(logins.calls.empty());
  EXPECT_NE(proxy->prometheus().find("mailtrixy_mail_proxy_auth_total{outcome=\"forbidden\"} 2"), std::string::npos);
}

TEST(MailProxyEndpoint, LocalAccountGetsThisBridgesBackendPerProtocol) {
  FakeLogins logins(Accounts{{"a@example.com", "pw"}});
  auto proxy = endpoint(logins);
  auto imap = proxy->handle(query("a@example.com", "pw", "imap"));
  EXPECT_EQ(imap.status, 200);
  EXPECT_EQ(header(imap, "Auth-Status"), "OK");
  EXPECT_EQ(header(imap, "Auth-Server"), "10.0.0.1");
  EXPECT_EQ(header(imap, "Auth-Port"), "1143");
  auto smtp = proxy->handle(query("a@example.com", "pw", "smtp"));
  EXPECT_EQ(header(smtp, "Auth-Port"), "1587");
  // The real client's address reaches the rate limiter.
  ASSERT_EQ(logins.calls.size(), 2u);
  EXPECT_EQ(logins.calls[0], "a@example.com|198.51.100.7");
}

TEST(MailProxyEndpoint, OutcomesMapToNginxAnswers) {
  FakeLogins logins(Accounts{{"a@example.com", "pw"}});
  auto proxy = endpoint(logins);
  auto wrong = proxy->handle(query("a@example.com", "nope", "smtp"));
  EXPECT_EQ(header(wrong, "Auth-Status"), "Invalid login or password");
  EXPECT_EQ(header(wrong, "Auth-Wait"), "3");
  EXPECT_EQ(header(wrong, "Auth-Error-Code"), "535 5.7.8");
  auto wrong_imap = proxy->handle(query("a@example.com", "nope", "imap"));
  EXPECT_EQ(header(wrong_imap, "Auth-Error-Code"), "(absent)");

  logins.forced = mail::LoginResult::Outcome::rate_limited;
  auto limited = proxy->handle(query("a@example.com", "pw", "imap"));
  EXPECT_EQ(header(limited, "Auth-Wait"), "5");  // 4.2 s rounded up
  EXPECT_NE(header(limited, "Auth-Status").find("Too many failed logins"), std::string::npos);

  logins.forced = mail::LoginResult::Outcome::needs_sign_in;
  auto sign_in = proxy->handle(query("a@example.com", "pw", "smtp"));
  EXPECT_NE(header(sign_in, "Auth-Status").find("https://b1.example/settings/email-accounts"), std::string::npos);
  EXPECT_EQ(header(sign_in, "Auth-Error-Code"), "454 4.7.0");

  logins.forced = mail::LoginResult::Outcome::unavailable;
  auto unavailable = proxy->handle(query("a@example.com", "pw", "imap"));
  EXPECT_EQ(header(unavailable, "Auth-Status"), "Temporary authentication failure; try again later");

  auto pop3 = proxy->handle(query("a@example.com", "pw", "pop3"));
  EXPECT_NE(header(pop3, "Auth-Status").find("POP3"), std::string::npos);
  EXPECT_EQ(header(pop3, "Auth-Wait"), "(absent)");

  net::HttpRequest cram = query("a@example.com", "pw");
  for (auto& [name, value] : cram.headers) {
    if (name == "Auth-Method") value = "cram-md5";
  }
  EXPECT_NE(header(proxy->handle(cram), "Auth-Status").find("password login"), std::string::npos);

  const std::string metrics = proxy->prometheus();
  for (const char* outcome : {"wrong_credentials\"} 2", "rate_limited\"} 1", "needs_sign_in\"} 1",
                              "unavailable\"} 1", "unsupported\"} 2"}) {
    EXPECT_NE(metrics.find(outcome), std::string::npos) << outcome << "\n" << metrics;
  }
}

// Two bridges that know each other; the transport calls the other endpoint directly.
struct Pair {
  FakeLogins logins1{Accounts{{"a@example.com", "pw-a"}}};
  FakeLogins logins2{Accounts{{"b@example.com", "pw-b"}, {"c@example.com", "c 100% sure"}}};
  std::unique_ptr<MailProxyEndpoint> bridge1;
  std::unique_ptr<MailProxyEndpoint> bridge2;
  std::vector<std::string> sent;  // "url forwarded=<header>"
  bool peer_down = false;

  Pair() {
    auto transport_to = [this](std::unique_ptr<MailProxyEndpoint>* target) {
      return [this, target](const net::HttpClientRequest& request) -> Result<net::HttpClientResponse> {
        if (peer_down) return make_error("HTTPS request to https://10.0.0.2:8443 failed: connection refused");
        net::HttpRequest incoming;
        incoming.method = request.method;
        incoming.path = incoming.target = request.url.substr(request.url.find('/', 8));
        incoming.headers = request.headers;
        incoming.remote_address = "10.0.0.1";
        std::string forwarded;
        for (const auto& [name, value] : request.headers) {
          if (name == kMailProxyForwardedHeader) forwarded = value;
        }
        sent.push_back(request.url + " forwarded=" + forwarded);
        net::HttpResponse answer = (*target)->handle(incoming);
        net::HttpClientResponse response;
        response.status = answer.status;
        response.headers = answer.headers;
        response.body = answer.body;
        return response;
      };
    };
    bridge1 = endpoint(logins1, {"https://10.0.0.2:8443"}, transport_to(&bridge2));
    MailProxyOptions options;
    options.key = Secret<std::string>(kKey);
    options.imap_backend = "10.0.0.2:1143";
    options.smtp_backend = "10.0.0.2:1587";
    options.peers = {"https://10.0.0.1:8443"};
    auto created = MailProxyEndpoint::create(
        std::move(options), logins2, [this](std::string_view user) -> Result<bool> { return logins2.holds(user); },
        transport_to(&bridge1));
    bridge2 = std::move(*created);
  }
};

TEST(MailProxyEndpoint, AccountOnAPeerIsRoutedThere) {
  Pair pair;
  auto answer = pair.bridge1->handle(query("b@example.com", "pw-b", "smtp"));
  EXPECT_EQ(header(answer, "Auth-Status"), "OK");
  EXPECT_EQ(header(answer, "Auth-Server"), "10.0.0.2");
  EXPECT_EQ(header(answer, "Auth-Port"), "1587");
  ASSERT_EQ(pair.sent.size(), 1u);
  EXPECT_EQ(pair.sent[0], "https://10.0.0.2:8443/mail-proxy/auth forwarded=1");
  // The peer checked the password against the real client, and bridge 1 checked nothing.
  ASSERT_EQ(pair.logins2.calls.size(), 1u);
  EXPECT_EQ(pair.logins2.calls[0], "b@example.com|198.51.100.7");
  EXPECT_TRUE(pair.logins1.calls.empty());
  EXPECT_NE(pair.bridge1->prometheus().find("peer_ok\"} 1"), std::string::npos);
}

TEST(MailProxyEndpoint, ForwardedPasswordsKeepTheirSpecialCharacters) {
  Pair pair;
  auto answer = pair.bridge1->handle(query("c@example.com", "c%20100%25%20sure", "imap"));
  EXPECT_EQ(header(answer, "Auth-Status"), "OK");
  EXPECT_EQ(header(answer, "Auth-Server"), "10.0.0.2");
}

TEST(MailProxyEndpoint, PeersRefusalIsRelayed) {
  Pair pair;
  auto answer = pair.bridge1->handle(query("b@example.com", "wrong", "smtp"));
  EXPECT_EQ(header(answer, "Auth-Status"), "Invalid login or password");
  EXPECT_EQ(header(answer, "Auth-Wait"), "3");
  EXPECT_EQ(header(answer, "Auth-Error-Code"), "535 5.7.8");
  EXPECT_EQ(header(answer, kMailProxyAccountHeader), "(absent)");
  EXPECT_TRUE(pair.logins1.calls.empty());
}

TEST(MailProxyEndpoint, UnknownEverywhereIsCheckedLocallyAndNeverLoops) {
  Pair pair;
  auto answer = pair.bridge1->handle(query("nobody@example.com", "x", "imap"));
  EXPECT_EQ(header(answer, "Auth-Status"), "Invalid login or password");
  // One hop only: bridge 2 answered not-here instead of asking bridge 1 back.
  ASSERT_EQ(pair.sent.size(), 1u);
  ASSERT_EQ(pair.logins1.calls.size(), 1u);  // counted by bridge 1's limiter
  EXPECT_TRUE(pair.logins2.calls.empty());
  EXPECT_NE(pair.bridge2->prometheus().find("not_here\"} 1"), std::string::npos);
}

TEST(MailProxyEndpoint, PeerDownIsATemporaryFailureNotAWrongPassword) {
  Pair pair;
  pair.peer_down = true;
  auto answer = pair.bridge1->handle(query("b@example.com", "pw-b", "smtp"));
  EXPECT_EQ(header(answer, "Auth-Status"), "Temporary authentication failure; try again later");
  EXPECT_EQ(header(answer, "Auth-Error-Code"), "454 4.7.0");
  // Local accounts keep working while a peer is down.
  EXPECT_EQ(header(pair.bridge1->handle(query("a@example.com", "pw-a", "imap")), "Auth-Status"), "OK");
}

TEST(MailProxyEndpoint, CreateRefusesUnusableSettings) {
  FakeLogins logins(Accounts{});
  auto lookup = [](std::string_view) -> Result<bool> { return false; };
  MailProxyOptions options;
  options.imap_backend = "10.0.0.1:1143";
  options.smtp_backend = "10.0.0.1:1587";
  EXPECT_FALSE(MailProxyEndpoint::create(options, logins, lookup, {}));  // no key
  options.key = Secret<std::string>(kKey);
  options.imap_backend = "0.0.0.0:1143";
  auto wildcard = MailProxyEndpoint::create(options, logins, lookup, {});
  ASSERT_FALSE(wildcard);
  EXPECT_NE(wildcard.error().message.find("imap_backend"), std::string::npos);
  options.imap_backend = "mail.example.com:1143";
  EXPECT_FALSE(MailProxyEndpoint::create(options, logins, lookup, {}));
  options.imap_backend = "[::1]:1143";
  EXPECT_TRUE(MailProxyEndpoint::create(options, logins, lookup, {}));
}

TEST(MailProxyAnswerRendering, NoHeaderInjection) {
  MailProxyAnswer answer;
  answer.status = "bad\r\nAuth-Status: OK";
  auto response = render_mail_proxy_answer(answer);
  EXPECT_EQ(header(response, "Auth-Status"), "bad  Auth-Status: OK");
}

}  // namespace
}  // namespace mailtrixy::web
