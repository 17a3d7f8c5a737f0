#include "mailtrixy/graph/graph_remote_mailbox.hpp"

#include <rapidjson/document.h>

#include <algorithm>
#include <map>
#include <set>

#include "json.hpp"
#include "mailtrixy/crypto/encoding.hpp"
#include "mailtrixy/graph/graph_sender.hpp"

namespace mailtrixy::graph {

using mail::ErrorCode;
using mail::make_mail_error;
using mail::MailError;
using mail::MailResult;

namespace {

// The metadata a delta round or a message read needs (graph-facts B3, B5).
constexpr std::string_view kMessageSelect =
    "id,parentFolderId,isRead,isDraft,flag,categories,receivedDateTime,sentDateTime,subject,from,sender,"
    "replyTo,toRecipients,ccRecipients,bccRecipients,internetMessageId,changeKey";
constexpr std::string_view kLastVerbId = "Integer 0x1081";
constexpr std::string_view kVerbExpand = "singleValueExtendedProperties($filter=id%20eq%20'Integer%200x1081')";

std::string message_query() {
  return "?%24select=" + std::string(kMessageSelect) + "&%24expand=" + std::string(kVerbExpand);
}

ErrorCode code_for_status(const GraphResponse& response) {
  const GraphError error = response.error();
  switch (response.status) {
    case 401: return ErrorCode::needs_sign_in;
    case 403: return error.code == "ErrorQuotaExceeded" ? ErrorCode::quota : ErrorCode::no_permission;
    case 404: return ErrorCode::not_found;
    case 409: return ErrorCode::already_exists;
    case 410: return ErrorCode::sync_state_not_found;
    case 413: return ErrorCode::too_big;
    case 507: return ErrorCode::quota;
    default: break;
  }
  if (error.code == "ErrorDeleteDistinguishedFolder") return ErrorCode::no_permission;
  if (error.code == "ErrorFolderExists") return ErrorCode::already_exists;
  if (error.code == "ErrorItemNotFound") return ErrorCode::not_found;
  if (error.code == "ErrorMessageSizeExceeded") return ErrorCode::too_big;
  if (response.status == 429 || response.status >= 500) return ErrorCode::unavailable;
  if (response.status >= 400) return ErrorCode::invalid;
  return ErrorCode::internal;
}

MailError error_for(const GraphResponse& response, std::string_view what) {
  std::string message = "Microsoft refused to " + std::string(what) + ": " + response.describe() + ".";
  if (response.status == 429 || response.status >= 500) message += " Try again later.";
  if (response.status == 401) message += " Sign in with Microsoft again.";
  return make_mail_error(code_for_status(response), std::move(message));
}

MailError error_for(CallFailure failure, const Error& error, std::string_view what) {
  ErrorCode code = ErrorCode::unavailable;
  switch (failure) {
    case CallFailure::needs_sign_in: code = ErrorCode::needs_sign_in; break;
    case CallFailure::not_configured: code = ErrorCode::unavailable; break;
    case CallFailure::invalid_request: code = ErrorCode::invalid; break;
    default: break;
  }
  return make_mail_error(code, "Could not " + std::string(what) + ": " + redact_text(error.message));
}

std::vector<mail::Address> parse_recipients(const rapidjson::Value& object, std::string_view name) {
  std::vector<mail::Address> out;
  const auto* list = json::member(object, name);
  const auto add = [&](const rapidjson::Value& recipient) {
    const auto* email = json::member(recipient, "emailAddress");
    if (email == nullptr) return;
    mail::Address address{json::string_or(*email, "name", ""), json::string_or(*email, "address", "")};
    if (!address.address.empty() || !address.name.empty()) out.push_back(std::move(address));
  };
  if (list == nullptr) return out;
  if (list->IsArray()) {
    for (const auto& recipient : list->GetArray()) add(recipient);
  } else if (list->IsObject()) {
    add(*list);  // from / sender are single recipients
  }
  return out;
}

bool same_property_id(std::string_view returned, std::string_view wanted) {
  // Graph rewrites ids ("Integer 0x1081" may come back as "Integer 0x1081" or lower-cased without
  // leading zeros): compare type names case-insensitively and the tags numerically.
  const auto split = [](std::string_view id) {
    const auto space = id.find(' ');
    std::string type(id.substr(0, space));
    std::transform(type.begin(), type.end(), type.begin(), [](unsigned char c) { return std::tolower(c); });
    unsigned long tag = 0;
    if (space != std::string_view::npos) {
      try {
        tag = std::stoul(std::string(id.substr(space + 1)), nullptr, 16);
      } catch (...) {
        tag = 0;
      }
    }
    return std::pair(type, tag);
  };
  return split(returned) == split(wanted);
}

mail::RemoteMessage message_from(const rapidjson::Value& object) {
  mail::RemoteMessage message;
  message.id = mail::GraphId(json::string_or(object, "id", ""));
  message.folder_id = mail::FolderId(json::string_or(object, "parentFolderId", ""));
  message.change_key = json::string_or(object, "changeKey", "");
  if (json::bool_or(object, "isRead", false)) message.flags.set(mail::SystemFlag::seen);
  if (json::bool_or(object, "isDraft", false)) message.flags.set(mail::SystemFlag::draft);
  if (const auto* flag = json::member(object, "flag")) {
    if (json::string_or(*flag, "flagStatus", "") == "flagged") message.flags.set(mail::SystemFlag::flagged);
  }
  if (const auto* categories = json::member(object, "categories"); categories != nullptr && categories->IsArray()) {
    for (const auto& category : categories->GetArray()) {
      if (category.IsString() && category.GetStringLength() > 0) {
        message.flags.add_keyword(mail::keyword_from_category(category.GetString()));
      }
    }
  }
  if (const auto* properties = json::member(object, "singleValueExtendedProperties");
      properties != nullptr && properties->IsArray()) {
    for (const auto& property : properties->GetArray()) {
      if (!same_property_id(json::string_or(property, "id", ""), kLastVerbId)) continue;
      const int verb = json::int_or(property, "value", 0);
      if (verb == 102 || verb == 103) message.flags.set(mail::SystemFlag::answered);
      if (verb == 104) message.flags.set(mail::SystemFlag::forwarded);
    }
  }
  if (const auto received = json::parse_date_time(json::string_or(object, "receivedDateTime", ""))) {
    message.received = *received;
  }
  mail::Envelope& envelope = message.envelope;
  envelope.date = json::parse_date_time(json::string_or(object, "sentDateTime", ""));
  envelope.subject = json::string_or(object, "subject", "");
  envelope.from = parse_recipients(object, "from");
  envelope.sender = parse_recipients(object, "sender");
  envelope.reply_to = parse_recipients(object, "replyTo");
  envelope.to = parse_recipients(object, "toRecipients");
  envelope.cc = parse_recipients(object, "ccRecipients");
  envelope.bcc = parse_recipients(object, "bccRecipients");
  envelope.message_id = json::string_or(object, "internetMessageId", "");
  return message;
}

mail::RemoteFolder folder_from(const rapidjson::Value& object) {
  mail::RemoteFolder folder;
  folder.id = mail::FolderId(json::string_or(object, "id", ""));
  folder.parent_id = mail::FolderId(json::string_or(object, "parentFolderId", ""));
  folder.display_name = json::string_or(object, "displayName", "");
  folder.child_folder_count = json::count_or_zero(object, "childFolderCount");
  folder.total_count = json::count_or_zero(object, "totalItemCount");
  folder.unread_count = json::count_or_zero(object, "unreadItemCount");
  folder.hidden = json::bool_or(object, "isHidden", false);
  folder.search_folder = json::string_or(object, "@odata.type", "").find("mailSearchFolder") != std::string::npos;
  return folder;
}

MailResult<rapidjson::Document> parse_object(const std::string& body, std::string_view what) {
  rapidjson::Document document;
  document.Parse(body.data(), body.size());
  if (document.HasParseError() || !document.IsObject()) {
    return make_mail_error(ErrorCode::unavailable,
                           "Microsoft's answer to " + std::string(what) + " is not valid JSON; try again later.");
  }
  return document;
}

// The method, target and body of a call, and what to say when it fails.
struct Call {
  std::string method;
  std::string target;
  std::string body;
  std::string content_type;
  std::vector<std::string> prefer;
  std::string what;
};

// Sends `call`; a 2xx answer is returned, anything else becomes a MailError. GETs whose body is
// not JSON (cut off, garbled) are sent once more before giving up.
MailResult<GraphResponse> perform(GraphClient& client, const Call& call, bool expect_json = true) {
  for (int attempt = 1;; ++attempt) {
    GraphRequest request;
    request.method = call.method;
    request.target = call.target;
    request.body = call.body;
    request.content_type = call.content_type;
    request.prefer = call.prefer;
    CallFailure failure = CallFailure::none;
    auto response = client.send(request, &failure);
    if (!response.ok()) return error_for(failure, response.error(), call.what);
    if (!response->ok()) return error_for(*response, call.what);
    if (expect_json && call.method == "GET" && attempt < 3) {
      rapidjson::Document probe;
      probe.Parse(response->body.data(), response->body.size());
      if (probe.HasParseError()) continue;
    }
    return std::move(response).value();
  }
}

MailResult<mail::RemoteMessage> message_response(const MailResult<GraphResponse>& response, std::string_view what) {
  if (!response.ok()) return response.error();
  auto document = parse_object(response->body, what);
  if (!document.ok()) return document.error();
  mail::RemoteMessage message = message_from(*document);
  if (message.id.value().empty()) {
    return make_mail_error(ErrorCode::unavailable, "Microsoft's answer to " + std::string(what) + " has no message id.");
  }
  return message;
}

MailResult<mail::RemoteFolder> folder_response(const MailResult<GraphResponse>& response, std::string_view what) {
  if (!response.ok()) return response.error();
  auto document = parse_object(response->body, what);
  if (!document.ok()) return document.error();
  mail::RemoteFolder folder = folder_from(*document);
  if (folder.id.value().empty()) {
    return make_mail_error(ErrorCode::unavailable, "Microsoft's answer to " + std::string(what) + " has no folder id.");
  }
  return folder;
}

std::string json_string(std::string_view text) {
  rapidjson::Value value(rapidjson::StringRef(text.data(), text.size()));
  return json::serialize(value);
}

std::string folder_segment(const mail::FolderId& id) { return encode_id(id.value()); }

}  // namespace

std::string encode_id(std::string_view id) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : id) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
        c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out += {'%', kHex[c >> 4], kHex[c & 15]};
    }
  }
  return out;
}

