#include "mailtrixy/sync/synced_mailbox.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>

#include "mailtrixy/mail/fake_remote_mailbox.hpp"
#include "sync_test_support.hpp"

namespace mailtrixy::sync {
namespace {

using mail::ErrorCode;
using mail::FolderId;
using mail::SystemFlag;
using mail::Uid;
using testing::TempStore;

std::string mime(const std::string& subject, std::size_t body_bytes = 10) {
  return "From: Ann <ann@example.com>\r\nTo: bob@example.com\r\nSubject: " + subject +
         "\r\nMessage-ID: <" + subject + "@example.com>\r\n\r\n" + std::string(body_bytes, 'x') + "\r\n";
}

class SyncedMailboxTest : public ::testing::Test {
 protected:
  SyncedMailboxTest() { make_mailbox(); }

  void make_mailbox() {
    mailbox.reset();
    bodies = std::make_shared<BodyCache>(db.store(), cache_bytes, [this] { return now_ms; });
    ASSERT_TRUE(bodies->load().ok());
    mailbox = std::make_unique<SyncedMailbox>(db.store(), "acct", remote, bodies, [this] { return now_ms; });
  }
  void restart() {
    mailbox.reset();
    bodies.reset();
    db.reopen();
    make_mailbox();
  }
  void sync_all() {
    ASSERT_TRUE(mailbox->sync_folder_tree().ok());
    for (const auto& f : mailbox->schedule()) {
      auto round = mailbox->sync_folder(f.id);
      ASSERT_TRUE(round.ok()) << f.path << ": " << round.error().message;
    }
  }
  std::vector<mail::MessageMeta> list(std::string_view path) {
    auto listed = mailbox->list_messages(path, mail::UidRange::all());
    EXPECT_TRUE(listed.ok()) << (listed.ok() ? "" : listed.error().message);
    return listed.ok() ? listed.value() : std::vector<mail::MessageMeta>{};
  }
  std::map<std::string, std::uint32_t> uids_by_subject(std::string_view path) {
    std::map<std::string, std::uint32_t> out;
    for (const auto& m : list(path)) out[m.envelope.subject] = m.uid.value();
    return out;
  }

