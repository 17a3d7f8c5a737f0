#include "mailtrixy/graph/graph_sender.hpp"

#include <algorithm>
#include <cctype>
#include <optional>

#include "json.hpp"
#include "mailtrixy/base/log.hpp"
#include "mailtrixy/crypto/encoding.hpp"
#include "mailtrixy/graph/graph_remote_mailbox.hpp"
#include "mailtrixy/mail/envelope.hpp"

namespace mailtrixy::graph {
namespace {

using mail::ErrorCode;
using mail::MailError;
using mail::MailResult;
using mail::make_mail_error;

// ---------------------------------------------------------------------------------------------
// Error mapping (the same table GraphRemoteMailbox uses).

ErrorCode code_for(const GraphResponse& response) {
  const GraphError error = response.error();
  switch (response.status) {
    case 401: return ErrorCode::needs_sign_in;
    case 403: return error.code == "ErrorQuotaExceeded" ? ErrorCode::quota : ErrorCode::no_permission;
    case 404: return ErrorCode::not_found;
    case 413: return ErrorCode::too_big;
    case 507: return ErrorCode::quota;
    default: break;
  }
  if (error.code == "ErrorMessageSizeExceeded") return ErrorCode::too_big;
  if (response.status == 429 || response.status >= 500) return ErrorCode::unavailable;
  if (response.status >= 400) return ErrorCode::invalid;
  return ErrorCode::internal;
}

MailError error_for(const GraphResponse& response, std::string_view what) {
  std::string message = "Microsoft refused to " + std::string(what) + ": " + response.describe() + ".";
  if (response.status == 429 || response.status >= 500) message += " The queue tries again later.";
  return make_mail_error(code_for(response), std::move(message));
}

MailError error_for(CallFailure failure, const Error& error, std::string_view what) {
  ErrorCode code = ErrorCode::unavailable;
  if (failure == CallFailure::needs_sign_in) code = ErrorCode::needs_sign_in;
  if (failure == CallFailure::invalid_request) code = ErrorCode::invalid;
  return make_mail_error(code, "Could not " + std::string(what) + ": " + redact_text(error.message));
}

// A call whose answer must be 2xx; anything else becomes a MailError naming `what`.
// `in_doubt`, when given, tells whether the server may have acted although the call failed: no
// answer came back at all, or a gateway gave up waiting for the mailbox (504).
MailResult<GraphResponse> call(GraphClient& client, const GraphRequest& request, std::string_view what,
                               bool* in_doubt = nullptr) {
  CallFailure failure = CallFailure::none;
  auto response = client.send(request, &failure);
  if (in_doubt != nullptr) *in_doubt = !response.ok() || response->status == 504;
  if (!response) return error_for(failure, response.error(), what);
  if (!response->ok()) return error_for(*response, what);
  return std::move(response).value();
}

// Graph accepts a send with 202 and an empty body. Another success status did not come from the
// mail service as documented (a proxy, a broken answer): whether the message went out is
// unknown, so it is reported as in doubt and the queue looks in Sent Items before sending again
// instead of counting it as sent (docs/chaos.md, "Findings").
MailResult<void> accepted_for_sending(const GraphResponse& response, std::string_view what, bool& in_doubt) {
  if (response.status == 202) return {};
  in_doubt = true;
  return make_mail_error(ErrorCode::unavailable, "Could not " + std::string(what) + ": Microsoft answered HTTP " +
                                                     std::to_string(response.status) + " instead of 202 Accepted.");
}

std::string json_quote(std::string_view text) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  writer.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
  return {buffer.GetString(), buffer.GetSize()};
}

std::size_t base64_length(std::size_t bytes) { return (bytes + 2) / 3 * 4; }

// ---------------------------------------------------------------------------------------------
// A small MIME reader for the draft path. The bridge does not need a full MIME model here: a
// tree walk over Content-Type boundaries, decoding of the two transfer encodings, and the few
// parameters a Graph attachment carries.

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

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

// Header section and body of an entity; the body starts after the first empty line.
std::pair<std::string_view, std::string_view> split_entity(std::string_view entity) {
  if (entity.starts_with("\r\n")) return {std::string_view(), entity.substr(2)};
  if (entity.starts_with("\n")) return {std::string_view(), entity.substr(1)};
  const auto crlf = entity.find("\r\n\r\n");
  const auto lf = entity.find("\n\n");
  if (crlf != std::string_view::npos && (lf == std::string_view::npos || crlf < lf)) {
    return {entity.substr(0, crlf + 2), entity.substr(crlf + 4)};
  }
  if (lf != std::string_view::npos) return {entity.substr(0, lf + 1), entity.substr(lf + 2)};
  return {entity, std::string_view()};
}

struct FieldValue {
  std::string value;  // "multipart/mixed", lower-cased
  std::vector<std::pair<std::string, std::string>> parameters;  // names lower-cased
  std::string parameter(std::string_view name) const {
    for (const auto& [key, text] : parameters)
      if (key == name) return text;
    return {};
  }
};

// "type/subtype; a=b; c=\"d e\"" (RFC 2045); RFC 2231 continuations are joined naively.
FieldValue parse_field_value(std::string_view text) {
  FieldValue out;
  std::size_t at = text.find(';');
  out.value = lower(trim(text.substr(0, at)));
  while (at != std::string_view::npos && at < text.size()) {
    ++at;
    while (at < text.size() && std::isspace(static_cast<unsigned char>(text[at]))) ++at;
    const auto equals = text.find('=', at);
    if (equals == std::string_view::npos) break;
    std::string name = lower(trim(text.substr(at, equals - at)));
    std::string value;
    at = equals + 1;
    while (at < text.size() && std::isspace(static_cast<unsigned char>(text[at]))) ++at;
    if (at < text.size() && text[at] == '"') {
      ++at;
      while (at < text.size() && text[at] != '"') {
        if (text[at] == '\\' && at + 1 < text.size()) ++at;
        value += text[at++];
      }
      at = text.find(';', at);
    } else {
      const auto end = text.find(';', at);
      value = std::string(trim(text.substr(at, end == std::string_view::npos ? std::string_view::npos : end - at)));
      at = end;
    }
    // name*0, name*1 ... -> name; the charset'lang' prefix of name*0* is dropped.
    const auto star = name.find('*');
    if (star != std::string::npos) {
      const bool encoded = name.back() == '*';
      name = name.substr(0, star);
      if (encoded) {
        const auto quote = value.find('\'');
        const auto second = quote == std::string::npos ? std::string::npos : value.find('\'', quote + 1);
        if (second != std::string::npos) value = value.substr(second + 1);
        std::string decoded;
        for (std::size_t i = 0; i < value.size(); ++i) {
          if (value[i] == '%' && i + 2 < value.size() && std::isxdigit(static_cast<unsigned char>(value[i + 1])) &&
              std::isxdigit(static_cast<unsigned char>(value[i + 2]))) {
            decoded += static_cast<char>(std::stoi(value.substr(i + 1, 2), nullptr, 16));
            i += 2;
          } else {
            decoded += value[i];
          }
        }
        value = decoded;
      }
      bool joined = false;
      for (auto& [key, existing] : out.parameters) {
        if (key == name) {
          existing += value;
          joined = true;
        }
      }
      if (joined) continue;
    }
    out.parameters.emplace_back(std::move(name), std::move(value));
  }
  return out;
}

std::string latin1_to_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x80) {
      out += c;
    } else {
      out += static_cast<char>(0xC0 | (byte >> 6));
      out += static_cast<char>(0x80 | (byte & 0x3F));
    }
  }
  return out;
}

