#pragma once
// FakeMailboxBackend: a complete in-memory IMAP message store implementing MailboxBackend, for
// unit and black-box tests of the IMAP and SMTP front-ends without sync, Graph or RocksDB.
//
// Semantics are those promised in backend.hpp: per-folder UIDVALIDITY and strictly ascending,
// never reused UIDs; \Deleted kept until expunge; expunge outside "Deleted Items" moves messages
// there, inside it removes them; copy/move/append return COPYUID/APPENDUID data; change events
// for every change, whichever session made it; watched folders while subscribed.
//
// Default folders: INBOX, "Drafts" (\Drafts), "Sent Items" (\Sent), "Deleted Items" (\Trash),
// "Junk Email" (\Junk), "Archive" (\Archive). INBOX and these are protected from rename/delete
// (no_permission), like on Outlook.
//
// Threading: thread-safe (one mutex). Change callbacks run after the mutex is released, on the
// thread that made the change (or on the thread already delivering events, which keeps events
// in order); before the call that made a change returns, its events have been delivered unless
// another thread is delivering them. A callback may call back into the fake (unlike the real
// backend — don't rely on it).
// Costs: no I/O. Every MailboxBackend call is counted (calls()) and can be made to fail
// (fail_next()).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mailtrixy/mail/backend.hpp"

namespace mailtrixy::mail {

class FakeMailboxBackend final : public MailboxBackend {
 public:
  struct Options {
    // UIDVALIDITY of the first folder; each later folder gets the next value.
    std::uint32_t first_uid_validity = 1;
    // false: MessageMeta::rfc822_size stays nullopt until fetch_mime/message_size is called,
    // to exercise the front-end's "size not known yet" path.
    bool sizes_known_upfront = true;
  };

  FakeMailboxBackend();
  explicit FakeMailboxBackend(Options options);
  ~FakeMailboxBackend() override;
  FakeMailboxBackend(const FakeMailboxBackend&) = delete;
  FakeMailboxBackend& operator=(const FakeMailboxBackend&) = delete;

  // --- MailboxBackend ------------------------------------------------------------------------
  MailResult<std::vector<FolderInfo>> list_folders() override;
  MailResult<FolderStatus> folder_status(std::string_view path) override;
  MailResult<std::vector<MessageMeta>> list_messages(std::string_view path, UidRange range) override;
  MailResult<std::string> fetch_mime(std::string_view path, Uid uid) override;
  MailResult<std::uint64_t> message_size(std::string_view path, Uid uid) override;
  MailResult<std::vector<MessageMeta>> store_flags(std::string_view path, const std::vector<Uid>& uids,
                                                   StoreMode mode, const Flags& flags) override;
  MailResult<AppendResult> append(std::string_view path, std::string_view mime, const Flags& flags,
                                  std::optional<TimePoint> internal_date) override;
  MailResult<CopyResult> copy(std::string_view path, const std::vector<Uid>& uids,
                              std::string_view destination) override;
  MailResult<CopyResult> move(std::string_view path, const std::vector<Uid>& uids,
                              std::string_view destination) override;
  MailResult<std::vector<Uid>> expunge(std::string_view path,
                                       const std::optional<std::vector<Uid>>& only) override;
  MailResult<void> create_folder(std::string_view path) override;
  MailResult<void> rename_folder(std::string_view from, std::string_view to) override;
  MailResult<void> delete_folder(std::string_view path) override;
  MailResult<void> set_subscribed(std::string_view path, bool subscribed) override;
  MailResult<std::vector<std::string>> subscribed_folders() override;
  MailResult<ChangeSubscription> subscribe(std::string_view path, ChangeCallback on_change) override;
  MailResult<void> request_refresh(std::string_view path) override;

  // --- test controls: changes "from Outlook" (events fire; not counted; never fail) ----------
  // New mail arrives (what the sync engine would report). Flags may include anything but
  // \Deleted; internal_date defaults to a fake clock advancing one second per message.
  MailResult<Uid> deliver(std::string_view path, std::string mime, Flags flags = {},
                          std::optional<TimePoint> internal_date = std::nullopt);
  MailResult<void> set_flags_outside(std::string_view path, Uid uid, const Flags& flags);
  MailResult<void> remove_outside(std::string_view path, Uid uid);

  // Observations for assertions.
  bool is_watched(std::string_view path) const;
  std::size_t refresh_requests(std::string_view path) const;

  // The next `times` calls of `operation` ("append", "store_flags", ...; "" = any call) fail
  // with `error` before doing anything.
  void fail_next(std::string_view operation, MailError error, int times = 1);
  std::size_t calls(std::string_view operation = {}) const;

 private:
  struct State;
  struct Subscriber;
  std::unique_ptr<State> state_;
  mutable std::mutex mutex_;
};

}  // namespace mailtrixy::mail
