#include "mailtrixy/base/redact.hpp"

#include <gtest/gtest.h>

namespace mailtrixy {
namespace {

TEST(RedactText, FormFieldsLoseTheirValues) {
  const std::string out =
      redact_text("grant_type=refresh_token&refresh_token=0.AXoA1S-secret&client_secret=Zx8Q~abc");
  EXPECT_EQ(out, "grant_type=refresh_token&refresh_token=[redacted]&client_secret=[redacted]");
}

TEST(RedactText, JsonFieldsLoseTheirValues) {
  const std::string out = redact_text(R"({"access_token":"abc.def","token_type":"Bearer"})");
  EXPECT_EQ(out.find("abc.def"), std::string::npos) << out;
  EXPECT_NE(out.find("token_type"), std::string::npos) << out;
}

TEST(RedactText, BearerHeadersAndJwtsAreScrubbed) {
  EXPECT_EQ(redact_text("Authorization: Bearer eyJ0eXAiOiJKV1QiLCJub25jZSI6.payload.sig"),
            "Authorization: [redacted]");
  EXPECT_EQ(redact_text("got Bearer abcdef123 back"), "got Bearer [redacted] back");
  EXPECT_EQ(redact_text("token eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0. in text"),
            "token [redacted] in text");
}

TEST(RedactText, PasswordsInQueriesAndYamlAreScrubbed) {
  EXPECT_EQ(redact_text("?login=a@b.c&password=hunter2&consent=accept"),
            "?login=a@b.c&password=[redacted]&consent=accept");
  EXPECT_EQ(redact_text("client_secret: abc~123"), "client_secret: [redacted]");
  EXPECT_EQ(redact_text("?code=OAAABAAAAiL9&state=xyz"), "?code=[redacted]&state=xyz");
}

TEST(RedactText, OrdinaryTextIsUntouched) {
  const std::string text = "web listening address=127.0.0.1:8443 accounts=3";
  EXPECT_EQ(redact_text(text), text);
  EXPECT_EQ(redact_text("postcode=12345"), "postcode=12345");
}

TEST(Secret, RevealIsTheOnlyWayToTheValue) {
  const Secret<std::string> secret("s3cr3t");
  EXPECT_EQ(secret.reveal(), "s3cr3t");
  EXPECT_FALSE(secret.empty());
  EXPECT_TRUE(Secret<std::string>().empty());
}

}  // namespace
}  // namespace mailtrixy
