#include "mailtrixy/sync/records.hpp"

#include <gtest/gtest.h>

#include "sync_test_support.hpp"

namespace mailtrixy::sync {
namespace {

using testing::TempStore;

constexpr std::int64_t kNow = 1'790'000'000'000;

FolderRecord tree(std::string id, std::string path) {
  FolderRecord f;
  f.id = std::move(id);
  f.path = std::move(path);
  f.display_name = f.path;
  return f;
}

MessageRecord msg(std::string id, std::string subject, bool seen = false) {
  MessageRecord m;
  m.graph_id = mail::GraphId(std::move(id));
  m.envelope.subject = std::move(subject);
  m.flags.set(mail::SystemFlag::seen, seen);
  m.internal_date = mail::TimePoint(std::chrono::seconds(kNow / 1000));
  return m;
}
using mail::SystemFlag;

TEST(SyncRecords, IdsWithSlashesAreEscapedSoPrefixesStayExact) {
  EXPECT_EQ(encode_id("AA/b%c#d"), "AA%2Fb%25c%23d");
  EXPECT_EQ(decode_id(encode_id("AA/b%c#d")), "AA/b%c#d");
  EXPECT_EQ(folder_prefix("acct", "a/b"), "acct/a%2Fb/");
  EXPECT_EQ(message_key("acct", "f", 42), "acct/f/0000000042");
}

TEST(SyncRecords, MessageRecordRoundTripsThroughJson) {
  MessageRecord m = msg("id1", "Hello \"world\"", true);
  m.uid = mail::Uid(7);
  m.flags.set(SystemFlag::flagged).set(SystemFlag::answered).set(SystemFlag::deleted);
  m.flags.add_keyword("Red").add_keyword("Project_X");
  m.rfc822_size = 12345;
  m.envelope.date = mail::TimePoint(std::chrono::seconds(1'700'000'000));
  m.envelope.from = {{"Ann", "ann@example.com"}};
  m.envelope.to = {{"Bob", "bob@example.com"}, {"", "c@example.com"}};
  m.envelope.message_id = "<x@y>";
  auto back = message_from_json(to_json(m));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back.value(), m);
  MessageRecord unknown_size = msg("id2", "");
  unknown_size.uid = mail::Uid(1);
  auto back2 = message_from_json(to_json(unknown_size));
  ASSERT_TRUE(back2.ok());
  EXPECT_FALSE(back2->rfc822_size);
  EXPECT_FALSE(back2->envelope.date);
  EXPECT_FALSE(message_from_json("{nope").ok());
  EXPECT_FALSE(message_from_json("{}").ok());

  // The flags-only reader agrees with the full one and rejects what it rejects.
  auto flags = message_flags_from_json(to_json(m));
  ASSERT_TRUE(flags.ok()) << flags.error().message;
  EXPECT_EQ(flags->uid, m.uid);
  EXPECT_EQ(flags->flags, m.flags);
  auto no_keywords = message_flags_from_json(to_json(unknown_size));
  ASSERT_TRUE(no_keywords.ok());
  EXPECT_EQ(no_keywords->flags, unknown_size.flags);
  EXPECT_FALSE(message_flags_from_json("{nope").ok());
  EXPECT_FALSE(message_flags_from_json("{}").ok());
  EXPECT_FALSE(message_flags_from_json(R"({"uid":3,"flags":1,"keywords":["a")").ok());
}

TEST(SyncRecords, UidValidityIsAssignedOnceAndStrictlyAscendsPerAccount) {
  TempStore db;
  AccountState state(db.store(), "acct");
  auto inbox = state.upsert_folder(tree("f-inbox", "INBOX"), kNow);
  ASSERT_TRUE(inbox.ok());
  auto other = state.upsert_folder(tree("f-other", "Other"), kNow);
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(inbox->uidvalidity, kNow / 1000);
  EXPECT_GT(other->uidvalidity, inbox->uidvalidity);
  auto renamed = state.upsert_folder(tree("f-inbox", "Inbox"), kNow + 99'000'000);
  ASSERT_TRUE(renamed.ok());
  EXPECT_EQ(renamed->uidvalidity, inbox->uidvalidity);
  EXPECT_EQ(renamed->path, "Inbox");
  // A folder deleted and re-created (new id, even at an earlier clock) gets a fresh value.
  ASSERT_TRUE(state.remove_folder("f-other").ok());
  auto recreated = state.upsert_folder(tree("f-other2", "Other"), kNow - 5000);
  ASSERT_TRUE(recreated.ok());
  EXPECT_GT(recreated->uidvalidity, other->uidvalidity);
}

TEST(SyncRecords, UidsAscendSurviveReopenAndAreNeverReused) {
  TempStore db;
  {
    AccountState state(db.store(), "acct");
    ASSERT_TRUE(state.upsert_folder(tree("f", "INBOX"), kNow).ok());
    AccountState::Changes changes;
    changes.upserts = {msg("a", "A"), msg("b", "B"), msg("c", "C")};
    changes.delta_link = "link-1";
    changes.round_complete = true;
    changes.now_ms = kNow;
    auto applied = state.apply("f", changes);
    ASSERT_TRUE(applied.ok()) << applied.error().message;
    ASSERT_EQ(applied->added.size(), 3u);
    EXPECT_EQ(applied->added[0].uid.value(), 1u);
    EXPECT_EQ(applied->added[2].uid.value(), 3u);
    AccountState::Changes removal;
    removal.removed = {"c"};
    ASSERT_TRUE(state.apply("f", removal).ok());
  }
  db.reopen();
  AccountState state(db.store(), "acct");
  auto folder = state.folder("f");
  ASSERT_TRUE(folder.ok() && folder.value());
  EXPECT_EQ(folder.value()->uidnext, 4u);
  EXPECT_EQ(folder.value()->delta_link, "link-1");
  EXPECT_TRUE(folder.value()->initial_sync_complete);
  AccountState::Changes more;
  more.upserts = {msg("d", "D")};
  auto applied = state.apply("f", more);
  ASSERT_TRUE(applied.ok());
  ASSERT_EQ(applied->added.size(), 1u);
  EXPECT_EQ(applied->added[0].uid.value(), 4u);  // 3 was expunged and is not reused
  auto uid = state.uid_of("f", "b");
  ASSERT_TRUE(uid.ok() && uid.value());
  EXPECT_EQ(*uid.value(), 2u);
  auto uid_of_gone = state.uid_of("f", "c");
  ASSERT_TRUE(uid_of_gone.ok());
  EXPECT_FALSE(uid_of_gone.value());
}

TEST(SyncRecords, ChangesKeepUidAndLocalDeletedAndReportOnlyRealChanges) {
  TempStore db;
  AccountState state(db.store(), "acct");
  ASSERT_TRUE(state.upsert_folder(tree("f", "INBOX"), kNow).ok());
  AccountState::Changes first;
  first.upserts = {msg("a", "A"), msg("b", "B")};
  ASSERT_TRUE(state.apply("f", first).ok());
  auto a = state.message("f", 1);
  ASSERT_TRUE(a.ok() && a.value());
  MessageRecord marked = *a.value();
  marked.flags.set(SystemFlag::deleted);
  marked.rfc822_size = 999;
  ASSERT_TRUE(state.put_message("f", marked).ok());

  AccountState::Changes second;
  second.upserts = {msg("a", "A", /*seen=*/true), msg("b", "B")};
  auto applied = state.apply("f", second);
  ASSERT_TRUE(applied.ok());
  EXPECT_TRUE(applied->added.empty());
  ASSERT_EQ(applied->changed.size(), 1u);  // b is unchanged
  EXPECT_EQ(applied->changed[0].uid, mail::Uid(1));
  EXPECT_TRUE(applied->changed[0].flags.has(SystemFlag::seen));
  EXPECT_TRUE(applied->changed[0].flags.has(SystemFlag::deleted));  // local until EXPUNGE
  EXPECT_EQ(applied->changed[0].rfc822_size, std::optional<std::uint64_t>(999));  // not forgotten
}

TEST(SyncRecords, FullListingKeepsUidsOfSurvivorsAndExpungesTheRest) {
  TempStore db;
  AccountState state(db.store(), "acct");
  ASSERT_TRUE(state.upsert_folder(tree("f", "INBOX"), kNow).ok());
  AccountState::Changes first;
  first.upserts = {msg("a", "A"), msg("b", "B"), msg("c", "C")};
  first.delta_link = "old";
  ASSERT_TRUE(state.apply("f", first).ok());
  ASSERT_TRUE(state.reset_delta("f").ok());
  auto reset = state.folder("f");
  ASSERT_TRUE(reset.ok() && reset.value());
  EXPECT_EQ(reset.value()->delta_link, "");
  // Placed by the bridge while the listing ran: above the bound, so it stays.
  ASSERT_TRUE(state.add_local("f", msg("appended", "P")).ok());

  // Page 1 of the listing, then the last page.
  std::set<std::string> seen = {"c", "new"};
  AccountState::Changes page1;
  page1.upserts = {msg("c", "C"), msg("new", "N")};
  ASSERT_TRUE(state.apply("f", page1).ok());
  seen.insert("a");
  AccountState::Changes last;
  last.upserts = {msg("a", "A")};
  last.expunge_unseen_below = 4;
  last.seen_ids = &seen;
  last.delta_link = "fresh";
  auto applied = state.apply("f", last);
  ASSERT_TRUE(applied.ok());
  ASSERT_EQ(applied->expunged.size(), 1u);
  EXPECT_EQ(applied->expunged[0].uid, mail::Uid(2));
  auto all = state.messages("f");
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 4u);
  EXPECT_EQ((*all)[0].graph_id.value(), "a");
  EXPECT_EQ((*all)[0].uid, mail::Uid(1));
  EXPECT_EQ((*all)[1].graph_id.value(), "c");
  EXPECT_EQ((*all)[1].uid, mail::Uid(3));
  EXPECT_EQ((*all)[2].graph_id.value(), "appended");
  EXPECT_EQ((*all)[3].graph_id.value(), "new");
  EXPECT_EQ((*all)[3].uid, mail::Uid(5));
}

TEST(SyncRecords, LocalAddAssignsNextUidOnceAndRemoveDropsBothMaps) {
  TempStore db;
  AccountState state(db.store(), "acct");
  ASSERT_TRUE(state.upsert_folder(tree("f", "INBOX"), kNow).ok());
  auto uid = state.add_local("f", msg("x", "X"));
  ASSERT_TRUE(uid.ok());
  EXPECT_EQ(uid.value(), 1u);
  auto again = state.add_local("f", msg("x", "X"));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again.value(), 1u);
  // The delta round that later sees the same id does not add it twice.
  AccountState::Changes changes;
  changes.upserts = {msg("x", "X")};
  auto applied = state.apply("f", changes);
  ASSERT_TRUE(applied.ok());
  EXPECT_TRUE(applied->added.empty());
  ASSERT_TRUE(state.remove_uids("f", {1}).ok());
  auto gone = state.uid_of("f", "x");
  ASSERT_TRUE(gone.ok());
  EXPECT_FALSE(gone.value());
  ASSERT_TRUE(state.set_subscribed("INBOX", true).ok());
  ASSERT_TRUE(state.set_subscribed("Gone/Away", true).ok());
  ASSERT_TRUE(state.set_subscribed("INBOX", false).ok());
  auto subscribed = state.subscribed();
  ASSERT_TRUE(subscribed.ok());
  EXPECT_EQ(subscribed.value(), std::vector<std::string>{"Gone/Away"});
  auto folder_records = state.folders();
  ASSERT_TRUE(folder_records.ok());
  ASSERT_EQ(folder_records->size(), 1u);  // "#uidvalidity" and "#sub/..." are not folders
  EXPECT_FALSE(state.add_local("missing", msg("y", "Y")).ok());
}

TEST(SyncRecords, FolderByPathMatchesInboxInAnyCase) {
  TempStore db;
  AccountState state(db.store(), "acct");
  ASSERT_TRUE(state.upsert_folder(tree("f", "INBOX"), kNow).ok());
  ASSERT_TRUE(state.upsert_folder(tree("g", "Work/Projects"), kNow).ok());
  auto found = state.folder_by_path("inbox");
  ASSERT_TRUE(found.ok() && found.value());
  EXPECT_EQ(found.value()->id, "f");
  auto nested = state.folder_by_path("Work/Projects");
  ASSERT_TRUE(nested.ok() && nested.value());
  auto missing = state.folder_by_path("work/projects");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing.value());
}

}  // namespace
}  // namespace mailtrixy::sync