std::string to_utf8(std::string text, std::string_view charset) {
  const std::string name = lower(charset);
  if (name == "iso-8859-1" || name == "latin1" || name == "iso-8859-15" || name == "windows-1252") {
    return latin1_to_utf8(text);
  }
  return text;
}

std::string decode_base64_lenient(std::string_view text) {
  std::string clean;
  clean.reserve(text.size());
  for (const char c : text) {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/') clean += c;
  }
  // A lone trailing character carries no whole byte: a cut line, dropped like mail readers do.
  if (clean.size() % 4 == 1) clean.pop_back();
  while (clean.size() % 4 != 0) clean += '=';
  auto decoded = crypto::base64_decode(clean);
  return decoded ? std::move(decoded).value() : std::string();
}

std::string decode_quoted_printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c != '=') {
      out += c;
      continue;
    }
    if (i + 1 < text.size() && text[i + 1] == '\n') {
      ++i;
    } else if (i + 2 < text.size() && text[i + 1] == '\r' && text[i + 2] == '\n') {
      i += 2;
    } else if (i + 2 < text.size() && std::isxdigit(static_cast<unsigned char>(text[i + 1])) &&
               std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
      out += static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

std::string decode_body(std::string_view body, std::string_view encoding) {
  const std::string name = lower(trim(encoding));
  if (name == "base64") return decode_base64_lenient(body);
  if (name == "quoted-printable") return decode_quoted_printable(body);
  return std::string(body);
}

// RFC 2047 encoded words in UTF-8, US-ASCII or ISO-8859-1; other charsets are kept as written.
std::string decode_words(std::string_view text) {
  std::string out;
  std::size_t at = 0;
  bool last_was_word = false;
  while (at < text.size()) {
    const auto start = text.find("=?", at);
    if (start == std::string_view::npos) {
      out += text.substr(at);
      break;
    }
    const auto q1 = text.find('?', start + 2);
    const auto q2 = q1 == std::string_view::npos ? q1 : text.find('?', q1 + 1);
    const auto end = q2 == std::string_view::npos ? q2 : text.find("?=", q2 + 1);
    if (end == std::string_view::npos) {
      out += text.substr(at);
      break;
    }
    const std::string_view between = text.substr(at, start - at);
    if (!(last_was_word && trim(between).empty())) out += between;
    const std::string charset = lower(text.substr(start + 2, q1 - start - 2));
    const std::string encoding = lower(text.substr(q1 + 1, q2 - q1 - 1));
    const std::string_view payload = text.substr(q2 + 1, end - q2 - 1);
    const bool known = charset == "utf-8" || charset == "us-ascii" || charset == "iso-8859-1";
    if (!known || (encoding != "b" && encoding != "q")) {
      out += text.substr(start, end + 2 - start);
    } else {
      std::string decoded;
      if (encoding == "b") {
        decoded = decode_base64_lenient(payload);
      } else {
        std::string underscores(payload);
        std::replace(underscores.begin(), underscores.end(), '_', ' ');
        decoded = decode_quoted_printable(underscores);
      }
      out += to_utf8(std::move(decoded), charset);
    }
    last_was_word = true;
    at = end + 2;
  }
  return out;
}

struct Walk {
  DraftContent& content;
  bool have_body = false;
};

constexpr int kMaxDepth = 20;

void walk_entity(std::string_view entity, Walk& walk, int depth);

void add_attachment(Walk& walk, const std::vector<mail::HeaderField>& fields, const FieldValue& type,
                    std::string bytes) {
  DraftAttachment attachment;
  const FieldValue disposition = parse_field_value(mail::find_header(fields, "Content-Disposition").value_or(""));
  attachment.name = decode_words(disposition.parameter("filename"));
  if (attachment.name.empty()) attachment.name = decode_words(type.parameter("name"));
  if (attachment.name.empty()) {
    attachment.name = type.value == "message/rfc822" ? "message.eml" : "attachment-" +
                                                                           std::to_string(walk.content.attachments.size() + 1);
  }
  attachment.content_type = type.value.empty() ? "application/octet-stream" : type.value;
  std::string content_id(trim(mail::find_header(fields, "Content-ID").value_or("")));
  if (content_id.size() >= 2 && content_id.front() == '<' && content_id.back() == '>') {
    content_id = content_id.substr(1, content_id.size() - 2);
  }
  attachment.content_id = content_id;
  attachment.is_inline = disposition.value == "inline" && !content_id.empty();
  attachment.bytes = std::move(bytes);
  walk.content.attachments.push_back(std::move(attachment));
}

void walk_multipart(std::string_view body, const FieldValue& type, Walk& walk, int depth) {
  const std::string boundary = type.parameter("boundary");
  if (boundary.empty()) return;
  const std::string delimiter = "--" + boundary;
  std::vector<std::string_view> parts;
  std::size_t part_start = std::string_view::npos;
  std::size_t line_start = 0;
  while (line_start <= body.size()) {
    auto line_end = body.find('\n', line_start);
    if (line_end == std::string_view::npos) line_end = body.size();
    std::string_view line = body.substr(line_start, line_end - line_start);
    if (line.ends_with('\r')) line.remove_suffix(1);
    if (line.starts_with(delimiter)) {
      if (part_start != std::string_view::npos) {
        // The line break before the delimiter belongs to the delimiter.
        std::size_t end = line_start;
        if (end > part_start && body[end - 1] == '\n') --end;
        if (end > part_start && body[end - 1] == '\r') --end;
        parts.push_back(body.substr(part_start, end - part_start));
      }
      if (line.substr(delimiter.size()).starts_with("--")) break;
      part_start = std::min(line_end + 1, body.size());
    }
    if (line_end == body.size()) break;
    line_start = line_end + 1;
  }
  const bool alternative = type.value == "multipart/alternative";
  if (alternative && !walk.have_body) {
    // Prefer the richest body: the last alternative that is or contains text/html.
    std::optional<std::size_t> chosen;
    for (std::size_t i = 0; i < parts.size(); ++i) {
      const auto [header, part_body] = split_entity(parts[i]);
      const FieldValue part_type = parse_field_value(mail::find_header(mail::parse_header_fields(header), "Content-Type")
                                                         .value_or("text/plain"));
      if (part_type.value == "text/html" || part_type.value == "multipart/related") chosen = i;
      if (!chosen && part_type.value == "text/plain") chosen = i;
    }
    if (chosen) {
      walk_entity(parts[*chosen], walk, depth + 1);
      return;
    }
  }
  for (const std::string_view part : parts) walk_entity(part, walk, depth + 1);
}

void walk_entity(std::string_view entity, Walk& walk, int depth) {
  const auto [header, body] = split_entity(entity);
  const auto fields = mail::parse_header_fields(header.empty() ? std::string_view("\r\n") : entity);
  const FieldValue type = parse_field_value(mail::find_header(fields, "Content-Type").value_or("text/plain"));
  const std::string encoding = mail::find_header(fields, "Content-Transfer-Encoding").value_or("7bit");
  if (type.value.starts_with("multipart/") && depth < kMaxDepth) {
    walk_multipart(body, type, walk, depth);
    return;
  }
  const FieldValue disposition = parse_field_value(mail::find_header(fields, "Content-Disposition").value_or(""));
  const bool attachment = disposition.value == "attachment" || !disposition.parameter("filename").empty();
  const bool text = type.value == "text/plain" || type.value == "text/html" || type.value.empty();
  if (text && !attachment && !walk.have_body) {
    walk.have_body = true;
    walk.content.html = type.value == "text/html";
    walk.content.body = to_utf8(decode_body(body, encoding), type.parameter("charset"));
    return;
  }
  if (type.value == "message/rfc822") {
    add_attachment(walk, fields, type, std::string(body));
    return;
  }
  add_attachment(walk, fields, type, decode_body(body, encoding));
}

void write_recipients(rapidjson::Writer<rapidjson::StringBuffer>& writer, const char* key,
                      const std::vector<mail::Address>& addresses) {
  if (addresses.empty()) return;
  writer.Key(key);
  writer.StartArray();
  for (const auto& address : addresses) {
    writer.StartObject();
    writer.Key("emailAddress");
    writer.StartObject();
    writer.Key("address");
    writer.String(address.address.c_str());
    if (!address.name.empty()) {
      writer.Key("name");
      writer.String(address.name.c_str());
    }
    writer.EndObject();
    writer.EndObject();
  }
  writer.EndArray();
}

std::string draft_json(const DraftContent& content) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  writer.StartObject();
  writer.Key("subject");
  writer.String(content.subject.c_str());
  writer.Key("body");
  writer.StartObject();
  writer.Key("contentType");
  writer.String(content.html ? "html" : "text");
  writer.Key("content");
  writer.String(content.body.data(), static_cast<rapidjson::SizeType>(content.body.size()));
  writer.EndObject();
  if (!content.from.address.empty()) {
    writer.Key("from");
    writer.StartObject();
    writer.Key("emailAddress");
    writer.StartObject();
    writer.Key("address");
    writer.String(content.from.address.c_str());
    if (!content.from.name.empty()) {
      writer.Key("name");
      writer.String(content.from.name.c_str());
    }
    writer.EndObject();
    writer.EndObject();
  }
  write_recipients(writer, "toRecipients", content.to);
  write_recipients(writer, "ccRecipients", content.cc);
  write_recipients(writer, "bccRecipients", content.bcc);
  write_recipients(writer, "replyTo", content.reply_to);
  if (!content.internet_message_id.empty()) {
    writer.Key("internetMessageId");
    writer.String(content.internet_message_id.c_str());
  }
  if (!content.x_headers.empty()) {
    writer.Key("internetMessageHeaders");
    writer.StartArray();
    for (const auto& [name, value] : content.x_headers) {
      writer.StartObject();
      writer.Key("name");
      writer.String(name.c_str());
      writer.Key("value");
      writer.String(value.c_str());
      writer.EndObject();
    }
    writer.EndArray();
  }
  writer.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

}  // namespace

