// Messages and folders as Graph writes them (graph-facts B1, B3, G6): property order of the
// documented samples, enums in lower case, recipients as {"emailAddress":{name,address}},
// dates as "2018-09-09T03:15:05Z", etag = W/"changeKey".

#include <functional>

#include "graph_mail_common.hpp"

namespace mailtrixy::emulator::graph_mail {
namespace {

using mail::Message;

std::string iso(mail::TimePoint when) {
  return odata::format_iso_datetime(when);
}

void write_date(JsonWriter& writer, mail::TimePoint when) {
  write_string(writer, iso(when));
}

void write_recipients(JsonWriter& writer, const std::vector<mime::Address>& addresses) {
  writer.StartArray();
  for (const auto& address : addresses) write_recipient(writer, address);
  writer.EndArray();
}

void write_optional_recipient(JsonWriter& writer, const std::optional<mime::Address>& address) {
  if (address) {
    write_recipient(writer, *address);
  } else {
    writer.Null();
  }
}

void write_date_time_zone(JsonWriter& writer, const mail::DateTimeTimeZone& value) {
  writer.StartObject();
  write_key(writer, "dateTime");
  write_string(writer, value.date_time);
  write_key(writer, "timeZone");
  write_string(writer, value.time_zone);
  writer.EndObject();
}

// The body as Graph presents it, honouring Prefer: outlook.body-content-type.
struct BodyText {
  bool html = false;
  std::string content;
};

class LazyContent {
 public:
  explicit LazyContent(const Message& message) : message_(message) {}
  const mime::Content& get() {
    if (!content_) content_ = mime::extract_content(message_.mime ? *message_.mime : std::string(), false);
    return *content_;
  }

