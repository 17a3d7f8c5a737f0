#pragma once
// FakeRemoteMailbox: an in-memory Microsoft mailbox implementing RemoteMailbox with Graph's
// observable behaviour, for unit tests of the sync engine (no network, no emulator).
//
// What it reproduces:
//   - the default folders (Inbox, Drafts, Sent Items, Deleted Items, Junk Email, Archive,
//     Outbox) under a root folder, each resolvable by its well-known alias; nested folders;
//     already_exists on a duplicate name under one parent (case-insensitive);
//   - immutable message ids: move_message keeps the id, copy_message makes a new one;
//   - per-folder delta rounds: an empty link returns every current message (no removals), paged
//     by page_size(); later rounds return only what changed since the link's state, including
//     removals (deleted or moved out); next_link/delta_link are opaque strings that only this
//     instance accepts (invalid otherwise);
//   - 410 on demand: expire_delta_links() makes every link issued so far for a folder (or all
//     folders) fail with sync_state_not_found;
//   - delete_message moves to Deleted Items; permanently_delete_message removes;
//     create_message makes a draft only when \Draft is given; message_size is the MIME length.
// Test controls ("Outlook side") change the mailbox without going through counted calls.
//
// Threading: every member is thread-safe (one mutex). Costs: no I/O; every RemoteMailbox call
// is counted (calls()) and can be made to fail (fail_next()).

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mailtrixy/mail/remote_mailbox.hpp"

namespace mailtrixy::mail {

class FakeRemoteMailbox final : public RemoteMailbox {
 public:
  FakeRemoteMailbox();
  ~FakeRemoteMailbox() override;
  FakeRemoteMailbox(const FakeRemoteMailbox&) = delete;
  FakeRemoteMailbox& operator=(const FakeRemoteMailbox&) = delete;

  // --- RemoteMailbox -------------------------------------------------------------------------
  MailResult<std::vector<RemoteFolder>> list_folders() override;
  MailResult<DeltaPage> message_delta(const FolderId& folder, std::string_view link) override;
  MailResult<RemoteMessage> get_message(const GraphId& id) override;
  MailResult<std::string> fetch_mime(const GraphId& id) override;
  MailResult<std::uint64_t> message_size(const GraphId& id) override;
  MailResult<void> update_flags(const GraphId& id, const RemoteFlagUpdate& update) override;
  MailResult<RemoteMessage> move_message(const GraphId& id, const FolderId& destination) override;
  MailResult<RemoteMessage> copy_message(const GraphId& id, const FolderId& destination) override;
  MailResult<void> delete_message(const GraphId& id) override;
  MailResult<void> permanently_delete_message(const GraphId& id) override;
  MailResult<RemoteMessage> create_message(const FolderId& folder, std::string_view mime,
                                           const CreateMessageOptions& options) override;
  MailResult<std::size_t> delete_staging_drafts(std::string_view message_id, TimePoint created_from,
                                                TimePoint created_until) override;
  MailResult<RemoteFolder> create_folder(const FolderId& parent, std::string_view display_name) override;
  MailResult<RemoteFolder> rename_folder(const FolderId& id, std::string_view new_display_name) override;
  MailResult<RemoteFolder> move_folder(const FolderId& id, const FolderId& new_parent) override;
  MailResult<void> delete_folder(const FolderId& id) override;

  // --- test controls: the "Outlook side" (not counted, never fail) ---------------------------
  // Naming a folder or message that does not exist here is a bug in the test: these throw
  // std::invalid_argument saying which id was unknown.
  // Id of a default folder ("inbox", "sentitems", ... or "msgfolderroot"); resolves aliases.
  FolderId folder_id(std::string_view alias_or_id) const;
  // Id of the folder at "Inbox/Sub/Leaf" (display names from the root); nullopt if absent.
  std::optional<FolderId> find_folder(std::string_view display_path) const;
  // New mail arrives in `folder` (id or alias). Envelope is parsed from `mime`; received
  // defaults to a fake clock that advances one second per message.
  GraphId deliver(const FolderId& folder, std::string mime, Flags flags = {},
                  std::optional<TimePoint> received = std::nullopt);
  // Outlook-side flag change / move / delete / folder creation, as a user in Outlook would.
  void set_flags_outside(const GraphId& id, const Flags& flags);
  void move_outside(const GraphId& id, const FolderId& destination);
  void remove_outside(const GraphId& id);
  FolderId create_folder_outside(const FolderId& parent, std::string display_name);

  // Current state, for assertions.
  std::optional<RemoteMessage> message(const GraphId& id) const;
  std::vector<GraphId> message_ids(const FolderId& folder) const;  // ascending creation order
  std::size_t folder_count() const;

  // Delta page size (Prefer: odata.maxpagesize); default 10, minimum 1.
  void set_page_size(std::size_t size);
  // Whether RemoteMessage::size is filled in delta pages and other results (default false, so
  // callers must go through message_size(), as with Graph where the MIME length is unknown).
  void set_report_sizes(bool report);
  // Every link issued so far for `folder` (or, without an argument, for every folder) answers
  // sync_state_not_found from now on.
  void expire_delta_links(const FolderId& folder);
  void expire_delta_links();

  // The next `times` calls of `operation` ("message_delta", "update_flags", ...; "" = any call)
  // fail with `error` before doing anything.
  void fail_next(std::string_view operation, MailError error, int times = 1);
  // The next non-draft create_message is interrupted the way a crash or a lost answer interrupts
  // Graph's recipe (graph-facts B9): its staging draft (isDraft, same MIME) is left in Drafts,
  // the message is also stored in the target folder when `stored_too`, and the call fails with
  // `error`. Without this control the fake's non-draft create_message shows no staging draft.
  void interrupt_next_create(MailError error, bool stored_too = false);
  // Number of RemoteMailbox calls of `operation` so far ("" = all calls).
  std::size_t calls(std::string_view operation = {}) const;
  void reset_calls();

 private:
  struct State;
  std::unique_ptr<State> state_;
  mutable std::mutex mutex_;
};

}  // namespace mailtrixy::mail