// -----------------------------------------------------------------------------------------------

MailResult<DraftContent> parse_draft_content(std::string_view mime) {
  if (auto valid = mail::validate_message(mime); !valid) return valid.error();
  DraftContent content;
  const auto fields = mail::parse_header_fields(mime);
  content.subject = decode_words(mail::find_header(fields, "Subject").value_or(""));
  auto addresses = [&](std::string_view name) {
    std::vector<mail::Address> all;
    for (const auto& field : fields) {
      if (!iequals(field.name, name)) continue;
      for (auto& address : mail::parse_address_list(field.value)) {
        address.name = decode_words(address.name);
        all.push_back(std::move(address));
      }
    }
    return all;
  };
  content.to = addresses("To");
  content.cc = addresses("Cc");
  content.bcc = addresses("Bcc");
  content.reply_to = addresses("Reply-To");
  if (auto from = addresses("From"); !from.empty()) content.from = from.front();
  content.internet_message_id = std::string(trim(mail::find_header(fields, "Message-ID").value_or("")));
  for (const auto& field : fields) {
    if (field.name.size() > 2 && (field.name[0] == 'x' || field.name[0] == 'X') && field.name[1] == '-') {
      content.x_headers.emplace_back(field.name, field.value);
    }
  }
  Walk walk{content};
  walk_entity(mime, walk, 0);
  return content;
}

