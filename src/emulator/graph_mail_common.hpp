#pragma once
// Internal helpers shared by the Graph-mail route files (graph_mail*.cpp): the parsed route,
// request context, JSON writing, rendering of messages and folders, and Graph's mail errors.
// Not part of the emulator's contract (graph_call.hpp is).

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "graph_call.hpp"
#include "mailbox_state.hpp"
#include "odata_query.hpp"

namespace mailtrixy::emulator::graph_mail {

// Non-ASCII text is written as \uXXXX escapes, as Graph does (graph-facts G4); every string
// passed in must be valid UTF-8 (mime:: guarantees it for what it decodes).
using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer, rapidjson::UTF8<>, rapidjson::ASCII<>>;

void write_string(JsonWriter& writer, std::string_view text);
void write_key(JsonWriter& writer, std::string_view key);

// ---------------------------------------------------------------------------------------------
// Routes

struct Route {
  enum class Kind {
    unknown,
    folders,           // /mailFolders            (children of msgfolderroot)
    folder_delta,      // /mailFolders/delta
    folder,            // /mailFolders/{id}
    child_folders,     // /mailFolders/{id}/childFolders
    folder_action,     // /mailFolders/{id}/move|copy|permanentDelete
    messages,          // /messages or /mailFolders/{id}/messages
    message_delta,     // /mailFolders/{id}/messages/delta
    message,           // .../messages/{id}
    message_value,     // .../messages/{id}/$value
    message_action,    // .../messages/{id}/move|copy|send|permanentDelete
    attachments,       // .../messages/{id}/attachments
    attachment,        // .../messages/{id}/attachments/{id}
    attachment_value,  // .../messages/{id}/attachments/{id}/$value
    upload_session,    // .../messages/{id}/attachments/createUploadSession
    send_mail,         // /sendMail
  };
  Kind kind = Kind::unknown;
  std::optional<std::string> folder;      // decoded id or alias of the addressed folder
  std::string folder_written;             // as written, for @odata.context
  std::optional<std::string> message;     // decoded message id
  std::optional<std::string> attachment;  // decoded attachment id
  std::string action;                     // lower case: move, copy, send, permanentdelete
  std::string bad_segment;                // for "Resource not found for the segment" errors
};

Route parse_route(std::string_view resource);

// ---------------------------------------------------------------------------------------------
// Request context

enum class BodyPreference { none, text, html };

struct Context {
  GraphCall& call;
  Mailbox& mailbox;
  MailboxState& state;
  odata::QueryString query;
  BodyPreference body_preference = BodyPreference::none;
  std::optional<int> max_page_size;  // Prefer: odata.maxpagesize

  // "https://host:port/v1.0/me"
  std::string api_base() const;
  // "https://host:port/v1.0/$metadata#users('id')"
  std::string metadata_base() const;
};

Context make_context(GraphCall& call);

// Headers to add to a response for the preferences that were applied (Preference-Applied).
void add_preference_applied(const Context& context, net::HttpResponse& response);

// ---------------------------------------------------------------------------------------------
// Errors (Graph's codes and messages)

net::HttpResponse item_not_found(const Context& context);
net::HttpResponse id_malformed(const Context& context);
net::HttpResponse bad_request(const Context& context, std::string_view message);
net::HttpResponse query_error(const Context& context, const odata::QueryError& error);
net::HttpResponse method_not_allowed(const Context& context);
net::HttpResponse json_payload_error(const Context& context);
net::HttpResponse empty_payload_error(const Context& context);

// Looks up a message id; on failure `error` holds the 400/404 answer.
mail::Message* find_message(Context& context, std::string_view id, std::optional<net::HttpResponse>& error);
mail::Folder* find_folder(Context& context, std::string_view id, std::optional<net::HttpResponse>& error);

// Parses the request body as a JSON object; nullopt on success, else the 400 answer.
std::optional<net::HttpResponse> parse_json_object(const Context& context, rapidjson::Document& document);

// A member of a JSON object by name, compared case-insensitively (Graph accepts "DestinationId"
// as well as "destinationId"); nullptr when absent.
const rapidjson::Value* member(const rapidjson::Value& object, std::string_view name);

// ---------------------------------------------------------------------------------------------
// Rendering

struct MessageView {
  const odata::Selection* selection = nullptr;  // nullptr or not explicit: default properties
  const odata::Expansion* expansion = nullptr;
  bool immutable_ids = false;
  BodyPreference body = BodyPreference::none;
  bool with_odata_type = false;  // delta items carry "@odata.type"
  std::string_view context_url;  // "@odata.context" of a single entity; empty inside collections
};

void write_message(JsonWriter& writer, const Context& context, const mail::Message& message,
                   const MessageView& view);
void write_folder(JsonWriter& writer, const Context& context, const mail::Folder& folder,
                  const odata::Selection* selection, std::string_view context_url = {});
void write_recipient(JsonWriter& writer, const mime::Address& address);

// A message as the $filter / $orderby evaluator sees it.
class MessageAccess : public odata::FilterAccess {
 public:
  MessageAccess(const MailboxState& state, const mail::Message& message, bool immutable_ids)
      : state_(state), message_(message), immutable_ids_(immutable_ids) {}
  odata::Value scalar(std::string_view path) const override;
  std::vector<odata::Element> collection(std::string_view path) const override;
  const mail::Message& message() const { return message_; }

