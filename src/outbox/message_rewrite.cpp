#include "mailtrixy/outbox/message_rewrite.hpp"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <set>

#include "mailtrixy/crypto/encoding.hpp"
#include "mailtrixy/crypto/random.hpp"
#include "mailtrixy/mail/envelope.hpp"

namespace mailtrixy::outbox {
namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  return text;
}

std::string_view line_ending_of(std::string_view mime) {
  const auto lf = mime.find('\n');
  return lf != std::string_view::npos && lf > 0 && mime[lf - 1] == '\r' ? "\r\n" : "\n";
}

// One header field as written: its name and every byte of its lines, continuations included.
struct RawField {
  std::string name;
  std::string raw;
};

// The header section split into raw fields, and where the rest (the empty line and the body)
// starts. Lines before the first field that are not fields are kept as nameless entries.
std::vector<RawField> split_fields(std::string_view mime, std::size_t& rest) {
  std::vector<RawField> fields;
  std::size_t at = 0;
  while (at < mime.size()) {
    auto end = mime.find('\n', at);
    end = end == std::string_view::npos ? mime.size() : end + 1;
    const std::string_view line = mime.substr(at, end - at);
    if (line == "\r\n" || line == "\n") break;  // the empty line: the body follows
    if ((line.front() == ' ' || line.front() == '\t') && !fields.empty()) {
      fields.back().raw += line;
    } else {
      const auto colon = line.find(':');
      RawField field;
      if (colon != std::string_view::npos) field.name = lower(trim(line.substr(0, colon)));
      field.raw = std::string(line);
      fields.push_back(std::move(field));
    }
    at = end;
  }
  rest = at;
  return fields;
}

std::string field_value(const RawField& field) {
  const auto colon = field.raw.find(':');
  std::string value = field.raw.substr(colon + 1);
  std::string unfolded;
  for (const char c : value) {
    if (c != '\r' && c != '\n') unfolded += c;
  }
  return std::string(trim(unfolded));
}

bool is_atext_phrase(std::string_view name) {
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == ' ' || std::string_view("!#$%&'*+-/=?^_`{|}~.").find(c) != std::string_view::npos ||
           static_cast<unsigned char>(c) >= 0x80;
  });
}

std::string format_address(const mail::Address& address) {
  if (address.name.empty()) return address.address;
  if (address.name.starts_with("=?") || is_atext_phrase(address.name)) {
    return address.name + " <" + address.address + ">";
  }
  std::string quoted = "\"";
  for (const char c : address.name) {
    if (c == '"' || c == '\\') quoted += '\\';
    quoted += c;
  }
  return quoted + "\" <" + address.address + ">";
}

std::string format_field(std::string_view name, const std::vector<mail::Address>& addresses,
                         std::string_view eol) {
  std::string field = std::string(name) + ": ";
  for (std::size_t i = 0; i < addresses.size(); ++i) {
    if (i > 0) field += std::string(",") + std::string(eol) + " ";
    field += format_address(addresses[i]);
  }
  return field + std::string(eol);
}

std::string format_rfc5322_date(std::chrono::system_clock::time_point when) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(when);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buffer[64];
  std::strftime(buffer, sizeof buffer, "%a, %d %b %Y %H:%M:%S +0000", &utc);
  return buffer;
}

std::string domain_of(std::string_view address) {
  const auto at = address.rfind('@');
  if (at == std::string_view::npos || at + 1 >= address.size()) return "mailtrixy.invalid";
  return lower(address.substr(at + 1));
}

// Diagnostic text for a header line: one line, printable.
std::string one_line(std::string_view text) {
  std::string out;
  for (const char c : text) out += (c == '\r' || c == '\n' || c == '\t') ? ' ' : c;
  return out;
}

}  // namespace

std::optional<std::string> message_id_of(std::string_view mime) {
  const auto fields = mail::parse_header_fields(mime);
  const auto value = mail::find_header(fields, "Message-ID");
  if (!value) return std::nullopt;
  const std::string_view id = trim(*value);
  const auto open = id.find('<');
  const auto close = id.find('>', open == std::string_view::npos ? 0 : open);
  if (open == std::string_view::npos || close == std::string_view::npos || close < open + 3 ||
      id.substr(open, close - open).find('@') == std::string_view::npos) {
    return std::nullopt;
  }
  return std::string(id.substr(open, close - open + 1));
}

std::string make_message_id(std::string_view queue_id, std::string_view envelope_from) {
  return "<" + std::string(queue_id) + "." + crypto::hex_encode(crypto::random_bytes(6)) + "@" +
         domain_of(envelope_from) + ">";
}

std::string add_message_id(std::string_view mime, std::string_view message_id) {
  // A Message-ID field that message_id_of() did not accept is replaced, never duplicated.
  std::size_t rest = 0;
  std::string out = "Message-ID: " + std::string(message_id) + std::string(line_ending_of(mime));
  for (const RawField& field : split_fields(mime, rest)) {
    if (field.name != "message-id") out += field.raw;
  }
  out += mime.substr(rest);
  return out;
}

std::string_view header_section(std::string_view mime) {
  std::size_t rest = 0;
  split_fields(mime, rest);
  return mime.substr(0, rest);
}