  TempStore db;
  std::int64_t now_ms = 1'790'000'000'000;
  std::uint64_t cache_bytes = 1 << 20;
  std::shared_ptr<mail::FakeRemoteMailbox> remote = std::make_shared<mail::FakeRemoteMailbox>();
  std::shared_ptr<BodyCache> bodies;
  std::unique_ptr<SyncedMailbox> mailbox;
};

TEST_F(SyncedMailboxTest, InitialSyncMapsTheTreeWithSpecialUseAndNestedFolders) {
  auto projects = remote->create_folder_outside(remote->folder_id("msgfolderroot"), "Projects");
  remote->create_folder_outside(projects, "2026/Q1");
  remote->create_folder_outside(remote->folder_id("inbox"), "Receipts");
  sync_all();
  auto folders = mailbox->list_folders();
  ASSERT_TRUE(folders.ok());
  std::map<std::string, mail::FolderInfo> by_path;
  for (const auto& f : folders.value()) by_path[f.path] = f;
  EXPECT_EQ(folders->front().path, "INBOX");
  ASSERT_TRUE(by_path.count("INBOX/Receipts"));
  ASSERT_TRUE(by_path.count("Projects"));
  EXPECT_TRUE(by_path["Projects"].has_children);
  ASSERT_TRUE(by_path.count("Projects/2026\xE2\x88\x95Q1"));  // '/' in a name is U+2215
  EXPECT_EQ(by_path["Sent Items"].special_use, mail::SpecialUse::sent);
  EXPECT_EQ(by_path["Deleted Items"].special_use, mail::SpecialUse::trash);
  EXPECT_EQ(by_path["Junk Email"].special_use, mail::SpecialUse::junk);
  EXPECT_EQ(by_path["Drafts"].special_use, mail::SpecialUse::drafts);
}

TEST_F(SyncedMailboxTest, UidsAscendAcrossPagesAndStatusNeedsNoGraphCall) {
  remote->set_page_size(3);
  for (int i = 1; i <= 8; ++i)
    remote->deliver(remote->folder_id("inbox"), mime("m" + std::to_string(i)), i % 2 ? mail::Flags{} : mail::Flags().set(SystemFlag::seen));
  sync_all();
  remote->reset_calls();
  auto status = mailbox->folder_status("inbox");
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->messages, 8u);
  EXPECT_EQ(status->unseen, 4u);
  EXPECT_EQ(status->uid_next, Uid(9));
  EXPECT_EQ(status->first_unseen, Uid(1));
  auto listed = list("INBOX");
  ASSERT_EQ(listed.size(), 8u);
  for (std::size_t i = 0; i < listed.size(); ++i) EXPECT_EQ(listed[i].uid, Uid(static_cast<std::uint32_t>(i + 1)));
  auto range = mailbox->list_messages("INBOX", {Uid(3), Uid(5)});
  ASSERT_TRUE(range.ok());
  ASSERT_EQ(range->size(), 3u);
  EXPECT_EQ(range->front().envelope.subject, "m3");
  EXPECT_EQ(remote->calls(), 0u);
  EXPECT_EQ(mailbox->folder_status("Nope").code(), ErrorCode::not_found);
  EXPECT_EQ(mailbox->folder_status("a//b").code(), ErrorCode::invalid);
}

TEST_F(SyncedMailboxTest, OutlookSideChangesAppearAsEventsAndUidsAreNeverReused) {
  auto a = remote->deliver(remote->folder_id("inbox"), mime("a"));
  auto b = remote->deliver(remote->folder_id("inbox"), mime("b"));
  sync_all();
  std::vector<mail::ChangeEvent> events;
  auto subscription = mailbox->subscribe("INBOX", [&](const mail::ChangeEvent& e) { events.push_back(e); });
  ASSERT_TRUE(subscription.ok());
  EXPECT_TRUE(mailbox->schedule().front().watched);

  remote->set_flags_outside(a, mail::Flags().set(SystemFlag::seen).set(SystemFlag::flagged).add_keyword("Red"));
  remote->move_outside(b, remote->folder_id("archive"));
  remote->deliver(remote->folder_id("inbox"), mime("c"));
  sync_all();

  auto uids = uids_by_subject("INBOX");
  EXPECT_EQ(uids, (std::map<std::string, std::uint32_t>{{"a", 1}, {"c", 3}}));
  auto archived = uids_by_subject("Archive");
  EXPECT_EQ(archived, (std::map<std::string, std::uint32_t>{{"b", 1}}));
  int added = 0, expunged = 0, flags = 0;
  for (const auto& e : events) {
    if (e.kind == mail::ChangeEvent::Kind::message_added) { ++added; EXPECT_EQ(e.uid, Uid(3)); }
    if (e.kind == mail::ChangeEvent::Kind::message_expunged) { ++expunged; EXPECT_EQ(e.uid, Uid(2)); }
    if (e.kind == mail::ChangeEvent::Kind::flags_changed) {
      ++flags;
      EXPECT_TRUE(e.meta.flags.has(SystemFlag::flagged));
      EXPECT_TRUE(e.meta.flags.has_keyword("Red"));
    }
  }
  EXPECT_EQ(added, 1);
  EXPECT_EQ(expunged, 1);
  EXPECT_EQ(flags, 1);
  subscription->reset();
  EXPECT_FALSE(mailbox->schedule().front().watched);
}

TEST_F(SyncedMailboxTest, RestartAndExpiredDeltaKeepEveryUidAndUidValidity) {
  remote->set_page_size(2);
  for (int i = 1; i <= 5; ++i) remote->deliver(remote->folder_id("inbox"), mime("m" + std::to_string(i)));
  sync_all();
  auto before = uids_by_subject("INBOX");
  auto validity = mailbox->folder_status("INBOX")->uid_validity;

  restart();
  auto ids = remote->message_ids(remote->folder_id("inbox"));
  remote->remove_outside(ids[1]);  // m2 goes while the bridge is down
  remote->deliver(remote->folder_id("inbox"), mime("m6"));
  remote->expire_delta_links();
  remote->reset_calls();
  sync_all();
  EXPECT_GE(remote->calls("message_delta"), 2u);  // the 410 and the new listing

  auto after = uids_by_subject("INBOX");
  before.erase("m2");
  before["m6"] = 6;
  EXPECT_EQ(after, before);
  EXPECT_EQ(mailbox->folder_status("INBOX")->uid_validity, validity);
  EXPECT_EQ(mailbox->folder_status("INBOX")->uid_next, Uid(7));
}

TEST_F(SyncedMailboxTest, AnInterruptedInitialListingResumesWithoutNewUids) {
  remote->set_page_size(2);
  for (int i = 1; i <= 5; ++i) remote->deliver(remote->folder_id("inbox"), mime("m" + std::to_string(i)));
  auto interrupting = std::make_shared<testing::InterruptingRemote>(remote);
  interrupting->before_delta = [](int call) -> std::optional<mail::MailError> {
    if (call == 2) return mail::make_mail_error(ErrorCode::unavailable, "connection reset");
    return std::nullopt;
  };
  std::string inbox;
  {
    SyncedMailbox first(db.store(), "acct", interrupting, bodies, [this] { return now_ms; });
    ASSERT_TRUE(first.sync_folder_tree().ok());
    inbox = first.schedule().front().id;
    EXPECT_EQ(first.sync_folder(inbox).code(), ErrorCode::unavailable);
  }
  auto partial = uids_by_subject("INBOX");
  EXPECT_EQ(partial.size(), 2u);  // page 1 is stored, the round is not complete
  auto folder = mailbox->state().folder(inbox);
  ASSERT_TRUE(folder.ok() && folder.value());
  EXPECT_TRUE(folder.value()->delta_link.empty());
  EXPECT_FALSE(folder.value()->initial_sync_complete);

  restart();
  remote->deliver(remote->folder_id("inbox"), mime("m6"));
  ASSERT_TRUE(mailbox->sync_folder(inbox).ok());
  auto complete = uids_by_subject("INBOX");
  ASSERT_EQ(complete.size(), 6u);
  for (const auto& [subject, uid] : partial) EXPECT_EQ(complete.at(subject), uid);
  EXPECT_EQ(mailbox->folder_status("INBOX")->uid_next, Uid(7));
}

TEST_F(SyncedMailboxTest, FlagWritesGoToGraphAndDeletedStaysLocalUntilExpunge) {
  auto a = remote->deliver(remote->folder_id("inbox"), mime("a"));
  remote->deliver(remote->folder_id("inbox"), mime("b"));
  sync_all();
  remote->reset_calls();
  auto stored = mailbox->store_flags("INBOX", {Uid(1), Uid(99)}, mail::StoreMode::add,
                                     mail::Flags().set(SystemFlag::seen).set(SystemFlag::answered).add_keyword("Project_X"));
  ASSERT_TRUE(stored.ok()) << stored.error().message;
  ASSERT_EQ(stored->size(), 1u);
  EXPECT_EQ(remote->calls("update_flags"), 1u);
  auto on_graph = remote->message(a);
  ASSERT_TRUE(on_graph);
  EXPECT_TRUE(on_graph->flags.has(SystemFlag::seen));
  EXPECT_TRUE(on_graph->flags.has(SystemFlag::answered));
  EXPECT_TRUE(on_graph->flags.has_keyword("Project_X"));

  auto deleted = mailbox->store_flags("INBOX", {Uid(1)}, mail::StoreMode::add, mail::Flags().set(SystemFlag::deleted));
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(remote->calls("update_flags"), 1u);  // \Deleted never reaches Graph
  sync_all();  // a delta round does not clear the local \Deleted
  EXPECT_TRUE(list("INBOX")[0].flags.has(SystemFlag::deleted));
  EXPECT_EQ(mailbox->folder_status("INBOX")->deleted, 1u);

  auto expunged = mailbox->expunge("INBOX", std::nullopt);
  ASSERT_TRUE(expunged.ok());
  EXPECT_EQ(expunged.value(), std::vector<Uid>{Uid(1)});
  EXPECT_EQ(remote->calls("delete_message"), 1u);
  sync_all();
  EXPECT_EQ(uids_by_subject("Deleted Items").count("a"), 1u);
  // Expunge inside Deleted Items deletes for good.
  ASSERT_TRUE(mailbox->store_flags("Deleted Items", {Uid(1)}, mail::StoreMode::add, mail::Flags().set(SystemFlag::deleted)).ok());
  ASSERT_TRUE(mailbox->expunge("Deleted Items", std::nullopt).ok());
  EXPECT_EQ(remote->calls("permanently_delete_message"), 1u);
  EXPECT_FALSE(remote->message(a));
}

TEST_F(SyncedMailboxTest, AppendCopyMoveReturnExactUidsThatTheNextDeltaKeeps) {
  remote->deliver(remote->folder_id("inbox"), mime("a"));
  sync_all();
  auto appended = mailbox->append("INBOX", mime("appended"), mail::Flags().set(SystemFlag::seen), std::nullopt);
  ASSERT_TRUE(appended.ok()) << appended.error().message;
  EXPECT_EQ(appended->uid, Uid(2));
  EXPECT_EQ(appended->uid_validity, mailbox->folder_status("INBOX")->uid_validity);
  EXPECT_EQ(mailbox->append("INBOX", "", {}, std::nullopt).code(), ErrorCode::invalid);

  auto copied = mailbox->copy("INBOX", {Uid(1), Uid(2)}, "Archive");
  ASSERT_TRUE(copied.ok());
  ASSERT_EQ(copied->uids.size(), 2u);
  EXPECT_EQ(copied->uids[1], std::make_pair(Uid(2), Uid(2)));
  auto moved = mailbox->move("INBOX", {Uid(1)}, "Archive");
  ASSERT_TRUE(moved.ok());
  ASSERT_EQ(moved->uids.size(), 1u);
  EXPECT_EQ(moved->uids[0].second, Uid(3));
  sync_all();
  EXPECT_EQ(uids_by_subject("INBOX"), (std::map<std::string, std::uint32_t>{{"appended", 2}}));
  auto archive = list("Archive");
  ASSERT_EQ(archive.size(), 3u);
  EXPECT_EQ(archive.back().uid, Uid(3));
  EXPECT_EQ(mailbox->folder_status("Archive")->uid_next, Uid(4));
}

TEST_F(SyncedMailboxTest, ListFlagsGivesTheUidsAndFlagsOfListMessages) {
  remote->deliver(remote->folder_id("inbox"), mime("a"));
  remote->deliver(remote->folder_id("inbox"), mime("b"));
  remote->deliver(remote->folder_id("archive"), mime("elsewhere"));
  sync_all();
  ASSERT_TRUE(mailbox->store_flags("INBOX", {Uid(2)}, mail::StoreMode::add,
                                   mail::Flags().set(SystemFlag::seen).set(SystemFlag::deleted).add_keyword("Work").add_keyword("$Label1"))
                  .ok());
  auto flags = mailbox->list_flags("INBOX");
  ASSERT_TRUE(flags.ok());
  std::vector<mail::MessageFlags> expected;
  for (const auto& meta : list("INBOX")) expected.push_back({meta.uid, meta.flags});
  EXPECT_EQ(flags.value(), expected);
  ASSERT_EQ(flags->size(), 2u);
  EXPECT_TRUE(flags->at(1).flags.has_keyword("work"));
  EXPECT_TRUE(flags->at(1).flags.has(SystemFlag::deleted));
  EXPECT_EQ(mailbox->list_flags("No such").code(), ErrorCode::not_found);
}

TEST_F(SyncedMailboxTest, FolderStatusIsCachedOnlyWhileNothingChanged) {
  remote->deliver(remote->folder_id("inbox"), mime("a"));
  remote->deliver(remote->folder_id("inbox"), mime("b"));
  sync_all();
  auto first = mailbox->folder_status("INBOX");
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->unseen, 2u);
  EXPECT_EQ(mailbox->folder_status("INBOX")->unseen, 2u);  // served from the cache
  // Every kind of change is seen at once: a local flag write, new mail, a learned size.
  ASSERT_TRUE(mailbox->store_flags("INBOX", {Uid(1)}, mail::StoreMode::add, mail::Flags().set(SystemFlag::seen)).ok());
  EXPECT_EQ(mailbox->folder_status("INBOX")->unseen, 1u);
  remote->deliver(remote->folder_id("inbox"), mime("c"));
  sync_all();
  EXPECT_EQ(mailbox->folder_status("INBOX")->messages, 3u);
  EXPECT_EQ(mailbox->folder_status("INBOX")->size, 0u);
  auto body = mailbox->fetch_mime("INBOX", Uid(3));
  ASSERT_TRUE(body.ok());
  EXPECT_EQ(mailbox->folder_status("INBOX")->size, body->size());
}