MailResult<mail::RemoteMessage> parse_message(std::string_view text) {
  auto document = parse_object(std::string(text), "a message read");
  if (!document.ok()) return document.error();
  mail::RemoteMessage message = message_from(*document);
  if (message.id.value().empty()) return make_mail_error(ErrorCode::invalid, "The message JSON has no id.");
  return message;
}

MailResult<mail::RemoteFolder> parse_folder(std::string_view text) {
  auto document = parse_object(std::string(text), "a folder read");
  if (!document.ok()) return document.error();
  mail::RemoteFolder folder = folder_from(*document);
  if (folder.id.value().empty()) return make_mail_error(ErrorCode::invalid, "The folder JSON has no id.");
  return folder;
}

MailResult<mail::DeltaPage> parse_delta_page(std::string_view text) {
  auto document = parse_object(std::string(text), "a delta query");
  if (!document.ok()) return document.error();
  mail::DeltaPage page;
  page.next_link = json::string_or(*document, "@odata.nextLink", "");
  page.delta_link = page.next_link.empty() ? json::string_or(*document, "@odata.deltaLink", "") : "";
  if (page.next_link.empty() && page.delta_link.empty()) {
    return make_mail_error(ErrorCode::unavailable,
                           "Microsoft's delta page has neither a next link nor a delta link; try again later.");
  }
  const auto* values = json::member(*document, "value");
  if (values == nullptr || !values->IsArray()) {
    return make_mail_error(ErrorCode::unavailable, "Microsoft's delta page has no message list; try again later.");
  }
  for (const auto& entry : values->GetArray()) {
    const std::string id = json::string_or(entry, "id", "");
    if (id.empty()) continue;  // nothing to track without an id
    if (json::member(entry, "@removed") != nullptr) {
      page.removed.emplace_back(id);
    } else {
      page.changed.push_back(message_from(entry));
    }
  }
  return page;
}