std::string odata_filter_literal(std::string_view text) {
  std::string quoted = "'";
  for (const char c : text) {
    quoted += c;
    if (c == '\'') quoted += '\'';
  }
  quoted += '\'';
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : quoted) {
    const auto byte = static_cast<unsigned char>(c);
    if (std::isalnum(byte) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += c;
    } else {
      out += '%';
      out += kHex[byte >> 4];
      out += kHex[byte & 0xF];
    }
  }
  return out;
}

GraphSender::GraphSender(GraphClient& client, net::HttpClient& http, GraphSenderOptions options)
    : client_(client), http_(http), options_(options) {
  if (options_.upload_chunk_bytes == 0 || options_.upload_chunk_bytes > 4 * 1024 * 1024) {
    options_.upload_chunk_bytes = 12 * 320 * 1024;
  }
}

MailResult<void> GraphSender::send(std::string_view mime, Report* report) {
  Report local;
  Report& out = report != nullptr ? *report : local;
  out = Report{};
  if (auto valid = mail::validate_message(mime); !valid) return valid.error();
  if (base64_length(mime.size()) <= options_.mime_send_limit) return send_mime(mime, out);
  out.used_draft = true;
  return send_through_draft(mime, out);
}

MailResult<void> GraphSender::send_mime(std::string_view mime, Report& report) {
  GraphRequest request;
  request.method = "POST";
  request.target = "/me/sendMail";
  request.content_type = "text/plain";
  request.body = crypto::base64_encode(mime);
  bool in_doubt = false;
  auto response = call(client_, request, "send the message", &in_doubt);
  if (!response) {
    report.may_have_been_sent = in_doubt;
    return response.error();
  }
  auto accepted = accepted_for_sending(*response, "send the message", in_doubt);
  report.may_have_been_sent = in_doubt;
  return accepted;
}

