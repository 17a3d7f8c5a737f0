// handle_mail_request(): route parsing, the request context, Graph's mail errors and the small
// helpers every mail route shares. The routes themselves live in graph_mail_folders.cpp,
// graph_mail_messages.cpp and graph_mail_send.cpp; rendering in graph_mail_render.cpp.

#include <charconv>

#include "graph_mail_common.hpp"

namespace mailtrixy::emulator {
namespace graph_mail {
namespace {

bool segment_is(std::string_view segment, std::string_view name) {
  if (mime::iequals(segment, name)) return true;
  // Actions and functions may be written with their namespace: microsoft.graph.move.
  constexpr std::string_view kNamespace = "microsoft.graph.";
  return segment.size() == kNamespace.size() + name.size() &&
         mime::iequals(segment.substr(0, kNamespace.size()), kNamespace) &&
         mime::iequals(segment.substr(kNamespace.size()), name);
}

struct Segment {
  std::string name;                // decoded, without a key
  std::optional<std::string> key;  // from name('key') or name(key)
  std::string written;             // the key as written (for @odata.context), else the name as written
};

std::vector<Segment> split_resource(std::string_view resource) {
  std::vector<Segment> segments;
  if (!resource.empty() && resource.front() == '/') resource.remove_prefix(1);
  while (true) {
    const std::size_t slash = resource.find('/');
    const std::string_view raw = resource.substr(0, slash);
    Segment segment;
    const std::string decoded = odata::percent_decode(raw, false);
    const std::size_t open = decoded.find('(');
    if (open != std::string::npos && !decoded.empty() && decoded.back() == ')') {
      segment.name = decoded.substr(0, open);
      std::string key = decoded.substr(open + 1, decoded.size() - open - 2);
      if (key.size() >= 2 && key.front() == '\'' && key.back() == '\'') key = key.substr(1, key.size() - 2);
      segment.key = key;
      const std::size_t raw_open = raw.find('(');
      std::string_view written_key = raw_open == std::string_view::npos
                                         ? std::string_view(key)
                                         : raw.substr(raw_open + 1, raw.size() - raw_open - 2);
      if (written_key.size() >= 2 && written_key.front() == '\'' && written_key.back() == '\'') {
        written_key = written_key.substr(1, written_key.size() - 2);
      }
      segment.written = std::string(written_key);
    } else {
      segment.name = decoded;
      segment.written = std::string(raw);
    }
    segments.push_back(std::move(segment));
    if (slash == std::string_view::npos) break;
    resource = resource.substr(slash + 1);
  }
  if (!segments.empty() && segments.back().name.empty() && !segments.back().key)
    segments.pop_back();  // trailing '/'
  return segments;
}

bool is_message_action(std::string_view name, std::string& action) {
  for (std::string_view known : {"move", "copy", "send", "permanentDelete"}) {
    if (segment_is(name, known)) {
      action = std::string(known);
      for (char& c : action) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      return true;
    }
  }
  return false;
}

void parse_message_tail(const std::vector<Segment>& s, std::size_t i, Route& route) {
  // s[i - 1] named the message.
  if (i == s.size()) {
    route.kind = Route::Kind::message;
    return;
  }
  const Segment& segment = s[i];
  if (segment.name == "$value" && i + 1 == s.size()) {
    route.kind = Route::Kind::message_value;
    return;
  }
  if (is_message_action(segment.name, route.action) && !segment.key && i + 1 == s.size()) {
    route.kind = Route::Kind::message_action;
    return;
  }
  if (mime::iequals(segment.name, "attachments")) {
    if (segment.key) {
      route.attachment = segment.key;
    } else if (i + 1 == s.size()) {
      route.kind = Route::Kind::attachments;
      return;
    } else if (segment_is(s[i + 1].name, "createUploadSession") && i + 2 == s.size()) {
      route.kind = Route::Kind::upload_session;
      return;
    } else {
      route.attachment = s[i + 1].name;
      ++i;
    }
    ++i;
    if (i == s.size()) {
      route.kind = Route::Kind::attachment;
      return;
    }
    if (s[i].name == "$value" && i + 1 == s.size()) {
      route.kind = Route::Kind::attachment_value;
      return;
    }
    route.bad_segment = s[i].name;
    return;
  }
  route.bad_segment = segment.name;
}

void parse_messages(const std::vector<Segment>& s, std::size_t i, Route& route) {
  // s[i] is "messages" (maybe with a key).
  if (s[i].key) {
    route.message = s[i].key;
    parse_message_tail(s, i + 1, route);
    return;
  }
  if (i + 1 == s.size()) {
    route.kind = Route::Kind::messages;
    return;
  }
  if (segment_is(s[i + 1].name, "delta") && i + 2 == s.size()) {
    route.kind = Route::Kind::message_delta;
    return;
  }
  route.message = s[i + 1].name;
  parse_message_tail(s, i + 2, route);
}

}  // namespace

Route parse_route(std::string_view resource) {
  Route route;
  const std::vector<Segment> s = split_resource(resource);
  if (s.empty()) return route;
  const Segment& first = s.front();
  if (mime::iequals(first.name, "mailFolders")) {
    std::size_t i = 1;
    if (first.key) {
      route.folder = first.key;
      route.folder_written = first.written;
    } else if (s.size() == 1) {
      route.kind = Route::Kind::folders;
      return route;
    } else if (segment_is(s[1].name, "delta") && s.size() == 2) {
      route.kind = Route::Kind::folder_delta;
      return route;
    } else {
      route.folder = s[1].name;
      route.folder_written = s[1].written;
      i = 2;
    }
    while (true) {
      if (i == s.size()) {
        route.kind = Route::Kind::folder;
        return route;
      }
      const Segment& segment = s[i];
      if (mime::iequals(segment.name, "childFolders")) {
        if (segment.key) {
          route.folder = segment.key;
          route.folder_written = segment.written;
          i += 1;
          continue;
        }
        if (i + 1 == s.size()) {
          route.kind = Route::Kind::child_folders;
          return route;
        }
        route.folder = s[i + 1].name;
        route.folder_written = s[i + 1].written;
        i += 2;
        continue;
      }
      if (mime::iequals(segment.name, "messages")) {
        parse_messages(s, i, route);
        return route;
      }
      std::string action;
      if (is_message_action(segment.name, action) && action != "send" && i + 1 == s.size()) {
        route.kind = Route::Kind::folder_action;
        route.action = action;
        return route;
      }
      route.bad_segment = segment.name;
      return route;
    }
  }
  if (mime::iequals(first.name, "messages")) {
    if (!first.key && s.size() == 2 && segment_is(s[1].name, "delta")) {
      route.bad_segment = "delta";
      return route;
    }
    parse_messages(s, 0, route);
    return route;
  }
  if (segment_is(first.name, "sendMail") && s.size() == 1) {
    route.kind = Route::Kind::send_mail;
    return route;
  }
  route.bad_segment = first.name;
  return route;
}

// ---------------------------------------------------------------------------------------------

void write_string(JsonWriter& writer, std::string_view text) {
  // The ASCII-escaping writer stops at invalid UTF-8 and would leave broken JSON behind.
  if (mime::is_valid_utf8(text)) {
    writer.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
  } else {
    const std::string clean = mime::sanitize_utf8(text);
    writer.String(clean.data(), static_cast<rapidjson::SizeType>(clean.size()));
  }
}

void write_key(JsonWriter& writer, std::string_view key) {
  writer.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
}

std::string Context::api_base() const {
  return call.world.base_url() + "/v1.0/" + std::string(call.user_segment);
}

std::string Context::metadata_base() const {
  std::string who = call.user_segment == "me" ? call.user.oid : std::string(call.user_segment.substr(6));
  return call.world.base_url() + "/v1.0/$metadata#users('" + who + "')";
}

Context make_context(GraphCall& call) {
  Context context{call,
                  *call.user.mailbox,
                  call.user.mailbox->state(),
                  odata::parse_query_string(call.request.query),
                  BodyPreference::none,
                  std::nullopt};
  for (const auto& [name, value] : call.request.headers) {
    if (!mime::iequals(name, "Prefer")) continue;
    std::string_view rest = value;
    while (!rest.empty()) {
      const std::size_t comma = rest.find(',');
      std::string_view item = rest.substr(0, comma);
      rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
      while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
      while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
      const std::size_t eq = item.find('=');
      if (eq == std::string_view::npos) continue;
      const std::string_view key = item.substr(0, eq);
      std::string_view setting = item.substr(eq + 1);
      if (setting.size() >= 2 && setting.front() == '"' && setting.back() == '"') {
        setting = setting.substr(1, setting.size() - 2);
      }
      if (mime::iequals(key, "odata.maxpagesize")) {
        int size = 0;
        const auto result = std::from_chars(setting.data(), setting.data() + setting.size(), size);
        if (result.ec == std::errc{} && size > 0) context.max_page_size = size;
      } else if (mime::iequals(key, "outlook.body-content-type")) {
        if (mime::iequals(setting, "text")) context.body_preference = BodyPreference::text;
        if (mime::iequals(setting, "html")) context.body_preference = BodyPreference::html;
      }
    }
  }
  return context;
}

void add_preference_applied(const Context& context, net::HttpResponse& response) {
  if (context.body_preference == BodyPreference::text) {
    response.headers.emplace_back("Preference-Applied", "outlook.body-content-type=\"text\"");
  } else if (context.body_preference == BodyPreference::html) {
    response.headers.emplace_back("Preference-Applied", "outlook.body-content-type=\"html\"");
  }
}

net::HttpResponse item_not_found(const Context& context) {
  return graph_error(context.call, 404, "ErrorItemNotFound",
                     "The specified object was not found in the store.");
}

net::HttpResponse id_malformed(const Context& context) {
  return graph_error(context.call, 400, "ErrorInvalidIdMalformed", "Id is malformed.");
}

net::HttpResponse bad_request(const Context& context, std::string_view message) {
  return graph_error(context.call, 400, "BadRequest", message);
}

net::HttpResponse query_error(const Context& context, const odata::QueryError& error) {
  return graph_error(context.call, error.status, error.code, error.message);
}

net::HttpResponse method_not_allowed(const Context& context) {
  return graph_error(
      context.call, 405, "BadRequest",
      "The HTTP method '" + context.call.request.method + "' is not supported for this resource.");
}

net::HttpResponse json_payload_error(const Context& context) {
  return bad_request(
      context,
      "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of "
      "valid JSON format.");
}

net::HttpResponse empty_payload_error(const Context& context) {
  return bad_request(context, "Empty Payload. JSON content expected.");
}

mail::Message* find_message(Context& context, std::string_view id, std::optional<net::HttpResponse>& error) {
  const auto found = context.state.find_message(id);
  if (found.status == MailboxState::Lookup::malformed) error = id_malformed(context);
  if (found.status == MailboxState::Lookup::not_found) error = item_not_found(context);
  return found.message;
}

mail::Folder* find_folder(Context& context, std::string_view id, std::optional<net::HttpResponse>& error) {
  const auto found = context.state.find_folder(id);
  if (found.status == MailboxState::Lookup::malformed) error = id_malformed(context);
  if (found.status == MailboxState::Lookup::not_found) error = item_not_found(context);
  return found.folder;
}

std::optional<net::HttpResponse> parse_json_object(const Context& context, rapidjson::Document& document) {
  const std::string& body = context.call.request.body;
  if (body.find_first_not_of(" \t\r\n") == std::string::npos) return empty_payload_error(context);
  document.Parse(body.data(), body.size());
  if (document.HasParseError() || !document.IsObject()) return json_payload_error(context);
  return std::nullopt;
}

const rapidjson::Value* member(const rapidjson::Value& object, std::string_view name) {
  if (!object.IsObject()) return nullptr;
  for (auto it = object.MemberBegin(); it != object.MemberEnd(); ++it) {
    const std::string_view key(it->name.GetString(), it->name.GetStringLength());
    if (mime::iequals(key, name)) return &it->value;
  }
  return nullptr;
}

std::string rebuild_query(const odata::QueryString& query, const std::vector<std::string_view>& drop,
                          std::string_view extra) {
  std::string out;
  for (const auto& parameter : query.parameters) {
    bool dropped = false;
    for (std::string_view name : drop) {
      if (mime::iequals(parameter.name, name)) dropped = true;
    }
    if (dropped) continue;
    if (!out.empty()) out += '&';
    out += odata::percent_encode(parameter.name);
    out += '=';
    out += odata::percent_encode(parameter.value);
  }
  if (!extra.empty()) {
    if (!out.empty()) out += '&';
    out += extra;
  }
  return out;
}

}  // namespace graph_mail

net::HttpResponse handle_mail_request(GraphCall& call) {
  using graph_mail::Route;
  graph_mail::Context context = graph_mail::make_context(call);
  const Route route = graph_mail::parse_route(call.resource);
  switch (route.kind) {
    case Route::Kind::folders:
    case Route::Kind::folder_delta:
    case Route::Kind::folder:
    case Route::Kind::child_folders:
    case Route::Kind::folder_action: return graph_mail::handle_folders(context, route);
    case Route::Kind::messages:
      if (call.request.method == "POST") return graph_mail::handle_sending(context, route);
      return graph_mail::handle_messages(context, route);
    case Route::Kind::message_action:
      if (route.action == "send") return graph_mail::handle_sending(context, route);
      return graph_mail::handle_messages(context, route);
    case Route::Kind::message_delta:
    case Route::Kind::message:
    case Route::Kind::message_value: return graph_mail::handle_messages(context, route);
    case Route::Kind::attachments:
    case Route::Kind::attachment:
    case Route::Kind::attachment_value:
    case Route::Kind::upload_session:
    case Route::Kind::send_mail: return graph_mail::handle_sending(context, route);
    case Route::Kind::unknown: break;
  }
  if (route.bad_segment == "delta") {
    return graph_error(call, 400, "BadRequest",
                       "Change tracking is only supported per folder: use /mailFolders/{id}/messages/delta.");
  }
  return graph_error(call, 400, "BadRequest",
                     "Resource not found for the segment '" + route.bad_segment + "'.");
}

}  // namespace mailtrixy::emulator
