// Creating and sending (graph-facts B9, B10): POST /messages (JSON or base64 MIME) with
// Exchange's draft rules, sendMail (JSON or MIME), drafts' attachments, upload sessions and
// /send; delivery to other emulator users; the upload URLs and the mailbox control actions.
//
// Limits, decided from graph-facts E13 and public reports:
//   - a sendMail / create / add-attachment request body over 4 MiB (4,194,304 bytes, the body
//     as sent, i.e. the base64 text for MIME) → 413 ErrorMessageSizeExceeded;
//   - upload sessions only for attachments of 3 MiB and more (smaller ones go through POST
//     .../attachments: ErrorAttachmentSizeShouldNotBeLessThanMinimumSize) and at most 150 MB;
//     chunks of at most 4 MiB, strictly in order;
//   - a message sent with /send may be up to 150 MB.

#include <algorithm>
#include <charconv>
#include <mutex>
#include <set>
#include <shared_mutex>

#include "graph_mail_common.hpp"
#include "mailtrixy/crypto/encoding.hpp"
#include "mailtrixy/crypto/hash.hpp"
#include "mailtrixy/crypto/random.hpp"

namespace mailtrixy::emulator {
namespace graph_mail {
namespace {

using mail::Folder;
using mail::Message;

constexpr std::size_t kRequestLimit = 4 * 1024 * 1024;
constexpr std::size_t kUploadChunkLimit = 4 * 1024 * 1024;
constexpr std::uint64_t kUploadSessionMinimum = 3 * 1024 * 1024;
constexpr std::uint64_t kMaxMessageSize = 150ULL * 1024 * 1024;
constexpr auto kUploadSessionLifetime = std::chrono::hours(6);

net::HttpResponse too_large(const Context& context) {
  return graph_error(context.call, 413, "ErrorMessageSizeExceeded",
                     "The message exceeds the maximum supported size.");
}

bool is_mime_request(const net::HttpRequest& request) {
  const auto type = request.header("Content-Type");
  if (!type) return false;
  std::string_view value = *type;
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  return value.size() >= 10 && mime::iequals(value.substr(0, 10), "text/plain");
}

// Base64 as .NET reads it: whitespace (line breaks every 76 columns) ignored, padding required.
std::optional<std::string> decode_mime_base64(std::string_view body) {
  std::string compact;
  compact.reserve(body.size());
  for (char c : body) {
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') compact += c;
  }
  if (compact.empty()) return std::nullopt;
  auto decoded = crypto::base64_decode(compact);
  if (!decoded.ok() || decoded->empty()) return std::nullopt;
  return std::move(*decoded);
}

net::HttpResponse invalid_mime(const Context& context) {
  return graph_error(context.call, 400, "ErrorMimeContentInvalidBase64String",
                     "Invalid base64 string for MIME content.");
}

mime::Address owner_address(const Context& context) {
  return mime::Address{context.call.user.display_name, context.call.user.address};
}

bool is_owner(const Context& context, const std::optional<mime::Address>& from) {
  return !from || mime::iequals(from->address, context.call.user.address);
}

net::HttpResponse send_as_denied(const Context& context) {
  return graph_error(
      context.call, 403, "ErrorSendAsDenied",
      "The user account which was used to submit this request does not have the right to send mail on "
      "behalf of the specified sending account.");
}

net::HttpResponse no_recipients(const Context& context) {
  return graph_error(
      context.call, 400, "ErrorInvalidRecipients",
      "At least one recipient is not valid., A message can't be sent because it contains no recipients.");
}

std::vector<std::string> recipients_of(const Message& message) {
  std::vector<std::string> recipients;
  std::set<std::string> seen;
  for (const auto* list : {&message.to, &message.cc, &message.bcc}) {
    for (const auto& address : *list) {
      std::string key = address.address;
      for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (seen.insert(key).second) recipients.push_back(address.address);
    }
  }
  return recipients;
}

// Hands a sent message to every recipient who is a user of this emulator. Called with no
// mailbox lock held: each delivery takes the recipient's own lock.
void deliver(World& world, const std::vector<std::string>& recipients,
             const std::string& mime_for_recipients) {
  for (const auto& address : recipients) {
    User* user = world.find_user_by_address(address);
    if (user && user->mailbox) user->mailbox->deliver(mime_for_recipients);
  }
}

// --- JSON messages

struct NewMessage {
  std::unique_ptr<Message> message = std::make_unique<Message>();
  std::optional<long long> message_flags;  // Integer 0x0E07 given at creation
  std::optional<bool> explicit_read;
};

std::optional<net::HttpResponse> read_attachment(const Context& context, const rapidjson::Value& value,
                                                 mail::FileAttachment& out) {
  if (!value.IsObject()) return bad_request(context, "Each attachment must be an object.");
  const rapidjson::Value* type = member(value, "@odata.type");
  if (type && type->IsString()) {
    const std::string text = json_text(*type);
    if (!mime::iequals(text, "#microsoft.graph.fileAttachment") &&
        !mime::iequals(text, "microsoft.graph.fileAttachment")) {
      return graph_error(
          context.call, 400, "ErrorInvalidRequest",
          "The emulator accepts only #microsoft.graph.fileAttachment attachments, not " + text + ".");
    }
  }
  const rapidjson::Value* name = member(value, "name");
  const rapidjson::Value* bytes = member(value, "contentBytes");
  if (!name || !name->IsString() || !bytes || !bytes->IsString()) {
    return bad_request(context, "A fileAttachment needs a name and base64 contentBytes.");
  }
  auto decoded = crypto::base64_decode(std::string_view(bytes->GetString(), bytes->GetStringLength()));
  if (!decoded.ok()) {
    return bad_request(context,
                       "The contentBytes of attachment '" + json_text(*name) + "' is not valid base64.");
  }
  out.name = json_text(*name);
  if (const rapidjson::Value* content_type = member(value, "contentType");
      content_type && content_type->IsString()) {
    out.content_type = json_text(*content_type);
  }
  if (out.content_type.empty()) out.content_type = "application/octet-stream";
  if (const rapidjson::Value* inline_flag = member(value, "isInline"); inline_flag && inline_flag->IsBool()) {
    out.is_inline = inline_flag->GetBool();
  }
  if (const rapidjson::Value* content_id = member(value, "contentId"); content_id && content_id->IsString()) {
    out.content_id = json_text(*content_id);
  }
  out.bytes = std::make_shared<const std::string>(std::move(*decoded));
  out.modified = mail::now_seconds();
  return std::nullopt;
}

std::optional<net::HttpResponse> read_new_message(const Context& context, const rapidjson::Value& json,
                                                  NewMessage& out) {
  Message& m = *out.message;
  m.draft = std::make_unique<mail::DraftParts>();
  for (auto it = json.MemberBegin(); it != json.MemberEnd(); ++it) {
    const std::string key(it->name.GetString(), it->name.GetStringLength());
    const rapidjson::Value& value = it->value;
    const auto type_error = [&](std::string_view expected) {
      return bad_request(context, "The property '" + key + "' must be " + std::string(expected) + ".");
    };
    if (mime::iequals(key, "subject")) {
      if (!value.IsString() && !value.IsNull()) return type_error("a string");
      m.subject = value.IsNull() ? std::string() : json_text(value);
    } else if (mime::iequals(key, "body")) {
      const rapidjson::Value* content = member(value, "content");
      if (!content || !content->IsString())
        return type_error("an itemBody, e.g. {\"contentType\": \"text\", \"content\": \"...\"}");
      if (const rapidjson::Value* content_type = member(value, "contentType");
          content_type && content_type->IsString()) {
        const std::string type = json_text(*content_type);
        if (mime::iequals(type, "html"))
          m.draft->html = true;
        else if (!mime::iequals(type, "text"))
          return enum_error(context, type, "microsoft.graph.bodyType");
      }
      m.draft->body = json_text(*content);
    } else if (mime::iequals(key, "toRecipients")) {
      if (auto bad = read_address_list(context, value, m.to)) return bad;
    } else if (mime::iequals(key, "ccRecipients")) {
      if (auto bad = read_address_list(context, value, m.cc)) return bad;
    } else if (mime::iequals(key, "bccRecipients")) {
      if (auto bad = read_address_list(context, value, m.bcc)) return bad;
    } else if (mime::iequals(key, "replyTo")) {
      if (auto bad = read_address_list(context, value, m.reply_to)) return bad;
    } else if (mime::iequals(key, "from")) {
      if (auto bad = read_address(context, value, m.from)) return bad;
    } else if (mime::iequals(key, "sender")) {
      if (auto bad = read_address(context, value, m.sender)) return bad;
    } else if (mime::iequals(key, "importance")) {
      if (!value.IsString()) return type_error("low, normal or high");
      const auto importance = parse_importance(json_text(value));
      if (!importance) return enum_error(context, json_text(value), "microsoft.graph.importance");
      m.importance = *importance;
    } else if (mime::iequals(key, "inferenceClassification")) {
      if (!value.IsString()) return type_error("focused or other");
      const std::string text = json_text(value);
      if (!mime::iequals(text, "focused") && !mime::iequals(text, "other")) {
        return enum_error(context, text, "microsoft.graph.inferenceClassificationType");
      }
      m.focused = mime::iequals(text, "focused");
    } else if (mime::iequals(key, "categories")) {
      if (!value.IsArray()) return type_error("an array of strings");
      for (const auto& item : value.GetArray()) {
        if (!item.IsString()) return type_error("an array of strings");
        m.categories.push_back(json_text(item));
      }
    } else if (mime::iequals(key, "flag")) {
      if (auto bad = read_flag(context, value, m.flag)) return bad;
    } else if (mime::iequals(key, "isRead")) {
      if (!value.IsBool()) return type_error("true or false");
      out.explicit_read = value.GetBool();
    } else if (mime::iequals(key, "isReadReceiptRequested")) {
      if (!value.IsBool()) return type_error("true or false");
      m.read_receipt_requested = value.GetBool();
    } else if (mime::iequals(key, "isDeliveryReceiptRequested")) {
      if (!value.IsBool()) return type_error("true or false");
      m.delivery_receipt_requested = value.GetBool();
    } else if (mime::iequals(key, "internetMessageId")) {
      if (!value.IsString()) return type_error("a string");
      m.internet_message_id = json_text(value);
    } else if (mime::iequals(key, "internetMessageHeaders")) {
      if (!value.IsArray()) return type_error("an array of {name, value}");
      for (const auto& header : value.GetArray()) {
        const rapidjson::Value* name = member(header, "name");
        const rapidjson::Value* text = member(header, "value");
        if (!name || !name->IsString() || !text || !text->IsString())
          return type_error("an array of {name, value}");
        const std::string header_name = json_text(*name);
        const bool custom = header_name.size() > 2 && (header_name[0] == 'x' || header_name[0] == 'X') &&
                            header_name[1] == '-';
        const bool token = std::all_of(header_name.begin(), header_name.end(),
                                       [](char c) { return c > 32 && c < 127 && c != ':'; });
        if (!custom || !token) {
          return graph_error(
              context.call, 400, "InvalidInternetMessageHeader",
              "The internet message header name '" + header_name + "' should start with 'x-' or 'X-'.");
        }
        std::string header_value = json_text(*text);
        std::replace(header_value.begin(), header_value.end(), '\r', ' ');
        std::replace(header_value.begin(), header_value.end(), '\n', ' ');
        m.draft->headers.emplace_back(header_name, std::move(header_value));
      }
    } else if (mime::iequals(key, "singleValueExtendedProperties")) {
      std::vector<mail::ExtendedProperty> properties;
      if (auto bad = read_extended_properties(context, value, properties)) return bad;
      for (auto& property : properties) {
        // Set once at creation: the message flags (draft or not, read or not) and the dates
        // migration tools preserve (graph-facts B9).
        if (property.id == "Integer 0xe07") {
          out.message_flags = std::stoll(property.value);
        } else if (property.id == "SystemTime 0xe06") {
          m.received = std::chrono::floor<std::chrono::seconds>(*odata::parse_iso_datetime(property.value));
        } else if (property.id == "SystemTime 0x39") {
          m.sent = std::chrono::floor<std::chrono::seconds>(*odata::parse_iso_datetime(property.value));
        } else {
          m.extended.push_back(std::move(property));
        }
      }
    } else if (mime::iequals(key, "attachments")) {
      if (!value.IsArray()) return type_error("an array of fileAttachment objects");
      for (const auto& item : value.GetArray()) {
        mail::FileAttachment attachment;
        if (auto bad = read_attachment(context, item, attachment)) return bad;
        attachment.serial = m.draft->next_attachment_serial++;
        m.draft->attachments.push_back(std::move(attachment));
      }
    } else if (is_read_only_message_property(key)) {
      // ignored, as Graph does
    } else {
      return unknown_message_property(context, key);
    }
  }
  const auto now = mail::now_seconds();
  m.created = now;
  m.last_modified = now;
  if (m.received == mail::TimePoint{}) m.received = now;
  if (m.sent == mail::TimePoint{}) m.sent = m.received;
  return std::nullopt;
}

void finish_new_message(const Context& context, Message& m) {
  if (!m.from) m.from = owner_address(context);
  if (!m.sender) m.sender = m.from;
  if (m.internet_message_id.empty()) m.internet_message_id = context.state.new_internet_message_id();
  m.has_attachments = std::any_of(m.draft->attachments.begin(), m.draft->attachments.end(),
                                  [](const mail::FileAttachment& a) { return !a.is_inline; });
  m.mime = std::make_shared<const std::string>(context.state.build_draft_mime(m));
}

// Adds the headers Exchange writes on submission when a MIME message lacks them.
std::string complete_submitted_mime(const Context& context, std::string mime_text) {
  const mime::HeaderBlock headers = mime::parse_header_block(mime_text);
  std::string added;
  if (!headers.get("From")) {
    const mime::Address owner = owner_address(context);
    added +=
        "From: " + (owner.name.empty() ? owner.address : "\"" + owner.name + "\" <" + owner.address + ">") +
        "\r\n";
  }
  if (!headers.get("Date")) added += "Date: " + mime::format_date(mail::now_seconds()) + "\r\n";
  if (!headers.get("Message-ID")) added += "Message-ID: " + context.state.new_internet_message_id() + "\r\n";
  return added.empty() ? mime_text : added + mime_text;
}

// --- routes

net::HttpResponse create_message(Context& context, Folder& folder) {
  const net::HttpRequest& request = context.call.request;
  if (request.body.size() > kRequestLimit) return too_large(context);
  if (is_mime_request(request)) {
    auto decoded = decode_mime_base64(request.body);
    if (!decoded) return invalid_mime(context);
    auto message = context.state.message_from_mime(std::move(*decoded), mail::now_seconds());
    // MIME creates are always drafts, and read (graph-facts B9); no extended properties.
    message->is_draft = true;
    message->is_read = true;
    Message& stored = context.state.insert(folder, std::move(message));
    return message_entity(context, stored, 201);
  }
  rapidjson::Document body;
  if (auto failure = parse_json_object(context, body)) return std::move(*failure);
  NewMessage created;
  if (auto failure = read_new_message(context, body, created)) return std::move(*failure);
  Message& m = *created.message;
  // A draft unless Integer 0x0E07 is given without mfUnsent (0x8); read unless 0x0E07 says
  // otherwise; an explicit isRead wins.
  m.is_draft = !created.message_flags || (*created.message_flags & 0x8) != 0;
  m.is_read = created.message_flags ? (*created.message_flags & 0x1) != 0 : true;
  if (created.explicit_read) m.is_read = *created.explicit_read;
  finish_new_message(context, m);
  Message& stored = context.state.insert(folder, std::move(created.message));
  return message_entity(context, stored, 201);
}

std::optional<bool> read_save_to_sent_items(const rapidjson::Value& body, bool& ok) {
  ok = true;
  const rapidjson::Value* value = member(body, "saveToSentItems");
  if (!value || value->IsNull()) return std::nullopt;
  if (value->IsBool()) return value->GetBool();
  if (value->IsString()) {
    const std::string_view text(value->GetString(), value->GetStringLength());
    if (mime::iequals(text, "true")) return true;
    if (mime::iequals(text, "false")) return false;  // the documented sample sends a string
  }
  ok = false;
  return std::nullopt;
}

net::HttpResponse send_mail(Context& context) {
  const net::HttpRequest& request = context.call.request;
  if (request.method != "POST") return method_not_allowed(context);
  if (request.body.size() > kRequestLimit) return too_large(context);
  std::vector<std::string> recipients;
  std::string delivered_mime;
  if (is_mime_request(request)) {
    auto decoded = decode_mime_base64(request.body);
    if (!decoded) return invalid_mime(context);
    std::unique_lock lock(context.mailbox.mutex());
    std::string stored_mime = complete_submitted_mime(context, std::move(*decoded));
    auto message = context.state.message_from_mime(stored_mime, mail::now_seconds());
    if (!is_owner(context, message->from)) return send_as_denied(context);
    recipients = recipients_of(*message);
    if (recipients.empty()) return no_recipients(context);
    message->is_read = true;
    message->is_draft = false;
    // MIME sends have no saveToSentItems: the copy always goes to Sent Items.
    context.state.insert(context.state.well_known(mail::WellKnown::sentitems), std::move(message));
    context.state.sent_records().push_back({recipients, stored_mime});
    delivered_mime = mime::remove_header_field(stored_mime, "Bcc");
  } else {
    rapidjson::Document body;
    if (auto failure = parse_json_object(context, body)) return std::move(*failure);
    const rapidjson::Value* message_json = member(body, "message");
    if (!message_json || !message_json->IsObject()) {
      return graph_error(
          context.call, 400, "ErrorInvalidParameter",
          "The message parameter is required: send {\"message\": {...}, \"saveToSentItems\": true}.");
    }
    bool save_ok = true;
    const auto save = read_save_to_sent_items(body, save_ok);
    if (!save_ok) return bad_request(context, "saveToSentItems must be true or false.");
    for (auto it = body.MemberBegin(); it != body.MemberEnd(); ++it) {
      const std::string_view key(it->name.GetString(), it->name.GetStringLength());
      if (!mime::iequals(key, "message") && !mime::iequals(key, "saveToSentItems")) {
        return graph_error(context.call, 400, "RequestBodyRead",
                           "The parameter '" + std::string(key) +
                               "' in the request payload is not a valid parameter for "
                               "the operation 'sendMail'.");
      }
    }
    NewMessage created;
    if (auto failure = read_new_message(context, *message_json, created)) return std::move(*failure);
    Message& m = *created.message;
    if (!is_owner(context, m.from)) return send_as_denied(context);
    recipients = recipients_of(m);
    if (recipients.empty()) return no_recipients(context);
    std::unique_lock lock(context.mailbox.mutex());
    m.is_draft = false;
    m.is_read = true;
    m.sent = mail::now_seconds();
    m.received = m.sent;
    finish_new_message(context, m);
    const std::string stored_mime = *m.mime;
    if (save.value_or(true)) {
      context.state.insert(context.state.well_known(mail::WellKnown::sentitems), std::move(created.message));
    }
    context.state.sent_records().push_back({recipients, stored_mime});
    delivered_mime = mime::remove_header_field(stored_mime, "Bcc");
  }
  deliver(context.call.world, recipients, delivered_mime);
  return graph_empty(context.call, 202);
}

net::HttpResponse send_draft(Context& context, const Route& route) {
  if (context.call.request.method != "POST") return method_not_allowed(context);
  std::vector<std::string> recipients;
  std::string delivered_mime;
  {
    std::unique_lock lock(context.mailbox.mutex());
    std::optional<net::HttpResponse> failure;
    Message* message = find_message(context, *route.message, failure);
    if (!message) return std::move(*failure);
    if (!message->is_draft) {
      return graph_error(context.call, 400, "ErrorInvalidOperation",
                         "Only draft messages can be sent; this one was sent already.");
    }
    if (!is_owner(context, message->from)) return send_as_denied(context);
    recipients = recipients_of(*message);
    if (recipients.empty()) return no_recipients(context);
    message->is_draft = false;
    message->sent = mail::now_seconds();
    if (message->draft) {
      context.state.rebuild_draft_mime(*message);
    }
    if (message->mime && message->mime->size() > kMaxMessageSize) {
      message->is_draft = true;
      return too_large(context);
    }
    context.state.set_read(*message, true);
    // With immutable ids the sent copy keeps the draft's id (graph-facts B10).
    Message& sent = context.state.move(*message, context.state.well_known(mail::WellKnown::sentitems));
    const std::string stored_mime = sent.mime ? *sent.mime : std::string();
    context.state.sent_records().push_back({recipients, stored_mime});
    delivered_mime = mime::remove_header_field(stored_mime, "Bcc");
  }
  deliver(context.call.world, recipients, delivered_mime);
  return graph_empty(context.call, 202);
}

// --- attachments

struct AttachmentView {
  std::uint32_t serial = 0;
  std::string name;
  std::string content_type;
  std::string content_id;
  bool is_inline = false;
  bool is_item = false;
  std::shared_ptr<const std::string> bytes;
  mail::TimePoint modified;
};

std::vector<AttachmentView> attachments_of(const Message& message) {
  std::vector<AttachmentView> views;
  if (message.draft) {
    for (const auto& a : message.draft->attachments) {
      views.push_back(
          {a.serial, a.name, a.content_type, a.content_id, a.is_inline, false, a.bytes, a.modified});
    }
    return views;
  }
  const mime::Content content = mime::extract_content(message.mime ? *message.mime : std::string(), true);
  std::uint32_t serial = 1;
  for (const auto& a : content.attachments) {
    views.push_back({serial++, a.name, a.content_type, a.content_id, a.is_inline, a.is_item,
                     std::make_shared<const std::string>(a.bytes), message.last_modified});
  }
  return views;
}

void write_attachment(JsonWriter& writer, const Context& context, const Message& message,
                      const AttachmentView& a, bool with_bytes, std::string_view context_url = {}) {
  writer.StartObject();
  if (!context_url.empty()) {
    write_key(writer, "@odata.context");
    write_string(writer, context_url);
  }
  write_key(writer, "@odata.type");
  write_string(writer, a.is_item ? "#microsoft.graph.itemAttachment" : "#microsoft.graph.fileAttachment");
  if (!a.is_item) {
    write_key(writer, "@odata.mediaContentType");
    write_string(writer, a.content_type);
  }
  write_key(writer, "id");
  write_string(writer, context.state.attachment_id(message, a.serial));
  write_key(writer, "lastModifiedDateTime");
  write_string(writer, odata::format_iso_datetime(a.modified));
  write_key(writer, "name");
  write_string(writer, mime::sanitize_utf8(a.name));
  write_key(writer, "contentType");
  write_string(writer, a.content_type);
  write_key(writer, "size");
  writer.Uint64(a.bytes ? a.bytes->size() : 0);
  write_key(writer, "isInline");
  writer.Bool(a.is_inline);
  if (!a.is_item) {
    write_key(writer, "contentId");
    if (a.content_id.empty()) {
      writer.Null();
    } else {
      write_string(writer, a.content_id);
    }
    write_key(writer, "contentLocation");
    writer.Null();
    if (with_bytes) {
      write_key(writer, "contentBytes");
      write_string(writer, crypto::base64_encode(a.bytes ? *a.bytes : std::string()));
    }
  }
  writer.EndObject();
}

net::HttpResponse add_attachment(Context& context, Message& message) {
  if (context.call.request.body.size() > kRequestLimit) return too_large(context);
  if (!message.is_draft) {
    return graph_error(context.call, 400, "ErrorInvalidOperation",
                       "Attachments can only be added to draft messages in the emulator.");
  }
  rapidjson::Document body;
  if (auto failure = parse_json_object(context, body)) return std::move(*failure);
  mail::FileAttachment attachment;
  if (auto failure = read_attachment(context, body, attachment)) return std::move(*failure);
  ensure_draft_parts(message);
  attachment.serial = message.draft->next_attachment_serial++;
  message.draft->attachments.push_back(attachment);
  context.state.rebuild_draft_mime(message);
  context.state.touch(message, true);
  rapidjson::StringBuffer buffer;
  JsonWriter writer(buffer);
  const AttachmentView view{attachment.serial,     attachment.name,      attachment.content_type,
                            attachment.content_id, attachment.is_inline, false,
                            attachment.bytes,      attachment.modified};
  const std::string context_url =
      context.metadata_base() + "/messages('" +
      odata::percent_encode(context.state.message_id(message, context.call.immutable_ids)) +
      "')/attachments/$entity";
  write_attachment(writer, context, message, view, true, context_url);
  return graph_json(context.call, 201, buffer.GetString());
}

net::HttpResponse create_upload_session(Context& context, Message& message) {
  if (context.call.request.method != "POST") return method_not_allowed(context);
  if (!message.is_draft) {
    return graph_error(context.call, 400, "ErrorInvalidOperation",
                       "Upload sessions can only attach files to draft messages.");
  }
  rapidjson::Document body;
  if (auto failure = parse_json_object(context, body)) return std::move(*failure);
  const rapidjson::Value* item = member(body, "AttachmentItem");
  if (!item || !item->IsObject()) {
    return graph_error(
        context.call, 400, "ErrorInvalidParameter",
        "The AttachmentItem parameter is required: {\"AttachmentItem\": {\"attachmentType\": \"file\", "
        "\"name\": \"...\", \"size\": N}}.");
  }
  const rapidjson::Value* type = member(*item, "attachmentType");
  if (type && (!type->IsString() || !mime::iequals(json_text(*type), "file"))) {
    return graph_error(context.call, 400, "ErrorInvalidParameter", "attachmentType must be 'file'.");
  }
  const rapidjson::Value* name = member(*item, "name");
  const rapidjson::Value* size = member(*item, "size");
  if (!name || !name->IsString() || json_text(*name).empty() || !size || !size->IsUint64()) {
    return graph_error(context.call, 400, "ErrorInvalidParameter",
                       "The AttachmentItem needs a name and a size in bytes.");
  }
  if (size->GetUint64() < kUploadSessionMinimum) {
    return graph_error(context.call, 400, "ErrorAttachmentSizeShouldNotBeLessThanMinimumSize",
                       "Attachment size must be greater than the minimum size.");
  }
  if (size->GetUint64() > kMaxMessageSize) return too_large(context);
  mail::UploadSession session;
  session.token = crypto::random_token(32);
  session.message = message.immutable_serial;
  session.name = json_text(*name);
  session.size = size->GetUint64();
  session.content_type = "application/octet-stream";
  if (const rapidjson::Value* content_type = member(*item, "contentType");
      content_type && content_type->IsString()) {
    session.content_type = json_text(*content_type);
  }
  if (const rapidjson::Value* inline_flag = member(*item, "isInline"); inline_flag && inline_flag->IsBool()) {
    session.is_inline = inline_flag->GetBool();
  }
  if (const rapidjson::Value* content_id = member(*item, "contentId"); content_id && content_id->IsString()) {
    session.content_id = json_text(*content_id);
  }
  session.expires = mail::now_seconds() + kUploadSessionLifetime;
  const std::string session_id = "AAMkAD" + crypto::random_token(24) + "=";
  const std::string expires = odata::format_iso_datetime(session.expires);
  context.state.upload_sessions().emplace(session_id, std::move(session));
  const User& user = context.call.user;
  const std::string upload_url =
      context.call.world.base_url() + "/_upload/api/v2.0/Users('" + user.oid + "@" + user.tid +
      "')/Messages('" + context.state.immutable_id(message.immutable_serial) + "')/AttachmentSessions('" +
      session_id + "')?authtoken=" + context.state.upload_sessions().at(session_id).token;
  rapidjson::StringBuffer buffer;
  JsonWriter writer(buffer);
  writer.StartObject();
  write_key(writer, "@odata.context");
  write_string(writer, context.call.world.base_url() + "/v1.0/$metadata#microsoft.graph.uploadSession");
  write_key(writer, "uploadUrl");
  write_string(writer, upload_url);
  write_key(writer, "expirationDateTime");
  write_string(writer, expires.substr(0, expires.size() - 1) + ".0000000Z");
  write_key(writer, "nextExpectedRanges");
  writer.StartArray();
  write_string(writer, "0-");
  writer.EndArray();
  writer.EndObject();
  return graph_json(context.call, 201, buffer.GetString());
}

net::HttpResponse attachments_route(Context& context, const Route& route) {
  const std::string& method = context.call.request.method;
  const bool reading = method == "GET" || method == "HEAD";
  std::shared_mutex& mutex = context.mailbox.mutex();
  std::unique_lock<std::shared_mutex> exclusive(mutex, std::defer_lock);
  std::shared_lock<std::shared_mutex> shared(mutex, std::defer_lock);
  if (reading) {
    shared.lock();
  } else {
    exclusive.lock();
  }
  std::optional<net::HttpResponse> failure;
  Message* message = find_message(context, *route.message, failure);
  if (!message) return std::move(*failure);
  if (route.kind == Route::Kind::upload_session) return create_upload_session(context, *message);
  if (route.kind == Route::Kind::attachments) {
    if (method == "POST") return add_attachment(context, *message);
    if (!reading) return method_not_allowed(context);
    rapidjson::StringBuffer buffer;
    JsonWriter writer(buffer);
    writer.StartObject();
    write_key(writer, "@odata.context");
    write_string(writer,
                 context.metadata_base() + "/messages('" +
                     odata::percent_encode(context.state.message_id(*message, context.call.immutable_ids)) +
                     "')/attachments");
    write_key(writer, "value");
    writer.StartArray();
    for (const auto& attachment : attachments_of(*message))
      write_attachment(writer, context, *message, attachment, true);
    writer.EndArray();
    writer.EndObject();
    return graph_json(context.call, 200, buffer.GetString());
  }
  const auto serial = context.state.attachment_serial(*message, *route.attachment);
  if (!serial) return item_not_found(context);
  const auto all = attachments_of(*message);
  const auto found =
      std::find_if(all.begin(), all.end(), [&](const AttachmentView& a) { return a.serial == *serial; });
  if (found == all.end()) return item_not_found(context);
  if (route.kind == Route::Kind::attachment_value) {
    if (!reading) return method_not_allowed(context);
    net::HttpResponse response = graph_empty(context.call, 200);
    response.headers.emplace_back(
        "Content-Type", found->content_type.empty() ? "application/octet-stream" : found->content_type);
    response.body = found->bytes ? *found->bytes : std::string();
    return response;
  }
  if (method == "DELETE") {
    if (!message->is_draft || !message->draft) {
      return graph_error(context.call, 400, "ErrorInvalidOperation",
                         "Attachments can only be removed from draft messages.");
    }
    std::erase_if(message->draft->attachments,
                  [&](const mail::FileAttachment& a) { return a.serial == *serial; });
    context.state.rebuild_draft_mime(*message);
    context.state.touch(*message, true);
    return graph_empty(context.call, 204);
  }
  if (!reading) return method_not_allowed(context);
  rapidjson::StringBuffer buffer;
  JsonWriter writer(buffer);
  write_attachment(writer, context, *message, *found, true);
  return graph_json(context.call, 200, buffer.GetString());
}

// --- upload URLs (no GraphCall: these come from outlook.office.com on the real service)

net::HttpResponse plain_json(int status, std::string body) {
  net::HttpResponse response;
  response.status = status;
  response.headers.emplace_back("Content-Type", "application/json");
  response.headers.emplace_back("Cache-Control", "private");
  response.body = std::move(body);
  return response;
}

net::HttpResponse upload_error(int status, std::string_view code, std::string_view message) {
  rapidjson::StringBuffer buffer;
  JsonWriter writer(buffer);
  writer.StartObject();
  write_key(writer, "error");
  writer.StartObject();
  write_key(writer, "code");
  write_string(writer, code);
  write_key(writer, "message");
  write_string(writer, message);
  writer.EndObject();
  writer.EndObject();
  return plain_json(status, buffer.GetString());
}

std::optional<std::string> between(std::string_view text, std::string_view open, std::string_view close) {
  const std::size_t start = text.find(open);
  if (start == std::string_view::npos) return std::nullopt;
  const std::size_t end = text.find(close, start + open.size());
  if (end == std::string_view::npos) return std::nullopt;
  return std::string(text.substr(start + open.size(), end - start - open.size()));
}

struct ContentRange {
  std::uint64_t first = 0;
  std::uint64_t last = 0;
  std::uint64_t total = 0;
};

std::optional<ContentRange> parse_content_range(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  if (text.size() < 6 || !mime::iequals(text.substr(0, 6), "bytes ")) return std::nullopt;
  text.remove_prefix(6);
  ContentRange range;
  const auto read = [&](std::uint64_t& out, char stop) {
    const auto result = std::from_chars(text.data(), text.data() + text.size(), out);
    if (result.ec != std::errc{}) return false;
    text.remove_prefix(static_cast<std::size_t>(result.ptr - text.data()));
    if (stop == 0) return text.empty();
    if (text.empty() || text.front() != stop) return false;
    text.remove_prefix(1);
    return true;
  };
  if (!read(range.first, '-') || !read(range.last, '/') || !read(range.total, 0)) return std::nullopt;
  if (range.last < range.first) return std::nullopt;
  return range;
}

}  // namespace

net::HttpResponse handle_sending(Context& context, const Route& route) {
  switch (route.kind) {
    case Route::Kind::send_mail: return send_mail(context);
    case Route::Kind::message_action: return send_draft(context, route);
    case Route::Kind::messages: {
      std::unique_lock lock(context.mailbox.mutex());
      std::optional<net::HttpResponse> failure;
      Folder* folder = route.folder ? find_folder(context, *route.folder, failure)
                                    : &context.state.well_known(mail::WellKnown::drafts);
      if (!folder) return std::move(*failure);
      return create_message(context, *folder);
    }
    default: return attachments_route(context, route);
  }
}

}  // namespace graph_mail

net::HttpResponse handle_upload_request(World& world, const net::HttpRequest& request) {
  using graph_mail::upload_error;
  const std::string path = odata::percent_decode(request.path, false);
  const auto user_part = graph_mail::between(path, "/Users('", "')");
  const auto session_id = graph_mail::between(path, "/AttachmentSessions('", "')");
  const auto message_id = graph_mail::between(path, "/Messages('", "')");
  if (!user_part || !session_id || !message_id || path.rfind("/_upload/api/v2.0/", 0) != 0) {
    return upload_error(404, "ErrorItemNotFound", "The upload session was not found.");
  }
  const std::string oid = user_part->substr(0, user_part->find('@'));
  User* user = world.find_user_by_id_or_address(oid);  // before any mailbox lock
  if (!user || !user->mailbox)
    return upload_error(404, "ErrorItemNotFound", "The upload session was not found.");
  const odata::QueryString query = odata::parse_query_string(request.query);
  const std::string token(query.get("authtoken").value_or(""));

  Mailbox& mailbox = *user->mailbox;
  std::unique_lock lock(mailbox.mutex());
  MailboxState& state = mailbox.state();
  auto& sessions = state.upload_sessions();
  const auto it = sessions.find(*session_id);
  if (it == sessions.end())
    return upload_error(404, "ErrorItemNotFound", "The upload session was not found.");
  mail::UploadSession& session = it->second;
  if (!crypto::constant_time_equal(crypto::sha256(token), crypto::sha256(session.token))) {
    return upload_error(401, "InvalidAuthenticationToken", "The authtoken of the upload URL is not valid.");
  }
  if (session.expires < mail::now_seconds()) {
    sessions.erase(it);
    return upload_error(404, "ErrorItemNotFound", "The upload session has expired.");
  }
  mail::Message* message = state.by_immutable_serial(session.message);
  if (!message) {
    sessions.erase(it);
    return upload_error(404, "ErrorItemNotFound", "The message of this upload session no longer exists.");
  }
  if (request.method == "DELETE") {
    sessions.erase(it);
    net::HttpResponse response;
    response.status = 204;
    return response;
  }
  if (request.method != "PUT") {
    return upload_error(405, "ErrorInvalidRequest",
                        "Upload URLs accept PUT (a byte range) and DELETE (cancel).");
  }
  const auto header = request.header("Content-Range");
  const auto range = header ? graph_mail::parse_content_range(*header) : std::nullopt;
  if (!range) {
    return upload_error(400, "ErrorInvalidRequest",
                        "The Content-Range header is missing or malformed; send Content-Range: bytes "
                        "{first}-{last}/{total}.");
  }
  if (request.body.size() > graph_mail::kUploadChunkLimit) {
    return upload_error(413, "ErrorRequestEntityTooLarge",
                        "A byte range can be at most 4 MB (4194304 bytes).");
  }
  if (range->total != session.size) {
    return upload_error(400, "ErrorInvalidRequest",
                        "The total in Content-Range (" + std::to_string(range->total) +
                            ") differs from the size given to createUploadSession (" +
                            std::to_string(session.size) + ").");
  }
  if (range->last - range->first + 1 != request.body.size()) {
    return upload_error(400, "ErrorInvalidRequest",
                        "The Content-Range covers " + std::to_string(range->last - range->first + 1) +
                            " bytes but the body has " + std::to_string(request.body.size()) + ".");
  }
  if (range->first != session.data.size() || range->last >= session.size) {
    return upload_error(416, "invalidRange",
                        range->first < session.data.size()
                            ? "Uploaded fragment overlaps with existing data."
                            : "Uploaded fragment is not contiguous with the data received so far; "
                              "the next expected byte is " +
                                  std::to_string(session.data.size()) + ".");
  }
  session.data += request.body;
  const std::string base = world.base_url();
  const std::string entity_path = "/api/v2.0/Users('" + *user_part + "')/Messages('" + *message_id + "')";
  if (session.data.size() < session.size) {
    rapidjson::StringBuffer buffer;
    graph_mail::JsonWriter writer(buffer);
    writer.StartObject();
    graph_mail::write_key(writer, "@odata.context");
    graph_mail::write_string(writer, base + "/api/v2.0/$metadata#Users('" + *user_part + "')/Messages('" +
                                         *message_id + "')/AttachmentSessions/$entity");
    const std::string expires = odata::format_iso_datetime(session.expires);
    graph_mail::write_key(writer, "ExpirationDateTime");
    graph_mail::write_string(writer, expires.substr(0, expires.size() - 1) + ".0000000Z");
    graph_mail::write_key(writer, "NextExpectedRanges");
    writer.StartArray();
    graph_mail::write_string(writer, std::to_string(session.data.size()));
    writer.EndArray();
    writer.EndObject();
    return graph_mail::plain_json(200, buffer.GetString());
  }
  // Complete: the file becomes an attachment of the draft.
  graph_mail::ensure_draft_parts(*message);
  mail::FileAttachment attachment;
  attachment.serial = message->draft->next_attachment_serial++;
  attachment.name = session.name;
  attachment.content_type = session.content_type;
  attachment.content_id = session.content_id;
  attachment.is_inline = session.is_inline;
  attachment.bytes = std::make_shared<const std::string>(std::move(session.data));
  attachment.modified = mail::now_seconds();
  message->draft->attachments.push_back(std::move(attachment));
  const std::uint32_t serial = message->draft->attachments.back().serial;
  sessions.erase(it);
  state.rebuild_draft_mime(*message);
  state.touch(*message, true);
  net::HttpResponse response;
  response.status = 201;
  response.headers.emplace_back(
      "Location", base + entity_path + "/Attachments('" + state.attachment_id(*message, serial) + "')");
  return response;
}

net::HttpResponse handle_mail_control(World& world, User& user, std::string_view action,
                                      const net::HttpRequest& request) {
  (void)world;
  if (mime::iequals(action, "expire-delta")) {
    if (request.method != "POST") {
      return graph_mail::plain_json(405, R"({"error":"expire-delta takes POST"})");
    }
    user.mailbox->expire_sync_states();
    return graph_mail::plain_json(200, R"({"expired":true})");
  }
  return graph_mail::plain_json(404, "{\"error\":\"unknown control action '" + odata::percent_encode(action) +
                                         "'; known: expire-delta\"}");
}

}  // namespace mailtrixy::emulator
