// `mailtrixy mailbox folders EMAIL` and `mailtrixy mailbox messages EMAIL FOLDER`: what the sync
// engine has cached for an account, read from the store as a RocksDB secondary (safe next to a
// running bridge; it shows the state as of the moment the command started). Nothing here calls
// Microsoft. Output is tab-separated with a header line, for people and for the black-box tests.

#include <cinttypes>
#include <cstdio>
#include <string>

#include "../command.hpp"
#include "../startup.hpp"
#include "mailtrixy/auth/accounts.hpp"
#include "mailtrixy/base/log.hpp"
#include "mailtrixy/mail/types.hpp"
#include "mailtrixy/sync/records.hpp"

namespace mailtrixy::app {
namespace {

constexpr std::string_view kUsage = "usage: mailtrixy mailbox folders EMAIL | messages EMAIL FOLDER";

std::string flag_text(const mail::Flags& flags) {
  std::string out;
  for (const auto& name : flags.names()) {
    if (!out.empty()) out += ' ';
    out += name;
  }
  return out.empty() ? "-" : out;
}

// Tabs and line breaks in a subject would break the columns.
std::string one_line(std::string text) {
  for (char& c : text)
    if (c == '\t' || c == '\r' || c == '\n') c = ' ';
  return text;
}

int print_folders(const sync::AccountState& state) {
  auto folders = state.folders();
  if (!folders) {
    print_error("cannot read the folders: " + folders.error().message);
    return kRuntimeFailure;
  }
  std::printf("UIDVALIDITY\tUIDNEXT\tMESSAGES\tUNSEEN\tSYNCED\tSPECIAL\tPATH\n");
  for (const auto& folder : folders.value()) {
    auto messages = state.messages(folder.id);
    if (!messages) {
      print_error("cannot read the messages of " + folder.path + ": " + messages.error().message);
      return kRuntimeFailure;
    }
    std::size_t unseen = 0;
    for (const auto& m : messages.value())
      if (!m.flags.has(mail::SystemFlag::seen)) ++unseen;
    std::string special(mail::special_use_attribute(folder.special_use));
    std::printf("%" PRIu32 "\t%" PRIu32 "\t%zu\t%zu\t%s\t%s\t%s\n", folder.uidvalidity, folder.uidnext,
                messages->size(), unseen, folder.initial_sync_complete ? "yes" : "no",
                special.empty() ? "-" : special.c_str(), folder.path.c_str());
  }
  return kSuccess;
}

int print_messages(const sync::AccountState& state, std::string_view path) {
  auto normalized = mail::normalize_folder_path(path);
  if (!normalized) {
    print_error("\"" + std::string(path) + "\" is not a valid folder name; use names separated by single '/'");
    return kUsageError;
  }
  auto folder = state.folder_by_path(*normalized);
  if (!folder) {
    print_error("cannot read the folders: " + folder.error().message);
    return kRuntimeFailure;
  }
  if (!folder.value()) {
    print_error("the account has no folder \"" + *normalized +
                "\" (yet); run 'mailtrixy mailbox folders EMAIL' for the synced folders");
    return kRuntimeFailure;
  }
  auto messages = state.messages(folder.value()->id);
  if (!messages) {
    print_error("cannot read the messages: " + messages.error().message);
    return kRuntimeFailure;
  }
  std::printf("# UIDVALIDITY %" PRIu32 " UIDNEXT %" PRIu32 " MESSAGES %zu\n", folder.value()->uidvalidity,
              folder.value()->uidnext, messages->size());
  std::printf("UID\tFLAGS\tSIZE\tID\tSUBJECT\n");
  for (const auto& m : messages.value()) {
    std::string size = m.rfc822_size ? std::to_string(*m.rfc822_size) : "-";
    std::printf("%" PRIu32 "\t%s\t%s\t%s\t%s\n", m.uid.value(), flag_text(m.flags).c_str(), size.c_str(),
                m.graph_id.value().c_str(), one_line(m.envelope.subject).c_str());
  }
  return kSuccess;
}

}  // namespace

int run_mailbox(const CommandContext& context) {
  const auto& args = context.args;
  if (args.empty() || (args.front() != "folders" && args.front() != "messages")) {
    print_error(args.empty() ? std::string(kUsage)
                             : "unknown mailbox command '" + std::string(args.front()) + "'; " + std::string(kUsage));
    return kUsageError;
  }
  const bool messages = args.front() == "messages";
  if (args.size() != (messages ? 3u : 2u)) {
    print_error(messages ? "mailbox messages needs an EMAIL address and a FOLDER, e.g. mailbox messages alice@outlook.com INBOX"
                         : "mailbox folders needs exactly one EMAIL address, e.g. mailbox folders alice@outlook.com");
    return kUsageError;
  }
  const auto settings = load_settings_or_report(context.config_path);
  if (!settings) return kUsageError;
  log::configure(log::Level::warn, settings->log.format);
  const std::string address(args[1]);
  if (!database_exists(*settings)) {
    print_error("no account has the address " + address + " (" + settings->data_dir.string() + " holds no database)");
    return kRuntimeFailure;
  }
  auto store = open_store_read_only(*settings);
  if (!store) {
    print_error(store.error().message);
    return kRuntimeFailure;
  }
  auth::AccountStore accounts(**store);
  auto account = accounts.find_by_address(address);
  if (!account) {
    print_error("cannot read the accounts: " + account.error().message);
    return kRuntimeFailure;
  }
  if (!account.value()) {
    print_error("no account has the address " + address + "; run 'mailtrixy accounts list' for the linked ones");
    return kRuntimeFailure;
  }
  sync::AccountState state(**store, account.value()->key);
  return messages ? print_messages(state, args[2]) : print_folders(state);
}

}  // namespace mailtrixy::app
