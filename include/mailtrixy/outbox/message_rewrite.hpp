#pragma once
// The changes the outbound queue makes to a submitted message, as pure functions (no I/O,
// thread-safe), so they are tested on strings.
//
// Recipients. SMTP delivers to the envelope (RCPT TO), Graph to the header recipients (To, Cc,
// Bcc; graph-facts B10). The bridge makes the two agree at delivery time (spec §7: every RCPT TO
// receives the message, no header recipient outside the envelope does):
//   - a To or Cc field whose addresses are all in the envelope stays byte for byte as written;
//     one that names addresses outside the envelope is rewritten without them (and dropped when
//     none is left), so Graph cannot send to them;
//   - every Bcc field is removed and, when needed, one Bcc field is appended naming the Bcc
//     addresses that are in the envelope plus every envelope recipient that To and Cc do not
//     name. Graph (like Exchange) does not show Bcc to the other recipients; the copy in Sent
//     Items keeps it, as a mail client's own copy does.
// Addresses compare case-insensitively.
//
// Message-ID. Exactly-once delivery recognises a sent message in Sent Items by its
// internetMessageId, so every queued message has one: the client's when it gave one, otherwise
// one made at enqueue and written into the stored message.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mailtrixy::outbox {

// The Message-ID of `mime` ("<...>", trimmed), nullopt when it has none that looks like one.
std::optional<std::string> message_id_of(std::string_view mime);

// A new Message-ID "<queue_id.RANDOM@domain>"; `domain` is the sender's domain (the part after the
// '@' of `envelope_from`, "mailtrixy.invalid" when there is none).
std::string make_message_id(std::string_view queue_id, std::string_view envelope_from);

// `mime` with "Message-ID: <id>" as the first header field, in the message's line-ending style;
// an existing Message-ID field (one message_id_of() found unusable) is removed.
std::string add_message_id(std::string_view mime, std::string_view message_id);

// `mime` with To/Cc/Bcc made to agree with `recipients` as described above.
std::string apply_envelope(std::string_view mime, const std::vector<std::string>& recipients);

// The header section of `mime` (up to, not including, the empty line).
std::string_view header_section(std::string_view mime);

// A delivery status notification (RFC 3464 multipart/report) telling `envelope_from` that the
// message was not delivered to `recipients`, with Microsoft's answer and the original headers.
struct BounceReport {
  std::string queue_id;
  std::string envelope_from;
  std::vector<std::string> recipients;
  std::string original_mime;     // only its header section is included
  std::string reason;            // one sentence: why delivery failed
  std::string status = "5.0.0";  // RFC 3463 enhanced status of the failure
  std::chrono::system_clock::time_point arrival;
  std::chrono::system_clock::time_point now;
};
std::string build_bounce(const BounceReport& report);

}  // namespace mailtrixy::outbox
