#include "world.hpp"

#include <algorithm>
#include <cctype>

#include "http_text.hpp"
#include "mailtrixy/crypto/random.hpp"
#include "tokens.hpp"

namespace mailtrixy::emulator {
namespace {

constexpr std::string_view kWorkDomainSuffix = ".onmicrosoft.com";

std::string capitalised(std::string_view word) {
  std::string out(word);
  if (!out.empty()) out[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(out[0])));
  return out;
}

std::string flight_key(const std::string& client_id, const std::string& address) {
  return client_id + '\n' + address;
}

}  // namespace

std::string User::token_oid() const {
  if (!personal) return oid;
  return "00000000-0000-0000-" + oid.substr(0, 4) + "-" + oid.substr(4);
}

User make_user(const UserOption& option, Locale locale) {
  User user;
  user.address = option.address;
  user.password = option.password;
  const auto at = option.address.rfind('@');
  const std::string local = option.address.substr(0, at);
  const std::string domain = ascii_lower(std::string_view(option.address).substr(at + 1));
  user.personal = !(domain.size() > kWorkDomainSuffix.size() && domain.ends_with(kWorkDomainSuffix));
  if (user.personal) {
    user.oid = personal_account_id(option.address);
    user.tid = std::string(kPersonalTenantId);
  } else {
    user.oid = derived_guid("oid", ascii_lower(option.address));
    user.tid = derived_guid("tenant", domain);
  }
  // "jane.doe" → given name "Jane", surname "Doe", display name "Jane Doe".
  std::vector<std::string> words;
  for (std::string_view piece : split(local, '.')) {
    for (std::string_view word : split(piece, '_')) {
      if (!word.empty()) words.push_back(capitalised(word));
    }
  }
  if (words.empty()) words.push_back(local);
  user.given_name = words.front();
  user.surname = words.size() > 1 ? words.back() : "";
  for (const std::string& word : words) {
    if (!user.display_name.empty()) user.display_name += ' ';
    user.display_name += word;
  }
  user.mailbox = std::make_shared<Mailbox>(option.address, locale);
  return user;
}

World::World(EmulatorOptions options) : options_(std::move(options)), clients_(options_.clients) {
  for (const UserOption& option : options_.users) {
    auto user = std::make_unique<User>(make_user(option, options_.locale));
    users_by_address_.emplace(ascii_lower(user->address), user.get());
    users_by_id_.emplace(user->oid, user.get());
    users_.push_back(std::move(user));
  }
}

Clock::time_point World::now() const { return clock_ ? clock_() : Clock::now(); }

User* World::find_user_by_address(std::string_view address) {
  const auto found = users_by_address_.find(ascii_lower(address));
  return found == users_by_address_.end() ? nullptr : found->second;
}

User* World::find_user_by_id_or_address(std::string_view id_or_address) {
  // Object ids are lower-case hex; Graph accepts them in either case.
  const auto found = users_by_id_.find(ascii_lower(id_or_address));
  if (found != users_by_id_.end()) return found->second;
  return find_user_by_address(id_or_address);
}

std::optional<AppRegistration> World::find_client(std::string_view client_id) const {
  std::lock_guard lock(clients_mutex_);
  for (const AppRegistration& client : clients_) {
    // Application ids are GUIDs; Microsoft matches them case-insensitively.
    if (iequals(client.client_id, client_id)) return client;
  }
  return std::nullopt;
}

bool World::expire_client_secret(std::string_view client_id) {
  std::lock_guard lock(clients_mutex_);
  for (AppRegistration& client : clients_) {
    if (iequals(client.client_id, client_id)) {
      client.secret_expired = true;
      return true;
    }
  }
  return false;
}

std::string World::add_code(AuthorizationCode code) {
  // Real codes are long opaque strings; the prefix mimics the v2 endpoint's.
  code.code = "1.AXoA" + crypto::random_token(96);
  std::string text = code.code;
  std::lock_guard lock(tokens_mutex_);
  codes_.emplace(text, std::move(code));
  return text;
}

