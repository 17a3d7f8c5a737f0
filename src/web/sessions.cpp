#include "mailtrixy/web/sessions.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cstdint>

#include "mailtrixy/base/log.hpp"
#include "mailtrixy/crypto/encoding.hpp"
#include "mailtrixy/crypto/hash.hpp"
#include "mailtrixy/crypto/random.hpp"

namespace mailtrixy::web {
namespace {

using TimePoint = std::chrono::system_clock::time_point;
constexpr std::size_t kIdBytes = 32;
constexpr std::size_t kIdLength = 43;  // base64url of 32 bytes, no padding

std::int64_t to_seconds(TimePoint time) {
  return std::chrono::duration_cast<std::chrono::seconds>(time.time_since_epoch()).count();
}
TimePoint from_seconds(std::int64_t seconds) {
  return TimePoint(std::chrono::seconds(seconds));
}

std::string record_key(const BrowserSession& session) {
  return std::string(kSessionKeyPrefix) + session.binding();
}

std::string encode_record(const BrowserSession& session) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  writer.StartObject();
  writer.Key("expires");
  writer.Int64(to_seconds(session.expires_at));
  writer.Key("admin_until");
  writer.Int64(session.admin ? to_seconds(session.admin_until) : 0);
  writer.Key("accounts");
  writer.StartArray();
  for (const std::string& key : session.account_keys) {
    writer.String(key.c_str(), static_cast<rapidjson::SizeType>(key.size()));
  }
  writer.EndArray();
  writer.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

// Fills the stored fields of `session`; false when the record is not what this code writes.
bool decode_record(std::string_view text, BrowserSession& session) {
  rapidjson::Document document;
  document.Parse(text.data(), text.size());
  if (document.HasParseError() || !document.IsObject()) return false;
  const auto expires = document.FindMember("expires");
  const auto admin_until = document.FindMember("admin_until");
  const auto accounts = document.FindMember("accounts");
  if (expires == document.MemberEnd() || !expires->value.IsInt64()) return false;
  if (admin_until == document.MemberEnd() || !admin_until->value.IsInt64()) return false;
  if (accounts == document.MemberEnd() || !accounts->value.IsArray()) return false;
  session.expires_at = from_seconds(expires->value.GetInt64());
  session.admin_until = from_seconds(admin_until->value.GetInt64());
  session.account_keys.clear();
  for (const auto& key : accounts->value.GetArray()) {
    if (!key.IsString()) return false;
    session.account_keys.emplace_back(key.GetString(), key.GetStringLength());
  }
  return true;
}

BrowserSession fresh_session() {
  BrowserSession session;
  session.id = crypto::random_token(kIdBytes);
  session.is_new = true;
  return session;
}

}  // namespace

std::string BrowserSession::binding() const {
  return crypto::sha256_hex(id);
}

SessionManager::SessionManager(store::Store& store, Clock clock)
    : store_(store), clock_(std::move(clock)), csrf_key_(crypto::random_bytes(32)) {}

TimePoint SessionManager::now() const {
  return clock_ ? clock_() : std::chrono::system_clock::now();
}

bool SessionManager::well_formed_id(std::string_view id) {
  return id.size() == kIdLength && std::all_of(id.begin(), id.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                  c == '_';
         });
}

BrowserSession SessionManager::resume(const std::optional<std::string>& cookie_value) {
  if (!cookie_value || !well_formed_id(*cookie_value)) return fresh_session();
  BrowserSession session;
  session.id = *cookie_value;
  const std::string key = record_key(session);
  auto record = store_.get(store::Family::web_sessions, key);
  if (!record) {
    log::error("cannot read a browser session; treating the browser as signed out",
               {{"error", record.error().message}});
    return session;
  }
  if (!*record) return session;  // anonymous: a well-formed id we hold nothing for
  const TimePoint current = now();
  if (!decode_record(**record, session) || session.expires_at <= current) {
    if (auto removed = store_.del(store::Family::web_sessions, key); !removed) {
      log::warn("cannot delete an expired browser session", {{"error", removed.error().message}});
    }
    return fresh_session();
  }
  session.stored = true;
  session.admin = session.admin_until > current;
  return session;
}

Result<BrowserSession> SessionManager::replace(const BrowserSession& current, BrowserSession next) {
  next.id = crypto::random_token(kIdBytes);
  next.is_new = true;
  store::WriteBatch batch = store_.batch();
  if (current.stored) batch.del(store::Family::web_sessions, record_key(current));
  next.stored = !next.account_keys.empty() || next.admin;
  if (next.stored) batch.put(store::Family::web_sessions, record_key(next), encode_record(next));
  if (!batch.empty()) {
    if (auto written = store_.write(batch, false); !written) {
      return make_error("cannot save the browser session: " + written.error().message);
    }
  }
  maybe_purge();
  return next;
}

Result<BrowserSession> SessionManager::add_account(const BrowserSession& current,
                                                   const std::string& account_key) {
  BrowserSession next;
  next.account_keys = current.account_keys;
  std::erase(next.account_keys, account_key);
  next.account_keys.push_back(account_key);
  next.admin = current.admin;
  next.admin_until = current.admin_until;
  next.expires_at = now() + kSessionLifetime;
  if (next.admin && next.admin_until > next.expires_at) next.expires_at = next.admin_until;
  return replace(current, std::move(next));
}

Result<BrowserSession> SessionManager::sign_in_admin(const BrowserSession& current) {
  BrowserSession next;
  next.account_keys = current.account_keys;
  next.admin = true;
  next.admin_until = now() + kAdminLifetime;
  next.expires_at = current.stored ? std::max(current.expires_at, next.admin_until) : next.admin_until;
  return replace(current, std::move(next));
}

Result<BrowserSession> SessionManager::sign_out_admin(const BrowserSession& current) {
  BrowserSession next;
  next.account_keys = current.account_keys;
  next.expires_at = current.expires_at;
  return replace(current, std::move(next));
}

Result<BrowserSession> SessionManager::sign_out(const BrowserSession& current) {
  return replace(current, BrowserSession{});
}

std::string SessionManager::csrf_token(const BrowserSession& session) const {
  return crypto::base64url_encode(crypto::hmac_sha256(csrf_key_, "csrf\n" + session.id));
}

bool SessionManager::csrf_valid(const BrowserSession& session, std::string_view token) const {
  return crypto::constant_time_equal(csrf_token(session), token);
}

Result<std::size_t> SessionManager::purge_expired() {
  const std::int64_t current = to_seconds(now());
  std::vector<std::string> expired;
  auto walked = store_.for_each_prefix(
      store::Family::web_sessions, kSessionKeyPrefix, [&](std::string_view key, std::string_view value) {
        BrowserSession session;
        if (!decode_record(value, session) || to_seconds(session.expires_at) <= current) {
          expired.emplace_back(key);
        }
        return true;
      });
  if (!walked) return walked.error();
  if (expired.empty()) return std::size_t{0};
  store::WriteBatch batch = store_.batch();
  for (const std::string& key : expired) batch.del(store::Family::web_sessions, key);
  if (auto written = store_.write(batch, false); !written) return written.error();
  return expired.size();
}

void SessionManager::maybe_purge() {
  {
    std::lock_guard lock(purge_mutex_);
    const TimePoint current = now();
    if (current - last_purge_ < std::chrono::hours(1)) return;
    last_purge_ = current;
  }
  if (auto purged = purge_expired(); !purged) {
    log::warn("cannot purge expired browser sessions", {{"error", purged.error().message}});
  } else if (*purged > 0) {
    log::debug("purged expired browser sessions", {{"count", *purged}});
  }
}

}  // namespace mailtrixy::web
