#include "mailtrixy/mail/fake_mailbox_backend.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <thread>

namespace mailtrixy::mail {
namespace {

std::string mime(const std::string& subject) {
  return "From: Alice <alice@example.com>\r\nTo: bob@example.org\r\nSubject: " + subject +
         "\r\n\r\nHello.\r\n";
}

Flags flags_of(std::initializer_list<std::string_view> names) {
  Flags flags;
  for (auto name : names) flags.add(name);
  return flags;
}

std::vector<std::uint32_t> uids_of(const std::vector<MessageMeta>& metas) {
  std::vector<std::uint32_t> out;
  for (const auto& meta : metas) out.push_back(meta.uid.value());
  return out;
}

TEST(FakeMailboxBackend, ListsDefaultFoldersInboxFirstParentsBeforeChildren) {
  FakeMailboxBackend backend;
  ASSERT_TRUE(backend.create_folder("Projects/2026/Q1").ok());
  ASSERT_TRUE(backend.set_subscribed("Projects", true).ok());
  auto folders = backend.list_folders();
  ASSERT_TRUE(folders.ok());
  ASSERT_FALSE(folders->empty());
  EXPECT_EQ(folders->front().path, "INBOX");
  EXPECT_EQ(folders->front().special_use, SpecialUse::inbox);
  std::vector<std::string> paths;
  for (const auto& folder : *folders) paths.push_back(folder.path);
  auto position = [&](std::string_view path) {
    return std::find(paths.begin(), paths.end(), path) - paths.begin();
  };
  EXPECT_LT(position("Projects"), position("Projects/2026"));
  EXPECT_LT(position("Projects/2026"), position("Projects/2026/Q1"));
  auto projects = folders->at(static_cast<std::size_t>(position("Projects")));
  EXPECT_TRUE(projects.has_children);
  EXPECT_TRUE(projects.subscribed);
  EXPECT_FALSE(folders->at(static_cast<std::size_t>(position("Projects/2026/Q1"))).has_children);
  EXPECT_EQ(folders->at(static_cast<std::size_t>(position("Deleted Items"))).special_use, SpecialUse::trash);
  EXPECT_EQ(folders->at(static_cast<std::size_t>(position("Sent Items"))).special_use, SpecialUse::sent);
  EXPECT_EQ(folders->at(static_cast<std::size_t>(position("Junk Email"))).special_use, SpecialUse::junk);
  EXPECT_EQ(folders->at(static_cast<std::size_t>(position("Archive"))).special_use, SpecialUse::archive);
  EXPECT_EQ(folders->at(static_cast<std::size_t>(position("Drafts"))).special_use, SpecialUse::drafts);
}

TEST(FakeMailboxBackend, AppendAssignsAscendingUidsAndStatusCounts) {
  FakeMailboxBackend backend(FakeMailboxBackend::Options{.first_uid_validity = 500});
  auto before = backend.folder_status("inbox");
  ASSERT_TRUE(before.ok());
  EXPECT_EQ(before->uid_validity, UidValidity{500});
  EXPECT_EQ(before->uid_next, Uid{1});
  EXPECT_EQ(before->messages, 0u);

  auto first = backend.append("INBOX", mime("one"), flags_of({"\\Seen"}), std::nullopt);
  auto second = backend.append("INBOX", mime("two"), flags_of({"Work"}),
                               std::chrono::sys_days{std::chrono::year{2001} / 2 / 3});
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(first->uid_validity, UidValidity{500});
  EXPECT_LT(first->uid, second->uid);

  auto status = backend.folder_status("INBOX");
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->messages, 2u);
  EXPECT_EQ(status->unseen, 1u);
  EXPECT_EQ(status->first_unseen, second->uid);
  EXPECT_EQ(status->uid_next, Uid{second->uid.value() + 1});
  EXPECT_EQ(status->size, mime("one").size() + mime("two").size());