GraphRemoteMailbox::GraphRemoteMailbox(GraphClient& client, GraphRemoteMailboxOptions options)
    : client_(client), options_(options) {
  options_.delta_page_size = std::clamp(options_.delta_page_size, 1, 1000);
}

MailResult<std::vector<mail::RemoteFolder>> GraphRemoteMailbox::list_folders() {
  std::vector<mail::RemoteFolder> folders;
  // Reads one collection page after another; `first` is already fetched.
  const auto read_pages = [&](std::string body, std::vector<mail::RemoteFolder>& into) -> MailResult<void> {
    for (int pages = 0; pages < 10000; ++pages) {
      auto document = parse_object(body, "list folders");
      if (!document.ok()) return document.error();
      if (const auto* values = json::member(*document, "value"); values != nullptr && values->IsArray()) {
        for (const auto& value : values->GetArray()) {
          mail::RemoteFolder folder = folder_from(value);
          if (!folder.id.value().empty()) into.push_back(std::move(folder));
        }
      }
      const std::string next = json::string_or(*document, "@odata.nextLink", "");
      if (next.empty()) return {};
      auto response = perform(client_, {"GET", next, "", "", {}, "list folders"});
      if (!response.ok()) return response.error();
      body = std::move(response->body);
    }
    return make_mail_error(ErrorCode::unavailable, "Microsoft's folder list does not end; try again later.");
  };

  auto top = perform(client_, {"GET", "/me/mailFolders?includeHiddenFolders=true&%24top=100", "", "", {}, "list folders"});
  if (!top.ok()) return top.error();
  std::vector<mail::RemoteFolder> level;
  if (auto read = read_pages(std::move(top->body), level); !read.ok()) return read.error();

  std::set<std::string> seen;
  while (!level.empty()) {
    std::vector<mail::RemoteFolder> parents;
    for (auto& folder : level) {
      if (!seen.insert(folder.id.value()).second) continue;  // a cycle would be Graph's bug; stop
      if (folder.child_folder_count > 0) parents.push_back(folder);
      folders.push_back(std::move(folder));
    }
    std::vector<BatchItem> items;
    for (const auto& parent : parents) {
      items.push_back({"GET", "/me/mailFolders/" + folder_segment(parent.id) +
                                  "/childFolders?includeHiddenFolders=true&%24top=100", ""});
    }
    std::vector<mail::RemoteFolder> next_level;
    std::vector<CallFailure> failures;
    auto answers = client_.batch(items, &failures);
    for (std::size_t i = 0; i < answers.size(); ++i) {
      if (!answers[i].ok()) return error_for(failures[i], answers[i].error(), "list subfolders");
      if (!answers[i]->ok()) {
        if (answers[i]->status == 404) continue;  // deleted while we listed
        return error_for(*answers[i], "list subfolders");
      }
      if (auto read = read_pages(std::move(answers[i]->body), next_level); !read.ok()) return read.error();
    }
    level = std::move(next_level);
  }

  // Special use: ask Graph which folder each alias names, compare ids (names are localised).
  const std::vector<mail::SpecialUse> uses = {mail::SpecialUse::inbox,  mail::SpecialUse::sent,
                                              mail::SpecialUse::drafts, mail::SpecialUse::trash,
                                              mail::SpecialUse::junk,   mail::SpecialUse::archive};
  std::vector<BatchItem> alias_items;
  for (auto use : uses) {
    alias_items.push_back({"GET", "/me/mailFolders/" + std::string(mail::well_known_alias(use)) + "?%24select=id", ""});
  }
  std::vector<CallFailure> failures;
  auto aliases = client_.batch(alias_items, &failures);
  std::map<std::string, mail::SpecialUse> by_id;
  for (std::size_t i = 0; i < aliases.size(); ++i) {
    if (!aliases[i].ok()) return error_for(failures[i], aliases[i].error(), "resolve the special folders");
    if (aliases[i]->status == 404) continue;  // e.g. no Archive folder in this mailbox
    if (!aliases[i]->ok()) return error_for(*aliases[i], "resolve the special folders");
    auto document = parse_object(aliases[i]->body, "resolve the special folders");
    if (!document.ok()) return document.error();
    const std::string id = json::string_or(*document, "id", "");
    if (!id.empty()) by_id[id] = uses[i];
  }
  for (auto& folder : folders) {
    if (const auto it = by_id.find(folder.id.value()); it != by_id.end()) folder.special_use = it->second;
  }
  return folders;
}

