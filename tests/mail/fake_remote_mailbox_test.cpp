#include "mailtrixy/mail/fake_remote_mailbox.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <stdexcept>

namespace mailtrixy::mail {
namespace {

std::string mime(const std::string& subject) {
  return "From: Alice <alice@example.com>\r\nTo: bob@example.org\r\nSubject: " + subject +
         "\r\nDate: Mon, 2 Mar 2026 10:00:00 +0000\r\n\r\nHello.\r\n";
}

// Runs one delta round to completion; returns the final link and applies changes to `view`
// (id -> flags), the way a sync engine would.
std::string sync_round(FakeRemoteMailbox& remote, const FolderId& folder, std::string link,
                       std::map<std::string, RemoteMessage>& view, int* pages = nullptr) {
  while (true) {
    auto page = remote.message_delta(folder, link);
    EXPECT_TRUE(page.ok()) << (page.ok() ? "" : page.error().message);
    if (!page.ok()) return {};
    if (pages != nullptr) ++*pages;
    for (const auto& message : page->changed) view[message.id.value()] = message;
    for (const auto& id : page->removed) view.erase(id.value());
    EXPECT_NE(page->next_link.empty(), page->delta_link.empty()) << "exactly one link per page";
    if (page->last_page()) return page->delta_link;
    link = page->next_link;
  }
}

TEST(FakeRemoteMailbox, DefaultFoldersWithSpecialUseParentsFirst) {
  FakeRemoteMailbox remote;
  auto sub = remote.create_folder_outside(remote.folder_id("inbox"), "Sub");
  remote.create_folder_outside(sub, "Leaf");
  auto folders = remote.list_folders();
  ASSERT_TRUE(folders.ok());
  std::map<std::string, RemoteFolder> by_name;
  std::vector<std::string> order;
  for (const auto& folder : *folders) {
    by_name[folder.display_name] = folder;
    order.push_back(folder.display_name);
  }
  EXPECT_EQ(by_name["Inbox"].special_use, SpecialUse::inbox);
  EXPECT_EQ(by_name["Sent Items"].special_use, SpecialUse::sent);
  EXPECT_EQ(by_name["Drafts"].special_use, SpecialUse::drafts);
  EXPECT_EQ(by_name["Deleted Items"].special_use, SpecialUse::trash);
  EXPECT_EQ(by_name["Junk Email"].special_use, SpecialUse::junk);
  EXPECT_EQ(by_name["Archive"].special_use, SpecialUse::archive);
  EXPECT_EQ(by_name["Outbox"].special_use, SpecialUse::none);
  EXPECT_EQ(by_name["Inbox"].child_folder_count, 1u);
  EXPECT_EQ(by_name["Leaf"].parent_id, by_name["Sub"].id);
  EXPECT_EQ(by_name["Inbox"].parent_id, remote.folder_id("msgfolderroot"));
  auto position = [&](const std::string& name) {
    return std::find(order.begin(), order.end(), name) - order.begin();
  };
  EXPECT_LT(position("Inbox"), position("Sub"));
  EXPECT_LT(position("Sub"), position("Leaf"));
  EXPECT_EQ(remote.find_folder("Inbox/Sub/Leaf"), by_name["Leaf"].id);
  EXPECT_FALSE(remote.find_folder("Inbox/Nope").has_value());
  EXPECT_EQ(remote.folder_count(), 9u);
}

TEST(FakeRemoteMailbox, InitialDeltaPagesEveryMessageThenOnlyChanges) {
  FakeRemoteMailbox remote;
  remote.set_page_size(3);
  auto inbox = remote.folder_id("inbox");
  std::vector<GraphId> ids;
  for (int i = 0; i < 7; ++i) ids.push_back(remote.deliver(inbox, mime("m" + std::to_string(i))));

  std::map<std::string, RemoteMessage> view;
  int pages = 0;
  std::string link = sync_round(remote, inbox, "", view, &pages);
  EXPECT_EQ(pages, 3) << "7 messages at 3 per page";
  ASSERT_EQ(view.size(), 7u);
  EXPECT_EQ(view[ids[2].value()].envelope.subject, "m2");
  EXPECT_FALSE(view[ids[2].value()].size.has_value()) << "sizes are not reported by default";

  // Nothing changed: one page, nothing in it.
  auto idle = remote.message_delta(inbox, link);
  ASSERT_TRUE(idle.ok());
  EXPECT_TRUE(idle->changed.empty());
  EXPECT_TRUE(idle->removed.empty());
  EXPECT_TRUE(idle->last_page());

  Flags seen;
  seen.set(SystemFlag::seen);
  remote.set_flags_outside(ids[0], seen);
  remote.remove_outside(ids[1]);
  auto fresh = remote.deliver(inbox, mime("new"));
  link = sync_round(remote, inbox, idle->delta_link, view, &pages);
  EXPECT_EQ(view.size(), 7u);
  EXPECT_FALSE(view.contains(ids[1].value()));
  EXPECT_TRUE(view.contains(fresh.value()));
  EXPECT_TRUE(view[ids[0].value()].flags.has(SystemFlag::seen));
}

TEST(FakeRemoteMailbox, ChangesDuringARoundAreNotLost) {
  FakeRemoteMailbox remote;
  remote.set_page_size(2);
  auto inbox = remote.folder_id("inbox");
  std::vector<GraphId> ids;
  for (int i = 0; i < 6; ++i) ids.push_back(remote.deliver(inbox, mime("m" + std::to_string(i))));
  std::map<std::string, RemoteMessage> view;
  auto first = remote.message_delta(inbox, "");
  ASSERT_TRUE(first.ok());
  for (const auto& message : first->changed) view[message.id.value()] = message;
  // Change a message not yet reported, and one already reported, mid-round.
  Flags flagged;
  flagged.set(SystemFlag::flagged);
  remote.set_flags_outside(ids[5], flagged);
  remote.set_flags_outside(ids[0], flagged);
  std::string link = sync_round(remote, inbox, first->next_link, view);
  link = sync_round(remote, inbox, link, view);
  ASSERT_EQ(view.size(), 6u);
  EXPECT_TRUE(view[ids[5].value()].flags.has(SystemFlag::flagged));
  EXPECT_TRUE(view[ids[0].value()].flags.has(SystemFlag::flagged));
}

TEST(FakeRemoteMailbox, MoveKeepsTheImmutableIdAndShowsInBothDeltas) {
  FakeRemoteMailbox remote;
  auto inbox = remote.folder_id("inbox");
  auto archive = remote.folder_id("archive");
  auto id = remote.deliver(inbox, mime("moving"));
  std::map<std::string, RemoteMessage> inbox_view;
  std::map<std::string, RemoteMessage> archive_view;
  auto inbox_link = sync_round(remote, inbox, "", inbox_view);
  auto archive_link = sync_round(remote, archive, "", archive_view);
  ASSERT_TRUE(inbox_view.contains(id.value()));

  auto moved = remote.move_message(id, FolderId{"archive"});
  ASSERT_TRUE(moved.ok());
  EXPECT_EQ(moved->id, id);
  EXPECT_EQ(moved->folder_id, archive);

  auto removed = remote.message_delta(inbox, inbox_link);
  ASSERT_TRUE(removed.ok());
  ASSERT_EQ(removed->removed.size(), 1u);
  EXPECT_EQ(removed->removed[0], id);
  sync_round(remote, archive, archive_link, archive_view);
  EXPECT_TRUE(archive_view.contains(id.value()));

  auto copy = remote.copy_message(id, inbox);
  ASSERT_TRUE(copy.ok());
  EXPECT_NE(copy->id, id) << "a copy is a new message";
  EXPECT_EQ(remote.message_ids(inbox).size(), 1u);
  EXPECT_EQ(remote.message_ids(archive).size(), 1u);
}

TEST(FakeRemoteMailbox, ExpiredLinksAnswerSyncStateNotFoundAndForeignLinksAreInvalid) {
  FakeRemoteMailbox remote;
  auto inbox = remote.folder_id("inbox");
  remote.deliver(inbox, mime("a"));
  std::map<std::string, RemoteMessage> view;
  auto link = sync_round(remote, inbox, "", view);
  remote.expire_delta_links(inbox);
  auto expired = remote.message_delta(inbox, link);
  ASSERT_FALSE(expired.ok());
  EXPECT_EQ(expired.code(), ErrorCode::sync_state_not_found);
  // A fresh round works again and reports every message.
  view.clear();
  link = sync_round(remote, inbox, "", view);
  EXPECT_EQ(view.size(), 1u);

  auto drafts = remote.folder_id("drafts");
  auto wrong_folder = remote.message_delta(drafts, link);
  ASSERT_FALSE(wrong_folder.ok());
  EXPECT_EQ(wrong_folder.code(), ErrorCode::invalid);
  EXPECT_EQ(remote.message_delta(inbox, "https://graph.microsoft.com/whatever").code(), ErrorCode::invalid);
  EXPECT_EQ(remote.message_delta(FolderId{"no-such-folder"}, "").code(), ErrorCode::not_found);

  remote.expire_delta_links();
  EXPECT_EQ(remote.message_delta(inbox, link).code(), ErrorCode::sync_state_not_found);
}

TEST(FakeRemoteMailbox, FlagUpdatesFollowGraphsOneVerbRule) {
  FakeRemoteMailbox remote;
  auto id = remote.deliver(remote.folder_id("inbox"), mime("flags"));
  RemoteFlagUpdate update;
  update.seen = true;
  update.flagged = true;
  update.answered = true;
  update.forwarded = false;
  update.keywords = std::vector<std::string>{"Red_category", "Work"};
  ASSERT_TRUE(remote.update_flags(id, update).ok());
  auto message = remote.message(id);
  ASSERT_TRUE(message.has_value());
  EXPECT_TRUE(message->flags.has(SystemFlag::seen));
  EXPECT_TRUE(message->flags.has(SystemFlag::flagged));
  EXPECT_TRUE(message->flags.has(SystemFlag::answered));
  EXPECT_EQ(message->flags.keywords(), (std::vector<std::string>{"Red_category", "Work"}));
  std::string change_key = message->change_key;

  RemoteFlagUpdate forward;
  forward.forwarded = true;
  ASSERT_TRUE(remote.update_flags(id, forward).ok());
  message = remote.message(id);
  EXPECT_TRUE(message->flags.has(SystemFlag::forwarded));
  EXPECT_FALSE(message->flags.has(SystemFlag::answered)) << "one last verb: forwarding replaces replying";
  EXPECT_TRUE(message->flags.has(SystemFlag::seen)) << "untouched fields stay";
  EXPECT_NE(message->change_key, change_key);

  EXPECT_TRUE(remote.update_flags(id, RemoteFlagUpdate{}).ok());
  EXPECT_EQ(remote.update_flags(GraphId{"missing"}, update).code(), ErrorCode::not_found);
}

TEST(FakeRemoteMailbox, CreateMessageIsADraftOnlyWhenAsked) {
  FakeRemoteMailbox remote;
  auto inbox = remote.folder_id("inbox");
  CreateMessageOptions plain;
  plain.flags.set(SystemFlag::seen).set(SystemFlag::deleted);
  plain.received = std::chrono::sys_days{std::chrono::year{2020} / 5 / 6};
  auto created = remote.create_message(inbox, mime("appended"), plain);
  ASSERT_TRUE(created.ok());
  EXPECT_FALSE(created->flags.has(SystemFlag::draft));
  EXPECT_FALSE(created->flags.has(SystemFlag::deleted)) << "Graph has no \\Deleted";
  EXPECT_TRUE(created->flags.has(SystemFlag::seen));
  EXPECT_EQ(created->received, *plain.received);
  EXPECT_EQ(created->envelope.subject, "appended");

  CreateMessageOptions draft;
  draft.flags.set(SystemFlag::draft);
  auto drafted = remote.create_message(remote.folder_id("drafts"), mime("draft"), draft);
  ASSERT_TRUE(drafted.ok());
  EXPECT_TRUE(drafted->flags.has(SystemFlag::draft));

  auto fetched = remote.fetch_mime(created->id);
  ASSERT_TRUE(fetched.ok());
  EXPECT_EQ(*fetched, mime("appended"));
  auto size = remote.message_size(created->id);
  ASSERT_TRUE(size.ok());
  EXPECT_EQ(*size, mime("appended").size());
  remote.set_report_sizes(true);
  EXPECT_EQ(remote.get_message(created->id)->size, mime("appended").size());

  EXPECT_EQ(remote.create_message(inbox, "", plain).code(), ErrorCode::invalid);
  EXPECT_EQ(remote.create_message(inbox, "no headers here", plain).code(), ErrorCode::invalid);
  EXPECT_EQ(remote.create_message(FolderId{"nowhere"}, mime("x"), plain).code(), ErrorCode::not_found);
}

TEST(FakeRemoteMailbox, DeleteGoesToDeletedItemsAndPermanentDeleteRemoves) {
  FakeRemoteMailbox remote;
  auto id = remote.deliver(remote.folder_id("inbox"), mime("bye"));
  ASSERT_TRUE(remote.delete_message(id).ok());
  EXPECT_EQ(remote.message(id)->folder_id, remote.folder_id("deleteditems"));
  ASSERT_TRUE(remote.permanently_delete_message(id).ok());
  EXPECT_FALSE(remote.message(id).has_value());
  EXPECT_EQ(remote.permanently_delete_message(id).code(), ErrorCode::not_found);
  EXPECT_EQ(remote.fetch_mime(id).code(), ErrorCode::not_found);
}

TEST(FakeRemoteMailbox, FolderOperationsAndTheirErrors) {
  FakeRemoteMailbox remote;
  auto top = remote.create_folder(FolderId{}, "Projects");
  ASSERT_TRUE(top.ok());
  EXPECT_EQ(top->parent_id, remote.folder_id("msgfolderroot"));
  EXPECT_EQ(remote.create_folder(FolderId{}, "projects").code(), ErrorCode::already_exists);
  EXPECT_EQ(remote.create_folder(FolderId{}, "").code(), ErrorCode::invalid);
  auto child = remote.create_folder(top->id, "Q1");
  ASSERT_TRUE(child.ok());
  EXPECT_EQ(child->parent_id, top->id);

  auto renamed = remote.rename_folder(child->id, "Q2");
  ASSERT_TRUE(renamed.ok());
  EXPECT_EQ(renamed->display_name, "Q2");
  EXPECT_EQ(renamed->id, child->id) << "folder ids are stable";
  EXPECT_EQ(remote.rename_folder(remote.folder_id("inbox"), "Post").code(), ErrorCode::no_permission);

  EXPECT_EQ(remote.move_folder(top->id, child->id).code(), ErrorCode::invalid);
  auto moved = remote.move_folder(child->id, FolderId{"archive"});
  ASSERT_TRUE(moved.ok());
  EXPECT_EQ(moved->parent_id, remote.folder_id("archive"));

  auto id = remote.deliver(child->id, mime("inside"));
  ASSERT_TRUE(remote.delete_folder(top->id).ok());
  EXPECT_TRUE(remote.message(id).has_value()) << "Q2 was moved out before Projects was deleted";
  ASSERT_TRUE(remote.delete_folder(child->id).ok());
  EXPECT_FALSE(remote.message(id).has_value());
  EXPECT_EQ(remote.delete_folder(child->id).code(), ErrorCode::not_found);
  EXPECT_EQ(remote.delete_folder(remote.folder_id("sentitems")).code(), ErrorCode::no_permission);
}

TEST(FakeRemoteMailbox, InjectedFaultsAndCallCounts) {
  FakeRemoteMailbox remote;
  auto inbox = remote.folder_id("inbox");
  remote.fail_next("message_delta", make_mail_error(ErrorCode::unavailable, "Throttled."), 2);
  EXPECT_EQ(remote.message_delta(inbox, "").code(), ErrorCode::unavailable);
  EXPECT_TRUE(remote.list_folders().ok()) << "faults target one operation";
  EXPECT_EQ(remote.message_delta(inbox, "").code(), ErrorCode::unavailable);
  EXPECT_TRUE(remote.message_delta(inbox, "").ok());
  EXPECT_EQ(remote.calls("message_delta"), 3u);
  EXPECT_EQ(remote.calls(), 4u);
  remote.fail_next("", make_mail_error(ErrorCode::needs_sign_in, "Sign in again."));
  EXPECT_EQ(remote.list_folders().code(), ErrorCode::needs_sign_in);
  remote.reset_calls();
  EXPECT_EQ(remote.calls(), 0u);
  remote.deliver(inbox, mime("not counted"));
  EXPECT_EQ(remote.calls(), 0u);
}

}  // namespace
}  // namespace mailtrixy::mail

namespace mailtrixy::mail {
namespace {

TEST(FakeRemoteMailbox, TestControlsRejectUnknownIdsLoudly) {
  FakeRemoteMailbox remote;
  EXPECT_THROW(remote.deliver(FolderId{"nowhere"}, "Subject: x\r\n\r\n"), std::invalid_argument);
  EXPECT_THROW(remote.set_flags_outside(GraphId{"ghost"}, Flags{}), std::invalid_argument);
  EXPECT_THROW(remote.remove_outside(GraphId{"ghost"}), std::invalid_argument);
  auto id = remote.deliver(remote.folder_id("inbox"), "Subject: x\r\n\r\n");
  EXPECT_THROW(remote.move_outside(id, FolderId{"nowhere"}), std::invalid_argument);
  EXPECT_THROW(remote.create_folder_outside(FolderId{"nowhere"}, "X"), std::invalid_argument);
}

}  // namespace
}  // namespace mailtrixy::mail
