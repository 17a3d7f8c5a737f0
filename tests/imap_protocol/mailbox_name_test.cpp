#include "mailtrixy/imap/mailbox_name.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace mailtrixy::imap {
namespace {

TEST(ModifiedUtf7, EncodesLikeRfc3501) {
  // RFC 3501 5.1.3: "~peter/mail/台北/日本語"
  EXPECT_EQ(encode_mailbox_name("~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e"),
            "~peter/mail/&U,BTFw-/&ZeVnLIqe-");
  EXPECT_EQ(encode_mailbox_name("INBOX"), "INBOX");
  EXPECT_EQ(encode_mailbox_name("Tom & Jerry"), "Tom &- Jerry");
  EXPECT_EQ(encode_mailbox_name("Entw\xc3\xbcrfe"), "Entw&APw-rfe");
  EXPECT_EQ(encode_mailbox_name("Gel\xc3\xb6schte Elemente"), "Gel&APY-schte Elemente");
  EXPECT_EQ(encode_mailbox_name("\xc3\xa4\xc3\xa4"), "&AOQA5A-");
  EXPECT_EQ(encode_mailbox_name("\xf0\x9f\x93\xa7 Mail"), "&2D3c5w- Mail");  // U+1F4E7, a surrogate pair
  EXPECT_EQ(encode_mailbox_name("tab\there"), "tab&AAk-here");
  EXPECT_EQ(encode_mailbox_name("bad\xff"), "bad&,,0-");  // invalid UTF-8 -> U+FFFD
  EXPECT_EQ(encode_mailbox_name(std::string("a\0b", 3)), "a&,,0-b");  // NUL can't be decoded: U+FFFD
  EXPECT_EQ(encode_mailbox_name(""), "");
}

TEST(ModifiedUtf7, DecodesValidNames) {
  EXPECT_EQ(decode_mailbox_name("~peter/mail/&U,BTFw-/&ZeVnLIqe-"),
            "~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e");
  EXPECT_EQ(decode_mailbox_name("Tom &- Jerry"), "Tom & Jerry");
  EXPECT_EQ(decode_mailbox_name("&AOQA5A-"), "\xc3\xa4\xc3\xa4");
  EXPECT_EQ(decode_mailbox_name("&2D3c5w- Mail"), "\xf0\x9f\x93\xa7 Mail");
  EXPECT_EQ(decode_mailbox_name("&AOQ-&-"), "\xc3\xa4&");
  EXPECT_EQ(decode_mailbox_name(""), "");
}

TEST(ModifiedUtf7, RejectsInvalidAndNonShortestForms) {
  const std::vector<std::string> invalid = {
      "&",            // unterminated
      "&AOQ",         // unterminated
      "a&AOQ",        // unterminated
      "&A-",          // too few bits for a UTF-16 unit
      "&AOR-",        // non-zero padding bits
      "&AOQ=-",       // '=' padding is not modified BASE64
      "&AO/-",        // '/' instead of ','
      "&AOQ-&AOQ-",   // two adjacent runs must be one
      "&AGE-",        // 'a' written in BASE64
      "&ACY-",        // '&' written in BASE64
      "&2D0-",        // lone high surrogate
      "&3OcAOQ-",     // lone low surrogate
      "&AAA-",        // U+0000
      "caf\xc3\xa9",  // 8-bit byte
      "tab\there",    // control character
  };
  for (const auto& name : invalid) EXPECT_FALSE(decode_mailbox_name(name).has_value()) << name;
}

TEST(ModifiedUtf7, RoundTrips) {
  const std::vector<std::string> names = {"INBOX", "Sent Items", "a&b&&c", "Gel\xc3\xb6schte Elemente",
                                          "\xe6\x97\xa5\xe6\x9c\xac/\xc3\xa4-&-x", "\xf0\x9f\x98\x80\xf0\x9f\x98\x81",
                                          "-&-", "\xc3\xa4 \xc3\xb6"};
  for (const auto& name : names) {
    const std::string wire = encode_mailbox_name(name);
    EXPECT_EQ(decode_mailbox_name(wire), name) << wire;
  }
}

TEST(ListPattern, WildcardsFollowRfc3501) {
  EXPECT_TRUE(list_pattern_matches("*", "INBOX"));
  EXPECT_TRUE(list_pattern_matches("*", "Archive/2024/Q1"));
  EXPECT_TRUE(list_pattern_matches("%", "Archive"));
  EXPECT_FALSE(list_pattern_matches("%", "Archive/2024"));
  EXPECT_TRUE(list_pattern_matches("Archive/%", "Archive/2024"));
  EXPECT_FALSE(list_pattern_matches("Archive/%", "Archive/2024/Q1"));
  EXPECT_FALSE(list_pattern_matches("Archive/%", "Archive"));
  EXPECT_TRUE(list_pattern_matches("Archive/*", "Archive/2024/Q1"));
  EXPECT_TRUE(list_pattern_matches("%/%", "Archive/2024"));
  EXPECT_FALSE(list_pattern_matches("%/%", "Archive"));
  EXPECT_TRUE(list_pattern_matches("A*e", "Archive"));
  EXPECT_TRUE(list_pattern_matches("A*e", "Arc/hive"));
  EXPECT_FALSE(list_pattern_matches("A%e", "Arc/hive"));
  EXPECT_TRUE(list_pattern_matches("*%*", "x"));
  EXPECT_TRUE(list_pattern_matches("", ""));
  EXPECT_FALSE(list_pattern_matches("", "INBOX"));
  EXPECT_FALSE(list_pattern_matches("archive", "Archive"));  // case-sensitive
  EXPECT_TRUE(list_pattern_matches("Sent Items", "Sent Items"));
  EXPECT_FALSE(list_pattern_matches("Sent", "Sent Items"));
}

TEST(ListPattern, InboxIsCaseInsensitive) {
  EXPECT_TRUE(list_pattern_matches("inbox", "INBOX"));
  EXPECT_TRUE(list_pattern_matches("Inbox/%", "INBOX/Receipts"));
  EXPECT_FALSE(list_pattern_matches("inboxes", "INBOX"));
  EXPECT_FALSE(list_pattern_matches("x/inbox", "x/INBOX"));
}

TEST(ListPattern, ReferenceAndChildren) {
  EXPECT_EQ(combine_list_reference("", "%"), "%");
  EXPECT_EQ(combine_list_reference("Archive/", "%"), "Archive/%");
  EXPECT_EQ(combine_list_reference("Archive/", "/2024"), "Archive/2024");
  EXPECT_EQ(combine_list_reference("Archive", "/%"), "Archive/%");
  EXPECT_TRUE(list_pattern_matches(combine_list_reference("~/Mail/", "%"), "~/Mail/foo"));

  EXPECT_TRUE(list_pattern_could_match_below("%/%", "Archive"));
  EXPECT_FALSE(list_pattern_could_match_below("%", "Archive"));
  EXPECT_TRUE(list_pattern_could_match_below("*", "Archive"));
  EXPECT_TRUE(list_pattern_could_match_below("Archive/2024/%", "Archive"));
  EXPECT_FALSE(list_pattern_could_match_below("Drafts/%", "Archive"));
}

}  // namespace
}  // namespace mailtrixy::imap