MailResult<void> GraphSender::send_through_draft(std::string_view mime, Report& report) {
  auto content = parse_draft_content(mime);
  if (!content) return content.error();
  DraftContent draft = std::move(content).value();
  std::vector<DraftAttachment> attachments = std::move(draft.attachments);
  draft.attachments.clear();

  GraphRequest create;
  create.method = "POST";
  create.target = "/me/messages";
  create.content_type = "application/json";
  create.body = draft_json(draft);
  auto created = call(client_, create, "create the draft of a large message");
  if (!created) return created.error();
  rapidjson::Document document;
  document.Parse(created->body.data(), created->body.size());
  const std::string draft_id = document.IsObject() ? json::string_or(document, "id", "") : "";
  if (draft_id.empty()) {
    return make_mail_error(ErrorCode::unavailable, "Microsoft created the draft but its answer had no id.");
  }
  auto discard_draft = [&] {
    GraphRequest remove;
    remove.method = "DELETE";
    remove.target = "/me/messages/" + encode_id(draft_id);
    if (auto removed = client_.send(remove); !removed || !removed->ok()) {
      log::warn("could not delete the draft of a failed large send; the queue removes it before retrying");
    }
  };
  for (const DraftAttachment& attachment : attachments) {
    auto added = attachment.bytes.size() < options_.inline_attachment_limit ? add_attachment(draft_id, attachment)
                                                                          : upload_attachment(draft_id, attachment);
    if (!added) {
      discard_draft();
      return added.error();
    }
  }
  GraphRequest send;
  send.method = "POST";
  send.target = "/me/messages/" + encode_id(draft_id) + "/send";
  bool in_doubt = false;
  auto sent = call(client_, send, "send the large message", &in_doubt);
  if (!sent) {
    report.may_have_been_sent = in_doubt;
    if (!report.may_have_been_sent) discard_draft();
    return sent.error();
  }
  auto accepted = accepted_for_sending(*sent, "send the large message", in_doubt);
  report.may_have_been_sent = in_doubt;
  return accepted;
}

