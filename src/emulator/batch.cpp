// POST /v1.0/$batch (graph-facts B13): up to 20 requests, each executed through the same Graph
// pipeline as a request off the wire (faults, token, mailbox, scopes, concurrency limit), in an
// order that honours dependsOn. A request whose dependency failed is answered 424 without
// running. Responses come back in an order unrelated to the request order, as Graph's do.

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cctype>
#include <functional>
#include <map>
#include <random>
#include <set>
#include <variant>

#include "core.hpp"
#include "http_text.hpp"
#include "mailtrixy/crypto/encoding.hpp"

namespace mailtrixy::emulator {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

struct BatchItem {
  std::string id;
  std::string method;
  std::string url;
  net::HttpHeaders headers;
  std::optional<std::string> body;
  std::vector<std::string> depends_on;
};

struct ItemResult {
  std::string id;
  int status = 0;
  net::HttpHeaders headers;
  std::string body;
};

bool is_json_type(std::string_view content_type) {
  const std::string lowered = ascii_lower(content_type);
  return lowered.starts_with("application/json") || lowered.find("+json") != std::string::npos;
}

std::string serialize(const rapidjson::Value& value) {
  rapidjson::StringBuffer buffer;
  Writer writer(buffer);
  value.Accept(writer);
  return buffer.GetString();
}

std::string header_value(const net::HttpHeaders& headers, std::string_view name) {
  for (const auto& [key, value] : headers) {
    if (iequals(key, name)) return value;
  }
  return {};
}

// Parses and validates the batch payload; an error message (Graph's wording where known).
std::variant<std::vector<BatchItem>, std::string> parse_batch(const std::string& body) {
  rapidjson::Document document;
  document.Parse(body.c_str(), body.size());
  if (document.HasParseError() || !document.IsObject()) {
    return std::string("Unable to read JSON request payload. Please ensure Content-Type header is set and payload is "
                       "of valid JSON format.");
  }
  const auto requests = document.FindMember("requests");
  if (requests == document.MemberEnd() || !requests->value.IsArray()) {
    return std::string("Invalid batch payload format: the body must be {\"requests\": [...]}.");
  }
  const auto& array = requests->value.GetArray();
  if (array.Size() == 0) return std::string("Invalid batch payload format: \"requests\" is empty.");
  if (array.Size() > static_cast<rapidjson::SizeType>(kMaxBatchRequests)) {
    return "The number of requests in the batch (" + std::to_string(array.Size()) +
           ") exceeds the limit of " + std::to_string(kMaxBatchRequests) + ".";
  }
  std::vector<BatchItem> items;
  std::set<std::string> ids;
  for (const auto& entry : array) {
    if (!entry.IsObject()) return std::string("Invalid batch payload format: every request must be a JSON object.");
    BatchItem item;
    const auto string_member = [&](const char* name) -> std::optional<std::string> {
      const auto found = entry.FindMember(name);
      if (found == entry.MemberEnd()) return std::nullopt;
      if (found->value.IsString()) return std::string(found->value.GetString(), found->value.GetStringLength());
      if (found->value.IsInt()) return std::to_string(found->value.GetInt());
      return std::nullopt;
    };
    const auto id = string_member("id");
    if (!id || id->empty()) return std::string("Invalid batch payload format: every request needs an \"id\".");
    item.id = *id;
    if (!ids.insert(item.id).second) return "Request Id '" + item.id + "' is not unique within the batch.";
    const auto method = string_member("method");
    if (!method || method->empty()) return "Request " + item.id + " has no \"method\".";
    item.method = *method;
    for (char& c : item.method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    const auto url = string_member("url");
    if (!url || url->empty()) return "Request " + item.id + " has no \"url\".";
    if (url->starts_with("http://") || url->starts_with("https://")) {
      return "Request " + item.id + ": the url must be relative (for example /me/messages), not absolute.";
    }
    item.url = url->front() == '/' ? *url : "/" + *url;
    if (const auto headers = entry.FindMember("headers"); headers != entry.MemberEnd()) {
      if (!headers->value.IsObject()) return "Request " + item.id + ": \"headers\" must be an object.";
      for (const auto& header : headers->value.GetObject()) {
        if (!header.value.IsString()) return "Request " + item.id + ": header values must be strings.";
        item.headers.emplace_back(header.name.GetString(), header.value.GetString());
      }
    }
    if (const auto body_member = entry.FindMember("body"); body_member != entry.MemberEnd()) {
      const std::string content_type = header_value(item.headers, "Content-Type");
      if (content_type.empty()) {
        return "Write request id : " + item.id + " does not contain Content-Type header or body.";
      }
      if (body_member->value.IsString() && !is_json_type(content_type)) {
        // Non-JSON bodies travel base64-encoded (MIME for sendMail, attachment bytes).
        const std::string_view encoded(body_member->value.GetString(), body_member->value.GetStringLength());
        auto decoded = crypto::base64_decode(encoded);
        if (!decoded) decoded = crypto::base64url_decode(encoded);
        if (!decoded) return "Request " + item.id + ": a non-JSON body must be base64-encoded.";
        item.body = std::move(*decoded);
      } else if (body_member->value.IsString()) {
        item.body = std::string(body_member->value.GetString(), body_member->value.GetStringLength());
      } else {
        item.body = serialize(body_member->value);
      }
    }
    if (const auto depends = entry.FindMember("dependsOn"); depends != entry.MemberEnd()) {
      if (!depends->value.IsArray()) return "Request " + item.id + ": \"dependsOn\" must be an array of ids.";
      for (const auto& dependency : depends->value.GetArray()) {
        if (!dependency.IsString()) return "Request " + item.id + ": \"dependsOn\" must be an array of ids.";
        item.depends_on.emplace_back(dependency.GetString());
      }
    }
    items.push_back(std::move(item));
  }
  for (const BatchItem& item : items) {
    for (const std::string& dependency : item.depends_on) {
      if (!ids.count(dependency)) {
        return "Request " + item.id + " depends on request '" + dependency + "', which is not in the batch.";
      }
    }
  }
  return items;
}

// Execution order: every request after the requests it depends on; a cycle is an error.
std::variant<std::vector<std::size_t>, std::string> execution_order(const std::vector<BatchItem>& items) {
  std::map<std::string, std::size_t> index;
  for (std::size_t i = 0; i < items.size(); ++i) index[items[i].id] = i;
  std::vector<int> state(items.size(), 0);  // 0 new, 1 visiting, 2 done
  std::vector<std::size_t> order;
  std::string error;
  std::function<bool(std::size_t)> visit = [&](std::size_t i) {
    if (state[i] == 2) return true;
    if (state[i] == 1) {
      error = "The dependsOn chain of request " + items[i].id + " is circular.";
      return false;
    }
    state[i] = 1;
    for (const std::string& dependency : items[i].depends_on) {
      if (!visit(index.at(dependency))) return false;
    }
    state[i] = 2;
    order.push_back(i);
    return true;
  };
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (!visit(i)) return error;
  }
  return order;
}

net::HttpRequest sub_request(const net::HttpRequest& outer, const BatchItem& item) {
  net::HttpRequest request;
  request.method = item.method;
  request.target = "/v1.0" + item.url;
  const auto question = request.target.find('?');
  request.path = request.target.substr(0, question);
  request.query = question == std::string::npos ? std::string() : request.target.substr(question + 1);
  request.version = outer.version;
  request.headers = item.headers;
  if (const auto authorization = outer.header("Authorization")) {
    request.headers.emplace_back("Authorization", std::string(*authorization));
  }
  request.body = item.body.value_or("");
  request.remote_address = outer.remote_address;
  request.remote_port = outer.remote_port;
  request.tls = outer.tls;
  return request;
}

void write_result(Writer& writer, const ItemResult& result) {
  writer.StartObject();
  writer.Key("id");
  writer.String(result.id.c_str());
  writer.Key("status");
  writer.Int(result.status);
  writer.Key("headers");
  writer.StartObject();
  std::string content_type;
  for (const auto& [name, value] : result.headers) {
    // Correlation headers belong to the outer response.
    if (iequals(name, "request-id") || iequals(name, "client-request-id") || iequals(name, "x-ms-ags-diagnostic") ||
        iequals(name, "Connection")) {
      continue;
    }
    if (iequals(name, "Content-Type")) content_type = value;
    writer.Key(name.c_str());
    writer.String(value.c_str());
  }
  writer.EndObject();
  if (!result.body.empty()) {
    writer.Key("body");
    rapidjson::Document parsed;
    if (is_json_type(content_type) && !parsed.Parse(result.body.c_str(), result.body.size()).HasParseError()) {
      parsed.Accept(writer);
    } else {
      const std::string encoded = crypto::base64_encode(result.body);
      writer.String(encoded.c_str());
    }
  }
  writer.EndObject();
}

}  // namespace

