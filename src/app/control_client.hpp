#pragma once
// The client side of the running bridge's loopback control endpoint (web/control.hpp): what the
// write-side commands (`accounts remove|reset-password`, `queue retry|drop`, `backup`) use when
// `mailtrixy serve` holds the database (docs/adr/0004-cli-while-running.md).

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "mailtrixy/config/settings.hpp"

namespace mailtrixy::app {

// The bridge's answer: a JSON object whose string members the caller reads.
class ControlReply {
 public:
  explicit ControlReply(std::string_view body);
  // The string member `name`, or "" when the body has none (or is not a JSON object).
  std::string field(std::string_view name) const;

 private:
  std::map<std::string, std::string, std::less<>> fields_;
};

// POSTs `json_body` (empty: no body) to `path` on the bridge whose control file is in
// settings.data_dir, with the control token. Every failure (no control file, no answer, a
// refused token, a route the running bridge does not know, the bridge's own {"error": ...})
// is printed with print_error as one sentence saying what to do, and gives nullopt.
std::optional<ControlReply> call_running_bridge(const config::Settings& settings, std::string_view path,
                                                std::string json_body, std::chrono::seconds timeout);

}  // namespace mailtrixy::app
