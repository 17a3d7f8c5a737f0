#pragma once
// In-process harness for the emulator core's unit tests: a World with one app, a personal and a
// work account, the real request handler, and helpers that walk the sign-in flow. Requests are
// plain net::HttpRequest values handed to the handler, so no sockets are involved; the clock is
// injectable so expiry is crossed without sleeping.

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <chrono>
#include <memory>
#include <string>

#include "core.hpp"
#include "http_text.hpp"
#include "mailtrixy/crypto/encoding.hpp"
#include "tokens.hpp"
#include "world.hpp"

namespace mailtrixy::emulator::testing {

inline constexpr const char* kClientId = "6731de76-14a6-49ae-97bc-6eba6914391e";
inline constexpr const char* kSecret = "Qx48Q~tEsTsEcReT.vAlUe-0123456789abcdefXY";
inline constexpr const char* kRedirectUri = "https://localhost:8443/email-oauth/microsoft/callback";
inline constexpr const char* kPersonal = "alice.smith@outlook.com";
inline constexpr const char* kWork = "bob@contoso.onmicrosoft.com";
inline constexpr const char* kPassword = "Passw0rd!";
inline constexpr const char* kFullScope =
    "offline_access openid profile email https://graph.microsoft.com/Mail.ReadWrite "
    "https://graph.microsoft.com/Mail.Send https://graph.microsoft.com/User.Read";
// RFC 7636 appendix B.
inline constexpr const char* kVerifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
inline constexpr const char* kChallenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

inline rapidjson::Document parse_json(const std::string& text) {
  rapidjson::Document document;
  document.Parse(text.c_str(), text.size());
  EXPECT_FALSE(document.HasParseError()) << "not JSON: " << text;
  return document;
}

inline std::string header(const net::HttpResponse& response, std::string_view name) {
  for (const auto& [key, value] : response.headers) {
    if (iequals(key, name)) return value;
  }
  return {};
}

inline int header_count(const net::HttpResponse& response, std::string_view name) {
  int count = 0;
  for (const auto& [key, value] : response.headers) {
    if (iequals(key, name)) ++count;
  }
  return count;
}

// Query parameters of a redirect Location (after '?' or '#').
inline FormFields location_params(const std::string& location) {
  const auto start = location.find_first_of("?#");
  return start == std::string::npos ? FormFields{} : parse_form(std::string_view(location).substr(start + 1));
}

class CoreTest : public ::testing::Test {
 protected:
  void SetUp() override { build(); }

  void build() {
    build([](EmulatorOptions&) {});
  }

  // Rebuilds the world; `customize` may change the options first.
  template <typename Customize>
  void build(Customize customize) {
    EmulatorOptions options;
    AppRegistration client;
    client.client_id = kClientId;
    client.secret = kSecret;
    client.redirect_uris = {kRedirectUri};
    options.clients.push_back(client);
    options.users.push_back({kPersonal, kPassword});
    options.users.push_back({kWork, kPassword});
    options.access_token_lifetime = std::chrono::seconds(3599);
    customize(options);
    world_ = std::make_unique<World>(options);
    world_->set_base_url("https://127.0.0.1:4443");
    world_->set_clock([this] { return now_; });
    handler_ = make_emulator_handler(CoreServices{*world_, signer()});
  }

  static const JwtSigner& signer() {
    static const JwtSigner instance = std::move(JwtSigner::generate().value());
    return instance;
  }

  net::HttpResponse send(std::string method, std::string target, std::string body = {},
                         net::HttpHeaders headers = {}) {
    net::HttpRequest request;
    request.method = std::move(method);
    request.target = std::move(target);
    const auto question = request.target.find('?');
    request.path = request.target.substr(0, question);
    request.query = question == std::string::npos ? std::string() : request.target.substr(question + 1);
    request.headers = std::move(headers);
    request.body = std::move(body);
    request.tls = true;
    request.remote_address = "127.0.0.1";
    return handler_(request);
  }

  net::HttpResponse graph(std::string method, std::string target, const std::string& token, std::string body = {},
                          net::HttpHeaders headers = {}) {
    headers.emplace_back("Authorization", "Bearer " + token);
    if (!body.empty()) headers.emplace_back("Content-Type", "application/json");
    return send(std::move(method), "/v1.0" + target, std::move(body), std::move(headers));
  }

  static std::string authorize_target(const std::string& scope = kFullScope, const std::string& extra = {},
                                      const std::string& tenant = "common") {
    return "/" + tenant + "/oauth2/v2.0/authorize?client_id=" + std::string(kClientId) +
           "&response_type=code&redirect_uri=" + url_encode(kRedirectUri) + "&scope=" + url_encode(scope) +
           "&state=st4te" + extra;
  }

  // Signs in through the form and returns the code from the redirect.
  std::string sign_in(const std::string& user = kPersonal, const std::string& scope = kFullScope,
                      const std::string& extra = {}) {
    const net::HttpResponse response =
        send("POST", authorize_target(scope, extra),
             "login=" + url_encode(user) + "&password=" + url_encode(kPassword) + "&consent=accept",
             {{"Content-Type", "application/x-www-form-urlencoded"}});
    EXPECT_EQ(response.status, 302) << response.body;
    const auto code = form_value(location_params(header(response, "Location")), "code");
    EXPECT_TRUE(code.has_value()) << header(response, "Location");
    return code.value_or("");
  }

  net::HttpResponse token_request(const std::string& form) {
    return send("POST", "/common/oauth2/v2.0/token", form, {{"Content-Type", "application/x-www-form-urlencoded"}});
  }

  std::string redeem_form(const std::string& code, const std::string& extra = {}) {
    return "client_id=" + std::string(kClientId) + "&client_secret=" + url_encode(kSecret) +
           "&grant_type=authorization_code&code=" + url_encode(code) + "&redirect_uri=" + url_encode(kRedirectUri) +
           extra;
  }

  // A full sign-in; returns the parsed token response.
  rapidjson::Document tokens_for(const std::string& user = kPersonal, const std::string& scope = kFullScope) {
    const net::HttpResponse response = token_request(redeem_form(sign_in(user, scope)));
    EXPECT_EQ(response.status, 200) << response.body;
    return parse_json(response.body);
  }

  std::string access_token_for(const std::string& user = kPersonal, const std::string& scope = kFullScope) {
    rapidjson::Document tokens = tokens_for(user, scope);
    return tokens.HasMember("access_token") ? tokens["access_token"].GetString() : "";
  }

  void advance(std::chrono::seconds by) { now_ += by; }

  Clock::time_point now_ = Clock::now();
  std::unique_ptr<World> world_;
  net::HttpHandler handler_;
};

}  // namespace mailtrixy::emulator::testing