MailResult<void> GraphSender::add_attachment(const std::string& draft_id, const DraftAttachment& attachment) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  const std::string bytes = crypto::base64_encode(attachment.bytes);
  writer.StartObject();
  writer.Key("@odata.type");
  writer.String("#microsoft.graph.fileAttachment");
  writer.Key("name");
  writer.String(attachment.name.c_str());
  writer.Key("contentType");
  writer.String(attachment.content_type.c_str());
  if (!attachment.content_id.empty()) {
    writer.Key("contentId");
    writer.String(attachment.content_id.c_str());
  }
  writer.Key("isInline");
  writer.Bool(attachment.is_inline);
  writer.Key("contentBytes");
  writer.String(bytes.data(), static_cast<rapidjson::SizeType>(bytes.size()));
  writer.EndObject();
  GraphRequest request;
  request.method = "POST";
  request.target = "/me/messages/" + encode_id(draft_id) + "/attachments";
  request.content_type = "application/json";
  request.body.assign(buffer.GetString(), buffer.GetSize());
  auto added = call(client_, request, "attach " + attachment.name);
  if (!added) return added.error();
  return {};
}

MailResult<void> GraphSender::upload_attachment(const std::string& draft_id, const DraftAttachment& attachment) {
  GraphRequest create;
  create.method = "POST";
  create.target = "/me/messages/" + encode_id(draft_id) + "/attachments/createUploadSession";
  create.content_type = "application/json";
  create.body = "{\"AttachmentItem\":{\"attachmentType\":\"file\",\"name\":" + json_quote(attachment.name) +
                ",\"size\":" + std::to_string(attachment.bytes.size()) +
                ",\"contentType\":" + json_quote(attachment.content_type) +
                ",\"isInline\":" + (attachment.is_inline ? "true" : "false") +
                (attachment.content_id.empty() ? "" : ",\"contentId\":" + json_quote(attachment.content_id)) + "}}";
  auto session = call(client_, create, "start the upload of " + attachment.name);
  if (!session) return session.error();
  rapidjson::Document document;
  document.Parse(session->body.data(), session->body.size());
  const std::string upload_url = document.IsObject() ? json::string_or(document, "uploadUrl", "") : "";
  if (upload_url.empty()) {
    return make_mail_error(ErrorCode::unavailable, "Microsoft started an upload session without an uploadUrl.");
  }
  const std::size_t total = attachment.bytes.size();
  for (std::size_t offset = 0; offset < total;) {
    const std::size_t length = std::min(options_.upload_chunk_bytes, total - offset);
    net::HttpClientRequest put;
    put.method = "PUT";
    put.url = upload_url;  // pre-authenticated: no Authorization header (graph-facts B10)
    put.headers = {{"Content-Type", "application/octet-stream"},
                   {"Content-Range", "bytes " + std::to_string(offset) + "-" + std::to_string(offset + length - 1) +
                                         "/" + std::to_string(total)}};
    put.body = attachment.bytes.substr(offset, length);
    put.timeout = std::chrono::milliseconds(120000);
    auto answer = http_.send(put);
    if (!answer) {
      return make_mail_error(ErrorCode::unavailable,
                             "Could not upload " + attachment.name + ": " + redact_text(answer.error().message));
    }
    if (answer->status < 200 || answer->status >= 300) {
      GraphResponse response{answer->status, answer->headers, answer->body};
      return error_for(response, "take a chunk of " + attachment.name);
    }
    offset += length;
  }
  return {};
}

