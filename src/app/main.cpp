// mailtrixy: the bridge's single binary. Parses the global options and dispatches to one
// sub-command; every command lives in commands/<name>.cpp.

#include <array>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "command.hpp"
#include "hardening.hpp"

namespace mailtrixy::app {
namespace {

constexpr std::array kCommands{
    Command{"serve", "serve [--config PATH]           run the bridge", run_serve},
    Command{"check-config", "check-config [--config PATH]    validate the configuration, print every problem",
            run_check_config},
    Command{"accounts",
            "accounts list | show|remove|reset-password|verify-password EMAIL\n"
            "                                  linked Microsoft accounts (also while serve runs)",
            run_accounts},
    Command{"mailbox",
            "mailbox folders EMAIL | messages EMAIL FOLDER\n"
            "                                  what the sync engine has cached (also while serve runs)",
            run_mailbox},
    Command{"queue",
            "queue list | retry|drop ID\n"
            "                                  the outbound SMTP queue (also while serve runs)",
            run_queue},
    Command{"backup",
            "backup --to DIR [--include-master-key]\n"
            "                                  consistent copy of the database (also while serve runs)",
            run_backup},
    Command{"hash-password", "hash-password                   read a password on stdin, print its hash",
            run_hash_password},
    Command{"version", "version                         print version and library versions", run_version},
};

void print_usage(std::FILE* out) {
  std::fputs("usage: mailtrixy COMMAND [--config PATH]\n\ncommands:\n", out);
  for (const Command& command : kCommands) {
    std::fprintf(out, "  %.*s\n", static_cast<int>(command.usage.size()), command.usage.data());
  }
}

}  // namespace

void print_error(std::string_view message) {
  std::fprintf(stderr, "mailtrixy: %.*s\n", static_cast<int>(message.size()), message.data());
}

int main(int argc, char** argv) {
  harden_process();
  std::vector<std::string_view> words(argv + 1, argv + argc);
  CommandContext context;
  std::vector<std::string_view> rest;
  for (std::size_t i = 0; i < words.size(); ++i) {
    const std::string_view word = words[i];
    if (word == "--config" || word == "-c") {
      if (i + 1 >= words.size()) {
        print_error("--config needs a path, e.g. --config config/mailtrixy.yaml");
        return kUsageError;
      }
      context.config_path = words[++i];
    } else if (word.starts_with("--config=")) {
      context.config_path = word.substr(9);
    } else if (word == "--help" || word == "-h" || word == "help") {
      print_usage(stdout);
      return kSuccess;
    } else if (word == "--version") {
      rest.insert(rest.begin(), "version");
    } else {
      rest.push_back(word);
    }
  }
  if (rest.empty()) {
    print_usage(stderr);
    return kUsageError;
  }
  for (const Command& command : kCommands) {
    if (command.name == rest.front()) {
      context.args = std::span<const std::string_view>(rest).subspan(1);
      return command.run(context);
    }
  }
  print_error("unknown command '" + std::string(rest.front()) + "'; run 'mailtrixy help' for the list");
  return kUsageError;
}

}  // namespace mailtrixy::app

int main(int argc, char** argv) { return mailtrixy::app::main(argc, argv); }
