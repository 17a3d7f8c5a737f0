// `mailtrixy queue list | retry ID | drop ID`: the outbound SMTP queue (docs/outbox.md).
//
// `list` reads the queue through a RocksDB secondary, safe next to a running bridge. `retry` and
// `drop` change the queue themselves when no bridge runs, and otherwise ask the running bridge
// through its loopback control endpoint, whose outbox owns the queue
// (docs/adr/0004-cli-while-running.md).


#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>

#include "../command.hpp"
#include "../control_client.hpp"
#include "../startup.hpp"
#include "mailtrixy/net/http_client.hpp"
#include "mailtrixy/outbox/outbox.hpp"

namespace mailtrixy::app {
namespace {

constexpr std::string_view kUsage = "usage: mailtrixy queue list | retry ID | drop ID";

std::string human_time(std::int64_t ms) {
  if (ms <= 0) return "now";
  const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm parts{};
  gmtime_r(&seconds, &parts);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S", &parts);
  return text;
}

int list_queue(const config::Settings& settings) {
  if (!database_exists(settings)) {
    std::printf("The queue is empty (%s holds no database yet).\n", settings.data_dir.c_str());
    return kSuccess;
  }
  auto store = open_store_read_only(settings);
  if (!store) {
    print_error(store.error().message);
    return kRuntimeFailure;
  }
  auto entries = outbox::Outbox::list(**store);
  if (!entries) {
    print_error(entries.error().message);
    return kRuntimeFailure;
  }
  if (entries->empty()) {
    std::puts("The queue is empty.");
    return kSuccess;
  }
  std::size_t from_width = 4;
  for (const auto& entry : *entries) from_width = std::max(from_width, entry.envelope_from.size());
  std::printf("%-21s  %-8s  %8s  %-19s  %-19s  %-*s  %s\n", "ID", "STATE", "ATTEMPTS", "QUEUED (UTC)",
              "NEXT ATTEMPT (UTC)", static_cast<int>(from_width), "FROM", "RECIPIENTS");
  for (const auto& entry : *entries) {
    std::string recipients;
    for (const auto& recipient : entry.recipients) recipients += (recipients.empty() ? "" : ", ") + recipient;
    std::printf("%-21s  %-8s  %8d  %-19s  %-19s  %-*s  %s\n", entry.id.c_str(),
                std::string(outbox::to_string(entry.state)).c_str(), entry.attempts,
                human_time(entry.created_ms).c_str(), human_time(entry.next_attempt_ms).c_str(),
                static_cast<int>(from_width), entry.envelope_from.c_str(), recipients.c_str());
    if (!entry.last_error.empty()) std::printf("    last error: %s\n", entry.last_error.c_str());
  }
  std::printf("%zu message%s in the queue.\n", entries->size(), entries->size() == 1 ? "" : "s");
  return kSuccess;
}

int change_locally(store::Store& store, const std::string& action, const std::string& id) {
  auto outbox = outbox::Outbox::open(store, {});
  if (!outbox) {
    print_error(outbox.error().message);
    return kRuntimeFailure;
  }
  auto changed = action == "retry" ? (*outbox)->retry(id) : (*outbox)->drop(id);
  if (!changed) {
    print_error(changed.error().message);
    return kRuntimeFailure;
  }
  if (action == "retry") {
    std::printf("Message %s will be tried as soon as `mailtrixy serve` runs.\n", id.c_str());
  } else {
    std::printf("Dropped message %s from %s; it will not be sent.\n", id.c_str(), changed->envelope_from.c_str());
  }
  return kSuccess;
}

int change_through_bridge(const config::Settings& settings, const std::string& action, const std::string& id) {
  auto reply = call_running_bridge(settings, "/_control/queue/" + net::url_encode_component(id) + "/" + action, {},
                                   std::chrono::seconds(30));
  if (!reply) return kRuntimeFailure;
  std::printf("%s\n", reply->field("result").c_str());
  return kSuccess;
}

bool looks_like_queue_id(std::string_view id) {
  return id.size() >= 2 && id.size() <= 64 && id.front() == 'q' &&
         std::all_of(id.begin(), id.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; });
}

}  // namespace

int run_queue(const CommandContext& context) {
  if (context.args.empty()) {
    print_error(kUsage);
    return kUsageError;
  }
  const std::string_view verb = context.args[0];
  if (verb == "list") {
    if (context.args.size() != 1) {
      print_error("queue list takes no arguments; " + std::string(kUsage));
      return kUsageError;
    }
  } else if (verb == "retry" || verb == "drop") {
    if (context.args.size() != 2) {
      print_error("queue " + std::string(verb) + " needs one queue id (from `mailtrixy queue list`)");
      return kUsageError;
    }
    if (!looks_like_queue_id(context.args[1])) {
      print_error("'" + std::string(context.args[1]) +
                  "' is not a queue id; ids look like q019a2b3c4d5e6f7a8b9c, see `mailtrixy queue list`");
      return kUsageError;
    }
  } else {
    print_error("unknown queue command '" + std::string(verb) + "'; " + std::string(kUsage));
    return kUsageError;
  }
  auto settings = load_settings_or_report(context.config_path);
  if (!settings) return kUsageError;
  if (verb == "list") return list_queue(*settings);

  const std::string action(verb);
  const std::string id(context.args[1]);
  if (!database_exists(*settings)) {
    print_error("no queued message has the id " + id + " (" + settings->data_dir.string() +
                " holds no database yet)");
    return kRuntimeFailure;
  }
  auto store = open_store(*settings);
  if (store) return change_locally(**store, action, id);
  if (is_database_in_use(store.error())) return change_through_bridge(*settings, action, id);
  print_error(store.error().message);
  return kRuntimeFailure;
}

}  // namespace mailtrixy::app
