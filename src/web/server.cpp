#include "mailtrixy/web/server.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <utility>

namespace mailtrixy::web {
namespace {

void add_security_headers(net::HttpResponse& response) {
  response.headers.emplace_back("Content-Security-Policy",
                                "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'");
  response.headers.emplace_back("X-Content-Type-Options", "nosniff");
  response.headers.emplace_back("X-Frame-Options", "DENY");
  response.headers.emplace_back("Referrer-Policy", "no-referrer");
  response.headers.emplace_back("Cache-Control", "no-store");
}

net::HttpResponse json_response(int status, std::string body) {
  net::HttpResponse response;
  response.status = status;
  response.headers.emplace_back("Content-Type", "application/json");
  response.body = std::move(body);
  return response;
}

net::HttpResponse text_response(int status, std::string body) {
  net::HttpResponse response;
  response.status = status;
  response.headers.emplace_back("Content-Type", "text/plain; charset=utf-8");
  response.body = std::move(body);
  return response;
}

net::HttpResponse healthz(const WebDependencies& dependencies) {
  const HealthReport report = dependencies.health ? dependencies.health() : HealthReport{};
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  writer.StartObject();
  writer.Key("status");
  writer.String(report.ok() ? "ok" : "degraded");
  writer.Key("reasons");
  writer.StartArray();
  for (const std::string& reason : report.reasons) writer.String(reason.c_str(), static_cast<rapidjson::SizeType>(reason.size()));
  writer.EndArray();
  writer.Key("version");
  writer.String(dependencies.version.c_str(), static_cast<rapidjson::SizeType>(dependencies.version.size()));
  writer.EndObject();
  // A degraded bridge still serves; 200 keeps load balancers from pulling it, the body says why.
  return json_response(200, std::string(buffer.GetString(), buffer.GetSize()));
}

}  // namespace

net::HttpHandler make_web_handler(WebDependencies dependencies) {
  return [dependencies = std::move(dependencies)](const net::HttpRequest& request) {
    net::HttpResponse response;
    if (request.path == "/healthz") {
      response = (request.method == "GET" || request.method == "HEAD")
                     ? healthz(dependencies)
                     : text_response(405, "method not allowed\n");
      if (response.status == 405) response.headers.emplace_back("Allow", "GET, HEAD");
    } else if (request.path == "/") {
      response.status = 302;
      response.headers.emplace_back("Location", "/settings/email-accounts");
    } else {
      response = text_response(404, "not found\n");
    }
    add_security_headers(response);
    return response;
  };
}

}  // namespace mailtrixy::web
