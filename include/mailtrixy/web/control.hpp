#pragma once
// The running bridge's control endpoint: how `mailtrixy accounts remove|reset-password` change
// accounts while `mailtrixy serve` holds the database (docs/adr/0004-cli-while-running.md).
//
// It is served on its own listener, plain HTTP on 127.0.0.1 with a port chosen by the kernel,
// never on the public web listener. `serve` writes the listener's URL and a random 256-bit token
// to data_dir/control.json (mode 0600, data_dir itself is 0700) at start and deletes the file at
// stop; the CLI reads it. Whoever can read that file can already read the master key next to it.
//
//   POST /_control/accounts/{address}/reset-password  → 200 {"address": ..., "password": ...}
//   POST /_control/accounts/{address}/remove          → 200 {"address": ..., "removed": true}
//   POST /_control/queue/{id}/retry|drop              → {"id": ..., "result": "one sentence"} with
//        the status ControlDependencies::queue_action answered (`mailtrixy queue retry|drop`)
//   POST /_control/backup {"to": "/abs/dir", "include_master_key": false}
//        → {"result": "one sentence"} with the status ControlDependencies::backup answered
//        (`mailtrixy backup`); a body that is not that JSON → 400
//
// {address} is percent-encoded and matched case-insensitively. Every request needs
// "Authorization: Bearer <token>" (compared in constant time) and must come from a loopback
// address; otherwise 401/403. Unknown address → 404; store failure → 500. Errors are JSON
// {"error": "one sentence"}. Responses carry Cache-Control: no-store.

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <utility>

#include "mailtrixy/base/redact.hpp"
#include "mailtrixy/base/result.hpp"
#include "mailtrixy/net/http_server.hpp"

namespace mailtrixy::auth {
class AccountStore;
}

namespace mailtrixy::web {

inline constexpr const char* kControlFileName = "control.json";

struct ControlDependencies {
  auth::AccountStore* accounts = nullptr;  // must outlive the handler
  Secret<std::string> token;
  // The outbound queue's "retry" and "drop" of one queue id: an HTTP status (200, 404 unknown id,
  // 409 busy, 500) and one sentence. Empty: the queue routes answer 503.
  std::function<std::pair<int, std::string>(std::string_view action, std::string_view id)> queue_action = {};
  // Writes a backup of the running bridge's store: an HTTP status (200, 400 for a bad directory,
  // 500) and one sentence. Empty: the backup route answers 503.
  std::function<std::pair<int, std::string>(const std::string& to, bool include_master_key)> backup = {};
};

net::HttpHandler make_control_handler(ControlDependencies dependencies);

// What control.json holds.
struct ControlEndpoint {
  std::string url;  // "http://127.0.0.1:PORT"
  Secret<std::string> token;
};

// Writes data_dir/control.json atomically with mode 0600 (temporary file, fsync, rename).
Result<void> write_control_file(const std::filesystem::path& data_dir, const ControlEndpoint& endpoint);
// Reads it; an error says the file is missing (the bridge is not running) or malformed.
Result<ControlEndpoint> read_control_file(const std::filesystem::path& data_dir);
// Deletes it; a missing file is not an error.
void remove_control_file(const std::filesystem::path& data_dir);

}  // namespace mailtrixy::web