MailResult<mail::DeltaPage> GraphRemoteMailbox::message_delta(const mail::FolderId& folder, std::string_view link) {
  Call call{"GET", std::string(link), "", "", {"odata.maxpagesize=" + std::to_string(options_.delta_page_size)},
            "read the changes of a folder"};
  if (link.empty()) {
    if (folder.value().empty()) return make_mail_error(ErrorCode::invalid, "A delta query needs a folder id.");
    call.target = "/me/mailFolders/" + folder_segment(folder) + "/messages/delta" + message_query();
  }
  auto response = perform(client_, call);
  if (!response.ok()) {
    if (response.code() == ErrorCode::sync_state_not_found) {
      return make_mail_error(ErrorCode::sync_state_not_found,
                             "The folder's delta link has expired (Graph 410 SyncStateNotFound); start a full round.");
    }
    if (response.code() == ErrorCode::invalid && !link.empty()) {
      return make_mail_error(ErrorCode::invalid, "Microsoft did not accept the stored delta link: " +
                                                     response.error().message + " Start a full round.");
    }
    return response.error();
  }
  return parse_delta_page(response->body);
}

MailResult<mail::RemoteMessage> GraphRemoteMailbox::get_message(const mail::GraphId& id) {
  return message_response(perform(client_, {"GET", "/me/messages/" + encode_id(id.value()) + message_query(), "", "",
                                            {}, "read a message"}),
                          "read a message");
}

