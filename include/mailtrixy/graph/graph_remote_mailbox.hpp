#pragma once
// mail::RemoteMailbox over Microsoft Graph v1.0, for one mailbox (`/me`), through a GraphClient
// (retries, Retry-After, 4 in flight, ImmutableId, one token refresh on 401).
//
// Graph calls per operation (graph-facts B1-B13):
//   list_folders        GET /me/mailFolders?includeHiddenFolders=true (paged), then every level's
//                       childFolders (includeHiddenFolders=true) for the folders whose
//                       childFolderCount > 0, in $batch requests of up to 20; the special-use
//                       aliases (inbox, sentitems, drafts, deleteditems, junkemail, archive) are
//                       resolved in one more $batch by comparing the ids they return - display
//                       names are localised and never used. Search folders are listed, marked.
//   message_delta       GET /me/mailFolders/{id}/messages/delta with $select of the metadata fields
//                       and $expand of Integer 0x1081 (\Answered/$Forwarded), Prefer
//                       odata.maxpagesize=delta_page_size; later pages follow the links verbatim.
//                       410 -> ErrorCode::sync_state_not_found.
//   get_message         GET /me/messages/{id} (same $select/$expand).
//   fetch_mime          GET /me/messages/{id}/$value.
//   message_size        GET /me/messages/{id}/$value and its length: the size of exactly the
//                       bytes the bridge serves (Exchange's PidTagMessageSize is not that).
//   update_flags        one PATCH: isRead, flag.flagStatus, categories, and Integer 0x1081 /
//                       0x1080 (last verb 102/104 or 0, icon 261/262) for \Answered/$Forwarded.
//   move/copy_message   POST .../move|copy {"destinationId"}. Graph's answer to these actions
//                       carries no extended properties, so the returned RemoteMessage lacks
//                       \Answered/$Forwarded; the destination folder's next delta reports them.
//   delete_message      POST .../move to deleteditems (Outlook's Delete; B8).
//   permanently_delete  POST .../permanentDelete.
//   create_message      \Draft requested: one POST of the base64 MIME into the folder (Graph
//                       makes every MIME create a draft). Otherwise graph-facts B9's recipe:
//                       the MIME is posted once to become a draft (Graph parses it), that draft is
//                       read back with its attachments, re-created in the folder as JSON carrying
//                       Integer 0x0E07 (read or not, never unsent), SystemTime 0x0E06 (the
//                       INTERNALDATE) and the answered/forwarded verb, and the draft is deleted
//                       for good: 4 calls (5 with \Answered/$Forwarded, read back because a
//                       create answer carries no extended properties). The non-draft copy is Graph's rendering of the MIME
//                       (headers other than the envelope ones are not kept).
//   delete_staging_drafts  GET /me/mailFolders/drafts/messages?$filter=internetMessageId eq '..'
//                       ($top=50, the first page only: more staging drafts of one Message-ID
//                       than that are not expected), then one permanentDelete per draft that
//                       passes the isDraft, exact Message-ID and createdDateTime checks, which
//                       are made here too so a lenient server-side filter deletes nothing more.
//   folder operations   POST /me/mailFolders[/{parent}/childFolders], PATCH, POST .../move,
//                       DELETE.
//
// What Graph cannot give without downloading: In-Reply-To (only in the MIME headers) stays empty
// in RemoteMessage::envelope; RemoteMessage::size is nullopt (see message_size).
//
// Status mapping: 404 not_found, 409 already_exists, 403 no_permission (ErrorQuotaExceeded:
// quota), 413 too_big, 507 quota, 410 sync_state_not_found, 400 ErrorDeleteDistinguishedFolder
// no_permission, other 4xx invalid, 401 after the refresh needs_sign_in, 429/5xx and unreadable
// bodies unavailable.

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mailtrixy/graph/graph_client.hpp"
#include "mailtrixy/mail/remote_mailbox.hpp"

namespace mailtrixy::graph {

struct GraphRemoteMailboxOptions {
  int delta_page_size = 200;  // Prefer: odata.maxpagesize for message delta rounds
};

class GraphRemoteMailbox final : public mail::RemoteMailbox {
 public:
  // `client` must outlive the mailbox.
  explicit GraphRemoteMailbox(GraphClient& client, GraphRemoteMailboxOptions options = {});

  mail::MailResult<std::vector<mail::RemoteFolder>> list_folders() override;
  mail::MailResult<mail::DeltaPage> message_delta(const mail::FolderId& folder, std::string_view link) override;
  mail::MailResult<mail::RemoteMessage> get_message(const mail::GraphId& id) override;
  mail::MailResult<std::string> fetch_mime(const mail::GraphId& id) override;
  mail::MailResult<std::uint64_t> message_size(const mail::GraphId& id) override;
  mail::MailResult<void> update_flags(const mail::GraphId& id, const mail::RemoteFlagUpdate& update) override;
  mail::MailResult<mail::RemoteMessage> move_message(const mail::GraphId& id, const mail::FolderId& destination) override;
  mail::MailResult<mail::RemoteMessage> copy_message(const mail::GraphId& id, const mail::FolderId& destination) override;
  mail::MailResult<void> delete_message(const mail::GraphId& id) override;
  mail::MailResult<void> permanently_delete_message(const mail::GraphId& id) override;
  mail::MailResult<std::size_t> delete_staging_drafts(std::string_view message_id, mail::TimePoint created_from,
                                                      mail::TimePoint created_until) override;
  mail::MailResult<mail::RemoteMessage> create_message(const mail::FolderId& folder, std::string_view mime,
                                                       const mail::CreateMessageOptions& options) override;
  mail::MailResult<mail::RemoteFolder> create_folder(const mail::FolderId& parent, std::string_view display_name) override;
  mail::MailResult<mail::RemoteFolder> rename_folder(const mail::FolderId& id, std::string_view new_display_name) override;
  mail::MailResult<mail::RemoteFolder> move_folder(const mail::FolderId& id, const mail::FolderId& new_parent) override;
  mail::MailResult<void> delete_folder(const mail::FolderId& id) override;

 private:
  GraphClient& client_;
  GraphRemoteMailboxOptions options_;
};

// JSON -> model, exposed for unit tests of the parsers against recorded Graph payloads.
// Errors name what is missing ("a message without an id").
mail::MailResult<mail::RemoteMessage> parse_message(std::string_view json);
mail::MailResult<mail::RemoteFolder> parse_folder(std::string_view json);
mail::MailResult<mail::DeltaPage> parse_delta_page(std::string_view json);

// Percent-encodes an id for a URL path segment (ids may hold '/', '+', '=': graph-facts B0).
std::string encode_id(std::string_view id);

}  // namespace mailtrixy::graph
