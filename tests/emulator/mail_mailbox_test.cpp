#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <mutex>

#include "mailbox.hpp"
#include "mailbox_state.hpp"

namespace mailtrixy::emulator {
namespace {

using mail::WellKnown;

std::string sample_mime(std::string_view subject, std::string_view date = "Tue, 16 Nov 2023 05:42:46 +0000") {
  return "From: Ann <ann@example.com>\r\nTo: owner@example.com\r\nSubject: " + std::string(subject) +
         "\r\nDate: " + std::string(date) + "\r\nMessage-ID: <" + std::string(subject) +
         "@example.com>\r\n\r\nHello\r\n";
}

class TempDir {
 public:
  TempDir() {
    path_ = std::filesystem::temp_directory_path() /
            ("mail-mailbox-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::filesystem::path& path() const { return path_; }
  void write(const std::filesystem::path& relative, const std::string& content) const {
    std::filesystem::create_directories((path_ / relative).parent_path());
    std::ofstream(path_ / relative, std::ios::binary) << content;
  }

 private:
  static inline int counter_ = 0;
  std::filesystem::path path_;
};

TEST(MailMailbox, DefaultFoldersAndAliases) {
  MailboxState state("owner@example.com", Locale::english);
  const auto& root = state.root();
  std::vector<std::string> visible;
  int hidden = 0;
  for (std::uint32_t serial : root.children) {
    const auto& folder = state.folder(serial);
    if (folder.hidden) {
      ++hidden;
    } else {
      visible.push_back(folder.display_name);
    }
  }
  std::sort(visible.begin(), visible.end());
  EXPECT_EQ(visible, (std::vector<std::string>{"Archive", "Conversation History", "Deleted Items", "Drafts",
                                               "Inbox", "Junk Email", "Outbox", "Sent Items"}));
  EXPECT_EQ(hidden, 1) << "Sync Issues";
  for (std::string_view alias : {"inbox", "Inbox", "SENTITEMS", "deleteditems", "msgfolderroot", "conflicts",
                                 "recoverableitemsdeletions", "searchfolders"}) {
    EXPECT_EQ(state.find_folder(alias).status, MailboxState::Lookup::found) << alias;
  }
  EXPECT_EQ(state.find_folder("clutter").status, MailboxState::Lookup::not_found);
  EXPECT_EQ(state.find_folder("nonsense").status, MailboxState::Lookup::malformed);
  const auto inbox = state.find_folder("inbox");
  EXPECT_EQ(state.find_folder(state.folder_id(*inbox.folder)).folder, inbox.folder);
  EXPECT_EQ(state.folder_id(*inbox.folder).rfind("AQMkAD", 0), 0u);
}

TEST(MailMailbox, GermanLocaleNamesTheDefaultFolders) {
  MailboxState state("owner@example.de", Locale::german);
  EXPECT_EQ(state.well_known(WellKnown::inbox).display_name, "Posteingang");
  EXPECT_EQ(state.well_known(WellKnown::drafts).display_name, "Entwürfe");
  EXPECT_EQ(state.well_known(WellKnown::sentitems).display_name, "Gesendete Elemente");
  EXPECT_EQ(state.well_known(WellKnown::deleteditems).display_name, "Gelöschte Elemente");
  EXPECT_EQ(state.well_known(WellKnown::junkemail).display_name, "Junk-E-Mail");
  EXPECT_EQ(state.well_known(WellKnown::archive).display_name, "Archiv");
  EXPECT_EQ(state.well_known(WellKnown::outbox).display_name, "Postausgang");
}

TEST(MailMailbox, RegularIdsChangeOnMoveImmutableIdsDoNot) {
  MailboxState state("owner@example.com", Locale::english);
  auto& message = state.insert(state.well_known(WellKnown::inbox),
                               state.message_from_mime(sample_mime("a"), mail::now_seconds()));
  const std::string regular = state.message_id(message, false);
  const std::string immutable = state.message_id(message, true);
  EXPECT_EQ(regular.rfind("AAMkAD", 0), 0u);
  EXPECT_EQ(immutable.rfind("AAkALg", 0), 0u);
  EXPECT_LT(immutable.size(), regular.size());
  EXPECT_EQ(regular.back(), '=');
  EXPECT_EQ(state.find_message(regular).message, &message);
  EXPECT_EQ(state.find_message(immutable).message, &message);

  state.move(message, state.well_known(WellKnown::archive));
  EXPECT_NE(state.message_id(message, false), regular);
  EXPECT_EQ(state.message_id(message, true), immutable);
  EXPECT_EQ(state.find_message(regular).status, MailboxState::Lookup::not_found);
  EXPECT_EQ(state.find_message(immutable).message, &message);

  EXPECT_EQ(state.find_message("AAMkADnot-base64!").status, MailboxState::Lookup::malformed);
  EXPECT_EQ(state.find_message("hello").status, MailboxState::Lookup::malformed);
  std::string tampered = state.message_id(message, false);
  tampered[10] = tampered[10] == 'A' ? 'B' : 'A';
  EXPECT_NE(state.find_message(tampered).status, MailboxState::Lookup::found);
  MailboxState other("other@example.com", Locale::english);
  EXPECT_EQ(other.find_message(immutable).status, MailboxState::Lookup::not_found) << "ids are per mailbox";
}

TEST(MailMailbox, CountsFollowReadStateMovesAndDeletes) {
  MailboxState state("owner@example.com", Locale::english);
  auto& inbox = state.well_known(WellKnown::inbox);
  auto& a = state.insert(inbox, state.message_from_mime(sample_mime("a"), mail::now_seconds()));
  state.insert(inbox, state.message_from_mime(sample_mime("b"), mail::now_seconds()));
  EXPECT_EQ(inbox.unread, 2u);
  EXPECT_EQ(state.total_items(inbox), 2u);
  state.set_read(a, true);
  EXPECT_EQ(inbox.unread, 1u);
  state.move(a, state.well_known(WellKnown::archive));
  EXPECT_EQ(state.total_items(inbox), 1u);
  EXPECT_EQ(state.total_items(state.well_known(WellKnown::archive)), 1u);
  EXPECT_EQ(state.well_known(WellKnown::archive).unread, 0u);
  state.erase(*inbox.messages.front());
  EXPECT_EQ(inbox.unread, 0u);
  EXPECT_EQ(inbox.size_bytes, 0u);
}

TEST(MailMailbox, ChangeKeyFollowsVersionedChangesButNotReadState) {
  MailboxState state("owner@example.com", Locale::english);
  auto& message = state.insert(state.well_known(WellKnown::inbox),
                               state.message_from_mime(sample_mime("a"), mail::now_seconds()));
  const std::string key = state.change_key(message);
  const auto seq = message.delta_seq;
  state.set_read(message, true);
  state.touch(message, false);
  EXPECT_EQ(state.change_key(message), key) << "graph-facts G7";
  EXPECT_GT(message.delta_seq, seq) << "but delta still reports it";
  state.touch(message, true);
  EXPECT_NE(state.change_key(message), key);
  EXPECT_EQ(key.size(), 40u);  // 30 bytes in standard base64, like "CQAAABYAAAC4ofQHEIqCSbQPot83AFcbAAAnjjuZ"
}

TEST(MailMailbox, ChangeLogKeepsOneEntryPerMessageAndTombstones) {
  MailboxState state("owner@example.com", Locale::english);
  auto& inbox = state.well_known(WellKnown::inbox);
  auto& a = state.insert(inbox, state.message_from_mime(sample_mime("a"), mail::now_seconds()));
  auto& b = state.insert(inbox, state.message_from_mime(sample_mime("b"), mail::now_seconds()));
  EXPECT_EQ(inbox.changes.size(), 2u);
  state.touch(a, true);
  EXPECT_EQ(inbox.changes.size(), 2u);
  EXPECT_EQ(inbox.changes.rbegin()->second.immutable_serial, a.immutable_serial);
  const auto b_serial = b.immutable_serial;
  state.move(b, state.well_known(WellKnown::archive));
  ASSERT_EQ(inbox.changes.size(), 2u);
  EXPECT_TRUE(inbox.changes.rbegin()->second.removed);
  EXPECT_EQ(inbox.changes.rbegin()->second.immutable_serial, b_serial);
  EXPECT_EQ(state.well_known(WellKnown::archive).changes.size(), 1u);
  const auto generation = state.sync_generation();
  state.expire_sync_states();
  EXPECT_NE(state.sync_generation(), generation);
}

TEST(MailMailbox, FoldersCreateRenameMoveDelete) {
  MailboxState state("owner@example.com", Locale::english);
  MailboxState::FolderError error{};
  auto* projects = state.create_folder(state.root(), "Projects", false, error);
  ASSERT_NE(projects, nullptr);
  EXPECT_EQ(state.create_folder(state.root(), "PROJECTS", false, error), nullptr);
  EXPECT_EQ(error, MailboxState::FolderError::exists);
  auto* child = state.create_folder(*projects, "2024", false, error);
  ASSERT_NE(child, nullptr);
  EXPECT_EQ(state.move_folder(*projects, *child), MailboxState::FolderError::into_itself);
  EXPECT_EQ(state.rename_folder(*child, "2025"), MailboxState::FolderError::none);
  EXPECT_EQ(state.rename_folder(state.well_known(WellKnown::inbox), "Renamed"),
            MailboxState::FolderError::none)
      << "Exchange lets default folders be renamed";
  EXPECT_EQ(state.delete_folder(state.well_known(WellKnown::drafts)),
            MailboxState::FolderError::distinguished);
  const std::string id = state.folder_id(*projects);
  state.insert(*child, state.message_from_mime(sample_mime("x"), mail::now_seconds()));
  EXPECT_EQ(state.delete_folder(*projects), MailboxState::FolderError::none);
  EXPECT_EQ(state.find_folder(id).status, MailboxState::Lookup::not_found);
  EXPECT_FALSE(state.hierarchy_removals().empty());
}

TEST(MailMailbox, FolderNestingIsBounded) {
  MailboxState state("owner@example.com", Locale::english);
  MailboxState::FolderError error{};
  mail::Folder* folder = &state.root();
  for (int level = 1; level <= MailboxState::kMaxFolderDepth; ++level) {
    folder = state.create_folder(*folder, "level", false, error);
    ASSERT_NE(folder, nullptr) << level;
  }
  EXPECT_EQ(state.create_folder(*folder, "too deep", false, error), nullptr);
  EXPECT_EQ(error, MailboxState::FolderError::too_deep);
  auto* other = state.create_folder(state.root(), "other", false, error);
  auto* inner = state.create_folder(*other, "inner", false, error);
  ASSERT_NE(inner, nullptr);
  EXPECT_EQ(state.move_folder(*other, *folder), MailboxState::FolderError::too_deep);
  auto* top = state.child_named(state.root(), "level");
  EXPECT_EQ(state.delete_folder(*top), MailboxState::FolderError::none);
}

TEST(MailMailbox, ExtendedPropertyIdsAreNormalised) {
  using mail::normalize_extended_property_id;
  EXPECT_EQ(*normalize_extended_property_id("Integer 0x0E07"), "Integer 0xe07");
  EXPECT_EQ(*normalize_extended_property_id("integer 0xe07"), "Integer 0xe07");
  EXPECT_EQ(*normalize_extended_property_id("LONG 0x0E08"), "Long 0xe08");
  EXPECT_EQ(*normalize_extended_property_id("SystemTime 0x0039"), "SystemTime 0x39");
  EXPECT_EQ(*normalize_extended_property_id("String {66F5A359-4659-4830-9070-00047EC6AC6E} Name Color"),
            "String {66f5a359-4659-4830-9070-00047ec6ac6e} Name Color");
  EXPECT_EQ(*normalize_extended_property_id("Integer {8ECCC264-6880-4EBE-992F-8888D2EEAA1D} Id 0x8012"),
            "Integer {8eccc264-6880-4ebe-992f-8888d2eeaa1d} Id 0x8012");
  EXPECT_FALSE(normalize_extended_property_id("Integer").has_value());
  EXPECT_FALSE(normalize_extended_property_id("Number 0x1").has_value());
  EXPECT_FALSE(normalize_extended_property_id("Integer 0xZZ").has_value());
  EXPECT_FALSE(normalize_extended_property_id("String {bad} Name x").has_value());
}

TEST(MailMailbox, SeedingMapsDirectoriesToFoldersAndKeepsBytes) {
  TempDir dir;
  const std::string odd = "Subject: bare LF\nFrom: x@example.com\n\nbody without CR\n";
  dir.write("a.eml", sample_mime("inbox-one"));
  dir.write("b.EML", odd);
  dir.write("notes.txt", "ignored");
  dir.write("Sent Items/s.eml", sample_mime("sent-one"));
  dir.write("Gesendete Elemente/s2.eml", sample_mime("sent-two"));
  dir.write("Projects/p.eml", sample_mime("project"));
  dir.write("Projects/2024/q.eml", sample_mime("nested"));
  Mailbox mailbox("owner@example.com", Locale::english);
  ASSERT_TRUE(mailbox.seed_from_directory(dir.path()).ok());
  std::unique_lock lock(mailbox.mutex());
  MailboxState& state = mailbox.state();
  EXPECT_EQ(state.total_items(state.well_known(WellKnown::inbox)), 2u);
  EXPECT_EQ(state.well_known(WellKnown::inbox).unread, 2u);
  EXPECT_EQ(state.total_items(state.well_known(WellKnown::sentitems)), 2u);
  EXPECT_EQ(state.well_known(WellKnown::sentitems).unread, 0u);
  auto* projects = state.child_named(state.root(), "Projects");
  ASSERT_NE(projects, nullptr);
  EXPECT_EQ(state.total_items(*projects), 1u);
  auto* nested = state.child_named(*projects, "2024");
  ASSERT_NE(nested, nullptr);
  EXPECT_EQ(state.total_items(*nested), 1u);
  bool found_odd = false;
  for (const auto* message : state.well_known(WellKnown::inbox).messages) {
    if (*message->mime == odd) found_odd = true;
    EXPECT_FALSE(message->is_draft);
  }
  EXPECT_TRUE(found_odd) << "seeded MIME is stored byte for byte";
  // Sorted by receivedDateTime (from the Date header) oldest first.
  const auto& inbox = state.well_known(WellKnown::inbox).messages;
  EXPECT_LE(inbox.front()->received, inbox.back()->received);
}

TEST(MailMailbox, SeedingAMissingDirectoryIsAClearError) {
  Mailbox mailbox("owner@example.com", Locale::english);
  const auto result = mailbox.seed_from_directory("/nonexistent/mailtrixy/seed");
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().message.find("/nonexistent/mailtrixy/seed"), std::string::npos);
  EXPECT_NE(result.error().message.find("owner@example.com"), std::string::npos);
}

TEST(MailMailbox, DeliverAddsAnUnreadInboxMessage) {
  Mailbox mailbox("owner@example.com", Locale::english);
  mailbox.deliver(sample_mime("delivered"));
  std::unique_lock lock(mailbox.mutex());
  auto& inbox = mailbox.state().well_known(WellKnown::inbox);
  ASSERT_EQ(inbox.messages.size(), 1u);
  EXPECT_FALSE(inbox.messages[0]->is_read);
  EXPECT_EQ(inbox.messages[0]->subject, "delivered");
  EXPECT_EQ(inbox.messages[0]->internet_message_id, "<delivered@example.com>");
  lock.unlock();
  EXPECT_TRUE(mailbox.sent().empty());
}

TEST(MailMailbox, DraftMimeIsRebuiltFromItsParts) {
  MailboxState state("owner@example.com", Locale::english);
  auto message = std::make_unique<mail::Message>();
  message->subject = "Draft";
  message->to = {{"Bob", "bob@example.com"}};
  message->from = mime::Address{"Owner", "owner@example.com"};
  message->draft = std::make_unique<mail::DraftParts>();
  message->draft->body = "Hi Bob";
  message->is_draft = true;
  message->sent = mail::now_seconds();
  message->mime = std::make_shared<const std::string>(state.build_draft_mime(*message));
  auto& stored = state.insert(state.well_known(WellKnown::drafts), std::move(message));
  mail::FileAttachment file;
  file.serial = 1;
  file.name = "a.txt";
  file.bytes = std::make_shared<const std::string>("attached");
  stored.draft->attachments.push_back(file);
  state.rebuild_draft_mime(stored);
  EXPECT_TRUE(stored.has_attachments);
  const auto content = mime::extract_content(*stored.mime);
  EXPECT_EQ(*content.text, "Hi Bob");
  ASSERT_EQ(content.attachments.size(), 1u);
  EXPECT_EQ(content.attachments[0].bytes, "attached");
  EXPECT_EQ(state.well_known(WellKnown::drafts).size_bytes, stored.mime->size());
}

}  // namespace
}  // namespace mailtrixy::emulator
