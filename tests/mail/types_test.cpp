#include "mailtrixy/mail/types.hpp"

#include <gtest/gtest.h>

#include <type_traits>

#include "mailtrixy/mail/error.hpp"

namespace mailtrixy::mail {
namespace {

TEST(MailTypes, StrongTypesDoNotConvertIntoEachOther) {
  static_assert(!std::is_convertible_v<Uid, SequenceNumber>);
  static_assert(!std::is_convertible_v<std::uint32_t, Uid>);
  static_assert(!std::is_convertible_v<GraphId, FolderId>);
  static_assert(!std::is_convertible_v<UidValidity, Uid>);
  EXPECT_LT(Uid{3}, Uid{4});
  EXPECT_EQ(GraphId{"AbC"}, GraphId{"AbC"});
  EXPECT_NE(GraphId{"AbC"}, GraphId{"abc"});  // Graph ids are case-sensitive
}

TEST(MailTypes, UidRangeContainsInclusiveBounds) {
  UidRange range{Uid{2}, Uid{5}};
  EXPECT_FALSE(range.contains(Uid{1}));
  EXPECT_TRUE(range.contains(Uid{2}));
  EXPECT_TRUE(range.contains(Uid{5}));
  EXPECT_FALSE(range.contains(Uid{6}));
  EXPECT_TRUE(UidRange::all().contains(Uid{UINT32_MAX}));
  EXPECT_TRUE(UidRange::single(Uid{7}).contains(Uid{7}));
  EXPECT_FALSE(UidRange::single(Uid{7}).contains(Uid{8}));
}

TEST(MailFlags, SystemFlagNamesRoundTripCaseInsensitively) {
  for (auto flag : {SystemFlag::seen, SystemFlag::answered, SystemFlag::flagged, SystemFlag::deleted,
                    SystemFlag::draft, SystemFlag::forwarded}) {
    auto parsed = parse_system_flag(flag_name(flag));
    ASSERT_TRUE(parsed.has_value());
    EXPECT_EQ(*parsed, flag);
  }
  EXPECT_EQ(parse_system_flag("\\SEEN"), SystemFlag::seen);
  EXPECT_EQ(parse_system_flag("$forwarded"), SystemFlag::forwarded);
  EXPECT_FALSE(parse_system_flag("\\Recent").has_value());
  EXPECT_FALSE(parse_system_flag("Seen").has_value());
}

TEST(MailFlags, AddRemoveAndNames) {
  Flags flags;
  EXPECT_TRUE(flags.empty());
  flags.add("\\Seen").add("Project").add("$Forwarded").add("project");
  EXPECT_TRUE(flags.has(SystemFlag::seen));
  EXPECT_TRUE(flags.has(SystemFlag::forwarded));
  EXPECT_TRUE(flags.keywords().size() == 1) << "keywords compare case-insensitively";
  EXPECT_TRUE(flags.has_keyword("PROJECT"));
  EXPECT_TRUE(flags.has_keyword("$forwarded"));
  EXPECT_EQ(flags.names(), (std::vector<std::string>{"\\Seen", "$Forwarded", "Project"}));

  flags.remove("\\seen").remove("PROJECT");
  EXPECT_FALSE(flags.has(SystemFlag::seen));
  EXPECT_TRUE(flags.keywords().empty());
  EXPECT_EQ(flags.names(), (std::vector<std::string>{"$Forwarded"}));
}

TEST(MailFlags, UnionDifferenceAndEqualityIgnoreOrderAndCase) {
  Flags a;
  a.add("\\Flagged").add("Red").add("Blue");
  Flags b;
  b.add("blue").add("red").add("\\Flagged");
  EXPECT_EQ(a, b);
  Flags c;
  c.add("\\Seen").add("Green");
  a.add_all(c);
  EXPECT_TRUE(a.has(SystemFlag::seen));
  EXPECT_TRUE(a.has_keyword("green"));
  a.remove_all(b);
  EXPECT_FALSE(a.has(SystemFlag::flagged));
  EXPECT_FALSE(a.has_keyword("red"));
  EXPECT_EQ(a, c);
  EXPECT_NE(a, b);
}

TEST(MailFlags, CategoriesMapToAtomKeywordsAndBack) {
  struct Case {
    std::string category;
    std::string keyword;
  };
  for (const auto& test :
       {Case{"Red category", "Red_category"}, Case{"snake_case", "snake=5Fcase"}, Case{"a=b", "a=3Db"},
        Case{"(x)*%", "=28x=29=2A=25"}, Case{"Projekt \xC3\x84", "Projekt_=C3=84"},
        Case{"quote\"]", "quote=22=5D"}, Case{"Plain", "Plain"}}) {
    EXPECT_EQ(keyword_from_category(test.category), test.keyword) << test.category;
    EXPECT_TRUE(is_valid_keyword(keyword_from_category(test.category))) << test.category;
    EXPECT_EQ(category_from_keyword(test.keyword), test.category) << test.keyword;
  }
  EXPECT_EQ(category_from_keyword("odd=Z1"), "odd=Z1");
  EXPECT_EQ(category_from_keyword("end="), "end=");
}

TEST(MailFlags, KeywordValidity) {
  EXPECT_TRUE(is_valid_keyword("$Junk"));
  EXPECT_TRUE(is_valid_keyword("NonJunk"));
  EXPECT_FALSE(is_valid_keyword(""));
  EXPECT_FALSE(is_valid_keyword("\\Seen"));
  EXPECT_FALSE(is_valid_keyword("two words"));
  EXPECT_FALSE(is_valid_keyword("brace{"));
  EXPECT_FALSE(is_valid_keyword("star*"));
  EXPECT_FALSE(is_valid_keyword("caf\xC3\xA9"));
}

TEST(MailFolders, SpecialUseAttributesAndAliases) {
  EXPECT_EQ(special_use_attribute(SpecialUse::sent), "\\Sent");
  EXPECT_EQ(special_use_attribute(SpecialUse::drafts), "\\Drafts");
  EXPECT_EQ(special_use_attribute(SpecialUse::trash), "\\Trash");
  EXPECT_EQ(special_use_attribute(SpecialUse::junk), "\\Junk");
  EXPECT_EQ(special_use_attribute(SpecialUse::archive), "\\Archive");
  EXPECT_EQ(special_use_attribute(SpecialUse::inbox), "");
  EXPECT_EQ(special_use_attribute(SpecialUse::none), "");
  EXPECT_EQ(well_known_alias(SpecialUse::trash), "deleteditems");
  EXPECT_EQ(well_known_alias(SpecialUse::junk), "junkemail");
  EXPECT_EQ(well_known_alias(SpecialUse::sent), "sentitems");
  EXPECT_EQ(well_known_alias(SpecialUse::none), "");
}

TEST(MailFolders, PathsNormalizeAndSplit) {
  EXPECT_EQ(split_folder_path("a/b/c"), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_TRUE(split_folder_path("").empty());
  EXPECT_TRUE(is_inbox("inbox"));
  EXPECT_TRUE(is_inbox("InBoX"));
  EXPECT_FALSE(is_inbox("Inbox2"));
  EXPECT_EQ(normalize_folder_path("inbox"), "INBOX");
  EXPECT_EQ(normalize_folder_path("Inbox/Sub"), "INBOX/Sub");
  EXPECT_EQ(normalize_folder_path("Projects/inbox"), "Projects/inbox");
  EXPECT_EQ(normalize_folder_path("Trailing/"), "Trailing");
  EXPECT_FALSE(normalize_folder_path("").has_value());
  EXPECT_FALSE(normalize_folder_path("/abs").has_value());
  EXPECT_FALSE(normalize_folder_path("a//b").has_value());
  EXPECT_FALSE(normalize_folder_path("ctl\x01").has_value());
}

TEST(MailErrors, CodesHaveStableNamesAndResultsCarryThem) {
  EXPECT_EQ(to_string(ErrorCode::not_found), "not_found");
  EXPECT_EQ(to_string(ErrorCode::sync_state_not_found), "sync_state_not_found");
  EXPECT_EQ(to_string(ErrorCode::needs_sign_in), "needs_sign_in");
  MailResult<int> failed = make_mail_error(ErrorCode::quota, "Mailbox full.");
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.code(), ErrorCode::quota);
  EXPECT_EQ(failed.to_error().message, "Mailbox full.");
  MailResult<int> fine = 3;
  ASSERT_TRUE(fine.ok());
  EXPECT_EQ(*fine, 3);
  MailResult<void> done;
  EXPECT_TRUE(done.ok());
  MailResult<void> refused = make_mail_error(ErrorCode::no_permission, "No.");
  EXPECT_EQ(refused.code(), ErrorCode::no_permission);
}

}  // namespace
}  // namespace mailtrixy::mail
