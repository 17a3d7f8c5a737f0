#include "control_client.hpp"

#include <rapidjson/document.h>

#include <utility>

#include "command.hpp"
#include "mailtrixy/net/http_client.hpp"
#include "mailtrixy/web/control.hpp"

namespace mailtrixy::app {

ControlReply::ControlReply(std::string_view body) {
  rapidjson::Document document;
  document.Parse(body.data(), body.size());
  if (document.HasParseError() || !document.IsObject()) return;
  for (const auto& member : document.GetObject()) {
    if (member.value.IsString()) {
      fields_.emplace(std::string(member.name.GetString(), member.name.GetStringLength()),
                      std::string(member.value.GetString(), member.value.GetStringLength()));
    }
  }
}

std::string ControlReply::field(std::string_view name) const {
  const auto found = fields_.find(name);
  return found == fields_.end() ? std::string() : found->second;
}

std::optional<ControlReply> call_running_bridge(const config::Settings& settings, std::string_view path,
                                                std::string json_body, std::chrono::seconds timeout) {
  auto endpoint = web::read_control_file(settings.data_dir);
  if (!endpoint) {
    print_error("the database is in use by another process, but no running bridge's control file was found (" +
                endpoint.error().message + "); stop that process and try again");
    return std::nullopt;
  }
  auto client = net::HttpClient::create();
  if (!client) {
    print_error(client.error().message);
    return std::nullopt;
  }
  net::HttpClientRequest request;
  request.method = "POST";
  request.url = endpoint->url + std::string(path);
  request.headers.emplace_back("Authorization", "Bearer " + endpoint->token.reveal());
  if (!json_body.empty()) {
    request.headers.emplace_back("Content-Type", "application/json");
    request.body = std::move(json_body);
  }
  request.timeout = timeout;
  auto response = (*client)->send(request);
  if (!response) {
    print_error("the bridge is running but its control endpoint does not answer (" + response.error().message +
                "); wait until it has started, or stop it and run this command again");
    return std::nullopt;
  }
  ControlReply reply(response->body);
  if (response->status == 200) return reply;

  const std::string error = reply.field("error");
  const std::string why = error.empty() ? "HTTP " + std::to_string(response->status) : error;
  if (response->status == 401) {
    print_error("the running bridge refused the control token (" + why +
                "); the control file may be left over from an earlier run: restart the bridge");
  } else if (response->status == 404 && (error.empty() || error.starts_with("unknown control"))) {
    // A route the running bridge does not have; its other 404s (an unknown queue id or address)
    // say what was not found and are printed as they are.
    print_error("the running bridge does not offer this (" + why + "); it is older than this command: "
                "upgrade and restart it, or stop it and run this command again");
  } else {
    print_error(why);
  }
  return std::nullopt;
}

}  // namespace mailtrixy::app
