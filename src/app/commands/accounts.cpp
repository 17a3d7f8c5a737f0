// `mailtrixy accounts list | show EMAIL | remove EMAIL | reset-password EMAIL | verify-password EMAIL`
//
// Reading commands (list, show, verify-password) open the store as a RocksDB secondary, which is
// safe next to a running bridge. Writing commands (remove, reset-password) open it read-write
// when no bridge runs; when `serve` holds it they go through the bridge's loopback control
// endpoint instead (docs/adr/0004-cli-while-running.md).

#include "mailtrixy/auth/accounts.hpp"


#include <cstdio>
#include <ctime>
#include <string>
#include <vector>

#include "../command.hpp"
#include "../control_client.hpp"
#include "../startup.hpp"
#include "mailtrixy/base/log.hpp"
#include "mailtrixy/net/http_client.hpp"

namespace mailtrixy::app {
namespace {

constexpr std::string_view kUsage =
    "usage: mailtrixy accounts list | show EMAIL | remove EMAIL | reset-password EMAIL | verify-password "
    "EMAIL";

std::string human_time(std::chrono::system_clock::time_point when) {
  if (when.time_since_epoch().count() == 0) return "never";
  const std::time_t seconds = std::chrono::system_clock::to_time_t(when);
  std::tm parts{};
  gmtime_r(&seconds, &parts);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S UTC", &parts);
  return text;
}

std::string status_text(const auth::Account& account) {
  return account.status == auth::AccountStatus::needs_sign_in ? "needs-sign-in" : "active";
}

// ---- reading ------------------------------------------------------------------------------

int list_accounts(const config::Settings& settings) {
  if (!database_exists(settings)) {
    std::printf("No accounts linked yet (%s holds no database).\n", settings.data_dir.c_str());
    return kSuccess;
  }
  auto store = open_store_read_only(settings);
  if (!store) {
    print_error(store.error().message);
    return kRuntimeFailure;
  }
  auth::AccountStore accounts(**store);
  auto listed = accounts.list();
  if (!listed) {
    print_error("cannot read the accounts: " + listed.error().message);
    return kRuntimeFailure;
  }
  if (listed->empty()) {
    std::puts("No accounts linked yet.");
    return kSuccess;
  }
  std::size_t width = 7;
  for (const auth::Account& account : *listed) width = std::max(width, account.address.size());
  std::printf("%-*s  %-13s  %-23s  %s\n", static_cast<int>(width), "ADDRESS", "STATUS", "LAST SIGN-IN",
              "LAST REFRESH");
  for (const auth::Account& account : *listed) {
    std::printf("%-*s  %-13s  %-23s  %s\n", static_cast<int>(width), account.address.c_str(),
                status_text(account).c_str(), human_time(account.last_sign_in).c_str(),
                human_time(account.last_refresh).c_str());
  }
  return kSuccess;
}

int show_account(const config::Settings& settings, const std::string& address) {
  if (!database_exists(settings)) {
    print_error("no account has the address " + address + " (" + settings.data_dir.string() +
                " holds no database yet)");
    return kRuntimeFailure;
  }
  auto store = open_store_read_only(settings);
  if (!store) {
    print_error(store.error().message);
    return kRuntimeFailure;
  }
  auth::AccountStore accounts(**store);
  auto found = accounts.find_by_address(address);
  if (!found) {
    print_error("cannot read the accounts: " + found.error().message);
    return kRuntimeFailure;
  }
  if (!*found) {
    print_error("no account has the address " + address +
                "; `mailtrixy accounts list` shows the linked ones");
    return kRuntimeFailure;
  }
  const auth::Account& account = **found;
  std::printf("address:       %s\n", account.address.c_str());
  std::printf("display name:  %s\n", account.display_name.c_str());
  std::printf("status:        %s\n", status_text(account).c_str());
  if (account.status == auth::AccountStatus::needs_sign_in) {
    std::printf("reason:        %s\n", account.needs_sign_in_reason.c_str());
    std::printf("reconnect at:  %s/settings/email-accounts\n", settings.public_url.c_str());
  }
  std::printf("account key:   %s\n", account.key.c_str());
  std::printf("microsoft oid: %s\n", account.oid.c_str());
  std::printf("tenant id:     %s\n", account.tid.c_str());
  std::printf("linked:        %s\n", human_time(account.created).c_str());
  std::printf("last sign-in:  %s\n", human_time(account.last_sign_in).c_str());
  std::printf("last refresh:  %s\n", human_time(account.last_refresh).c_str());
  return kSuccess;
}

int verify_account_password(const config::Settings& settings, const std::string& address) {
  std::string password;
  if (!read_password(password) || password.empty()) {
    print_error("verify-password reads the bridge password on stdin; none was given");
    return kUsageError;
  }
  if (!database_exists(settings)) {
    print_error("no account has the address " + address + " (" + settings.data_dir.string() +
                " holds no database yet)");
    return kRuntimeFailure;
  }
  auto store = open_store_read_only(settings);
  if (!store) {
    print_error(store.error().message);
    return kRuntimeFailure;
  }
  auth::AccountStore accounts(**store);
  const auth::LoginAttempt attempt = accounts.verify_password(address, password, "command line");
  switch (attempt.outcome) {
    case auth::LoginAttempt::Outcome::ok:
      std::printf("The password is accepted for %s.\n",
                  attempt.account ? attempt.account->address.c_str() : address.c_str());
      return kSuccess;
    case auth::LoginAttempt::Outcome::needs_sign_in:
      print_error("the password is right, but " + address + " must sign in with Microsoft again at " +
                  settings.public_url + "/settings/email-accounts");
      return kRuntimeFailure;
    case auth::LoginAttempt::Outcome::wrong_credentials:
      print_error("the password is not accepted for " + address + " (or no account has that address)");
      return kRuntimeFailure;
    case auth::LoginAttempt::Outcome::rate_limited:
      print_error("too many wrong passwords; wait and try again");
      return kRuntimeFailure;
    case auth::LoginAttempt::Outcome::unavailable:
      print_error("cannot check the password: " + attempt.message);
      return kRuntimeFailure;
  }
  return kRuntimeFailure;
}

// ---- writing ------------------------------------------------------------------------------

enum class Change { remove, reset_password };

void report_new_password(const std::string& address, const std::string& password) {
  std::printf("New bridge password for %s (shown only now; the old one no longer works):\n%s\n",
              address.c_str(), password.c_str());
}

int change_locally(store::Store& store, Change change, const std::string& address) {
  auth::AccountStore accounts(store);
  auto found = accounts.find_by_address(address);
  if (!found) {
    print_error("cannot read the accounts: " + found.error().message);
    return kRuntimeFailure;
  }
  if (!*found) {
    print_error("no account has the address " + address +
                "; `mailtrixy accounts list` shows the linked ones");
    return kRuntimeFailure;
  }
  const auth::Account& account = **found;
  if (change == Change::remove) {
    auto removed = accounts.remove(account.key);
    if (!removed) {
      print_error("cannot remove " + address + ": " + removed.error().message);
      return kRuntimeFailure;
    }
    std::printf("Removed %s and all its data from the bridge.\n", account.address.c_str());
    return kSuccess;
  }
  auto password = accounts.reset_password(account.key);
  if (!password) {
    print_error("cannot reset the password of " + address + ": " + password.error().message);
    return kRuntimeFailure;
  }
  report_new_password(account.address, password->reveal());
  return kSuccess;
}

// The bridge holds the database: ask it to make the change.
int change_through_bridge(const config::Settings& settings, Change change, const std::string& address) {
  auto reply = call_running_bridge(settings,
                                   "/_control/accounts/" + net::url_encode_component(address) +
                                       (change == Change::remove ? "/remove" : "/reset-password"),
                                   {}, std::chrono::seconds(30));
  if (!reply) return kRuntimeFailure;
  if (change == Change::remove) {
    std::printf("Removed %s and all its data from the bridge.\n", reply->field("address").c_str());
  } else {
    report_new_password(reply->field("address"), reply->field("password"));
  }
  return kSuccess;
}

int change_account(const config::Settings& settings, Change change, const std::string& address) {
  if (!database_exists(settings)) {
    print_error("no account has the address " + address + " (" + settings.data_dir.string() +
                " holds no database yet)");
    return kRuntimeFailure;
  }
  auto store = open_store(settings);
  if (store) return change_locally(**store, change, address);
  if (is_database_in_use(store.error())) return change_through_bridge(settings, change, address);
  print_error(store.error().message);
  return kRuntimeFailure;
}

}  // namespace

int run_accounts(const CommandContext& context) {
  const auto& args = context.args;
  if (args.empty()) {
    print_error(std::string(kUsage));
    return kUsageError;
  }
  const std::string_view action = args.front();
  const bool takes_address =
      action == "show" || action == "remove" || action == "reset-password" || action == "verify-password";
  if (action != "list" && !takes_address) {
    print_error("unknown accounts command '" + std::string(action) + "'; " + std::string(kUsage));
    return kUsageError;
  }
  if (action == "list" && args.size() != 1) {
    print_error("accounts list takes no arguments besides --config");
    return kUsageError;
  }
  if (takes_address && args.size() != 2) {
    print_error("accounts " + std::string(action) + " needs exactly one EMAIL address, e.g. accounts " +
                std::string(action) + " alice@outlook.com");
    return kUsageError;
  }
  const auto settings = load_settings_or_report(context.config_path);
  if (!settings) return kUsageError;
  // The CLI's own output is for people; only problems from the libraries go to the log.
  log::configure(log::Level::warn, settings->log.format);

  if (action == "list") return list_accounts(*settings);
  const std::string address(args[1]);
  if (action == "show") return show_account(*settings, address);
  if (action == "verify-password") return verify_account_password(*settings, address);
  return change_account(*settings, action == "remove" ? Change::remove : Change::reset_password, address);
}

}  // namespace mailtrixy::app