std::optional<AuthorizationCode> World::find_code(std::string_view code) const {
  std::lock_guard lock(tokens_mutex_);
  const auto found = codes_.find(std::string(code));
  if (found == codes_.end()) return std::nullopt;
  return found->second;
}

bool World::consume_code(std::string_view code) {
  std::lock_guard lock(tokens_mutex_);
  const auto found = codes_.find(std::string(code));
  if (found == codes_.end() || found->second.redeemed) return false;
  found->second.redeemed = true;
  return true;
}

std::string World::issue_access_token(std::string client_id, User& user, std::vector<std::string> scopes) {
  AccessToken token;
  // Opaque like a personal account's "compact" token: clients must not parse access tokens.
  token.token = "EwB" + crypto::random_token(96);
  token.client_id = std::move(client_id);
  token.user = &user;
  token.scopes = std::move(scopes);
  token.issued_at = now();
  token.expires_at = token.issued_at + options_.access_token_lifetime;
  std::string text = token.token;
  std::lock_guard lock(tokens_mutex_);
  access_order_.push_back(text);
  access_tokens_.emplace(text, std::move(token));
  return text;
}

std::optional<AccessToken> World::find_access_token(std::string_view token) const {
  std::lock_guard lock(tokens_mutex_);
  const auto found = access_tokens_.find(std::string(token));
  if (found == access_tokens_.end()) return std::nullopt;
  return found->second;
}

std::string World::issue_refresh_token(std::string client_id, User& user, std::vector<std::string> scopes,
                                       Clock::time_point grant_issued_at) {
  RefreshToken token;
  token.token = (user.personal ? "M.C5" : "0.AXoA") + crypto::random_token(96);
  token.client_id = std::move(client_id);
  token.user = &user;
  token.scopes = std::move(scopes);
  token.issued_at = now();
  token.grant_issued_at = grant_issued_at;
  std::string text = token.token;
  std::lock_guard lock(tokens_mutex_);
  refresh_order_.push_back(text);
  refresh_tokens_.emplace(text, std::move(token));
  return text;
}

std::optional<RefreshToken> World::find_refresh_token(std::string_view token) const {
  std::lock_guard lock(tokens_mutex_);
  const auto found = refresh_tokens_.find(std::string(token));
  if (found == refresh_tokens_.end()) return std::nullopt;
  return found->second;
}

std::vector<AccessToken> World::access_tokens() const {
  std::lock_guard lock(tokens_mutex_);
  std::vector<AccessToken> out;
  out.reserve(access_order_.size());
  for (const std::string& token : access_order_) out.push_back(access_tokens_.at(token));
  return out;
}

std::vector<RefreshToken> World::refresh_tokens() const {
  std::lock_guard lock(tokens_mutex_);
  std::vector<RefreshToken> out;
  out.reserve(refresh_order_.size());
  for (const std::string& token : refresh_order_) out.push_back(refresh_tokens_.at(token));
  return out;
}

void World::revoke_user_tokens(const User& user) {
  const auto when = now();
  std::lock_guard lock(tokens_mutex_);
  tokens_valid_from_[&user] = when;
}

std::optional<Clock::time_point> World::tokens_valid_from(const User& user) const {
  std::lock_guard lock(tokens_mutex_);
  const auto found = tokens_valid_from_.find(&user);
  if (found == tokens_valid_from_.end()) return std::nullopt;
  return found->second;
}

int World::expire_refresh_tokens(const User& user) {
  std::lock_guard lock(tokens_mutex_);
  int count = 0;
  for (auto& [text, token] : refresh_tokens_) {
    if (token.user == &user && !token.inactive) {
      token.inactive = true;
      ++count;
    }
  }
  return count;
}