TEST_F(SyncedMailboxTest, AnAppendedMessageReadsBackAsTheExactBytesAppended) {
  // Microsoft regenerates MIME; the client must still read back what it appended.
  const std::string appended_mime = "From: me@example.com\r\nX-Client: kept as sent\r\nSubject: mine\r\n\r\nexact  bytes\r\n";
  sync_all();
  auto appended = mailbox->append("INBOX", appended_mime, {}, std::nullopt);
  ASSERT_TRUE(appended.ok()) << appended.error().message;
  sync_all();
  remote->reset_calls();
  auto served = mailbox->fetch_mime("INBOX", appended->uid);
  ASSERT_TRUE(served.ok());
  EXPECT_EQ(served.value(), appended_mime);
  EXPECT_EQ(mailbox->message_size("INBOX", appended->uid).value(), appended_mime.size());
  EXPECT_EQ(remote->calls("fetch_mime") + remote->calls("message_size"), 0u);
}

TEST_F(SyncedMailboxTest, SizeIsTheExactLengthOfTheServedBodyAndBodiesAreCached) {
  const std::string body = mime("sized", 5000);
  remote->deliver(remote->folder_id("inbox"), body);
  sync_all();
  remote->reset_calls();
  auto size = mailbox->message_size("INBOX", Uid(1));
  ASSERT_TRUE(size.ok());
  auto served = mailbox->fetch_mime("INBOX", Uid(1));
  ASSERT_TRUE(served.ok());
  EXPECT_EQ(size.value(), served->size());
  EXPECT_EQ(remote->calls("fetch_mime") + remote->calls("message_size"), 1u);  // one download, then cached
  EXPECT_EQ(list("INBOX")[0].rfc822_size, std::optional<std::uint64_t>(served->size()));
  restart();
  remote->reset_calls();
  ASSERT_TRUE(mailbox->fetch_mime("INBOX", Uid(1)).ok());
  EXPECT_EQ(remote->calls(), 0u);  // the encrypted cache survives restarts
  EXPECT_EQ(mailbox->fetch_mime("INBOX", Uid(7)).code(), ErrorCode::not_found);
}