MailResult<std::vector<std::string>> GraphSender::find_in_folder(std::string_view folder,
                                                                 std::string_view message_id) {
  GraphRequest request;
  request.target = "/me/mailFolders/" + std::string(folder) +
                   "/messages?%24filter=internetMessageId%20eq%20" + odata_filter_literal(message_id) +
                   "&%24select=id,internetMessageId&%24top=50";
  auto response = call(client_, request, "search " + std::string(folder) + " for a sent message");
  if (!response) return response.error();
  rapidjson::Document document;
  document.Parse(response->body.data(), response->body.size());
  if (document.HasParseError() || !document.IsObject()) {
    return make_mail_error(ErrorCode::unavailable, "Microsoft's answer to a Sent Items search was not JSON.");
  }
  std::vector<std::string> ids;
  if (const auto* value = json::member(document, "value"); value != nullptr && value->IsArray()) {
    for (const auto& item : value->GetArray()) {
      // Compared here as well: a lenient server-side filter must not make a message count as sent.
      if (json::string_or(item, "internetMessageId", "") == message_id) ids.push_back(json::string_or(item, "id", ""));
    }
  }
  return ids;
}

MailResult<bool> GraphSender::in_sent_items(std::string_view message_id) {
  auto found = find_in_folder("sentitems", message_id);
  if (!found) return found.error();
  return !found->empty();
}

MailResult<int> GraphSender::delete_drafts(std::string_view message_id) {
  auto found = find_in_folder("drafts", message_id);
  if (!found) return found.error();
  int deleted = 0;
  for (const std::string& id : *found) {
    if (id.empty()) continue;
    GraphRequest remove;
    remove.method = "DELETE";
    remove.target = "/me/messages/" + encode_id(id);
    auto removed = client_.send(remove);
    if (removed && (removed->ok() || removed->status == 404)) ++deleted;
  }
  return deleted;
}

}  // namespace mailtrixy::graph