MailResult<std::string> GraphRemoteMailbox::fetch_mime(const mail::GraphId& id) {
  auto response =
      perform(client_, {"GET", "/me/messages/" + encode_id(id.value()) + "/$value", "", "", {}, "download a message"},
              false);
  if (!response.ok()) return response.error();
  return std::move(response->body);
}

MailResult<std::uint64_t> GraphRemoteMailbox::message_size(const mail::GraphId& id) {
  auto mime = fetch_mime(id);
  if (!mime.ok()) return mime.error();
  return static_cast<std::uint64_t>(mime->size());
}

namespace {
int last_verb(bool answered, bool forwarded) { return forwarded ? 104 : (answered ? 102 : 0); }
}  // namespace

MailResult<void> GraphRemoteMailbox::update_flags(const mail::GraphId& id, const mail::RemoteFlagUpdate& update) {
  if (update.empty()) return {};
  rapidjson::Document body(rapidjson::kObjectType);
  auto& allocator = body.GetAllocator();
  if (update.seen) body.AddMember("isRead", *update.seen, allocator);
  if (update.flagged) {
    rapidjson::Value flag(rapidjson::kObjectType);
    flag.AddMember("flagStatus", rapidjson::StringRef(*update.flagged ? "flagged" : "notFlagged"), allocator);
    body.AddMember("flag", flag, allocator);
  }
  if (update.keywords) {
    rapidjson::Value categories(rapidjson::kArrayType);
    for (const auto& keyword : *update.keywords) {
      categories.PushBack(rapidjson::Value(mail::category_from_keyword(keyword).c_str(), allocator), allocator);
    }
    body.AddMember("categories", categories, allocator);
  }
  if (update.answered || update.forwarded) {
    const bool answered = update.answered.value_or(false);
    const bool forwarded = update.forwarded.value_or(false);
    const int verb = last_verb(answered, forwarded);
    rapidjson::Value properties(rapidjson::kArrayType);
    rapidjson::Value verb_property(rapidjson::kObjectType);
    verb_property.AddMember("id", rapidjson::StringRef(kLastVerbId.data(), kLastVerbId.size()), allocator);
    verb_property.AddMember("value", rapidjson::Value(std::to_string(verb).c_str(), allocator), allocator);
    properties.PushBack(verb_property, allocator);
    if (verb != 0) {
      // Outlook draws the reply/forward arrow from the icon index (graph-facts B11).
      rapidjson::Value icon(rapidjson::kObjectType);
      icon.AddMember("id", "Integer 0x1080", allocator);
      icon.AddMember("value", rapidjson::Value(verb == 104 ? "262" : "261", allocator), allocator);
      properties.PushBack(icon, allocator);
    }
    body.AddMember("singleValueExtendedProperties", properties, allocator);
  }
  auto response = perform(client_, {"PATCH", "/me/messages/" + encode_id(id.value()), json::serialize(body),
                                    "application/json", {}, "change the flags of a message"});
  if (!response.ok()) return response.error();
  return {};
}

