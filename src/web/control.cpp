#include "mailtrixy/web/control.hpp"

#include <fcntl.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <initializer_list>
#include <sstream>
#include <utility>

#include "mailtrixy/auth/accounts.hpp"
#include "mailtrixy/base/log.hpp"
#include "mailtrixy/crypto/hash.hpp"
#include "mailtrixy/web/forms.hpp"

namespace mailtrixy::web {
namespace {

using net::HttpRequest;
using net::HttpResponse;

std::string json_object(std::initializer_list<std::pair<std::string_view, std::string_view>> fields,
                        std::optional<std::pair<std::string_view, bool>> flag = std::nullopt) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  writer.StartObject();
  for (const auto& [key, value] : fields) {
    writer.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
    writer.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
  }
  if (flag) {
    writer.Key(flag->first.data(), static_cast<rapidjson::SizeType>(flag->first.size()));
    writer.Bool(flag->second);
  }
  writer.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

HttpResponse json(int status, std::string body) {
  HttpResponse response = HttpResponse::text(status, std::move(body), "application/json");
  response.headers.emplace_back("Cache-Control", "no-store");
  return response;
}

HttpResponse failure(int status, std::string_view sentence) {
  return json(status, json_object({{"error", sentence}}));
}

bool is_loopback(std::string_view address) {
  return address.starts_with("127.") || address == "::1" || address == "::ffff:127.0.0.1";
}

HttpResponse handle(const ControlDependencies& dependencies, const HttpRequest& request) {
  if (!is_loopback(request.remote_address)) {
    log::warn("refused a control request from a non-loopback address", {{"client", request.remote_address}});
    return failure(403, "the control endpoint only answers loopback clients");
  }
  const auto authorization = request.header("Authorization");
  const std::string expected = "Bearer " + dependencies.token.reveal();
  // Hashes first, so the comparison also hides the length of what was sent.
  if (!authorization ||
      !crypto::constant_time_equal(crypto::sha256(*authorization), crypto::sha256(expected))) {
    return failure(401, "missing or wrong control token; the CLI reads it from data_dir/control.json");
  }
  const std::string_view path = request.path;
  constexpr std::string_view kQueuePrefix = "/_control/queue/";
  if (path.starts_with(kQueuePrefix)) {
    const std::string_view rest = path.substr(kQueuePrefix.size());
    const auto slash = rest.rfind('/');
    const std::string_view action = slash == std::string_view::npos ? "" : rest.substr(slash + 1);
    const std::string_view id = slash == std::string_view::npos ? "" : rest.substr(0, slash);
    if ((action != "retry" && action != "drop") || id.empty()) return failure(404, "unknown control route");
    if (request.method != "POST") {
      HttpResponse response = failure(405, "control actions need POST");
      response.headers.emplace_back("Allow", "POST");
      return response;
    }
    if (!dependencies.queue_action) return failure(503, "the outbound queue is not running in this bridge");
    const auto [status, sentence] = dependencies.queue_action(action, id);
    if (status != 200) return failure(status, sentence);
    return json(200, json_object({{"id", id}, {"result", sentence}}));
  }
  if (path == "/_control/backup") {
    if (request.method != "POST") {
      HttpResponse response = failure(405, "control actions need POST");
      response.headers.emplace_back("Allow", "POST");
      return response;
    }
    rapidjson::Document body;
    body.Parse(request.body.data(), request.body.size());
    if (body.HasParseError() || !body.IsObject() || !body.HasMember("to") || !body["to"].IsString() ||
        (body.HasMember("include_master_key") && !body["include_master_key"].IsBool())) {
      return failure(400, "a backup request needs a JSON body {\"to\": \"/absolute/dir\", \"include_master_key\": false}");
    }
    if (!dependencies.backup) return failure(503, "backups are not available in this bridge");
    const bool include_key = body.HasMember("include_master_key") && body["include_master_key"].GetBool();
    const auto [status, sentence] = dependencies.backup(body["to"].GetString(), include_key);
    if (status != 200) return failure(status, sentence);
    return json(200, json_object({{"result", sentence}}));
  }
  constexpr std::string_view kPrefix = "/_control/accounts/";
  if (!path.starts_with(kPrefix)) return failure(404, "unknown control route");
  const std::string_view rest = path.substr(kPrefix.size());
  const auto slash = rest.rfind('/');
  if (slash == std::string_view::npos) return failure(404, "unknown control route");
  const std::string_view action = rest.substr(slash + 1);
  const auto address = percent_decode(rest.substr(0, slash), false);
  if (!address || address->empty()) return failure(400, "the account address in the path is not valid");
  if (action != "reset-password" && action != "remove") return failure(404, "unknown control action");
  if (request.method != "POST") {
    HttpResponse response = failure(405, "control actions need POST");
    response.headers.emplace_back("Allow", "POST");
    return response;
  }

  auto account = dependencies.accounts->find_by_address(*address);
  if (!account) return failure(500, account.error().message);
  if (!*account) return failure(404, "no linked account has the address " + *address);
  const std::string& key = (*account)->key;
  if (action == "reset-password") {
    auto password = dependencies.accounts->reset_password(key);
    if (!password) return failure(500, password.error().message);
    log::info("bridge password reset through the control endpoint", {{"account", key}});
    return json(200, json_object({{"address", (*account)->address}, {"password", password->reveal()}}));
  }
  auto removed = dependencies.accounts->remove(key);
  if (!removed) return failure(500, removed.error().message);
  log::info("account removed through the control endpoint", {{"account", key}});
  return json(200, json_object({{"address", (*account)->address}},
                               std::pair<std::string_view, bool>{"removed", *removed}));
}

std::string errno_text() {
  return std::strerror(errno);
}

}  // namespace

net::HttpHandler make_control_handler(ControlDependencies dependencies) {
  if (dependencies.accounts == nullptr || dependencies.token.empty()) {
    throw std::invalid_argument("make_control_handler needs an account store and a token");
  }
  auto shared = std::make_shared<ControlDependencies>(std::move(dependencies));
  return [shared](const HttpRequest& request) {
    try {
      return handle(*shared, request);
    } catch (const std::exception& error) {
      log::error("control request failed", {{"path", request.path}, {"error", error.what()}});
      return failure(500, "internal error; see the bridge's log");
    }
  };
}

Result<void> write_control_file(const std::filesystem::path& data_dir, const ControlEndpoint& endpoint) {
  const std::filesystem::path target = data_dir / kControlFileName;
  const std::filesystem::path temporary = data_dir / (std::string(kControlFileName) + ".tmp");
  const std::string body = json_object({{"url", endpoint.url}, {"token", endpoint.token.reveal()}}) + "\n";
  ::unlink(temporary.c_str());
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return make_error("cannot create " + temporary.string() + ": " + errno_text());
  std::size_t written = 0;
  while (written < body.size()) {
    const ssize_t n = ::write(fd, body.data() + written, body.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      const std::string why = errno_text();
      ::close(fd);
      ::unlink(temporary.c_str());
      return make_error("cannot write " + temporary.string() + ": " + why);
    }
    written += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    const std::string why = errno_text();
    ::unlink(temporary.c_str());
    return make_error("cannot write " + temporary.string() + ": " + why);
  }
  if (::rename(temporary.c_str(), target.c_str()) != 0) {
    const std::string why = errno_text();
    ::unlink(temporary.c_str());
    return make_error("cannot create " + target.string() + ": " + why);
  }
  return {};
}

Result<ControlEndpoint> read_control_file(const std::filesystem::path& data_dir) {
  const std::filesystem::path path = data_dir / kControlFileName;
  std::ifstream file(path);
  if (!file) {
    return make_error("cannot read " + path.string() + " (" + errno_text() +
                      "); it exists only while `mailtrixy serve` runs on this data_dir");
  }
  std::ostringstream text;
  text << file.rdbuf();
  rapidjson::Document document;
  const std::string content = text.str();
  document.Parse(content.data(), content.size());
  if (document.HasParseError() || !document.IsObject() || !document.HasMember("url") ||
      !document["url"].IsString() || !document.HasMember("token") || !document["token"].IsString()) {
    return make_error(path.string() + " is malformed; restart `mailtrixy serve` to rewrite it");
  }
  return ControlEndpoint{document["url"].GetString(), Secret<std::string>(document["token"].GetString())};
}

void remove_control_file(const std::filesystem::path& data_dir) {
  std::error_code ignored;
  std::filesystem::remove(data_dir / kControlFileName, ignored);
}

}  // namespace mailtrixy::web