int World::expire_access_tokens(const User& user) {
  const auto when = now();
  std::lock_guard lock(tokens_mutex_);
  int count = 0;
  for (auto& [text, token] : access_tokens_) {
    if (token.user == &user && when < token.expires_at) {
      token.expires_at = when;
      ++count;
    }
  }
  return count;
}

void World::count_route(const std::string& route) {
  std::lock_guard lock(stats_mutex_);
  ++by_route_[route];
}

StatsSnapshot World::stats() const {
  StatsSnapshot snapshot;
  snapshot.graph_requests = graph_requests_.load();
  snapshot.batch_items = batch_items_.load();
  snapshot.token_requests = token_requests_.load();
  snapshot.authorize_requests = authorize_requests_.load();
  snapshot.throttled = throttled_.load();
  snapshot.faults_injected = faults_injected_.load();
  {
    std::lock_guard lock(stats_mutex_);
    snapshot.by_route = by_route_;
  }
  std::lock_guard lock(flight_mutex_);
  snapshot.max_in_flight = max_in_flight_;
  snapshot.in_flight = in_flight_by_address_;
  return snapshot;
}

void World::reset_stats() {
  graph_requests_ = 0;
  batch_items_ = 0;
  token_requests_ = 0;
  authorize_requests_ = 0;
  throttled_ = 0;
  faults_injected_ = 0;
  {
    std::lock_guard lock(stats_mutex_);
    by_route_.clear();
  }
  // The high-water mark restarts from what is in flight right now, not from zero.
  std::lock_guard lock(flight_mutex_);
  max_in_flight_.clear();
  for (const auto& [address, count] : in_flight_by_address_) {
    if (count > 0) max_in_flight_[address] = count;
  }
}

bool World::try_enter_mailbox(const std::string& client_id, const std::string& address, int limit) {
  std::lock_guard lock(flight_mutex_);
  int& count = in_flight_[flight_key(client_id, address)];
  if (count >= limit) return false;
  ++count;
  int& total = in_flight_by_address_[address];
  ++total;
  int& highest = max_in_flight_[address];
  highest = std::max(highest, total);
  return true;
}

void World::leave_mailbox(const std::string& client_id, const std::string& address) {
  std::lock_guard lock(flight_mutex_);
  const auto found = in_flight_.find(flight_key(client_id, address));
  if (found != in_flight_.end() && found->second > 0) --found->second;
  const auto total = in_flight_by_address_.find(address);
  if (total != in_flight_by_address_.end() && total->second > 0) --total->second;
}

void World::add_fault(Fault fault) {
  std::lock_guard lock(faults_mutex_);
  faults_.push_back(std::move(fault));
  has_faults_ = true;
}

std::optional<Fault> World::take_fault(const std::string& route_text) {
  if (!has_faults_.load(std::memory_order_relaxed)) return std::nullopt;
  std::lock_guard lock(faults_mutex_);
  const auto now = std::chrono::steady_clock::now();
  for (auto it = faults_.begin(); it != faults_.end();) {
    if (it->until && now >= *it->until) {  // the outage is over
      it = faults_.erase(it);
      continue;
    }
    if (!std::regex_search(route_text, it->route)) {
      ++it;
      continue;
    }
    Fault taken = *it;
    if (!it->until && --it->remaining <= 0) faults_.erase(it);
    has_faults_ = !faults_.empty();
    ++faults_injected_;
    return taken;
  }
  return std::nullopt;
}

std::vector<Fault> World::faults() const {
  std::lock_guard lock(faults_mutex_);
  const auto now = std::chrono::steady_clock::now();
  std::vector<Fault> pending;
  for (const auto& fault : faults_)
    if (!fault.until || now < *fault.until) pending.push_back(fault);
  return pending;
}

void World::clear_faults() {
  std::lock_guard lock(faults_mutex_);
  faults_.clear();
  has_faults_ = false;
}

}  // namespace mailtrixy::emulator