MailResult<mail::RemoteMessage> GraphRemoteMailbox::move_message(const mail::GraphId& id,
                                                                 const mail::FolderId& destination) {
  return message_response(
      perform(client_, {"POST", "/me/messages/" + encode_id(id.value()) + "/move",
                        "{\"destinationId\":" + json_string(destination.value()) + "}", "application/json", {},
                        "move a message"}),
      "move a message");
}

MailResult<mail::RemoteMessage> GraphRemoteMailbox::copy_message(const mail::GraphId& id,
                                                                 const mail::FolderId& destination) {
  return message_response(
      perform(client_, {"POST", "/me/messages/" + encode_id(id.value()) + "/copy",
                        "{\"destinationId\":" + json_string(destination.value()) + "}", "application/json", {},
                        "copy a message"}),
      "copy a message");
}

MailResult<void> GraphRemoteMailbox::delete_message(const mail::GraphId& id) {
  auto moved = move_message(id, mail::FolderId("deleteditems"));
  if (!moved.ok()) return moved.error();
  return {};
}

MailResult<void> GraphRemoteMailbox::permanently_delete_message(const mail::GraphId& id) {
  auto response = perform(client_, {"POST", "/me/messages/" + encode_id(id.value()) + "/permanentDelete", "",
                                    "application/json", {}, "delete a message for good"});
  if (!response.ok()) return response.error();
  return {};
}

MailResult<std::size_t> GraphRemoteMailbox::delete_staging_drafts(std::string_view message_id,
                                                                  mail::TimePoint created_from,
                                                                  mail::TimePoint created_until) {
  if (message_id.empty()) {
    return make_mail_error(ErrorCode::invalid, "A staging draft is found by its Message-ID; none was given.");
  }
  auto listed = perform(client_, {"GET",
                                  "/me/mailFolders/drafts/messages?%24filter=internetMessageId%20eq%20" +
                                      odata_filter_literal(message_id) +
                                      "&%24select=id,isDraft,createdDateTime,internetMessageId&%24top=50",
                                  "", "", {}, "look for an interrupted APPEND's draft"});
  if (!listed.ok()) return listed.error();
  auto document = parse_object(listed->body, "look for an interrupted APPEND's draft");
  if (!document.ok()) return document.error();
  std::vector<std::string> doomed;
  if (const auto* value = json::member(*document, "value"); value != nullptr && value->IsArray()) {
    for (const auto& item : value->GetArray()) {
      const auto* is_draft = json::member(item, "isDraft");
      if (is_draft == nullptr || !is_draft->IsBool() || !is_draft->GetBool()) continue;
      if (json::string_or(item, "internetMessageId", "") != message_id) continue;
      const auto created = json::parse_date_time(json::string_or(item, "createdDateTime", ""));
      if (!created || *created < created_from || *created > created_until) continue;
      if (auto id = json::string_or(item, "id", ""); !id.empty()) doomed.push_back(std::move(id));
    }
  }
  std::size_t deleted = 0;
  for (const auto& id : doomed) {
    auto dropped = permanently_delete_message(mail::GraphId(id));
    if (dropped.ok()) ++deleted;
    else if (dropped.code() != ErrorCode::not_found) return dropped.error();
  }
  return deleted;
}