net::HttpResponse handle_batch(CoreServices services, const net::HttpRequest& request, const AccessToken&,
                               const std::string& request_id) {
  auto parsed = parse_batch(request.body);
  if (auto* error = std::get_if<std::string>(&parsed)) {
    return graph_error_raw(request, request_id, 400, "BadRequest", *error);
  }
  const std::vector<BatchItem>& items = std::get<std::vector<BatchItem>>(parsed);
  auto order = execution_order(items);
  if (auto* error = std::get_if<std::string>(&order)) {
    return graph_error_raw(request, request_id, 400, "BadRequest", *error);
  }
  std::map<std::string, int> status_by_id;
  std::vector<ItemResult> results;
  results.reserve(items.size());
  for (const std::size_t index : std::get<std::vector<std::size_t>>(order)) {
    const BatchItem& item = items[index];
    ItemResult result;
    result.id = item.id;
    std::string failed_dependency;
    for (const std::string& dependency : item.depends_on) {
      if (status_by_id[dependency] >= 400) failed_dependency = dependency;
    }
    if (!failed_dependency.empty()) {
      result.status = 424;
      result.headers.emplace_back("Content-Type", "application/json");
      result.body = R"({"error":{"code":"FailedDependency","message":"The request depends on request ')" +
                    failed_dependency + R"(', which failed."}})";
    } else {
      const net::HttpRequest inner = sub_request(request, item);
      net::HttpResponse response = handle_graph_request(services, inner, GraphOrigin::batch);
      // A hung item (fault kind hang) leaves the whole batch unanswered, as one HTTP exchange.
      if (response.delay.count() > 0) return response;
      result.status = response.status;
      result.headers = std::move(response.headers);
      result.body = std::move(response.body);
    }
    status_by_id[item.id] = result.status;
    results.push_back(std::move(result));
  }
  // Graph answers batch items in completion order, not request order; clients must match by id.
  static thread_local std::mt19937 shuffler{std::random_device{}()};
  std::shuffle(results.begin(), results.end(), shuffler);

  rapidjson::StringBuffer buffer;
  Writer writer(buffer);
  writer.StartObject();
  writer.Key("responses");
  writer.StartArray();
  for (const ItemResult& result : results) write_result(writer, result);
  writer.EndArray();
  writer.EndObject();
  net::HttpResponse response;
  response.status = 200;
  response.headers.emplace_back(
      "Content-Type",
      "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8");
  add_graph_headers(response.headers, request, request_id, true);
  response.body = buffer.GetString();
  return response;
}

}  // namespace mailtrixy::emulator