TEST_F(SyncedMailboxTest, BodyCacheEvictsLeastRecentlyUsedBeyondItsBound) {
  cache_bytes = 12'000;
  make_mailbox();
  for (int i = 1; i <= 4; ++i) remote->deliver(remote->folder_id("inbox"), mime("b" + std::to_string(i), 5000));
  sync_all();
  ASSERT_TRUE(mailbox->fetch_mime("INBOX", Uid(1)).ok());
  now_ms += 1000;
  ASSERT_TRUE(mailbox->fetch_mime("INBOX", Uid(2)).ok());
  now_ms += 1000;
  ASSERT_TRUE(mailbox->fetch_mime("INBOX", Uid(1)).ok());  // 1 is now more recent than 2
  now_ms += 1000;
  ASSERT_TRUE(mailbox->fetch_mime("INBOX", Uid(3)).ok());
  EXPECT_LE(bodies->total_bytes(), cache_bytes);
  EXPECT_EQ(bodies->entries(), 2u);
  remote->reset_calls();
  ASSERT_TRUE(mailbox->fetch_mime("INBOX", Uid(1)).ok());
  EXPECT_EQ(remote->calls("fetch_mime"), 0u);
  ASSERT_TRUE(mailbox->fetch_mime("INBOX", Uid(2)).ok());
  EXPECT_EQ(remote->calls("fetch_mime"), 1u);  // 2 was evicted
}