MailResult<mail::RemoteMessage> GraphRemoteMailbox::create_message(const mail::FolderId& folder, std::string_view mime,
                                                                   const mail::CreateMessageOptions& options) {
  const auto header_end = mime.find("\n\n") != std::string_view::npos ? mime.find("\n\n") : mime.find("\r\n\r\n");
  if (mime.empty() || header_end == std::string_view::npos || header_end == 0 || mime.find(':') > header_end) {
    return make_mail_error(ErrorCode::invalid,
                           "The message to store has no header section; send a complete RFC 5322 message.");
  }
  if (folder.value().empty()) return make_mail_error(ErrorCode::invalid, "A message must be stored in a folder.");
  const std::string folder_path = "/me/mailFolders/" + folder_segment(folder) + "/messages";
  const bool draft = options.flags.has(mail::SystemFlag::draft);

  auto created = message_response(
      perform(client_, {"POST", draft ? folder_path : "/me/messages", crypto::base64_encode(mime), "text/plain", {},
                        "store a message"}),
      "store a message");
  if (!created.ok()) return created.error();

  mail::RemoteFlagUpdate update;
  update.seen = options.flags.has(mail::SystemFlag::seen);
  update.flagged = options.flags.has(mail::SystemFlag::flagged);
  update.answered = options.flags.has(mail::SystemFlag::answered);
  update.forwarded = options.flags.has(mail::SystemFlag::forwarded);
  update.keywords = options.flags.keywords();

  if (draft) {
    if (auto written = update_flags(created->id, update); !written.ok()) return written.error();
    return get_message(created->id);
  }

  // Non-draft: Graph parsed the MIME into the draft; re-create it as JSON with the flags that make
  // it a normal message, then drop the draft (graph-facts B9).
  const std::string draft_path = "/me/messages/" + encode_id(created->id.value());
  auto full = perform(client_, {"GET", draft_path + "?%24expand=attachments", "", "", {}, "store a message"});
  if (!full.ok()) return full.error();
  auto source = parse_object(full->body, "store a message");
  if (!source.ok()) return source.error();
  rapidjson::Document message(rapidjson::kObjectType);
  auto& allocator = message.GetAllocator();
  for (const char* name : {"subject", "body", "from", "sender", "toRecipients", "ccRecipients", "bccRecipients",
                           "replyTo", "internetMessageId", "importance"}) {
    if (const auto* value = json::member(*source, name)) {
      message.AddMember(rapidjson::Value(name, allocator), rapidjson::Value(*value, allocator), allocator);
    }
  }
  if (const auto* attachments = json::member(*source, "attachments"); attachments != nullptr && attachments->IsArray()) {
    rapidjson::Value copies(rapidjson::kArrayType);
    for (const auto& attachment : attachments->GetArray()) {
      if (json::string_or(attachment, "@odata.type", "").find("fileAttachment") == std::string::npos) continue;
      rapidjson::Value copy(rapidjson::kObjectType);
      copy.AddMember("@odata.type", "#microsoft.graph.fileAttachment", allocator);
      for (const char* name : {"name", "contentType", "contentBytes", "isInline", "contentId"}) {
        if (const auto* value = json::member(attachment, name)) {
          copy.AddMember(rapidjson::Value(name, allocator), rapidjson::Value(*value, allocator), allocator);
        }
      }
      copies.PushBack(copy, allocator);
    }
    if (!copies.Empty()) message.AddMember("attachments", copies, allocator);
  }
  rapidjson::Value categories(rapidjson::kArrayType);
  for (const auto& keyword : options.flags.keywords()) {
    categories.PushBack(rapidjson::Value(mail::category_from_keyword(keyword).c_str(), allocator), allocator);
  }
  message.AddMember("categories", categories, allocator);
  message.AddMember("isRead", *update.seen, allocator);
  rapidjson::Value flag(rapidjson::kObjectType);
  flag.AddMember("flagStatus", rapidjson::StringRef(*update.flagged ? "flagged" : "notFlagged"), allocator);
  message.AddMember("flag", flag, allocator);
  rapidjson::Value properties(rapidjson::kArrayType);
  const auto add_property = [&](const std::string& id, const std::string& value) {
    rapidjson::Value property(rapidjson::kObjectType);
    property.AddMember("id", rapidjson::Value(id.c_str(), allocator), allocator);
    property.AddMember("value", rapidjson::Value(value.c_str(), allocator), allocator);
    properties.PushBack(property, allocator);
  };
  add_property("Integer 0x0E07", *update.seen ? "1" : "0");  // mfRead or nothing; never mfUnsent
  if (options.received) add_property("SystemTime 0x0E06", json::format_date_time(*options.received));
  if (const auto sent = json::string_or(*source, "sentDateTime", ""); !sent.empty()) {
    add_property("SystemTime 0x0039", sent);
  }
  if (const int verb = last_verb(*update.answered, *update.forwarded); verb != 0) {
    add_property("Integer 0x1081", std::to_string(verb));
    add_property("Integer 0x1080", verb == 104 ? "262" : "261");
  }
  message.AddMember("singleValueExtendedProperties", properties, allocator);

  auto stored = message_response(perform(client_, {"POST", folder_path, json::serialize(message), "application/json",
                                                   {}, "store a message"}),
                                 "store a message");
  // The draft goes whether or not the re-create worked: it must not linger in Drafts.
  auto dropped = perform(client_, {"POST", draft_path + "/permanentDelete", "", "application/json", {},
                                   "remove the intermediate draft"});
  if (!stored.ok()) return stored.error();
  if (!dropped.ok()) return dropped.error();
  if (*update.answered || *update.forwarded) return get_message(stored->id);  // move/create answers lack the verb
  return stored;
}

