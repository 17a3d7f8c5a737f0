#include "mailtrixy/auth/accounts.hpp"

#include <rapidjson/document.h>

#include <algorithm>
#include <array>
#include <cctype>

#include "json_util.hpp"
#include "mailtrixy/base/log.hpp"
#include "mailtrixy/crypto/password.hpp"
#include "mailtrixy/crypto/random.hpp"

namespace mailtrixy::auth {
namespace {

using std::chrono::system_clock;

// Bridge passwords are random, so the hash needs no stretching against guessing; ln=12 keeps a
// login at ~4 MiB and a few milliseconds (see accounts.hpp).
const crypto::ScryptParams kBridgePasswordParams{12, 8, 1};
constexpr std::string_view kPasswordAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
constexpr std::size_t kPasswordLength = 24;

// Families whose records are keyed "<account key>/..." (see the header's record layout).
constexpr std::array kPerAccountFamilies = {store::Family::folders, store::Family::uids, store::Family::messages,
                                            store::Family::bodies, store::Family::outbox};

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::int64_t to_millis(system_clock::time_point when) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(when.time_since_epoch()).count();
}
system_clock::time_point from_millis(std::int64_t millis) {
  return system_clock::time_point(std::chrono::milliseconds(millis));
}

struct AccountRecord {
  Account account;
  std::string password_hash;
};

std::string encode_account(const AccountRecord& record) {
  const Account& a = record.account;
  rapidjson::StringBuffer buffer;
  detail::JsonWriter writer(buffer);
  writer.StartObject();
  detail::write_int(writer, "version", 1);
  detail::write_string(writer, "address", a.address);
  detail::write_string(writer, "display_name", a.display_name);
  detail::write_string(writer, "oid", a.oid);
  detail::write_string(writer, "tid", a.tid);
  detail::write_string(writer, "status", a.status == AccountStatus::active ? "active" : "needs_sign_in");
  detail::write_string(writer, "needs_sign_in_reason", a.needs_sign_in_reason);
  detail::write_int(writer, "created", to_millis(a.created));
  detail::write_int(writer, "last_sign_in", to_millis(a.last_sign_in));
  detail::write_int(writer, "last_refresh", to_millis(a.last_refresh));
  detail::write_string(writer, "password_hash", record.password_hash);
  writer.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

Result<AccountRecord> decode_account(std::string_view key, std::string_view json) {
  rapidjson::Document document;
  document.Parse(json.data(), json.size());
  if (document.HasParseError() || !document.IsObject()) {
    return make_error("the account record \"" + std::string(key) + "\" is not valid JSON; the database may be damaged");
  }
  AccountRecord record;
  Account& a = record.account;
  a.key = std::string(key);
  a.address = detail::string_member(document, "address").value_or("");
  a.display_name = detail::string_member(document, "display_name").value_or("");
  a.oid = detail::string_member(document, "oid").value_or("");
  a.tid = detail::string_member(document, "tid").value_or("");
  a.status = detail::string_member(document, "status").value_or("active") == "needs_sign_in"
                 ? AccountStatus::needs_sign_in
                 : AccountStatus::active;
  a.needs_sign_in_reason = detail::string_member(document, "needs_sign_in_reason").value_or("");
  a.created = from_millis(detail::int_member(document, "created").value_or(0));
  a.last_sign_in = from_millis(detail::int_member(document, "last_sign_in").value_or(0));
  a.last_refresh = from_millis(detail::int_member(document, "last_refresh").value_or(0));
  record.password_hash = detail::string_member(document, "password_hash").value_or("");
  return record;
}

std::string encode_tokens(const StoredTokens& tokens) {
  rapidjson::StringBuffer buffer;
  detail::JsonWriter writer(buffer);
  writer.StartObject();
  detail::write_int(writer, "version", 1);
  detail::write_string(writer, "refresh_token", tokens.refresh_token.reveal());
  detail::write_string(writer, "access_token", tokens.access_token.reveal());
  detail::write_int(writer, "access_token_expires_at", to_millis(tokens.access_token_expires_at));
  detail::write_int(writer, "access_token_lifetime", tokens.access_token_lifetime.count());
  writer.Key("scopes");
  writer.StartArray();
  for (const std::string& scope : tokens.scopes) writer.String(scope.data(), static_cast<rapidjson::SizeType>(scope.size()));
  writer.EndArray();
  writer.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

Result<StoredTokens> decode_tokens(std::string_view key, std::string_view json) {
  rapidjson::Document document;
  document.Parse(json.data(), json.size());
  if (document.HasParseError() || !document.IsObject()) {
    return make_error("the token record of account \"" + std::string(key) + "\" is not valid JSON");
  }
  StoredTokens tokens;
  tokens.refresh_token = Secret<std::string>(detail::string_member(document, "refresh_token").value_or(""));
  tokens.access_token = Secret<std::string>(detail::string_member(document, "access_token").value_or(""));
  tokens.access_token_expires_at = from_millis(detail::int_member(document, "access_token_expires_at").value_or(0));
  tokens.access_token_lifetime = std::chrono::seconds(detail::int_member(document, "access_token_lifetime").value_or(0));
  const auto scopes = document.FindMember("scopes");
  if (scopes != document.MemberEnd() && scopes->value.IsArray()) {
    for (const auto& scope : scopes->value.GetArray()) {
      if (scope.IsString()) tokens.scopes.emplace_back(scope.GetString(), scope.GetStringLength());
    }
  }
  return tokens;
}

// Verifying against this when the address is unknown costs the same as a real check.
const std::string& dummy_hash() {
  static const std::string hash = crypto::hash_password(crypto::random_token(24), kBridgePasswordParams);
  return hash;
}

}  // namespace

std::string_view to_string(AccountStatus status) {
  return status == AccountStatus::active ? "active" : "needs sign-in";
}

std::string account_key(std::string_view oid, std::string_view tid) { return lower(oid) + "." + lower(tid); }

Secret<std::string> generate_bridge_password() {
  std::string password;
  password.reserve(kPasswordLength);
  // Rejection sampling: only bytes below a multiple of the alphabet size, so every letter is
  // equally likely.
  const std::size_t limit = 256 - (256 % kPasswordAlphabet.size());
  while (password.size() < kPasswordLength) {
    const std::string bytes = crypto::random_bytes(kPasswordLength * 2);
    for (const char byte : bytes) {
      const auto value = static_cast<unsigned char>(byte);
      if (value >= limit) continue;
      password.push_back(kPasswordAlphabet[value % kPasswordAlphabet.size()]);
      if (password.size() == kPasswordLength) break;
    }
  }
  return Secret<std::string>(std::move(password));
}

AccountStore::AccountStore(store::Store& store, Clock clock, LoginRateLimiterOptions rate_limits)
    : store_(store), clock_(std::move(clock)), rate_limiter_(rate_limits, clock_) {}

Result<std::optional<Account>> AccountStore::find_locked(std::string_view key) const {
  auto raw = store_.get(store::Family::accounts, key);
  if (!raw) return raw.error();
  if (!raw->has_value()) return std::optional<Account>();
  auto record = decode_account(key, **raw);
  if (!record) return record.error();
  return std::optional<Account>(std::move(record->account));
}

Result<std::optional<Account>> AccountStore::find(std::string_view key) const { return find_locked(key); }

Result<std::vector<Account>> AccountStore::list() const {
  std::vector<Account> accounts;
  std::optional<Error> failure;
  auto walked = store_.for_each_prefix(store::Family::accounts, "", [&](std::string_view key, std::string_view value) {
    auto record = decode_account(key, value);
    if (!record) {
      failure = record.error();
      return false;
    }
    accounts.push_back(std::move(record->account));
    return true;
  });
  if (!walked) return walked.error();
  if (failure) return *failure;
  std::sort(accounts.begin(), accounts.end(), [](const Account& a, const Account& b) {
    const std::string la = lower(a.address);
    const std::string lb = lower(b.address);
    return la != lb ? la < lb : a.key < b.key;
  });
  return accounts;
}

Result<std::optional<Account>> AccountStore::find_by_address(std::string_view address) const {
  auto accounts = list();
  if (!accounts) return accounts.error();
  const std::string wanted = lower(address);
  std::optional<Account> best;
  for (Account& account : *accounts) {
    if (lower(account.address) != wanted) continue;
    if (!best || account.last_sign_in > best->last_sign_in) best = std::move(account);
  }
  return best;
}

Result<LinkResult> AccountStore::link(const MicrosoftProfile& profile, const TokenSet& tokens,
                                      PasswordOnRelink on_relink) {
  if (profile.oid.empty() || profile.tid.empty()) {
    return make_error("cannot link an account without Microsoft object id and tenant id");
  }
  if (profile.address.empty()) return make_error("cannot link an account without an email address");
  if (tokens.access_token.empty() || tokens.refresh_token.empty()) {
    return make_error("cannot link an account without both an access token and a refresh token");
  }
  const std::string key = account_key(profile.oid, profile.tid);
  const auto now = clock_();
  LinkResult result;
  {
    std::lock_guard lock(write_mutex_);
    auto raw = store_.get(store::Family::accounts, key);
    if (!raw) return raw.error();
    AccountRecord record;
    if (raw->has_value()) {
      auto existing = decode_account(key, **raw);
      if (!existing) return existing.error();
      record = std::move(*existing);
      result.relinked = true;
    } else {
      record.account.created = now;
    }
    Account& account = record.account;
    account.key = key;
    account.oid = lower(profile.oid);
    account.tid = lower(profile.tid);
    account.address = profile.address;
    account.display_name = profile.display_name;
    account.status = AccountStatus::active;
    account.needs_sign_in_reason.clear();
    account.last_sign_in = now;
    account.last_refresh = now;
    if (!result.relinked || on_relink == PasswordOnRelink::regenerate || record.password_hash.empty()) {
      result.bridge_password = generate_bridge_password();
      record.password_hash = crypto::hash_password(result.bridge_password.reveal(), kBridgePasswordParams);
    }

    StoredTokens stored;
    stored.refresh_token = tokens.refresh_token;
    stored.access_token = tokens.access_token;
    stored.access_token_expires_at = tokens.expires_at;
    stored.access_token_lifetime = tokens.expires_in;
    stored.scopes = tokens.scopes;

    store::WriteBatch batch = store_.batch();
    batch.put(store::Family::accounts, key, encode_account(record));
    batch.put_encrypted(store::Family::tokens, key, encode_tokens(stored));
    if (auto written = store_.write(batch, true); !written) return written.error();
    result.account = account;
  }
  log::info(result.relinked ? "account re-linked" : "account linked",
            {{"account", key}, {"address", result.account.address}});
  std::vector<AccountConnectedListener> listeners;
  {
    std::lock_guard lock(listeners_mutex_);
    listeners = listeners_;
  }
  for (const auto& listener : listeners) {
    try {
      listener(result.account, result.relinked);
    } catch (const std::exception& e) {
      log::error("account-connected listener failed", {{"account", key}, {"error", e.what()}});
    }
  }
  return result;
}

Result<bool> AccountStore::remove(std::string_view key) {
  std::lock_guard lock(write_mutex_);
  auto existing = find_locked(key);
  if (!existing) return existing.error();
  if (!existing->has_value()) return false;
  store::WriteBatch batch = store_.batch();
  batch.del(store::Family::accounts, key);
  batch.del(store::Family::tokens, key);
  const std::string prefix = std::string(key) + "/";
  for (const store::Family family : kPerAccountFamilies) {
    auto walked = store_.for_each_prefix(family, prefix, [&](std::string_view record_key, std::string_view) {
      batch.del(family, record_key);
      return true;
    });
    if (!walked) return walked.error();
  }
  if (auto written = store_.write(batch, true); !written) return written.error();
  log::info("account removed", {{"account", std::string(key)}, {"records", batch.size()}});
  return true;
}

Result<Secret<std::string>> AccountStore::reset_password(std::string_view key) {
  std::lock_guard lock(write_mutex_);
  auto raw = store_.get(store::Family::accounts, key);
  if (!raw) return raw.error();
  if (!raw->has_value()) return make_error("there is no account \"" + std::string(key) + "\"");
  auto record = decode_account(key, **raw);
  if (!record) return record.error();
  Secret<std::string> password = generate_bridge_password();
  record->password_hash = crypto::hash_password(password.reveal(), kBridgePasswordParams);
  if (auto written = store_.put(store::Family::accounts, key, encode_account(*record)); !written) {
    return written.error();
  }
  log::info("bridge password reset", {{"account", std::string(key)}});
  return password;
}

LoginAttempt AccountStore::verify_password(std::string_view address, std::string_view password,
                                           std::string_view client_address) {
  LoginAttempt attempt;
  const std::string account_name = lower(address);
  if (const auto wait = rate_limiter_.retry_after(client_address, account_name); wait.count() > 0) {
    attempt.outcome = LoginAttempt::Outcome::rate_limited;
    attempt.retry_after = wait;
    attempt.message = "too many failed logins; try again in " +
                      std::to_string((wait.count() + 999) / 1000) + " seconds";
    return attempt;
  }
  auto found = find_by_address(address);
  if (!found) {
    attempt.outcome = LoginAttempt::Outcome::unavailable;
    attempt.message = "the account database cannot be read: " + found.error().message;
    return attempt;
  }
  std::string hash;
  if (found->has_value()) {
    auto raw = store_.get(store::Family::accounts, (*found)->key);
    if (raw && raw->has_value()) {
      if (auto record = decode_account((*found)->key, **raw)) hash = record->password_hash;
    }
  }
  const bool known = !hash.empty();
  const bool matches = crypto::verify_password(password, known ? hash : dummy_hash()) && known;
  if (!matches) {
    rate_limiter_.record_failure(client_address, account_name);
    attempt.outcome = LoginAttempt::Outcome::wrong_credentials;
    attempt.message = "unknown address or wrong bridge password";
    return attempt;
  }
  rate_limiter_.record_success(client_address, account_name);
  attempt.account = **found;
  if (attempt.account->status == AccountStatus::needs_sign_in) {
    attempt.outcome = LoginAttempt::Outcome::needs_sign_in;
    attempt.message = "the account must sign in with Microsoft again";
    return attempt;
  }
  attempt.outcome = LoginAttempt::Outcome::ok;
  return attempt;
}

Result<void> AccountStore::mark_needs_sign_in(std::string_view key, std::string_view reason) {
  std::lock_guard lock(write_mutex_);
  auto raw = store_.get(store::Family::accounts, key);
  if (!raw) return raw.error();
  if (!raw->has_value()) return make_error("there is no account \"" + std::string(key) + "\"");
  auto record = decode_account(key, **raw);
  if (!record) return record.error();
  if (record->account.status == AccountStatus::needs_sign_in && record->account.needs_sign_in_reason == reason) {
    return {};
  }
  record->account.status = AccountStatus::needs_sign_in;
  record->account.needs_sign_in_reason = std::string(reason);
  if (auto written = store_.put(store::Family::accounts, key, encode_account(*record)); !written) {
    return written.error();
  }
  log::warn("account needs sign-in", {{"account", std::string(key)}, {"reason", std::string(reason)}});
  return {};
}

Result<std::optional<StoredTokens>> AccountStore::load_tokens(std::string_view key) const {
  auto raw = store_.get_encrypted(store::Family::tokens, key);
  if (!raw) return raw.error();
  if (!raw->has_value()) return std::optional<StoredTokens>();
  auto tokens = decode_tokens(key, **raw);
  if (!tokens) return tokens.error();
  return std::optional<StoredTokens>(std::move(*tokens));
}

Result<void> AccountStore::store_tokens(std::string_view key, const StoredTokens& tokens) {
  std::lock_guard lock(write_mutex_);
  auto raw = store_.get(store::Family::accounts, key);
  if (!raw) return raw.error();
  if (!raw->has_value()) return make_error("the account \"" + std::string(key) + "\" was removed");
  auto record = decode_account(key, **raw);
  if (!record) return record.error();
  record->account.last_refresh = clock_();
  store::WriteBatch batch = store_.batch();
  batch.put(store::Family::accounts, key, encode_account(*record));
  batch.put_encrypted(store::Family::tokens, key, encode_tokens(tokens));
  return store_.write(batch, true);
}

void AccountStore::subscribe_account_connected(AccountConnectedListener listener) {
  std::lock_guard lock(listeners_mutex_);
  listeners_.push_back(std::move(listener));
}

}  // namespace mailtrixy::auth
