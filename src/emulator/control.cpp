// The test-control API under /_emulator/ (product spec §10, docs/emulator.md): plain JSON, no
// authentication (the emulator is a test tool and listens on loopback by default).

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "core.hpp"
#include "http_text.hpp"
#include "mailtrixy/crypto/encoding.hpp"

namespace mailtrixy::emulator {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void write(Writer& writer, std::string_view text) {
  writer.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
}

net::HttpResponse control_error(int status, std::string_view message) {
  rapidjson::StringBuffer buffer;
  Writer writer(buffer);
  writer.StartObject();
  writer.Key("error");
  write(writer, message);
  writer.EndObject();
  return json_response(status, buffer.GetString());
}

net::HttpResponse control_ok(std::initializer_list<std::pair<const char*, long long>> fields) {
  rapidjson::StringBuffer buffer;
  Writer writer(buffer);
  writer.StartObject();
  writer.Key("ok");
  writer.Bool(true);
  for (const auto& [name, value] : fields) {
    writer.Key(name);
    writer.Int64(value);
  }
  writer.EndObject();
  return json_response(200, buffer.GetString());
}

net::HttpResponse stats(const World& world) {
  const StatsSnapshot snapshot = world.stats();
  rapidjson::StringBuffer buffer;
  Writer writer(buffer);
  writer.StartObject();
  writer.Key("graph_requests");
  writer.Uint64(snapshot.graph_requests);
  writer.Key("batch_items");
  writer.Uint64(snapshot.batch_items);
  writer.Key("token_requests");
  writer.Uint64(snapshot.token_requests);
  writer.Key("authorize_requests");
  writer.Uint64(snapshot.authorize_requests);
  writer.Key("throttled");
  writer.Uint64(snapshot.throttled);
  writer.Key("faults_injected");
  writer.Uint64(snapshot.faults_injected);
  writer.Key("by_route");
  writer.StartObject();
  for (const auto& [route, count] : snapshot.by_route) {
    write(writer, route);
    writer.Uint64(count);
  }
  writer.EndObject();
  writer.Key("max_in_flight");
  writer.StartObject();
  for (const auto& [address, count] : snapshot.max_in_flight) {
    write(writer, address);
    writer.Int(count);
  }
  writer.EndObject();
  writer.Key("in_flight");
  writer.StartObject();
  for (const auto& [address, count] : snapshot.in_flight) {
    write(writer, address);
    writer.Int(count);
  }
  writer.EndObject();
  writer.EndObject();
  return json_response(200, buffer.GetString());
}

void write_scopes(Writer& writer, const std::vector<std::string>& scopes) {
  std::string joined;
  for (const std::string& scope : scopes) {
    if (!joined.empty()) joined += ' ';
    joined += scope;
  }
  writer.Key("scope");
  write(writer, joined);
}

net::HttpResponse tokens(const World& world) {
  rapidjson::StringBuffer buffer;
  Writer writer(buffer);
  const auto now = world.now();
  writer.StartObject();
  writer.Key("access_tokens");
  writer.StartArray();
  for (const AccessToken& token : world.access_tokens()) {
    writer.StartObject();
    writer.Key("token");
    write(writer, token.token);
    writer.Key("client_id");
    write(writer, token.client_id);
    writer.Key("user");
    write(writer, token.user->address);
    write_scopes(writer, token.scopes);
    writer.Key("issued_at");
    write(writer, iso_seconds(token.issued_at));
    writer.Key("expires_at");
    write(writer, iso_seconds(token.expires_at));
    writer.Key("expired");
    writer.Bool(now >= token.expires_at);
    writer.EndObject();
  }
  writer.EndArray();
  writer.Key("refresh_tokens");
  writer.StartArray();
  for (const RefreshToken& token : world.refresh_tokens()) {
    const auto valid_from = world.tokens_valid_from(*token.user);
    writer.StartObject();
    writer.Key("token");
    write(writer, token.token);
    writer.Key("client_id");
    write(writer, token.client_id);
    writer.Key("user");
    write(writer, token.user->address);
    write_scopes(writer, token.scopes);
    writer.Key("issued_at");
    write(writer, iso_seconds(token.issued_at));
    writer.Key("revoked");
    writer.Bool(valid_from && token.issued_at <= *valid_from);
    writer.Key("inactive");
    writer.Bool(token.inactive);
    writer.EndObject();
  }
  writer.EndArray();
  writer.EndObject();
  return json_response(200, buffer.GetString());
}

net::HttpResponse users(const World& world) {
  rapidjson::StringBuffer buffer;
  Writer writer(buffer);
  writer.StartArray();
  for (const auto& user : world.users()) {
    writer.StartObject();
    writer.Key("address");
    write(writer, user->address);
    writer.Key("id");
    write(writer, user->oid);
    writer.Key("token_oid");
    write(writer, user->token_oid());
    writer.Key("tid");
    write(writer, user->tid);
    writer.Key("personal");
    writer.Bool(user->personal);
    writer.Key("display_name");
    write(writer, user->display_name);
    writer.EndObject();
  }
  writer.EndArray();
  return json_response(200, buffer.GetString());
}

net::HttpResponse sent(const User& user) {
  rapidjson::StringBuffer buffer;
  Writer writer(buffer);
  writer.StartArray();
  for (const SentRecord& record : user.mailbox->sent()) {
    writer.StartObject();
    writer.Key("recipients");
    writer.StartArray();
    for (const std::string& recipient : record.recipients) write(writer, recipient);
    writer.EndArray();
    writer.Key("mime_base64");
    write(writer, crypto::base64_encode(record.mime));
    writer.EndObject();
  }
  writer.EndArray();
  return json_response(200, buffer.GetString());
}

const char* fault_kind_name(FaultKind kind) {
  switch (kind) {
    case FaultKind::status: return "status";
    case FaultKind::reset: return "reset";
    case FaultKind::malformed: return "malformed";
    case FaultKind::truncated: return "truncated";
    case FaultKind::hang: return "hang";
  }
  return "status";
}

net::HttpResponse list_faults(const World& world) {
  rapidjson::StringBuffer buffer;
  Writer writer(buffer);
  writer.StartArray();
  for (const Fault& fault : world.faults()) {
    writer.StartObject();
    writer.Key("route");
    write(writer, fault.route_text);
    writer.Key("kind");
    writer.String(fault_kind_name(fault.kind));
    writer.Key("status");
    writer.Int(fault.status);
    if (fault.until) {
      writer.Key("seconds_left");
      writer.Double(std::max(0.0, std::chrono::duration<double>(*fault.until - std::chrono::steady_clock::now()).count()));
    } else {
      writer.Key("count");
      writer.Int(fault.remaining);
    }
    if (fault.retry_after) {
      writer.Key("retry_after");
      writer.Double(*fault.retry_after);
    }
    if (fault.kind == FaultKind::hang) {
      writer.Key("hold");
      writer.Double(std::chrono::duration<double>(fault.hold).count());
    }
    writer.EndObject();
  }
  writer.EndArray();
  return json_response(200, buffer.GetString());
}

// One fault from its JSON description; an error sentence for anything malformed.
std::variant<Fault, std::string> parse_fault(const rapidjson::Value& value) {
  if (!value.IsObject()) return std::string("each fault must be a JSON object like {\"route\": \"messages\", "
                                            "\"status\": 503, \"count\": 1}");
  Fault fault;
  bool has_route = false;
  bool has_status = false;
  bool has_hold = false;
  for (const auto& member : value.GetObject()) {
    const std::string name = member.name.GetString();
    const rapidjson::Value& field = member.value;
    if (name == "route") {
      if (!field.IsString()) return std::string("\"route\" must be a string (a regular expression)");
      fault.route_text = field.GetString();
      try {
        fault.route = std::regex(fault.route_text, std::regex::ECMAScript | std::regex::optimize);
      } catch (const std::regex_error& error) {
        return "\"route\" is not a valid regular expression (" + std::string(error.what()) + ")";
      }
      has_route = true;
    } else if (name == "status") {
      if (!field.IsInt() || field.GetInt() < 200 || field.GetInt() > 599) {
        return std::string("\"status\" must be an HTTP status code between 200 and 599");
      }
      fault.status = field.GetInt();
      has_status = true;
    } else if (name == "count") {
      if (!field.IsInt() || field.GetInt() < 1) return std::string("\"count\" must be a positive integer");
      fault.remaining = field.GetInt();
    } else if (name == "seconds") {
      if (!field.IsNumber() || field.GetDouble() <= 0 || field.GetDouble() > 86400) {
        return std::string("\"seconds\" must be a number of seconds between 0 and 86400");
      }
      fault.until = std::chrono::steady_clock::now() +
                    std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(field.GetDouble()));
    } else if (name == "retry_after") {
      if (!field.IsNumber() || field.GetDouble() < 0 || !std::isfinite(field.GetDouble())) {
        return std::string("\"retry_after\" must be a number of seconds, zero or more");
      }
      fault.retry_after = field.GetDouble();
    } else if (name == "hold") {
      if (!field.IsNumber() || field.GetDouble() <= 0 || field.GetDouble() > 3600) {
        return std::string("\"hold\" must be a number of seconds between 0 and 3600");
      }
      fault.hold = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::duration<double>(field.GetDouble()));
      has_hold = true;
    } else if (name == "kind") {
      const std::string kind = field.IsString() ? field.GetString() : "";
      if (kind == "status") {
        fault.kind = FaultKind::status;
      } else if (kind == "reset") {
        fault.kind = FaultKind::reset;
      } else if (kind == "malformed") {
        fault.kind = FaultKind::malformed;
      } else if (kind == "truncated") {
        fault.kind = FaultKind::truncated;
      } else if (kind == "hang") {
        fault.kind = FaultKind::hang;
      } else {
        return std::string(
            "\"kind\" must be one of \"status\", \"reset\", \"malformed\", \"truncated\", \"hang\"");
      }
    } else if (name == "code" || name == "message") {
      if (!field.IsString()) return "\"" + name + "\" must be a string";
      (name == "code" ? fault.code : fault.message) = field.GetString();
    } else {
      return "unknown fault field \"" + name +
             "\"; the fields are route, status, count, seconds, retry_after, kind, hold, code and message";
    }
  }
  if (!has_route) return std::string("a fault needs \"route\", a regular expression matched against \"METHOD /path?query\"");
  if (fault.kind == FaultKind::status && !has_status) fault.status = 503;
  if (fault.kind == FaultKind::status && fault.status < 400) {
    return std::string("a \"status\" fault needs an error status (400-599)");
  }
  if (fault.kind == FaultKind::reset && !has_status) fault.status = 503;
  // A gateway that gave up waiting answers 504; only then does the emulator close the connection.
  if (fault.kind == FaultKind::hang && !has_status) fault.status = 504;
  if (has_hold && fault.kind != FaultKind::hang) {
    return std::string("\"hold\" applies only to faults of kind \"hang\"");
  }
  return fault;
}

