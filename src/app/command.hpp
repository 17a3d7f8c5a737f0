#pragma once
// The command-line surface of `mailtrixy` (product spec §2): one file per sub-command under
// commands/, all registered in the single table in main.cpp.

#include <filesystem>
#include <span>
#include <string>
#include <string_view>

namespace mailtrixy::app {

// Exit codes shared by every command (spec §2).
enum ExitCode : int { kSuccess = 0, kRuntimeFailure = 1, kUsageError = 2 };

struct CommandContext {
  std::filesystem::path config_path = "config/mailtrixy.yaml";
  std::span<const std::string_view> args;  // what follows the command name, options removed
};

using CommandFunction = int (*)(const CommandContext&);

struct Command {
  std::string_view name;
  std::string_view usage;    // shown by `mailtrixy help`
  CommandFunction run;
};

int run_serve(const CommandContext&);
int run_check_config(const CommandContext&);
int run_hash_password(const CommandContext&);
int run_version(const CommandContext&);
int run_accounts(const CommandContext&);
int run_mailbox(const CommandContext&);
int run_queue(const CommandContext&);
int run_backup(const CommandContext&);

// Reads one line (a password) from stdin, without echo on a terminal; false at end of input.
bool read_password(std::string& password);

// Prints one clear sentence to stderr, prefixed with "mailtrixy: ".
void print_error(std::string_view message);

}  // namespace mailtrixy::app