MailResult<mail::RemoteFolder> GraphRemoteMailbox::create_folder(const mail::FolderId& parent,
                                                                 std::string_view display_name) {
  if (display_name.empty()) return make_mail_error(ErrorCode::invalid, "A folder needs a non-empty name.");
  const std::string target =
      parent.value().empty() ? "/me/mailFolders" : "/me/mailFolders/" + folder_segment(parent) + "/childFolders";
  return folder_response(perform(client_, {"POST", target, "{\"displayName\":" + json_string(display_name) + "}",
                                           "application/json", {}, "create a folder"}),
                         "create a folder");
}

MailResult<mail::RemoteFolder> GraphRemoteMailbox::rename_folder(const mail::FolderId& id,
                                                                 std::string_view new_display_name) {
  if (new_display_name.empty()) return make_mail_error(ErrorCode::invalid, "A folder needs a non-empty name.");
  return folder_response(perform(client_, {"PATCH", "/me/mailFolders/" + folder_segment(id),
                                           "{\"displayName\":" + json_string(new_display_name) + "}",
                                           "application/json", {}, "rename a folder"}),
                         "rename a folder");
}

MailResult<mail::RemoteFolder> GraphRemoteMailbox::move_folder(const mail::FolderId& id,
                                                               const mail::FolderId& new_parent) {
  const std::string destination = new_parent.value().empty() ? "msgfolderroot" : new_parent.value();
  return folder_response(perform(client_, {"POST", "/me/mailFolders/" + folder_segment(id) + "/move",
                                           "{\"destinationId\":" + json_string(destination) + "}", "application/json",
                                           {}, "move a folder"}),
                         "move a folder");
}

MailResult<void> GraphRemoteMailbox::delete_folder(const mail::FolderId& id) {
  auto response =
      perform(client_, {"DELETE", "/me/mailFolders/" + folder_segment(id), "", "", {}, "delete a folder"}, false);
  if (!response.ok()) return response.error();
  return {};
}

}  // namespace mailtrixy::graph