  auto metas = backend.list_messages("INBOX", UidRange::all());
  ASSERT_TRUE(metas.ok());
  ASSERT_EQ(metas->size(), 2u);
  EXPECT_EQ((*metas)[0].envelope.subject, "one");
  EXPECT_EQ((*metas)[1].internal_date, std::chrono::sys_days{std::chrono::year{2001} / 2 / 3});
  EXPECT_TRUE((*metas)[1].flags.has_keyword("work"));
  EXPECT_EQ((*metas)[0].rfc822_size, mime("one").size());
  EXPECT_FALSE((*metas)[0].graph_id.value().empty());

  auto only_second = backend.list_messages("INBOX", UidRange::single(second->uid));
  ASSERT_TRUE(only_second.ok());
  EXPECT_EQ(uids_of(*only_second), std::vector<std::uint32_t>{second->uid.value()});
  auto none = backend.list_messages("INBOX", UidRange{Uid{9}, Uid{3}});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());

  auto body = backend.fetch_mime("INBOX", first->uid);
  ASSERT_TRUE(body.ok());
  EXPECT_EQ(*body, mime("one"));
}

TEST(FakeMailboxBackend, BadInputGetsTypedErrorsWithSentences) {
  FakeMailboxBackend backend;
  EXPECT_EQ(backend.folder_status("Nope").code(), ErrorCode::not_found);
  EXPECT_EQ(backend.folder_status("a//b").code(), ErrorCode::invalid);
  EXPECT_EQ(backend.append("INBOX", "", {}, std::nullopt).code(), ErrorCode::invalid);
  EXPECT_EQ(backend.append("INBOX", "garbage without headers", {}, std::nullopt).code(), ErrorCode::invalid);
  EXPECT_EQ(backend.append("Nope", mime("x"), {}, std::nullopt).code(), ErrorCode::not_found);
  EXPECT_EQ(backend.append("INBOX", mime("x"), flags_of({"bad{keyword"}), std::nullopt).code(),
            ErrorCode::invalid);
  EXPECT_EQ(backend.fetch_mime("INBOX", Uid{42}).code(), ErrorCode::not_found);
  EXPECT_EQ(backend.message_size("INBOX", Uid{42}).code(), ErrorCode::not_found);
  auto missing = backend.copy("INBOX", {Uid{1}}, "Nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.code(), ErrorCode::not_found);
  EXPECT_NE(missing.error().message.find("Nope"), std::string::npos);
  EXPECT_EQ(backend.subscribe("INBOX", nullptr).code(), ErrorCode::invalid);
  EXPECT_EQ(backend.request_refresh("Nope").code(), ErrorCode::not_found);
}

TEST(FakeMailboxBackend, StoreFlagsAddRemoveReplaceAndDraftIsReadOnly) {
  FakeMailboxBackend backend;
  auto a = backend.deliver("INBOX", mime("a"), flags_of({"\\Draft"}));
  auto b = backend.deliver("INBOX", mime("b"));
  ASSERT_TRUE(a.ok() && b.ok());

  auto added =
      backend.store_flags("INBOX", {*b, *a, *a, Uid{99}}, StoreMode::add, flags_of({"\\Seen", "Work"}));
  ASSERT_TRUE(added.ok());
  EXPECT_EQ(uids_of(*added), (std::vector<std::uint32_t>{a->value(), b->value()}))
      << "sorted, unique, missing skipped";
  EXPECT_TRUE((*added)[0].flags.has(SystemFlag::seen));
  EXPECT_TRUE((*added)[0].flags.has(SystemFlag::draft));

  auto removed = backend.store_flags("INBOX", {*a}, StoreMode::remove, flags_of({"work", "\\Draft"}));
  ASSERT_TRUE(removed.ok());
  EXPECT_FALSE((*removed)[0].flags.has_keyword("Work"));
  EXPECT_TRUE((*removed)[0].flags.has(SystemFlag::draft)) << "\\Draft cannot be removed";

  auto replaced =
      backend.store_flags("INBOX", {*b}, StoreMode::replace, flags_of({"\\Flagged", "\\Deleted"}));
  ASSERT_TRUE(replaced.ok());
  EXPECT_EQ((*replaced)[0].flags, flags_of({"\\Flagged", "\\Deleted"}));
  auto status = backend.folder_status("INBOX");
  EXPECT_EQ(status->deleted, 1u);
  EXPECT_EQ(status->unseen, 1u);
}

TEST(FakeMailboxBackend, CopyAndMoveReturnCopyUidAndNeverReuseUids) {
  FakeMailboxBackend backend;
  ASSERT_TRUE(backend.create_folder("Dest").ok());
  auto one = *backend.deliver("INBOX", mime("1"), flags_of({"\\Seen", "\\Deleted"}));
  auto two = *backend.deliver("INBOX", mime("2"));
  auto three = *backend.deliver("INBOX", mime("3"));

  auto copied = backend.copy("INBOX", {three, one, Uid{77}}, "Dest");
  ASSERT_TRUE(copied.ok());
  EXPECT_EQ(copied->destination_uid_validity, backend.folder_status("Dest")->uid_validity);
  ASSERT_EQ(copied->uids.size(), 2u);
  EXPECT_EQ(copied->uids[0].first, one);
  EXPECT_EQ(copied->uids[1].first, three);
  EXPECT_LT(copied->uids[0].second, copied->uids[1].second);
  auto dest = backend.list_messages("Dest", UidRange::all());
  ASSERT_EQ(dest->size(), 2u);
  EXPECT_TRUE((*dest)[0].flags.has(SystemFlag::seen));
  EXPECT_FALSE((*dest)[0].flags.has(SystemFlag::deleted)) << "\\Deleted does not travel";

  auto moved = backend.move("INBOX", {two}, "Dest");
  ASSERT_TRUE(moved.ok());
  ASSERT_EQ(moved->uids.size(), 1u);
  EXPECT_GT(moved->uids[0].second, copied->uids[1].second);
  EXPECT_EQ(uids_of(*backend.list_messages("INBOX", UidRange::all())),
            (std::vector<std::uint32_t>{one.value(), three.value()}));

  // Moving everything out and back in: UIDs keep rising.
  auto back = backend.move("Dest", {moved->uids[0].second}, "INBOX");
  ASSERT_TRUE(back.ok());
  EXPECT_GT(back->uids[0].second, three);
}

TEST(FakeMailboxBackend, ExpungeMovesToDeletedItemsOrDeletesThere) {
  FakeMailboxBackend backend;
  auto keep = *backend.deliver("INBOX", mime("keep"));
  auto doomed = *backend.deliver("INBOX", mime("doomed"));
  auto spared = *backend.deliver("INBOX", mime("spared"));
  ASSERT_TRUE(backend.store_flags("INBOX", {doomed, spared}, StoreMode::add, flags_of({"\\Deleted"})).ok());

  auto expunged = backend.expunge("INBOX", std::vector<Uid>{doomed, keep});
  ASSERT_TRUE(expunged.ok());
  EXPECT_EQ(*expunged, std::vector<Uid>{doomed}) << "UID EXPUNGE limits to the given set";
  auto trash = backend.list_messages("Deleted Items", UidRange::all());
  ASSERT_EQ(trash->size(), 1u);
  EXPECT_EQ((*trash)[0].envelope.subject, "doomed");
  EXPECT_FALSE((*trash)[0].flags.has(SystemFlag::deleted));

  auto rest = backend.expunge("INBOX", std::nullopt);
  ASSERT_TRUE(rest.ok());
  EXPECT_EQ(*rest, std::vector<Uid>{spared});
  EXPECT_EQ(uids_of(*backend.list_messages("INBOX", UidRange::all())),
            std::vector<std::uint32_t>{keep.value()});

  auto trash_uids = uids_of(*backend.list_messages("Deleted Items", UidRange::all()));
  ASSERT_EQ(trash_uids.size(), 2u);
  ASSERT_TRUE(
      backend.store_flags("Deleted Items", {Uid{trash_uids[0]}}, StoreMode::add, flags_of({"\\Deleted"}))
          .ok());
  auto gone = backend.expunge("Deleted Items", std::nullopt);
  ASSERT_TRUE(gone.ok());
  EXPECT_EQ(gone->size(), 1u);
  EXPECT_EQ(backend.list_messages("Deleted Items", UidRange::all())->size(), 1u)
      << "deleted for good inside Trash";
  auto status = backend.folder_status("INBOX");
  EXPECT_EQ(status->uid_next, Uid{spared.value() + 1}) << "expunged UIDs are never reused";
}

TEST(FakeMailboxBackend, FolderCreateRenameDelete) {
  FakeMailboxBackend backend;
  ASSERT_TRUE(backend.create_folder("A/B").ok());
  EXPECT_EQ(backend.create_folder("A").code(), ErrorCode::already_exists);
  EXPECT_EQ(backend.create_folder("inbox").code(), ErrorCode::already_exists);
  EXPECT_EQ(backend.create_folder("/bad").code(), ErrorCode::invalid);
  ASSERT_TRUE(backend.create_folder("INBOX/Child").ok());
  auto validity = backend.folder_status("A/B")->uid_validity;
  auto uid = *backend.deliver("A/B", mime("inside"));

  ASSERT_TRUE(backend.rename_folder("A", "X/Y").ok());
  EXPECT_EQ(backend.folder_status("A").code(), ErrorCode::not_found);
  EXPECT_TRUE(backend.folder_status("X").ok()) << "missing parents are created";
  auto moved = backend.folder_status("X/Y/B");
  ASSERT_TRUE(moved.ok());
  EXPECT_EQ(moved->uid_validity, validity);
  EXPECT_TRUE(backend.fetch_mime("X/Y/B", uid).ok());

  EXPECT_EQ(backend.rename_folder("X", "X/Y/Z").code(), ErrorCode::invalid);
  EXPECT_EQ(backend.rename_folder("X/Y", "INBOX").code(), ErrorCode::already_exists);
  EXPECT_EQ(backend.rename_folder("INBOX", "Old").code(), ErrorCode::not_supported);
  EXPECT_EQ(backend.rename_folder("Sent Items", "Sent").code(), ErrorCode::no_permission);
  EXPECT_EQ(backend.rename_folder("Nope", "Other").code(), ErrorCode::not_found);

  EXPECT_EQ(backend.delete_folder("INBOX").code(), ErrorCode::no_permission);
  EXPECT_EQ(backend.delete_folder("Deleted Items").code(), ErrorCode::no_permission);
  ASSERT_TRUE(backend.delete_folder("X").ok());
  EXPECT_EQ(backend.folder_status("X/Y/B").code(), ErrorCode::not_found);
  ASSERT_TRUE(backend.create_folder("X").ok());
  EXPECT_NE(backend.folder_status("X")->uid_validity, validity)
      << "a re-created folder gets a new UIDVALIDITY";
}

TEST(FakeMailboxBackend, SubscriptionsListIncludesVanishedFolders) {
  FakeMailboxBackend backend;
  ASSERT_TRUE(backend.set_subscribed("Ghost", true).ok());
  ASSERT_TRUE(backend.set_subscribed("inbox", true).ok());
  ASSERT_TRUE(backend.set_subscribed("Ghost", false).ok());
  ASSERT_TRUE(backend.set_subscribed("Later", true).ok());
  EXPECT_EQ(*backend.subscribed_folders(), (std::vector<std::string>{"INBOX", "Later"}));
  EXPECT_EQ(backend.set_subscribed("", true).code(), ErrorCode::invalid);
}

TEST(FakeMailboxBackend, ChangeEventsReachSubscribersOfThatFolderOnly) {
  FakeMailboxBackend backend;
  std::vector<ChangeEvent> inbox_events;
  std::vector<ChangeEvent> archive_events;
  auto inbox_subscription =
      backend.subscribe("INBOX", [&](const ChangeEvent& e) { inbox_events.push_back(e); });
  auto archive_subscription =
      backend.subscribe("Archive", [&](const ChangeEvent& e) { archive_events.push_back(e); });
  ASSERT_TRUE(inbox_subscription.ok() && archive_subscription.ok());
  EXPECT_TRUE(backend.is_watched("inbox"));
  EXPECT_FALSE(backend.is_watched("Drafts"));

  auto uid = *backend.deliver("INBOX", mime("new"));
  ASSERT_TRUE(backend.store_flags("INBOX", {uid}, StoreMode::add, flags_of({"\\Seen"})).ok());
  ASSERT_TRUE(backend.store_flags("INBOX", {uid}, StoreMode::add, flags_of({"\\Seen"})).ok());  // no change
  ASSERT_TRUE(backend.set_flags_outside("INBOX", uid, flags_of({"\\Seen", "\\Flagged"})).ok());
  auto moved = backend.move("INBOX", {uid}, "Archive");
  ASSERT_TRUE(moved.ok());

  ASSERT_EQ(inbox_events.size(), 4u);
  EXPECT_EQ(inbox_events[0].kind, ChangeEvent::Kind::message_added);
  EXPECT_EQ(inbox_events[0].uid, uid);
  EXPECT_EQ(inbox_events[0].meta.envelope.subject, "new");
  EXPECT_EQ(inbox_events[0].folder, "INBOX");
  EXPECT_EQ(inbox_events[1].kind, ChangeEvent::Kind::flags_changed);
  EXPECT_TRUE(inbox_events[1].meta.flags.has(SystemFlag::seen));
  EXPECT_EQ(inbox_events[2].kind, ChangeEvent::Kind::flags_changed);
  EXPECT_TRUE(inbox_events[2].meta.flags.has(SystemFlag::flagged));
  EXPECT_EQ(inbox_events[3].kind, ChangeEvent::Kind::message_expunged);
  EXPECT_EQ(inbox_events[3].uid, uid);
  ASSERT_EQ(archive_events.size(), 1u);
  EXPECT_EQ(archive_events[0].kind, ChangeEvent::Kind::message_added);
  EXPECT_EQ(archive_events[0].uid, moved->uids[0].second);

  ASSERT_TRUE(backend.remove_outside("Archive", moved->uids[0].second).ok());
  EXPECT_EQ(archive_events.back().kind, ChangeEvent::Kind::message_expunged);

  inbox_subscription->reset();
  EXPECT_FALSE(backend.is_watched("INBOX"));
  ASSERT_TRUE(backend.deliver("INBOX", mime("unheard")).ok());
  EXPECT_EQ(inbox_events.size(), 4u) << "no events after unsubscribing";
}

TEST(FakeMailboxBackend, DeletingOrRenamingASubscribedFolderEndsTheSubscription) {
  FakeMailboxBackend backend;
  ASSERT_TRUE(backend.create_folder("Temp").ok());
  ASSERT_TRUE(backend.create_folder("Moving").ok());
  std::vector<ChangeEvent> temp_events;
  std::vector<ChangeEvent> moving_events;
  auto temp = backend.subscribe("Temp", [&](const ChangeEvent& e) { temp_events.push_back(e); });
  auto moving = backend.subscribe("Moving", [&](const ChangeEvent& e) { moving_events.push_back(e); });
  ASSERT_TRUE(temp.ok() && moving.ok());
  ASSERT_TRUE(backend.delete_folder("Temp").ok());
  ASSERT_TRUE(backend.rename_folder("Moving", "Moved").ok());
  ASSERT_EQ(temp_events.size(), 1u);
  EXPECT_EQ(temp_events[0].kind, ChangeEvent::Kind::folder_removed);
  ASSERT_EQ(moving_events.size(), 1u);
  EXPECT_EQ(moving_events[0].kind, ChangeEvent::Kind::folder_removed);
  EXPECT_EQ(moving_events[0].folder, "Moving");
  ASSERT_TRUE(backend.deliver("Moved", mime("after")).ok());
  EXPECT_EQ(moving_events.size(), 1u);
  EXPECT_FALSE(backend.is_watched("Moved"));
}

TEST(FakeMailboxBackend, SizesCanStayUnknownUntilAsked) {
  FakeMailboxBackend backend(FakeMailboxBackend::Options{.sizes_known_upfront = false});
  auto uid = *backend.deliver("INBOX", mime("sized"));
  EXPECT_FALSE(backend.list_messages("INBOX", UidRange::all())->at(0).rfc822_size.has_value());
  EXPECT_EQ(backend.folder_status("INBOX")->size, 0u);
  auto size = backend.message_size("INBOX", uid);
  ASSERT_TRUE(size.ok());
  EXPECT_EQ(*size, mime("sized").size());
  EXPECT_EQ(backend.list_messages("INBOX", UidRange::all())->at(0).rfc822_size, mime("sized").size());
}

TEST(FakeMailboxBackend, RefreshRequestsFaultsAndCallCounts) {
  FakeMailboxBackend backend;
  ASSERT_TRUE(backend.request_refresh("inbox").ok());
  ASSERT_TRUE(backend.request_refresh("INBOX").ok());
  EXPECT_EQ(backend.refresh_requests("INBOX"), 2u);
  backend.fail_next("append", make_mail_error(ErrorCode::quota, "Mailbox full."));
  EXPECT_EQ(backend.append("INBOX", mime("x"), {}, std::nullopt).code(), ErrorCode::quota);
  EXPECT_TRUE(backend.append("INBOX", mime("x"), {}, std::nullopt).ok());
  EXPECT_EQ(backend.calls("append"), 2u);
  EXPECT_EQ(backend.calls(), 4u);
}

TEST(FakeMailboxBackend, ConcurrentWritersKeepUidsUniqueAndEventsOrdered) {
  FakeMailboxBackend backend;
  std::mutex seen_mutex;
  std::vector<std::uint32_t> seen;
  auto subscription = backend.subscribe("INBOX", [&](const ChangeEvent& event) {
    if (event.kind != ChangeEvent::Kind::message_added) return;
    std::lock_guard lock(seen_mutex);
    seen.push_back(event.uid.value());
  });
  ASSERT_TRUE(subscription.ok());
  constexpr int kThreads = 4;
  constexpr int kPerThread = 50;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&backend, t] {
      for (int i = 0; i < kPerThread; ++i) {
        auto result =
            backend.append("INBOX", mime(std::to_string(t) + "-" + std::to_string(i)), {}, std::nullopt);
        ASSERT_TRUE(result.ok());
      }
    });
  }
  for (auto& thread : threads) thread.join();
  subscription->reset();
  ASSERT_EQ(seen.size(), static_cast<std::size_t>(kThreads * kPerThread));
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end())) << "events arrive in the order UIDs were assigned";
  EXPECT_EQ(std::adjacent_find(seen.begin(), seen.end()), seen.end());
  EXPECT_EQ(backend.folder_status("INBOX")->messages, static_cast<std::uint32_t>(kThreads * kPerThread));
}

TEST(FakeMailboxBackend, CallbacksMayCallBackIntoTheFake) {
  FakeMailboxBackend backend;
  std::vector<Uid> flagged;
  std::optional<MailResult<ChangeSubscription>> subscription;
  subscription.emplace(backend.subscribe("INBOX", [&](const ChangeEvent& event) {
    if (event.kind == ChangeEvent::Kind::message_added) {
      ASSERT_TRUE(backend.store_flags("INBOX", {event.uid}, StoreMode::add, flags_of({"\\Flagged"})).ok());
    } else if (event.kind == ChangeEvent::Kind::flags_changed) {
      flagged.push_back(event.uid);
    }
  }));
  auto uid = *backend.deliver("INBOX", mime("reentrant"));
  EXPECT_EQ(flagged, std::vector<Uid>{uid});
  subscription.reset();
}

}  // namespace
}  // namespace mailtrixy::mail
