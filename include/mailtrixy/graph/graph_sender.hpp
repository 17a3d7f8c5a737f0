#pragma once
// GraphSender: hands one finished RFC 5322 message to Microsoft Graph for sending, for one
// mailbox (`/me`), and answers the questions the outbound queue needs for exactly-once delivery
// (graph-facts B9, B10).
//
// How a message is sent. Graph has no SMTP envelope: it takes the recipients from the To, Cc and
// Bcc headers, so the caller passes a message whose headers already name exactly the recipients
// it wants (the outbox rewrites them from RCPT TO). Then:
//
//   - small messages (base64 of the MIME within mime_send_limit, 4 MiB by default — the request
//     body limit of sendMail) go in ONE call: POST /me/sendMail with the base64 MIME
//     (Content-Type: text/plain). Microsoft keeps the MIME as written, Message-ID included, and
//     saves the copy to Sent Items.
//   - larger ones cannot go as MIME at all (Graph has no MIME upload session), so the message is
//     parsed (parse_draft_content) into a JSON draft: POST /me/messages with subject, body,
//     recipients, Reply-To, internetMessageId and the X- headers; every attachment smaller than
//     inline_attachment_limit is POSTed to .../attachments with contentBytes, larger ones go
//     through POST .../attachments/createUploadSession and PUTs of upload_chunk_bytes to the
//     pre-authenticated uploadUrl (no Authorization header: the URL may be on another host);
//     finally POST /me/messages/{id}/send. The draft keeps the Message-ID, so the Sent Items
//     copy carries it too. What JSON cannot carry is lost on this path: headers other than the
//     envelope ones and X- headers (In-Reply-To, References), S/MIME signatures, and parts
//     nested below the first text body become attachments. A failure before the send call
//     deletes the draft again (best effort; leftovers are found by delete_drafts()).
//
// Whether a failed send may still have been sent. Report::may_have_been_sent is true when no
// answer came back for the call that sends (timeout, connection lost: GraphClient does not repeat
// a POST after that) or Graph answered 504 (a gateway gave up; the mailbox may have acted), or
// answered the send with a success status other than Graph's 202 Accepted (not Graph's answer:
// the send is then `unavailable` and in doubt). The caller must then ask in_sent_items() before
// sending again.
//
// Errors are mail::MailError codes, mapped as GraphRemoteMailbox does: unavailable (429/5xx/
// network after GraphClient's retries), needs_sign_in, too_big (413 ErrorMessageSizeExceeded),
// no_permission (403, e.g. ErrorSendAsDenied), quota, invalid (other 4xx, unparseable MIME),
// not_found.
//
// Threads: every method blocks and may be called from any thread that is not an HttpClient I/O
// thread; one GraphSender may be used by several threads at once.

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mailtrixy/graph/graph_client.hpp"
#include "mailtrixy/mail/error.hpp"
#include "mailtrixy/mail/types.hpp"
#include "mailtrixy/net/http_client.hpp"

namespace mailtrixy::graph {

struct GraphSenderOptions {
  std::size_t mime_send_limit = 4 * 1024 * 1024;          // request body bytes of a MIME sendMail
  std::size_t inline_attachment_limit = 3 * 1024 * 1024;  // below: contentBytes; from here: upload session
  std::size_t upload_chunk_bytes = 12 * 320 * 1024;       // a multiple of 320 KiB, at most 4 MiB
};

// One attachment of a message that goes through a JSON draft: decoded bytes.
struct DraftAttachment {
  std::string name;
  std::string content_type;
  std::string content_id;  // without angle brackets; empty when none
  bool is_inline = false;
  std::string bytes;
};

// What a JSON draft can hold of a MIME message.
struct DraftContent {
  std::string subject;  // RFC 2047 words decoded (UTF-8, US-ASCII, ISO-8859-1); others kept as written
  std::string body;     // UTF-8 where the charset was UTF-8, US-ASCII or ISO-8859-1
  bool html = false;
  mail::Address from;
  std::vector<mail::Address> to, cc, bcc, reply_to;
  std::string internet_message_id;                             // "<...>" as in the header
  std::vector<std::pair<std::string, std::string>> x_headers;  // X-... fields, in order
  std::vector<DraftAttachment> attachments;
};

// Splits a MIME message into a draft: the first text/html (preferred inside
// multipart/alternative) or text/plain part that is not an attachment is the body; every other
// leaf part (and message/rfc822 parts, whole) becomes an attachment, decoded from base64 or
// quoted-printable. invalid when `mime` is not a message (mail::validate_message).
mail::MailResult<DraftContent> parse_draft_content(std::string_view mime);

class GraphSender {
 public:
  struct Report {
    bool may_have_been_sent = false;  // see above
    bool used_draft = false;          // the message was too large for MIME sendMail
  };

  // `client` and `http` (for the upload-session PUTs) must outlive the sender.
  GraphSender(GraphClient& client, net::HttpClient& http, GraphSenderOptions options = {});

  // Sends `mime` as it is (recipients from its To/Cc/Bcc). `report` may be null.
  mail::MailResult<void> send(std::string_view mime, Report* report = nullptr);

  // Whether Sent Items holds a message whose internetMessageId is `message_id` ("<...>"): the
  // proof that an earlier send went through.
  mail::MailResult<bool> in_sent_items(std::string_view message_id);

  // Deletes every draft whose internetMessageId is `message_id` (left behind by a large send that
  // was interrupted); returns how many.
  mail::MailResult<int> delete_drafts(std::string_view message_id);

 private:
  mail::MailResult<void> send_mime(std::string_view mime, Report& report);
  mail::MailResult<void> send_through_draft(std::string_view mime, Report& report);
  mail::MailResult<void> add_attachment(const std::string& draft_id, const DraftAttachment& attachment);
  mail::MailResult<void> upload_attachment(const std::string& draft_id, const DraftAttachment& attachment);
  mail::MailResult<std::vector<std::string>> find_in_folder(std::string_view folder, std::string_view message_id);

  GraphClient& client_;
  net::HttpClient& http_;
  GraphSenderOptions options_;
};

// The OData string literal of `text` inside a $filter, percent-encoded for a query string:
// quotes doubled, everything but unreserved characters escaped.
std::string odata_filter_literal(std::string_view text);

}  // namespace mailtrixy::graph