net::HttpResponse add_faults(World& world, const std::string& body) {
  rapidjson::Document document;
  document.Parse(body.c_str(), body.size());
  if (document.HasParseError()) {
    return control_error(400, "the fault body is not valid JSON; send {\"route\": REGEX, \"status\": 429, "
                              "\"count\": N, \"retry_after\": S}");
  }
  std::vector<Fault> parsed;
  const auto take = [&](const rapidjson::Value& value) -> std::optional<std::string> {
    auto fault = parse_fault(value);
    if (auto* error = std::get_if<std::string>(&fault)) return *error;
    parsed.push_back(std::get<Fault>(std::move(fault)));
    return std::nullopt;
  };
  if (document.IsArray()) {
    for (const auto& item : document.GetArray()) {
      if (auto error = take(item)) return control_error(400, *error);
    }
  } else if (auto error = take(document)) {
    return control_error(400, *error);
  }
  for (Fault& fault : parsed) world.add_fault(std::move(fault));
  return control_ok({{"added", static_cast<long long>(parsed.size())}});
}

}  // namespace

net::HttpResponse handle_control_request(CoreServices services, const net::HttpRequest& request) {
  World& world = services.world;
  std::vector<std::string> segments;
  for (const std::string_view piece : split(std::string_view(request.path).substr(1), '/')) {
    segments.push_back(percent_decode(piece, false));
  }
  // segments[0] == "_emulator"
  const std::string& method = request.method;
  const auto route_is = [&](std::initializer_list<std::string_view> pattern) {
    if (segments.size() != pattern.size() + 1) return false;
    std::size_t i = 1;
    for (const std::string_view part : pattern) {
      if (part != "*" && segments[i] != part) return false;
      ++i;
    }
    return true;
  };
  const auto method_not_allowed = [&](std::string_view allowed) {
    net::HttpResponse response =
        control_error(405, "use " + std::string(allowed) + " for " + request.path);
    response.headers.emplace_back("Allow", std::string(allowed));
    return response;
  };

  if (route_is({"stats"})) return method == "GET" ? stats(world) : method_not_allowed("GET");
  if (route_is({"stats", "reset"})) {
    if (method != "POST") return method_not_allowed("POST");
    world.reset_stats();
    return control_ok({});
  }
  if (route_is({"tokens"})) return method == "GET" ? tokens(world) : method_not_allowed("GET");
  if (route_is({"users"})) return method == "GET" ? users(world) : method_not_allowed("GET");
  if (route_is({"faults"})) {
    if (method == "POST") return add_faults(world, request.body);
    if (method == "GET") return list_faults(world);
    if (method == "DELETE") {
      world.clear_faults();
      return control_ok({});
    }
    return method_not_allowed("GET, POST, DELETE");
  }
  if (route_is({"clients", "*", "expire-secret"})) {
    if (method != "POST") return method_not_allowed("POST");
    if (!world.expire_client_secret(segments[2])) {
      return control_error(404, "no app registration has client id '" + segments[2] +
                                    "'; register it with --client ID:SECRET");
    }
    return control_ok({});
  }
  if (segments.size() == 4 && segments[1] == "users") {
    User* user = world.find_user_by_address(segments[2]);
    if (!user) {
      return control_error(404, "no emulator user has the address '" + segments[2] +
                                    "'; add it with --user EMAIL:PASSWORD");
    }
    const std::string& action = segments[3];
    if (action == "sent") return method == "GET" ? sent(*user) : method_not_allowed("GET");
    if (action == "deliver") {
      if (method != "POST") return method_not_allowed("POST");
      if (request.body.empty()) {
        return control_error(400, "the body must be the raw RFC 5322 message to deliver, and it is empty");
      }
      user->mailbox->deliver(request.body);
      return control_ok({});
    }
    if (action == "revoke") {
      if (method != "POST") return method_not_allowed("POST");
      world.revoke_user_tokens(*user);
      return control_ok({});
    }
    if (action == "expire-access-tokens") {
      if (method != "POST") return method_not_allowed("POST");
      return control_ok({{"expired", world.expire_access_tokens(*user)}});
    }
    if (action == "expire-refresh-tokens") {
      if (method != "POST") return method_not_allowed("POST");
      return control_ok({{"expired", world.expire_refresh_tokens(*user)}});
    }
    // Everything else that acts on one mailbox's internals (expire-delta, ...) belongs to the
    // Graph-mail side, which answers 404 for actions it does not know either.
    return handle_mail_control(world, *user, action, request);
  }
  return control_error(404, "unknown control route " + method + " " + request.path +
                                "; the routes are listed in docs/emulator.md");
}

}  // namespace mailtrixy::emulator