 private:
  const Message& message_;
  std::optional<mime::Content> content_;
};

BodyText body_of(const Message& message, LazyContent& lazy, BodyPreference preference) {
  std::optional<std::string> text;
  std::optional<std::string> html;
  if (message.draft) {
    (message.draft->html ? html : text) = message.draft->body;
  } else {
    const mime::Content& content = lazy.get();
    text = content.text;
    html = content.html;
  }
  switch (preference) {
    case BodyPreference::text:
      if (text) return {false, *text};
      if (html) return {false, mime::html_to_text(*html)};
      return {false, ""};
    case BodyPreference::html:
      if (html) return {true, *html};
      if (text) return {true, mime::text_to_html(*text)};
      return {true, ""};
    case BodyPreference::none:
      if (html) return {true, *html};
      if (text) return {false, *text};
      return {false, ""};
  }
  return {false, ""};
}

std::string preview_of(const Message& message, LazyContent& lazy) {
  if (message.draft) {
    mime::Content content;
    (message.draft->html ? content.html : content.text) = message.draft->body;
    return mime::body_preview(content);
  }
  return mime::body_preview(lazy.get());
}

struct RenderState {
  const Context& context;
  const Message& message;
  const MessageView& view;
  LazyContent lazy;
  std::string id;
};

using FieldWriter = std::function<void(JsonWriter&, RenderState&)>;

struct Field {
  std::string_view name;
  FieldWriter write;
  bool omit_for_drafts = false;  // internetMessageHeaders: drafts have no key at all (G6)
};

const std::vector<Field>& message_fields() {
  static const std::vector<Field> kFields = {
      {"createdDateTime", [](JsonWriter& w, RenderState& r) { write_date(w, r.message.created); }},
      {"lastModifiedDateTime", [](JsonWriter& w, RenderState& r) { write_date(w, r.message.last_modified); }},
      {"changeKey",
       [](JsonWriter& w, RenderState& r) { write_string(w, r.context.state.change_key(r.message)); }},
      {"categories",
       [](JsonWriter& w, RenderState& r) {
         w.StartArray();
         for (const auto& category : r.message.categories) write_string(w, category);
         w.EndArray();
       }},
      {"receivedDateTime", [](JsonWriter& w, RenderState& r) { write_date(w, r.message.received); }},
      {"sentDateTime", [](JsonWriter& w, RenderState& r) { write_date(w, r.message.sent); }},
      {"hasAttachments", [](JsonWriter& w, RenderState& r) { w.Bool(r.message.has_attachments); }},
      {"internetMessageId",
       [](JsonWriter& w, RenderState& r) {
         write_string(w, mime::sanitize_utf8(r.message.internet_message_id));
       }},
      {"subject", [](JsonWriter& w, RenderState& r) { write_string(w, r.message.subject); }},
      {"bodyPreview", [](JsonWriter& w, RenderState& r) { write_string(w, preview_of(r.message, r.lazy)); }},
      {"importance",
       [](JsonWriter& w, RenderState& r) { write_string(w, importance_name(r.message.importance)); }},
      {"parentFolderId",
       [](JsonWriter& w, RenderState& r) { write_string(w, r.context.state.folder_id(r.message.folder)); }},
      {"conversationId",
       [](JsonWriter& w, RenderState& r) { write_string(w, r.context.state.conversation_id(r.message)); }},
      {"conversationIndex",
       [](JsonWriter& w, RenderState& r) { write_string(w, r.context.state.conversation_index(r.message)); }},
      {"isDeliveryReceiptRequested",
       [](JsonWriter& w, RenderState& r) {
         if (r.message.delivery_receipt_requested) {
           w.Bool(*r.message.delivery_receipt_requested);
         } else {
           w.Null();
         }
       }},
      {"isReadReceiptRequested",
       [](JsonWriter& w, RenderState& r) { w.Bool(r.message.read_receipt_requested); }},
      {"isRead", [](JsonWriter& w, RenderState& r) { w.Bool(r.message.is_read); }},
      {"isDraft", [](JsonWriter& w, RenderState& r) { w.Bool(r.message.is_draft); }},
      {"webLink",
       [](JsonWriter& w, RenderState& r) {
         write_string(w, "https://outlook.office365.com/owa/?ItemID=" + odata::percent_encode(r.id) +
                             "&exvsurl=1&viewmodel=ReadMessageItem");
       }},
      {"inferenceClassification",
       [](JsonWriter& w, RenderState& r) { write_string(w, r.message.focused ? "focused" : "other"); }},
      {"body",
       [](JsonWriter& w, RenderState& r) {
         const BodyText body = body_of(r.message, r.lazy, r.view.body);
         w.StartObject();
         write_key(w, "contentType");
         write_string(w, body.html ? "html" : "text");
         write_key(w, "content");
         write_string(w, body.content);
         w.EndObject();
       }},
      {"sender", [](JsonWriter& w, RenderState& r) { write_optional_recipient(w, r.message.sender); }},
      {"from", [](JsonWriter& w, RenderState& r) { write_optional_recipient(w, r.message.from); }},
      {"toRecipients", [](JsonWriter& w, RenderState& r) { write_recipients(w, r.message.to); }},
      {"ccRecipients", [](JsonWriter& w, RenderState& r) { write_recipients(w, r.message.cc); }},
      {"bccRecipients", [](JsonWriter& w, RenderState& r) { write_recipients(w, r.message.bcc); }},
      {"replyTo", [](JsonWriter& w, RenderState& r) { write_recipients(w, r.message.reply_to); }},
      {"flag",
       [](JsonWriter& w, RenderState& r) {
         const mail::FollowupFlag& flag = r.message.flag;
         w.StartObject();
         write_key(w, "flagStatus");
         write_string(w, flag_status_name(flag.status));
         if (flag.dates && flag.dates->completed) {
           write_key(w, "completedDateTime");
           write_date_time_zone(w, *flag.dates->completed);
         }
         if (flag.dates && flag.dates->due) {
           write_key(w, "dueDateTime");
           write_date_time_zone(w, *flag.dates->due);
         }
         if (flag.dates && flag.dates->start) {
           write_key(w, "startDateTime");
           write_date_time_zone(w, *flag.dates->start);
         }
         w.EndObject();
       }},
      {"internetMessageHeaders",
       [](JsonWriter& w, RenderState& r) {
         const mime::HeaderBlock headers =
             mime::parse_header_block(r.message.mime ? *r.message.mime : std::string());
         w.StartArray();
         for (const auto& field : headers.fields) {
           w.StartObject();
           write_key(w, "name");
           write_string(w, mime::sanitize_utf8(field.name));
           write_key(w, "value");
           write_string(w, mime::sanitize_utf8(field.value));
           w.EndObject();
         }
         w.EndArray();
       },
       true},
      {"uniqueBody",
       [](JsonWriter& w, RenderState& r) {
         const BodyText body = body_of(r.message, r.lazy, r.view.body);
         w.StartObject();
         write_key(w, "contentType");
         write_string(w, body.html ? "html" : "text");
         write_key(w, "content");
         write_string(w, body.content);
         w.EndObject();
       }},
  };
  return kFields;
}

bool selected(const MessageView& view, std::string_view name) {
  if (!view.selection || !view.selection->explicit_list)
    return odata::is_default_property(odata::EntityType::message, name);
  return view.selection->includes(name);
}

odata::Value string_value(std::string text) {
  return odata::Value::of(std::move(text));
}

odata::Element recipient_element(const mime::Address& address) {
  return {{"emailAddress/address", string_value(address.address)},
          {"emailAddress/name", string_value(address.name.empty() ? address.address : address.name)}};
}

}  // namespace

std::string_view importance_name(mail::Importance importance) {
  switch (importance) {
    case mail::Importance::low: return "low";
    case mail::Importance::high: return "high";
    case mail::Importance::normal: return "normal";
  }
  return "normal";
}

std::string_view flag_status_name(mail::FlagStatus status) {
  switch (status) {
    case mail::FlagStatus::flagged: return "flagged";
    case mail::FlagStatus::complete: return "complete";
    case mail::FlagStatus::not_flagged: return "notFlagged";
  }
  return "notFlagged";
}

void write_recipient(JsonWriter& writer, const mime::Address& address) {
  writer.StartObject();
  write_key(writer, "emailAddress");
  writer.StartObject();
  // Exchange fills in the address as the name when the message gives none.
  write_key(writer, "name");
  write_string(writer, address.name.empty() ? address.address : address.name);
  write_key(writer, "address");
  write_string(writer, address.address);
  writer.EndObject();
  writer.EndObject();
}

std::vector<mail::ExtendedProperty> visible_extended_properties(const Message& message) {
  std::vector<mail::ExtendedProperty> properties = message.extended;
  const auto add_computed = [&](std::string id, std::string value) {
    for (const auto& property : properties) {
      if (property.id == id) return;
    }
    properties.push_back({std::move(id), std::move(value)});
  };
  // PidTagMessageFlags: mfRead 0x1, mfUnsent 0x8, mfHasAttach 0x10 ([MS-OXCMSG] 2.2.1.6).
  const int flags =
      (message.is_read ? 0x1 : 0) | (message.is_draft ? 0x8 : 0) | (message.has_attachments ? 0x10 : 0);
  add_computed("Integer 0xe07", std::to_string(flags));
  // PidTagMessageSize counts Exchange's stored properties, not the MIME: it is deliberately not
  // the $value length here either, so clients cannot mistake it for RFC822.SIZE (graph-facts B4).
  const std::size_t mime_size = message.mime ? message.mime->size() : 0;
  add_computed("Integer 0xe08", std::to_string(mime_size + mime_size / 10 + 1024));
  add_computed("SystemTime 0xe06", iso(message.received));
  add_computed("SystemTime 0x39", iso(message.sent));
  add_computed("String 0x1a", "IPM.Note");
  return properties;
}

void write_message(JsonWriter& writer, const Context& context, const Message& message,
                   const MessageView& view) {
  RenderState render{context, message, view, LazyContent(message),
                     context.state.message_id(message, view.immutable_ids)};
  writer.StartObject();
  if (!view.context_url.empty()) {
    write_key(writer, "@odata.context");
    write_string(writer, view.context_url);
  }
  if (view.with_odata_type) {
    write_key(writer, "@odata.type");
    write_string(writer, "#microsoft.graph.message");
  }
  write_key(writer, "@odata.etag");
  write_string(writer, "W/\"" + context.state.change_key(message) + "\"");
  write_key(writer, "id");
  write_string(writer, render.id);
  for (const Field& field : message_fields()) {
    if (!selected(view, field.name)) continue;
    if (field.omit_for_drafts && message.is_draft) continue;
    write_key(writer, field.name);
    field.write(writer, render);
  }
  if (view.expansion && view.expansion->single_value_properties) {
    std::vector<mail::ExtendedProperty> shown;
    if (view.expansion->all_single_value_properties) {
      shown = message.extended;
    } else {
      const auto all = visible_extended_properties(message);
      for (const auto& wanted : view.expansion->single_value_ids) {
        for (const auto& property : all) {
          if (property.id == wanted) shown.push_back(property);
        }
      }
    }
    // Exchange leaves the key out when none of the requested properties is set.
    if (!shown.empty()) {
      write_key(writer, "singleValueExtendedProperties@odata.context");
      write_string(writer, context.metadata_base() + "/messages('" + odata::percent_encode(render.id) +
                               "')/singleValueExtendedProperties");
      write_key(writer, "singleValueExtendedProperties");
      writer.StartArray();
      for (const auto& property : shown) {
        writer.StartObject();
        write_key(writer, "id");
        write_string(writer, property.id);
        write_key(writer, "value");
        write_string(writer, property.value);
        writer.EndObject();
      }
      writer.EndArray();
    }
  }
  if (view.expansion && view.expansion->multi_value_properties) {
    // Multi-value properties are not stored by the emulator; Exchange omits an empty expansion.
  }
  writer.EndObject();
}

void write_folder(JsonWriter& writer, const Context& context, const mail::Folder& folder,
                  const odata::Selection* selection, std::string_view context_url) {
  const auto wants = [&](std::string_view name) {
    return !selection || !selection->explicit_list || selection->includes(name);
  };
  writer.StartObject();
  if (!context_url.empty()) {
    write_key(writer, "@odata.context");
    write_string(writer, context_url);
  }
  write_key(writer, "id");
  write_string(writer, context.state.folder_id(folder));
  if (wants("displayName")) {
    write_key(writer, "displayName");
    write_string(writer, folder.display_name);
  }
  if (wants("parentFolderId")) {
    write_key(writer, "parentFolderId");
    write_string(writer, context.state.folder_id(folder.parent));
  }
  if (wants("childFolderCount")) {
    write_key(writer, "childFolderCount");
    writer.Uint(static_cast<unsigned>(folder.children.size()));
  }
  if (wants("unreadItemCount")) {
    write_key(writer, "unreadItemCount");
    writer.Uint(folder.unread);
  }
  if (wants("totalItemCount")) {
    write_key(writer, "totalItemCount");
    writer.Uint(context.state.total_items(folder));
  }
  if (wants("sizeInBytes")) {
    // Not in the v1.0 schema, but real responses carry it (graph-facts G1).
    write_key(writer, "sizeInBytes");
    writer.Uint64(folder.size_bytes);
  }
  if (wants("isHidden")) {
    write_key(writer, "isHidden");
    writer.Bool(folder.hidden);
  }
  writer.EndObject();
}

odata::Value MessageAccess::scalar(std::string_view path) const {
  const Message& m = message_;
  using odata::Value;
  if (path == "receivedDateTime") return Value::of(m.received);
  if (path == "isRead") return Value::of(m.is_read);
  if (path == "sentDateTime") return Value::of(m.sent);
  if (path == "lastModifiedDateTime") return Value::of(m.last_modified);
  if (path == "createdDateTime") return Value::of(m.created);
  if (path == "subject") return Value::of(m.subject);
  if (path == "isDraft") return Value::of(m.is_draft);
  if (path == "hasAttachments") return Value::of(m.has_attachments);
  if (path == "importance") return Value::of(std::string(importance_name(m.importance)));
  if (path == "flag/flagStatus") return Value::of(std::string(flag_status_name(m.flag.status)));
  if (path == "from/emailAddress/address") return m.from ? Value::of(m.from->address) : Value::null();
  if (path == "from/emailAddress/name") {
    return m.from ? Value::of(m.from->name.empty() ? m.from->address : m.from->name) : Value::null();
  }
  if (path == "sender/emailAddress/address") return m.sender ? Value::of(m.sender->address) : Value::null();
  if (path == "sender/emailAddress/name") {
    return m.sender ? Value::of(m.sender->name.empty() ? m.sender->address : m.sender->name) : Value::null();
  }
  if (path == "internetMessageId") return Value::of(m.internet_message_id);
  if (path == "id") return Value::of(state_.message_id(m, immutable_ids_));
  if (path == "parentFolderId") return Value::of(state_.folder_id(m.folder));
  if (path == "conversationId") return Value::of(state_.conversation_id(m));
  if (path == "changeKey") return Value::of(state_.change_key(m));
  if (path == "inferenceClassification") return Value::of(std::string(m.focused ? "focused" : "other"));
  if (path == "isReadReceiptRequested") return Value::of(m.read_receipt_requested);
  if (path == "isDeliveryReceiptRequested") {
    return m.delivery_receipt_requested ? Value::of(*m.delivery_receipt_requested) : Value::null();
  }
  if (path == "bodyPreview") {
    LazyContent lazy(m);
    return Value::of(preview_of(m, lazy));
  }
  return Value::null();
}

std::vector<odata::Element> MessageAccess::collection(std::string_view path) const {
  std::vector<odata::Element> elements;
  const Message& m = message_;
  if (path == "categories") {
    for (const auto& category : m.categories) elements.push_back({{"", string_value(category)}});
  } else if (path == "toRecipients" || path == "ccRecipients" || path == "bccRecipients" ||
             path == "replyTo") {
    const auto& list = path == "toRecipients"    ? m.to
                       : path == "ccRecipients"  ? m.cc
                       : path == "bccRecipients" ? m.bcc
                                                 : m.reply_to;
    for (const auto& address : list) elements.push_back(recipient_element(address));
  } else if (path == "singleValueExtendedProperties") {
    for (const auto& property : visible_extended_properties(m)) {
      elements.push_back({{"id", string_value(property.id)}, {"value", string_value(property.value)}});
    }
  }
  return elements;
}

odata::Value FolderAccess::scalar(std::string_view path) const {
  using odata::Value;
  if (path == "displayName") return Value::of(folder_.display_name);
  if (path == "id") return Value::of(state_.folder_id(folder_));
  if (path == "parentFolderId") return Value::of(state_.folder_id(folder_.parent));
  if (path == "childFolderCount") return Value::of(static_cast<double>(folder_.children.size()));
  if (path == "unreadItemCount") return Value::of(static_cast<double>(folder_.unread));
  if (path == "totalItemCount") return Value::of(static_cast<double>(folder_.messages.size()));
  if (path == "sizeInBytes") return Value::of(static_cast<double>(folder_.size_bytes));
  if (path == "isHidden") return Value::of(folder_.hidden);
  return Value::null();
}

std::vector<odata::Element> FolderAccess::collection(std::string_view path) const {
  (void)path;
  return {};
}

}  // namespace mailtrixy::emulator::graph_mail