TEST_F(SyncedMailboxTest, FolderCreateRenameDeleteKeepUidValidityAndProtectSpecialFolders) {
  sync_all();
  ASSERT_TRUE(mailbox->create_folder("Work/Clients").ok());
  EXPECT_EQ(mailbox->create_folder("Work").code(), ErrorCode::already_exists);
  EXPECT_TRUE(remote->find_folder("Work/Clients"));
  auto validity = mailbox->folder_status("Work/Clients")->uid_validity;
  std::vector<mail::ChangeEvent> events;
  auto subscription = mailbox->subscribe("Work/Clients", [&](const mail::ChangeEvent& e) { events.push_back(e); });
  ASSERT_TRUE(subscription.ok());
  ASSERT_TRUE(mailbox->rename_folder("Work", "Jobs").ok());
  EXPECT_EQ(mailbox->folder_status("Jobs/Clients")->uid_validity, validity);
  EXPECT_EQ(mailbox->folder_status("Work/Clients").code(), ErrorCode::not_found);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, mail::ChangeEvent::Kind::folder_removed);
  sync_all();  // the Graph tree agrees
  EXPECT_EQ(mailbox->folder_status("Jobs/Clients")->uid_validity, validity);
  EXPECT_EQ(mailbox->rename_folder("INBOX", "Old").code(), ErrorCode::not_supported);
  EXPECT_EQ(mailbox->delete_folder("Sent Items").code(), ErrorCode::no_permission);
  ASSERT_TRUE(mailbox->delete_folder("Jobs").ok());
  EXPECT_EQ(mailbox->folder_status("Jobs/Clients").code(), ErrorCode::not_found);
  ASSERT_TRUE(mailbox->create_folder("Jobs").ok());
  EXPECT_NE(mailbox->folder_status("Jobs")->uid_validity, validity);
}

TEST_F(SyncedMailboxTest, RemoteFailuresAreReportedWithTheirCode) {
  sync_all();
  remote->fail_next("message_delta", mail::make_mail_error(ErrorCode::unavailable, "throttled"));
  auto inbox = mailbox->schedule().front();
  EXPECT_EQ(mailbox->sync_folder(inbox.id).code(), ErrorCode::unavailable);
  remote->deliver(remote->folder_id("inbox"), mime("later"));
  ASSERT_TRUE(mailbox->sync_folder(inbox.id).ok());
  EXPECT_EQ(uids_by_subject("INBOX").at("later"), 1u);
}

}  // namespace
}  // namespace mailtrixy::sync
