#pragma once
// RemoteMailbox: what the sync engine needs from Microsoft, for ONE mailbox, with no JSON in
// sight. graph::GraphRemoteMailbox implements it over Microsoft Graph; mail::FakeRemoteMailbox
// (fake_remote_mailbox.hpp) implements it in memory for unit tests.
//
// Threading: implementations are thread-safe; any number of threads may call at once. Calls
// block until Microsoft answered (the Graph implementation queues behind its per-mailbox limit
// of 4 requests in flight, retries 429/503/504/network errors with backoff honouring
// Retry-After, and refreshes the access token once on a 401), so never call from a thread that
// serves network I/O for other sessions.
//
// Costs are given per call as Graph round trips, counted after retries; "1" means one HTTP
// request in the normal case. The fake makes none but counts calls the same way.
//
// Errors (MailError codes): not_found (id or folder does not exist or no longer exists),
// already_exists, no_permission, too_big, quota, invalid (bad argument, e.g. an empty name or a
// delta link that did not come from this mailbox), needs_sign_in (tokens revoked: the account
// must sign in again; retrying does not help), unavailable (retries exhausted; try again later),
// sync_state_not_found (only from message_delta), not_supported, internal.
//
// Ids: messages are addressed by immutable GraphId; a message keeps its id across move_message
// (within the mailbox). Folders are addressed by FolderId; Graph's well-known aliases
// ("inbox", "deleteditems", ...) are accepted wherever a FolderId is taken.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mailtrixy/mail/error.hpp"
#include "mailtrixy/mail/types.hpp"

namespace mailtrixy::mail {

// One Graph mail folder.
struct RemoteFolder {
  FolderId id;
  FolderId parent_id;  // id of the parent; for top-level folders the id of msgfolderroot
  std::string display_name;
  std::uint32_t child_folder_count = 0;
  std::uint32_t total_count = 0;
  std::uint32_t unread_count = 0;
  bool hidden = false;         // isHidden; hidden folders are listed too (includeHiddenFolders=true)
  bool search_folder = false;  // microsoft.graph.mailSearchFolder: read-only, not synced
  SpecialUse special_use = SpecialUse::none;  // from the well-known aliases
  friend bool operator==(const RemoteFolder&, const RemoteFolder&) = default;
};

// One message as Graph reports it (delta page entry, create/move/copy result).
struct RemoteMessage {
  GraphId id;
  FolderId folder_id;  // parentFolderId
  // isRead -> \Seen, flag.flagStatus == flagged -> \Flagged, isDraft -> \Draft,
  // Integer 0x1081 (102/103 -> \Answered, 104 -> $Forwarded), categories -> keywords via
  // keyword_from_category. Never \Deleted (Graph has no such state).
  Flags flags;
  TimePoint received{};  // receivedDateTime -> INTERNALDATE
  // Exact size if the implementation knows it without an extra round trip (see
  // message_size); nullopt otherwise.
  std::optional<std::uint64_t> size;
  Envelope envelope;
  std::string change_key;  // changes whenever Graph changes the message; may be empty
  friend bool operator==(const RemoteMessage&, const RemoteMessage&) = default;
};

// One page of a per-folder message delta round.
struct DeltaPage {
  // Messages new to the folder or changed since the link's state, in Graph order. The same id
  // may appear more than once in a round (Graph replays); the last occurrence wins.
  std::vector<RemoteMessage> changed;
  // Ids that left the folder (deleted, or moved elsewhere: with immutable ids a moved message
  // appears as removed here and as changed in the destination folder's delta).
  std::vector<GraphId> removed;
  // Exactly one of the two links is non-empty. next_link: more pages in this round, call again
  // with it. delta_link: the round is complete; persist it and use it for the next round.
  std::string next_link;
  std::string delta_link;
  bool last_page() const { return !delta_link.empty(); }
};

// The writable flag state of a message on Graph. Each engaged field is written; disengaged
// fields are left alone.
struct RemoteFlagUpdate {
  std::optional<bool> seen;     // isRead
  std::optional<bool> flagged;  // flag.flagStatus flagged / notFlagged
  // Graph stores one "last verb": when both answered and forwarded end up true, forwarded (104)
  // is written; when both are false the verb is cleared (value 0). Engage both or neither.
  std::optional<bool> answered;
  std::optional<bool> forwarded;
  // Replaces the whole categories collection (category_from_keyword of each keyword).
  std::optional<std::vector<std::string>> keywords;
  bool empty() const { return !seen && !flagged && !answered && !forwarded && !keywords; }
};

// How create_message files a message (IMAP APPEND).
struct CreateMessageOptions {
  // Only \Seen, \Flagged, \Answered, $Forwarded, \Draft and keywords are meaningful; \Deleted is
  // ignored. Without \Draft the message is created as a normal (non-draft) message.
  Flags flags;
  // INTERNALDATE to keep (receivedDateTime); nullopt: Microsoft's time of creation.
  std::optional<TimePoint> received;
};

class RemoteMailbox {
 public:
  virtual ~RemoteMailbox() = default;

