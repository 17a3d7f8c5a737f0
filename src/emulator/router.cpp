// The emulator's front door and the Graph pipeline every /v1.0 request (and every $batch item)
// goes through, in the order Microsoft applies it: injected faults, bearer token, the addressed
// mailbox, delegated scopes, the per-mailbox concurrency limit, then the route itself.

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdio>
#include <exception>
#include <variant>

#include "core.hpp"
#include "http_text.hpp"
#include "mailtrixy/base/log.hpp"
#include "mailtrixy/crypto/random.hpp"

namespace mailtrixy::emulator {
namespace {

// Microsoft Graph's own application id, named in its WWW-Authenticate challenges.
constexpr std::string_view kGraphAppId = "00000003-0000-0000-c000-000000000000";

bool has_scope(const std::vector<std::string>& granted, std::initializer_list<std::string_view> wanted) {
  for (const std::string& scope : granted) {
    for (const std::string_view one : wanted) {
      if (iequals(scope, one)) return true;
    }
  }
  return false;
}

net::HttpResponse unauthorized(CoreServices services, const net::HttpRequest& request, const std::string& request_id,
                               std::string_view message) {
  net::HttpResponse response = graph_error_raw(request, request_id, 401, "InvalidAuthenticationToken", message);
  const std::string challenge_base = "realm=\"\", authorization_uri=\"" + services.world.base_url() +
                                     "/common/oauth2/authorize\", client_id=\"" + std::string(kGraphAppId) + "\"";
  response.headers.emplace_back("WWW-Authenticate", "Bearer " + challenge_base);
  response.headers.emplace_back("WWW-Authenticate",
                                "PoP " + challenge_base + ", nonce=\"" + crypto::random_token(32) + "\"");
  return response;
}

// The access token of the request, or the 401 Graph answers without one.
std::variant<AccessToken, net::HttpResponse> authenticate(CoreServices services, const net::HttpRequest& request,
                                                          const std::string& request_id) {
  const auto header = request.header("Authorization");
  std::string_view token;
  if (header && header->size() > 7 && iequals(header->substr(0, 7), "Bearer ")) {
    token = header->substr(7);
    while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  }
  if (token.empty()) return unauthorized(services, request, request_id, "Access token is empty.");
  auto found = services.world.find_access_token(token);
  if (!found) {
    return unauthorized(services, request, request_id, "CompactToken parsing failed with error code: 80049217");
  }
  if (services.world.now() >= found->expires_at) {
    return unauthorized(services, request, request_id, "Access token has expired or is not yet valid.");
  }
  return std::move(*found);
}

net::HttpResponse fault_response(CoreServices services, const net::HttpRequest& request,
                                 const std::string& request_id, const Fault& fault) {
  net::HttpResponse response;
  if (fault.kind == FaultKind::reset || fault.kind == FaultKind::hang) {
    response.status = fault.status;
    response.headers.emplace_back("Connection", "close");
    add_graph_headers(response.headers, request, request_id, false);
    if (fault.kind == FaultKind::hang) response.delay = fault.hold;
    return response;
  }
  if (fault.kind == FaultKind::malformed) {
    response.status = 200;
    response.headers.emplace_back(
        "Content-Type",
        "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8");
    add_graph_headers(response.headers, request, request_id, true);
    response.body = R"({"@odata.context":")" + services.world.base_url() + R"(/v1.0/$metadata","value":[{"id":)";
    return response;
  }
  std::string code = fault.code;
  std::string message = fault.message;
  switch (fault.status) {
    case 429:
      if (code.empty()) code = "TooManyRequests";
      if (message.empty()) message = "Please retry again later.";
      break;
    case 503:
      if (code.empty()) code = "serviceNotAvailable";
      if (message.empty()) {
        message = "The service is temporarily unavailable for maintenance or is overloaded. You may repeat the "
                  "request after a delay.";
      }
      break;
    case 504:
      if (code.empty()) code = "UnknownError";
      if (message.empty()) message = "The upstream server did not respond in time.";
      break;
    case 500:
      if (code.empty()) code = "generalException";
      if (message.empty()) message = "General exception while processing.";
      break;
    case 401:
      if (code.empty()) code = "InvalidAuthenticationToken";
      if (message.empty()) message = "Access token has expired or is not yet valid.";
      break;
    case 403:
      if (code.empty()) code = "ErrorAccessDenied";
      if (message.empty()) message = "Access is denied. Check credentials and try again.";
      break;
    case 404:
      if (code.empty()) code = "ErrorItemNotFound";
      if (message.empty()) message = "The specified object was not found in the store.";
      break;
    case 410:
      if (code.empty()) code = "SyncStateNotFound";
      if (message.empty()) message = "The sync state generation is not found; generation=1;[highest=2][2].";
      break;
    default:
      if (code.empty()) code = fault.status < 500 ? "BadRequest" : "ServiceUnavailable";
      if (message.empty()) message = "Injected failure (HTTP " + std::to_string(fault.status) + ").";
  }
  response = graph_error_raw(request, request_id, fault.status, code, message);
  if (fault.retry_after) {
    char text[32];
    std::snprintf(text, sizeof text, "%g", *fault.retry_after);
    response.headers.emplace_back("Retry-After", text);
  }
  return response;
}

net::HttpResponse throttled_response(const net::HttpRequest& request, const std::string& request_id) {
  // Exactly what Exchange sends for the concurrency limit: no innerError (graph-facts C1, G5).
  net::HttpResponse response;
  response.status = 429;
  response.headers.emplace_back("Content-Type", "application/json");
  response.headers.emplace_back("Retry-After", "1");
  add_graph_headers(response.headers, request, request_id, false);
  response.body =
      R"({"error":{"code":"ApplicationThrottled","message":"Application is over its MailboxConcurrency limit."}})";
  return response;
}

// GET /me and /users/{id}: the user object, with $select.
net::HttpResponse user_object(CoreServices services, const GraphCall& call) {
  const User& user = call.user;
  if (call.request.method != "GET" && call.request.method != "HEAD") {
    return graph_error(call, 403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.");
  }
  std::vector<std::string> selected;
  for (const auto& [name, value] : parse_form(call.request.query)) {
    if (name != "$select") continue;
    for (const std::string_view piece : split(value, ',')) {
      std::string_view property = piece;
      while (!property.empty() && property.front() == ' ') property.remove_prefix(1);
      while (!property.empty() && property.back() == ' ') property.remove_suffix(1);
      if (!property.empty()) selected.emplace_back(property);
    }
  }
  using Renderer = void (*)(rapidjson::Writer<rapidjson::StringBuffer>&, const User&);
  struct Property {
    const char* name;
    Renderer render;
  };
  static const Property kProperties[] = {
      {"businessPhones", [](auto& w, const User&) { w.StartArray(), w.EndArray(); }},
      {"displayName", [](auto& w, const User& u) { w.String(u.display_name.c_str()); }},
      {"givenName", [](auto& w, const User& u) { w.String(u.given_name.c_str()); }},
      {"id", [](auto& w, const User& u) { w.String(u.oid.c_str()); }},
      {"jobTitle", [](auto& w, const User&) { w.Null(); }},
      {"mail", [](auto& w, const User& u) { u.personal ? w.Null() : w.String(u.address.c_str()); }},
      {"mobilePhone", [](auto& w, const User&) { w.Null(); }},
      {"officeLocation", [](auto& w, const User&) { w.Null(); }},
      {"preferredLanguage", [](auto& w, const User& u) { u.personal ? w.Null() : w.String("en-US"); }},
      {"surname", [](auto& w, const User& u) { u.surname.empty() ? w.Null() : w.String(u.surname.c_str()); }},
      {"userPrincipalName", [](auto& w, const User& u) { w.String(u.address.c_str()); }},
      {"mailNickname",
       [](auto& w, const User& u) { w.String(u.address.substr(0, u.address.find('@')).c_str()); }},
      {"otherMails", [](auto& w, const User&) { w.StartArray(), w.EndArray(); }},
      {"proxyAddresses",
       [](auto& w, const User& u) {
         w.StartArray();
         if (!u.personal) w.String(("SMTP:" + u.address).c_str());
         w.EndArray();
       }},
  };
  const auto find_property = [](std::string_view name) -> const Property* {
    for (const Property& property : kProperties) {
      if (iequals(property.name, name)) return &property;
    }
    return nullptr;
  };
  std::vector<const Property*> output;
  for (const std::string& name : selected) {
    const Property* property = find_property(name);
    if (property == nullptr) {
      return graph_error(call, 400, "Request_BadRequest",
                         "Could not find a property named '" + name + "' on type 'microsoft.graph.user'.");
    }
    output.push_back(property);
  }
  // Default property sets and their order as Graph sends them (graph-facts A8).
  static const char* const kPersonalOrder[] = {"displayName", "surname",  "givenName",      "id",
                                               "userPrincipalName", "businessPhones", "jobTitle", "mail",
                                               "mobilePhone", "officeLocation", "preferredLanguage"};
  static const char* const kWorkOrder[] = {"businessPhones", "displayName",       "givenName",  "jobTitle",
                                           "mail",           "mobilePhone",       "officeLocation",
                                           "preferredLanguage", "surname",       "userPrincipalName", "id"};
  std::string context = services.world.base_url() + "/v1.0/$metadata#users";
  if (output.empty()) {
    if (user.personal) {
      for (const char* name : kPersonalOrder) output.push_back(find_property(name));
    } else {
      for (const char* name : kWorkOrder) output.push_back(find_property(name));
    }
  } else {
    context += '(';
    for (std::size_t i = 0; i < output.size(); ++i) {
      if (i > 0) context += ',';
      context += output[i]->name;
    }
    context += ')';
  }
  context += "/$entity";
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  writer.StartObject();
  writer.Key("@odata.context");
  writer.String(context.c_str());
  for (const Property* property : output) {
    writer.Key(property->name);
    property->render(writer, user);
  }
  writer.EndObject();
  return graph_json(call, 200, buffer.GetString());
}

bool prefers_immutable_ids(const net::HttpRequest& request) {
  for (const auto& [name, value] : request.headers) {
    if (!iequals(name, "Prefer")) continue;
    const std::string lowered = ascii_lower(value);
    if (lowered.find("idtype=\"immutableid\"") != std::string::npos ||
        lowered.find("idtype=immutableid") != std::string::npos) {
      return true;
    }
  }
  return false;
}

bool is_send_route(std::string_view resource) {
  const auto last = resource.rfind('/');
  const std::string_view action = last == std::string_view::npos ? resource : resource.substr(last + 1);
  return iequals(action, "sendMail") || iequals(action, "send") || iequals(action, "microsoft.graph.sendMail") ||
         iequals(action, "microsoft.graph.send");
}

}  // namespace

net::HttpHandler make_emulator_handler(CoreServices services) {
  return [services](const net::HttpRequest& request) -> net::HttpResponse {
    const std::string_view path = request.path;
    if (path == "/_emulator" || path.starts_with("/_emulator/")) return handle_control_request(services, request);
    // Upload-session URLs are pre-authenticated like Microsoft's: no bearer token, and outside
    // the Graph counters and mailbox limits.
    if (path.starts_with("/_upload/")) return handle_upload_request(services.world, request);
    if (path == "/v1.0" || path.starts_with("/v1.0/")) {
      return handle_graph_request(services, request, GraphOrigin::wire);
    }
    return handle_identity_request(services, request);
  };
}

std::string route_pattern(std::string_view method, std::string_view graph_path) {
  std::string out(method);
  out += ' ';
  if (graph_path.empty() || graph_path == "/") return out + "/";
  if (graph_path.front() == '/') graph_path.remove_prefix(1);
  bool next_is_id = false;
  for (const std::string_view segment : split(graph_path, '/')) {
    out += '/';
    if (next_is_id && !segment.empty() && !iequals(segment, "delta") && segment.front() != '$') {
      out += "{id}";
      next_is_id = false;
      continue;
    }
    out += segment;
    next_is_id = iequals(segment, "users") || iequals(segment, "mailFolders") || iequals(segment, "childFolders") ||
                 iequals(segment, "messages") || iequals(segment, "attachments") ||
                 iequals(segment, "extensions") || iequals(segment, "singleValueExtendedProperties") ||
                 iequals(segment, "multiValueExtendedProperties");
  }
  return out;
}

net::HttpResponse handle_graph_request(CoreServices services, const net::HttpRequest& request, GraphOrigin origin) {
  World& world = services.world;
  const std::string request_id = new_guid();
  std::string_view graph_path = request.path;
  graph_path.remove_prefix(5);  // "/v1.0"
  if (origin == GraphOrigin::wire) {
    world.count_graph_request();
  } else {
    world.count_batch_item();
  }
  world.count_route(route_pattern(request.method, graph_path));
  // A hung answer (fault kind hang, also from inside a $batch) keeps its hold on top of the latency.
  const auto finish = [&](net::HttpResponse response) {
    if (origin == GraphOrigin::wire) response.delay += world.options().latency;
    return response;
  };

  std::optional<Fault> truncate;
  {
    std::string fault_route = request.method + " " + percent_decode(request.path, false);
    if (!request.query.empty()) fault_route += "?" + percent_decode(request.query, false);
    if (auto fault = world.take_fault(fault_route)) {
      if (fault->kind != FaultKind::truncated) return finish(fault_response(services, request, request_id, *fault));
      truncate = std::move(fault);
    }
  }

  auto authenticated = authenticate(services, request, request_id);
  if (auto* failure = std::get_if<net::HttpResponse>(&authenticated)) return finish(std::move(*failure));
  const AccessToken& token = std::get<AccessToken>(authenticated);

  if (iequals(graph_path, "/$batch")) {
    if (origin == GraphOrigin::batch) {
      return graph_error_raw(request, request_id, 400, "BadRequest", "A batch request cannot contain a $batch request.");
    }
    if (request.method != "POST") {
      return finish(graph_error_raw(request, request_id, 405, "Request_BadRequest",
                                    "The HTTP method '" + request.method + "' is not allowed for $batch; use POST."));
    }
    return finish(handle_batch(services, request, token, request_id));
  }

  // "/me[/...]" or "/users/{id|upn}[/...]".
  std::string_view rest = graph_path.empty() ? graph_path : graph_path.substr(1);
  const auto first_end = rest.find('/');
  const std::string_view first = rest.substr(0, first_end);
  rest = first_end == std::string_view::npos ? std::string_view() : rest.substr(first_end);
  User* token_user = token.user;
  User* target = nullptr;
  std::string user_segment;
  if (iequals(first, "me")) {
    target = token_user;
    user_segment = "me";
  } else if (iequals(first, "users") && rest.size() > 1) {
    const auto id_end = rest.find('/', 1);
    const std::string_view raw_id = rest.substr(1, id_end == std::string_view::npos ? std::string_view::npos : id_end - 1);
    rest = id_end == std::string_view::npos ? std::string_view() : rest.substr(id_end);
    const std::string id = percent_decode(raw_id, false);
    user_segment = "users/" + std::string(raw_id);
    target = world.find_user_by_id_or_address(id);
    if (!target) {
      if (rest.empty()) {
        return finish(graph_error_raw(request, request_id, 404, "Request_ResourceNotFound",
                                      "Resource '" + id +
                                          "' does not exist or one of its queried reference-property objects are "
                                          "not present."));
      }
      return finish(
          graph_error_raw(request, request_id, 404, "ErrorInvalidUser", "The requested user '" + id + "' is invalid."));
    }
    if (target != token_user) {
      if (rest.empty()) {
        return finish(graph_error_raw(request, request_id, 403, "Authorization_RequestDenied",
                                      "Insufficient privileges to complete the operation."));
      }
      return finish(graph_error_raw(request, request_id, 403, "ErrorAccessDenied",
                                    "Access is denied. Check credentials and try again."));
    }
  } else {
    const std::string segment = first.empty() ? std::string() : percent_decode(first, false);
    return finish(graph_error_raw(request, request_id, 400, "BadRequest",
                                  "Resource not found for the segment '" + segment + "'."));
  }
  if (rest == "/") rest = {};

  // Delegated permissions: /me needs User.Read; mail reads need Mail.Read(Write), changes
  // Mail.ReadWrite, sending Mail.Send.
  if (rest.empty()) {
    if (!has_scope(token.scopes, {"User.Read", "User.ReadWrite", "User.ReadBasic.All", "User.Read.All",
                                  "User.ReadWrite.All", "Directory.Read.All"})) {
      return finish(graph_error_raw(request, request_id, 403, "Authorization_RequestDenied",
                                    "Insufficient privileges to complete the operation."));
    }
  } else {
    bool allowed = false;
    if (is_send_route(rest) && request.method == "POST") {
      allowed = has_scope(token.scopes, {"Mail.Send"});
    } else if (request.method == "GET" || request.method == "HEAD") {
      allowed = has_scope(token.scopes, {"Mail.Read", "Mail.ReadWrite", "Mail.ReadBasic"});
    } else {
      allowed = has_scope(token.scopes, {"Mail.ReadWrite"});
    }
    if (!allowed) {
      return finish(graph_error_raw(request, request_id, 403, "ErrorAccessDenied",
                                    "Access is denied. Check credentials and try again."));
    }
  }

  if (!world.try_enter_mailbox(token.client_id, target->address, kMailboxConcurrencyLimit)) {
    world.count_throttled();
    return finish(throttled_response(request, request_id));
  }
  const std::string client_id = token.client_id;
  const std::string address = target->address;
  net::HttpResponse response;
  try {
    GraphCall call{request, world, *target, rest, user_segment, prefers_immutable_ids(request), request_id};
    response = rest.empty() ? user_object(services, call) : handle_mail_request(call);
  } catch (const std::exception& error) {
    log::error("graph request failed", {{"method", request.method}, {"route", route_pattern(request.method, graph_path)},
                                        {"error", error.what()}});
    response = graph_error_raw(request, request_id, 500, "generalException", "General exception while processing.");
  }
  if (truncate && !response.body.empty()) response.body.resize(response.body.size() / 2);

  // The slot is held until the response has gone out (including the latency), as Exchange
  // counts a request until it has answered.
  std::function<void()> handler_on_answered = std::move(response.on_answered);
  auto release = [&world, client_id, address, handler_on_answered = std::move(handler_on_answered)]() {
    world.leave_mailbox(client_id, address);
    if (handler_on_answered) handler_on_answered();
  };
  if (origin == GraphOrigin::batch) {
    release();
    response.on_answered = nullptr;
  } else {
    response.on_answered = std::move(release);
  }
  return finish(std::move(response));
}

}  // namespace mailtrixy::emulator
