// Graph's response conventions (graph-facts B0, C4, G4): OData content type on success, plain
// application/json on errors, request-id / client-request-id / OData-Version headers, and the
// {"error":{"code","message","innerError":{...}}} body.

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "core.hpp"
#include "graph_call.hpp"
#include "tokens.hpp"

namespace mailtrixy::emulator {
namespace {

constexpr const char* kODataContentType =
    "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8";

std::string error_body(std::string_view code, std::string_view message, const std::string& request_id,
                       const std::string& client_request_id) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  writer.StartObject();
  writer.Key("error");
  writer.StartObject();
  writer.Key("code");
  writer.String(code.data(), static_cast<rapidjson::SizeType>(code.size()));
  writer.Key("message");
  writer.String(message.data(), static_cast<rapidjson::SizeType>(message.size()));
  writer.Key("innerError");
  writer.StartObject();
  writer.Key("date");
  writer.String(graph_date(Clock::now()).c_str());
  writer.Key("request-id");
  writer.String(request_id.c_str());
  writer.Key("client-request-id");
  writer.String(client_request_id.c_str());
  writer.EndObject();
  writer.EndObject();
  writer.EndObject();
  return buffer.GetString();
}

}  // namespace

std::string client_request_id_for(const net::HttpRequest& request, const std::string& request_id) {
  const auto sent = request.header("client-request-id");
  if (!sent || sent->empty() || sent->size() > 128) return request_id;
  // Only printable ASCII is echoed, so a client cannot smuggle bytes into our headers.
  for (const char c : *sent) {
    if (c < 0x20 || c > 0x7e) return request_id;
  }
  return std::string(*sent);
}

void add_graph_headers(net::HttpHeaders& headers, const net::HttpRequest& request, const std::string& request_id,
                       bool odata) {
  headers.emplace_back("Cache-Control", "no-cache");
  headers.emplace_back("request-id", request_id);
  headers.emplace_back("client-request-id", client_request_id_for(request, request_id));
  headers.emplace_back("x-ms-ags-diagnostic",
                       R"({"ServerInfo":{"DataCenter":"Local","Slice":"E","Ring":"0","ScaleUnit":"000",)"
                       R"("RoleInstance":"mailtrixy-emulator"}})");
  if (odata) headers.emplace_back("OData-Version", "4.0");
}

net::HttpResponse graph_error_raw(const net::HttpRequest& request, const std::string& request_id, int status,
                                  std::string_view code, std::string_view message) {
  net::HttpResponse response;
  response.status = status;
  response.headers.emplace_back("Content-Type", "application/json");
  add_graph_headers(response.headers, request, request_id, false);
  response.body = error_body(code, message, request_id, client_request_id_for(request, request_id));
  return response;
}

net::HttpResponse graph_json(const GraphCall& call, int status, std::string body) {
  net::HttpResponse response;
  response.status = status;
  response.headers.emplace_back("Content-Type", kODataContentType);
  add_graph_headers(response.headers, call.request, call.request_id, true);
  response.body = std::move(body);
  return response;
}

net::HttpResponse graph_error(const GraphCall& call, int status, std::string_view code, std::string_view message) {
  return graph_error_raw(call.request, call.request_id, status, code, message);
}

net::HttpResponse graph_empty(const GraphCall& call, int status) {
  net::HttpResponse response;
  response.status = status;
  add_graph_headers(response.headers, call.request, call.request_id, false);
  return response;
}

net::HttpResponse json_response(int status, std::string body) {
  net::HttpResponse response;
  response.status = status;
  response.headers.emplace_back("Content-Type", "application/json; charset=utf-8");
  response.headers.emplace_back("Cache-Control", "no-store");
  response.body = std::move(body);
  return response;
}

}  // namespace mailtrixy::emulator