std::string apply_envelope(std::string_view mime, const std::vector<std::string>& recipients) {
  const std::string_view eol = line_ending_of(mime);
  std::set<std::string> envelope;
  for (const auto& recipient : recipients) envelope.insert(lower(recipient));

  std::size_t rest = 0;
  std::vector<RawField> fields = split_fields(mime, rest);
  std::set<std::string> named;  // envelope recipients To or Cc keep
  std::vector<mail::Address> bcc;
  std::string header;
  for (const RawField& field : fields) {
    if (field.name == "bcc") {
      for (auto& address : mail::parse_address_list(field_value(field))) {
        if (envelope.contains(lower(address.address))) bcc.push_back(std::move(address));
      }
      continue;
    }
    if (field.name != "to" && field.name != "cc") {
      header += field.raw;
      continue;
    }
    const auto listed = mail::parse_address_list(field_value(field));
    std::vector<mail::Address> kept;
    for (const auto& address : listed) {
      if (envelope.contains(lower(address.address))) {
        kept.push_back(address);
        named.insert(lower(address.address));
      }
    }
    if (kept.size() == listed.size()) {
      header += field.raw;
    } else if (!kept.empty()) {
      header += format_field(field.name == "to" ? "To" : "Cc", kept, eol);
    }
  }
  std::set<std::string> in_bcc;
  std::vector<mail::Address> unique_bcc;
  for (auto& address : bcc) {
    if (in_bcc.insert(lower(address.address)).second && !named.contains(lower(address.address))) {
      unique_bcc.push_back(std::move(address));
    }
  }
  for (const auto& recipient : recipients) {
    const std::string key = lower(recipient);
    if (!named.contains(key) && in_bcc.insert(key).second) unique_bcc.push_back(mail::Address{"", recipient});
  }
  if (!unique_bcc.empty()) header += format_field("Bcc", unique_bcc, eol);
  if (!header.empty() && header.back() != '\n') header += eol;
  std::string out = header;
  if (rest < mime.size()) {
    out += mime.substr(rest);
  } else {
    out += eol;  // a message that is all header still needs its empty line
  }
  return out;
}

std::string build_bounce(const BounceReport& report) {
  const std::string boundary = "=_mailtrixy-dsn-" + crypto::hex_encode(crypto::random_bytes(8));
  char host[256] = "localhost";
  ::gethostname(host, sizeof host - 1);
  const std::string when = format_rfc5322_date(report.now);
  const std::string reason = one_line(report.reason);

  std::string recipients_text;
  for (const auto& recipient : report.recipients) recipients_text += "  <" + recipient + ">\r\n";
  std::string original_subject;
  for (const auto& field : mail::parse_header_fields(report.original_mime)) {
    if (lower(field.name) == "subject") original_subject = field.value;
  }

  std::string out;
  out += "From: Mail Delivery System <MAILER-DAEMON@" + domain_of(report.envelope_from) + ">\r\n";
  out += "To: <" + report.envelope_from + ">\r\n";
  out += "Subject: Undelivered Mail Returned to Sender\r\n";
  out += "Date: " + when + "\r\n";
  out += "Message-ID: <dsn." + report.queue_id + "." + crypto::hex_encode(crypto::random_bytes(4)) + "@" +
         domain_of(report.envelope_from) + ">\r\n";
  out += "Auto-Submitted: auto-replied\r\n";
  out += "MIME-Version: 1.0\r\n";
  out += "Content-Type: multipart/report; report-type=delivery-status;\r\n boundary=\"" + boundary + "\"\r\n";
  out += "\r\n";
  out += "This is a MIME-encapsulated delivery status notification.\r\n\r\n";

  out += "--" + boundary + "\r\n";
  out += "Content-Type: text/plain; charset=utf-8\r\n";
  out += "Content-Description: Notification\r\n\r\n";
  out += "This is the MailTrixy Bridge on " + std::string(host) + ".\r\n\r\n";
  out += "Your message";
  if (!original_subject.empty()) out += " \"" + one_line(original_subject) + "\"";
  out += " (queue id " + report.queue_id + ") could not be delivered to:\r\n\r\n" + recipients_text + "\r\n";
  out += "Reason: " + reason + "\r\n\r\n";
  out += "The message was not sent to any of these recipients. Its headers are attached below.\r\n\r\n";

  out += "--" + boundary + "\r\n";
  out += "Content-Type: message/delivery-status\r\n";
  out += "Content-Description: Delivery report\r\n\r\n";
  out += "Reporting-MTA: dns; " + std::string(host) + "\r\n";
  out += "X-MailTrixy-Queue-ID: " + report.queue_id + "\r\n";
  out += "Arrival-Date: " + format_rfc5322_date(report.arrival) + "\r\n";
  for (const auto& recipient : report.recipients) {
    out += "\r\n";
    out += "Final-Recipient: rfc822; " + recipient + "\r\n";
    out += "Action: failed\r\n";
    out += "Status: " + report.status + "\r\n";
    out += "Diagnostic-Code: X-Microsoft-Graph; " + reason + "\r\n";
    out += "Last-Attempt-Date: " + when + "\r\n";
  }
  out += "\r\n";

  out += "--" + boundary + "\r\n";
  out += "Content-Type: text/rfc822-headers\r\n";
  out += "Content-Description: Undelivered message headers\r\n\r\n";
  std::string headers(header_section(report.original_mime));
  out += headers;
  if (!headers.empty() && !headers.ends_with('\n')) out += "\r\n";
  out += "\r\n--" + boundary + "--\r\n";
  return out;
}

}  // namespace mailtrixy::outbox