  // The whole folder tree, hidden folders included, parents before children. Special use is
  // resolved from the well-known aliases (inbox, sentitems, drafts, deleteditems, junkemail,
  // archive). Cost: one request per folder with children (childFolders, paged) plus one per
  // alias resolved, batched where the implementation can.
  virtual MailResult<std::vector<RemoteFolder>> list_folders() = 0;

  // One page of the message delta of `folder`. `link` empty: start a full round (every current
  // message); otherwise a next_link or delta_link returned earlier for the same folder, used
  // verbatim. Error sync_state_not_found: the link expired (410); start again with an empty link.
  // Cost: 1.
  virtual MailResult<DeltaPage> message_delta(const FolderId& folder, std::string_view link) = 0;

  // One message's current metadata. Cost: 1.
  virtual MailResult<RemoteMessage> get_message(const GraphId& id) = 0;

  // The full RFC 822 message (GET $value). Bytes may differ between calls on Graph (Outlook
  // regenerates MIME). Cost: 1, transfers the whole message.
  virtual MailResult<std::string> fetch_mime(const GraphId& id) = 0;

  // The exact RFC822.SIZE the bridge will serve for this message; see docs/adr/0006. Cost: at
  // most 1 (implementation-defined: a property read or the MIME download).
  virtual MailResult<std::uint64_t> message_size(const GraphId& id) = 0;

  // Writes the engaged fields of `update`. An empty update succeeds without a request.
  // Cost: 1 (PATCH).
  virtual MailResult<void> update_flags(const GraphId& id, const RemoteFlagUpdate& update) = 0;

  // Moves the message into `destination`; returns its id there (equal to `id` with immutable
  // ids). Cost: 1.
  virtual MailResult<RemoteMessage> move_message(const GraphId& id, const FolderId& destination) = 0;

  // Copies the message into `destination`; returns the new message (a new id). Cost: 1.
  virtual MailResult<RemoteMessage> copy_message(const GraphId& id, const FolderId& destination) = 0;

  // Outlook "Delete": moves the message to Deleted Items. Cost: 1.
  virtual MailResult<void> delete_message(const GraphId& id) = 0;

  // Removes the message for good (permanentDelete; used for EXPUNGE inside Deleted Items).
  // Cost: 1.
  virtual MailResult<void> permanently_delete_message(const GraphId& id) = 0;

  // Files an RFC 822 message in `folder` (IMAP APPEND). The message is a draft only when
  // options.flags has \Draft (graph-facts B9). Error invalid when `mime` is empty or has no
  // header section; too_big above Microsoft's request limit. Cost: 1-3 depending on the
  // implementation's recipe (documented there).
  virtual MailResult<RemoteMessage> create_message(const FolderId& folder, std::string_view mime,
                                                   const CreateMessageOptions& options) = 0;

  // Removes the intermediate ("staging") drafts a non-draft create_message leaves behind when it
  // is interrupted (a crash, or a lost answer) between storing the MIME as a draft and deleting
  // that draft (graph-facts B9). Permanently deletes every message in Drafts that is a draft
  // (isDraft), whose internetMessageId equals `message_id` exactly, and whose creation time
  // (createdDateTime, Microsoft's clock) lies in [created_from, created_until]; anything else is
  // left alone, so a re-created (non-draft) copy stored in Drafts itself is never touched.
  // Returns how many it deleted (a draft that vanished meanwhile is not counted and not an
  // error). Error invalid when `message_id` is empty. Cost: 1 (search) + 1 per draft deleted.
  virtual MailResult<std::size_t> delete_staging_drafts(std::string_view message_id, TimePoint created_from,
                                                        TimePoint created_until) = 0;

  // Creates a folder named `display_name` under `parent` (an empty FolderId: top level, i.e.
  // under msgfolderroot). already_exists when the parent has a child of that name (Outlook
  // compares names case-insensitively). Cost: 1.
  virtual MailResult<RemoteFolder> create_folder(const FolderId& parent, std::string_view display_name) = 0;

  // Changes a folder's display name (same parent). Cost: 1.
  virtual MailResult<RemoteFolder> rename_folder(const FolderId& id, std::string_view new_display_name) = 0;

  // Moves a folder under `new_parent` (empty: top level); keeps its id and contents. Cost: 1.
  virtual MailResult<RemoteFolder> move_folder(const FolderId& id, const FolderId& new_parent) = 0;

  // Deletes a folder with its messages and subfolders. Cost: 1.
  virtual MailResult<void> delete_folder(const FolderId& id) = 0;
};

}  // namespace mailtrixy::mail