 private:
  const MailboxState& state_;
  const mail::Message& message_;
  bool immutable_ids_;
};

class FolderAccess : public odata::FilterAccess {
 public:
  FolderAccess(const MailboxState& state, const mail::Folder& folder) : state_(state), folder_(folder) {}
  odata::Value scalar(std::string_view path) const override;
  std::vector<odata::Element> collection(std::string_view path) const override;

 private:
  const MailboxState& state_;
  const mail::Folder& folder_;
};

// The extended properties a message shows: the stored ones plus those Exchange computes
// (Integer 0xe07 message flags, Integer 0xe08 size, SystemTime 0xe06 delivery time, SystemTime
// 0x39 submit time, String 0x1a message class).
std::vector<mail::ExtendedProperty> visible_extended_properties(const mail::Message& message);

std::string_view importance_name(mail::Importance importance);
std::string_view flag_status_name(mail::FlagStatus status);

// Query-string text for a nextLink: the request's parameters except those named in `drop`,
// '$' written as %24 as Graph does, then `extra` (already encoded).
std::string rebuild_query(const odata::QueryString& query, const std::vector<std::string_view>& drop,
                          std::string_view extra);

// Reading message JSON (PATCH, create, sendMail).
std::string json_text(const rapidjson::Value& string_value);  // sanitised UTF-8
std::optional<mail::FlagStatus> parse_flag_status(std::string_view text);
std::optional<mail::Importance> parse_importance(std::string_view text);
net::HttpResponse enum_error(const Context& context, std::string_view value, std::string_view type);
net::HttpResponse unknown_message_property(const Context& context, std::string_view name);
// Properties a client may send but Graph ignores on write (id, changeKey, isDraft, ...).
bool is_read_only_message_property(std::string_view key);
std::optional<net::HttpResponse> read_address(const Context& context, const rapidjson::Value& value,
                                              std::optional<mime::Address>& out);
std::optional<net::HttpResponse> read_address_list(const Context& context, const rapidjson::Value& value,
                                                   std::vector<mime::Address>& out);
std::optional<net::HttpResponse> read_extended_properties(const Context& context,
                                                          const rapidjson::Value& array,
                                                          std::vector<mail::ExtendedProperty>& out);
// Applies a followupFlag object onto `flag`.
std::optional<net::HttpResponse> read_flag(const Context& context, const rapidjson::Value& value,
                                           mail::FollowupFlag& flag);
// Gives a MIME-made draft editable parts (its MIME is rebuilt from them from now on).
void ensure_draft_parts(mail::Message& message);
// 200/201 with the message (default properties) and its @odata.context.
net::HttpResponse message_entity(const Context& context, const mail::Message& message, int status);

// Delta state carried in $skiptoken / $deltatoken: opaque base64url, bound to the mailbox by a
// check value. A $deltatoken has high == 0 (the next round starts at `since`); a $skiptoken
// continues a round that ends at `high`, after `cursor`.
struct DeltaToken {
  char kind = 'm';  // 'm' messages of one folder, 'f' the folder hierarchy
  std::uint32_t folder = 0;
  std::uint64_t generation = 0;
  std::uint64_t since = 0;
  std::uint64_t high = 0;
  std::uint64_t cursor = 0;
  int page_size = 0;
  std::string select;  // the first request's $select, $expand and $filter
  std::string expand;
  std::string filter;
};

std::string encode_delta_token(const MailboxState& state, const DeltaToken& token);
std::optional<DeltaToken> decode_delta_token(const MailboxState& state, std::string_view text);
// 410 SyncStateNotFound for a token from before expire_sync_states(); `fresh_url` goes into
// the Location header (a new initial round).
net::HttpResponse sync_state_not_found(const Context& context, const DeltaToken& token,
                                       const std::string& fresh_url);
net::HttpResponse invalid_sync_state(const Context& context);
// The page size of a delta round: Prefer: odata.maxpagesize, else the token's, else 10; at most 1000.
int delta_page_size(const Context& context, int from_token);

// Route handlers, one file each.
net::HttpResponse handle_folders(Context& context, const Route& route);
net::HttpResponse handle_messages(Context& context, const Route& route);
net::HttpResponse handle_sending(Context& context, const Route& route);

}  // namespace mailtrixy::emulator::graph_mail
