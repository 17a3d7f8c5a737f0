#include <cstdio>

#include "../command.hpp"
#include "../startup.hpp"
#include "mailtrixy/config/diagnose.hpp"

namespace mailtrixy::app {

// Exit 0 only when the bridge can start with this configuration (spec §2, §3.2).
int run_check_config(const CommandContext& context) {
  if (!context.args.empty()) {
    print_error("check-config takes no arguments besides --config");
    return kUsageError;
  }
  const auto settings = load_settings_or_report(context.config_path);
  if (!settings) return kUsageError;
  const auto diagnoses = config::diagnose(*settings);
  std::fputs(config::format_report(*settings, diagnoses).c_str(), stdout);
  return config::can_start(diagnoses) ? kSuccess : kUsageError;
}

}  // namespace mailtrixy::app
