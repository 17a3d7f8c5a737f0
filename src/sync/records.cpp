#include "mailtrixy/sync/records.hpp"

#include <rapidjson/document.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cctype>
#include <cstdio>
#include <map>
#include <set>

namespace mailtrixy::sync {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void write_string(Writer& w, const char* name, std::string_view value) {
  w.Key(name);
  w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
}

std::string get_string(const rapidjson::Value& v, const char* name) {
  auto it = v.FindMember(name);
  if (it == v.MemberEnd() || !it->value.IsString()) return {};
  return {it->value.GetString(), it->value.GetStringLength()};
}
std::int64_t get_int(const rapidjson::Value& v, const char* name) {
  auto it = v.FindMember(name);
  if (it == v.MemberEnd() || !it->value.IsInt64()) return 0;
  return it->value.GetInt64();
}
bool get_bool(const rapidjson::Value& v, const char* name) {
  auto it = v.FindMember(name);
  return it != v.MemberEnd() && it->value.IsBool() && it->value.GetBool();
}

void write_addresses(Writer& w, const char* name, const std::vector<mail::Address>& list) {
  w.Key(name);
  w.StartArray();
  for (const auto& a : list) {
    w.StartArray();
    w.String(a.name.data(), static_cast<rapidjson::SizeType>(a.name.size()));
    w.String(a.address.data(), static_cast<rapidjson::SizeType>(a.address.size()));
    w.EndArray();
  }
  w.EndArray();
}
std::vector<mail::Address> get_addresses(const rapidjson::Value& v, const char* name) {
  std::vector<mail::Address> out;
  auto it = v.FindMember(name);
  if (it == v.MemberEnd() || !it->value.IsArray()) return out;
  for (const auto& item : it->value.GetArray()) {
    if (!item.IsArray() || item.Size() != 2 || !item[0].IsString() || !item[1].IsString()) continue;
    out.push_back({item[0].GetString(), item[1].GetString()});
  }
  return out;
}

std::string padded_uid(std::uint32_t uid) {
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "%010u", uid);
  return buffer;
}

std::optional<std::uint32_t> parse_uint(std::string_view text) {
  std::uint32_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

bool has_member(const rapidjson::Value& v, const char* name) {
  auto it = v.FindMember(name);
  return it != v.MemberEnd() && !it->value.IsNull();
}

}  // namespace

std::string encode_id(std::string_view id) {
  std::string out;
  out.reserve(id.size());
  for (char c : id) {
    if (c == '/') out += "%2F";
    else if (c == '%') out += "%25";
    else if (c == '#') out += "%23";
    else out += c;
  }
  return out;
}

std::string decode_id(std::string_view encoded) {
  std::string out;
  for (std::size_t i = 0; i < encoded.size(); ++i) {
    if (encoded[i] == '%' && i + 2 < encoded.size()) {
      std::string_view code = encoded.substr(i + 1, 2);
      if (code == "2F") { out += '/'; i += 2; continue; }
      if (code == "25") { out += '%'; i += 2; continue; }
      if (code == "23") { out += '#'; i += 2; continue; }
    }
    out += encoded[i];
  }
  return out;
}

std::string to_json(const FolderRecord& f) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  write_string(w, "id", f.id);
  write_string(w, "parent_id", f.parent_id);
  write_string(w, "path", f.path);
  write_string(w, "display_name", f.display_name);
  w.Key("special_use"); w.Int(static_cast<int>(f.special_use));
  w.Key("uidvalidity"); w.Int64(f.uidvalidity);
  w.Key("uidnext"); w.Int64(f.uidnext);
  write_string(w, "delta_link", f.delta_link);
  w.Key("initial_sync_complete"); w.Bool(f.initial_sync_complete);
  w.Key("last_sync_ms"); w.Int64(f.last_sync_ms);
  w.Key("total"); w.Int64(f.total);
  w.Key("unread"); w.Int64(f.unread);
  w.EndObject();
  return buffer.GetString();
}

Result<FolderRecord> folder_from_json(std::string_view json) {
  rapidjson::Document d;
  d.Parse(json.data(), json.size());
  if (d.HasParseError() || !d.IsObject())
    return make_error("a folder record in the store is not valid JSON; remove the account and sign in again to rebuild it");
  FolderRecord f;
  f.id = get_string(d, "id");
  f.parent_id = get_string(d, "parent_id");
  f.path = get_string(d, "path");
  f.display_name = get_string(d, "display_name");
  auto use = get_int(d, "special_use");
  if (use >= 0 && use <= static_cast<int>(mail::SpecialUse::archive)) f.special_use = static_cast<mail::SpecialUse>(use);
  f.uidvalidity = static_cast<std::uint32_t>(get_int(d, "uidvalidity"));
  f.uidnext = static_cast<std::uint32_t>(get_int(d, "uidnext"));
  f.delta_link = get_string(d, "delta_link");
  f.initial_sync_complete = get_bool(d, "initial_sync_complete");
  f.last_sync_ms = get_int(d, "last_sync_ms");
  f.total = static_cast<std::uint32_t>(get_int(d, "total"));
  f.unread = static_cast<std::uint32_t>(get_int(d, "unread"));
  if (f.id.empty() || f.uidvalidity == 0 || f.uidnext == 0)
    return make_error("a folder record in the store lacks its id, UIDVALIDITY or UIDNEXT; remove the account and sign in again to rebuild it");
  return f;
}

std::string to_json(const MessageRecord& m) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  w.Key("uid"); w.Uint(m.uid.value());
  write_string(w, "id", m.graph_id.value());
  w.Key("flags"); w.Uint(m.flags.system_bits());
  w.Key("keywords");
  w.StartArray();
  for (const auto& k : m.flags.keywords()) w.String(k.data(), static_cast<rapidjson::SizeType>(k.size()));
  w.EndArray();
  w.Key("internal_date"); w.Int64(m.internal_date.time_since_epoch().count());
  if (m.rfc822_size) { w.Key("size"); w.Uint64(*m.rfc822_size); }
  const auto& e = m.envelope;
  if (e.date) { w.Key("date"); w.Int64(e.date->time_since_epoch().count()); }
  write_string(w, "subject", e.subject);
  write_addresses(w, "from", e.from);
  write_addresses(w, "sender", e.sender);
  write_addresses(w, "reply_to", e.reply_to);
  write_addresses(w, "to", e.to);
  write_addresses(w, "cc", e.cc);
  write_addresses(w, "bcc", e.bcc);
  write_string(w, "in_reply_to", e.in_reply_to);
  write_string(w, "message_id", e.message_id);
  w.EndObject();
  return buffer.GetString();
}

namespace {

// SAX handler for message_flags_from_json: takes "uid", "flags" and the "keywords" strings, and
// stops the parse (returns false) at the first key after "keywords".
struct FlagsOnlyHandler : rapidjson::BaseReaderHandler<rapidjson::UTF8<>, FlagsOnlyHandler> {
  enum class Field { other, uid, flags, keywords };
  Field field = Field::other;
  int depth = 0;
  bool in_keywords = false;
  bool keywords_done = false;
  bool have_uid = false;
  bool have_flags = false;
  std::uint32_t uid = 0;
  std::uint32_t bits = 0;
  std::vector<std::string> keywords;

  bool Key(const char* text, rapidjson::SizeType length, bool) {
    if (depth != 1) return true;
    if (keywords_done) return false;  // everything needed has been read
    const std::string_view key(text, length);
    field = key == "uid" ? Field::uid : key == "flags" ? Field::flags : key == "keywords" ? Field::keywords : Field::other;
    return true;
  }
  bool Uint(unsigned value) {
    if (depth == 1 && field == Field::uid) { uid = value; have_uid = true; }
    if (depth == 1 && field == Field::flags) { bits = value; have_flags = true; }
    return true;
  }
  bool Int(int value) { return value >= 0 ? Uint(static_cast<unsigned>(value)) : true; }
  bool String(const char* text, rapidjson::SizeType length, bool) {
    if (in_keywords) keywords.emplace_back(text, length);
    return true;
  }
  bool StartObject() { ++depth; return true; }
  bool EndObject(rapidjson::SizeType) { --depth; return true; }
  bool StartArray() {
    if (depth == 1 && field == Field::keywords) in_keywords = true;
    ++depth;
    return true;
  }
  bool EndArray(rapidjson::SizeType) {
    --depth;
    if (in_keywords) {
      in_keywords = false;
      keywords_done = true;
    }
    return true;
  }
  bool Default() { return true; }
};

}  // namespace

Result<mail::MessageFlags> message_flags_from_json(std::string_view json) {
  FlagsOnlyHandler handler;
  rapidjson::Reader reader;
  rapidjson::MemoryStream stream(json.data(), json.size());
  reader.Parse(stream, handler);  // stops early by design: success is judged by what was read
  if (!handler.have_uid || !handler.have_flags || (reader.HasParseError() && !handler.keywords_done))
    return make_error("A message record in the database is damaged (no UID or flags).");
  mail::MessageFlags out;
  out.uid = mail::Uid(handler.uid);
  for (auto flag : {mail::SystemFlag::seen, mail::SystemFlag::answered, mail::SystemFlag::flagged,
                    mail::SystemFlag::deleted, mail::SystemFlag::draft, mail::SystemFlag::forwarded})
    if (handler.bits & static_cast<std::uint32_t>(flag)) out.flags.set(flag);
  for (const auto& keyword : handler.keywords) out.flags.add_keyword(keyword);
  return out;
}

Result<MessageRecord> message_from_json(std::string_view json) {
  rapidjson::Document d;
  d.Parse(json.data(), json.size());
  if (d.HasParseError() || !d.IsObject())
    return make_error("a message record in the store is not valid JSON; remove the account and sign in again to rebuild it");
  MessageRecord m;
  m.uid = mail::Uid(static_cast<std::uint32_t>(get_int(d, "uid")));
  m.graph_id = mail::GraphId(get_string(d, "id"));
  auto bits = static_cast<std::uint32_t>(get_int(d, "flags"));
  for (auto flag : {mail::SystemFlag::seen, mail::SystemFlag::answered, mail::SystemFlag::flagged,
                    mail::SystemFlag::deleted, mail::SystemFlag::draft, mail::SystemFlag::forwarded})
    if (bits & static_cast<std::uint32_t>(flag)) m.flags.set(flag);
  if (auto it = d.FindMember("keywords"); it != d.MemberEnd() && it->value.IsArray())
    for (const auto& k : it->value.GetArray())
      if (k.IsString()) m.flags.add_keyword(std::string_view(k.GetString(), k.GetStringLength()));
  m.internal_date = mail::TimePoint(std::chrono::seconds(get_int(d, "internal_date")));
  if (auto it = d.FindMember("size"); it != d.MemberEnd() && it->value.IsUint64()) m.rfc822_size = it->value.GetUint64();
  auto& e = m.envelope;
  if (has_member(d, "date")) e.date = mail::TimePoint(std::chrono::seconds(get_int(d, "date")));
  e.subject = get_string(d, "subject");
  e.from = get_addresses(d, "from");
  e.sender = get_addresses(d, "sender");
  e.reply_to = get_addresses(d, "reply_to");
  e.to = get_addresses(d, "to");
  e.cc = get_addresses(d, "cc");
  e.bcc = get_addresses(d, "bcc");
  e.in_reply_to = get_string(d, "in_reply_to");
  e.message_id = get_string(d, "message_id");
  if (m.uid.value() == 0 || m.graph_id.value().empty())
    return make_error("a message record in the store lacks its UID or id; remove the account and sign in again to rebuild it");
  return m;
}

std::string folder_key(std::string_view account, std::string_view folder_id) {
  return std::string(account) + "/" + encode_id(folder_id);
}
std::string folder_prefix(std::string_view account, std::string_view folder_id) {
  return folder_key(account, folder_id) + "/";
}
std::string uid_key(std::string_view account, std::string_view folder_id, std::uint32_t uid) {
  return folder_prefix(account, folder_id) + "u/" + padded_uid(uid);
}
std::string id_key(std::string_view account, std::string_view folder_id, std::string_view message_id) {
  return folder_prefix(account, folder_id) + "i/" + encode_id(message_id);
}
std::string message_key(std::string_view account, std::string_view folder_id, std::uint32_t uid) {
  return folder_prefix(account, folder_id) + padded_uid(uid);
}

AccountState::AccountState(store::Store& store, std::string account_key)
    : store_(store), account_(std::move(account_key)) {}

Result<std::vector<FolderRecord>> AccountState::folders() const {
  std::vector<FolderRecord> out;
  std::optional<Error> failure;
  const std::string prefix = account_ + "/";
  auto walked = store_.for_each_prefix(store::Family::folders, prefix, [&](std::string_view key, std::string_view value) {
    std::string_view rest = key.substr(prefix.size());
    if (rest.empty() || rest.front() == '#' || rest.find('/') != std::string_view::npos) return true;
    auto folder = folder_from_json(value);
    if (!folder) { failure = folder.error(); return false; }
    out.push_back(std::move(folder.value()));
    return true;
  });
  if (!walked) return walked.error();
  if (failure) return *failure;
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.path < b.path; });
  return out;
}

Result<std::optional<FolderRecord>> AccountState::folder(std::string_view folder_id) const {
  auto raw = store_.get(store::Family::folders, folder_key(account_, folder_id));
  if (!raw) return raw.error();
  if (!raw.value()) return std::optional<FolderRecord>{};
  auto folder = folder_from_json(*raw.value());
  if (!folder) return folder.error();
  return std::optional<FolderRecord>{std::move(folder.value())};
}

Result<std::optional<FolderRecord>> AccountState::folder_by_path(std::string_view path) const {
  auto all = folders();
  if (!all) return all.error();
  auto is_inbox = [](std::string_view p) {
    if (p.size() != 5) return false;
    for (std::size_t i = 0; i < 5; ++i)
      if (std::toupper(static_cast<unsigned char>(p[i])) != "INBOX"[i]) return false;
    return true;
  };
  for (auto& f : all.value())
    if (f.path == path || (is_inbox(path) && is_inbox(f.path))) return std::optional<FolderRecord>{f};
  return std::optional<FolderRecord>{};
}

Result<std::uint32_t> AccountState::next_uidvalidity(std::int64_t now_ms) {
  const std::string key = account_ + "/#uidvalidity";
  auto raw = store_.get(store::Family::folders, key);
  if (!raw) return raw.error();
  std::uint32_t last = 0;
  if (raw.value()) last = parse_uint(*raw.value()).value_or(0);
  // Seconds since the epoch when the folder was first seen: distinct from any value an earlier
  // installation of this account may have handed out to clients, and unique within the account.
  auto now_s = static_cast<std::uint32_t>(std::max<std::int64_t>(1, now_ms / 1000));
  std::uint32_t value = std::max(now_s, last + 1);
  auto stored = store_.put(store::Family::folders, key, std::to_string(value));
  if (!stored) return stored.error();
  return value;
}

Result<FolderRecord> AccountState::upsert_folder(FolderRecord tree, std::int64_t now_ms) {
  ++generation_;
  auto existing = folder(tree.id);
  if (!existing) return existing.error();
  FolderRecord record;
  if (existing.value()) {
    record = *existing.value();
    if (record.path == tree.path && record.parent_id == tree.parent_id &&
        record.display_name == tree.display_name && record.special_use == tree.special_use &&
        record.total == tree.total && record.unread == tree.unread)
      return record;
  } else {
    auto validity = next_uidvalidity(now_ms);
    if (!validity) return validity.error();
    record.id = tree.id;
    record.uidvalidity = validity.value();
    record.uidnext = 1;
  }
  record.parent_id = tree.parent_id;
  record.path = tree.path;
  record.display_name = tree.display_name;
  record.special_use = tree.special_use;
  record.total = tree.total;
  record.unread = tree.unread;
  auto stored = store_.put(store::Family::folders, folder_key(account_, record.id), to_json(record));
  if (!stored) return stored.error();
  return record;
}

Result<void> AccountState::remove_folder(std::string_view folder_id) {
  ++generation_;
  auto batch = store_.batch();
  batch.del(store::Family::folders, folder_key(account_, folder_id));
  const std::string prefix = folder_prefix(account_, folder_id);
  for (auto family : {store::Family::uids, store::Family::messages}) {
    auto walked = store_.for_each_prefix(family, prefix, [&](std::string_view key, std::string_view) {
      batch.del(family, key);
      return true;
    });
    if (!walked) return walked.error();
  }
  return store_.write(batch, false);
}

Result<std::vector<MessageRecord>> AccountState::messages(std::string_view folder_id) const {
  std::vector<MessageRecord> out;
  std::optional<Error> failure;
  const std::string prefix = folder_prefix(account_, folder_id);
  auto walked = store_.for_each_prefix(store::Family::messages, prefix, [&](std::string_view, std::string_view value) {
    auto m = message_from_json(value);
    if (!m) { failure = m.error(); return false; }
    out.push_back(std::move(m.value()));
    return true;
  });
  if (!walked) return walked.error();
  if (failure) return *failure;
  return out;
}

Result<std::optional<MessageRecord>> AccountState::message(std::string_view folder_id, std::uint32_t uid) const {
  auto raw = store_.get(store::Family::messages, message_key(account_, folder_id, uid));
  if (!raw) return raw.error();
  if (!raw.value()) return std::optional<MessageRecord>{};
  auto m = message_from_json(*raw.value());
  if (!m) return m.error();
  return std::optional<MessageRecord>{std::move(m.value())};
}

Result<std::optional<std::uint32_t>> AccountState::uid_of(std::string_view folder_id, std::string_view message_id) const {
  auto raw = store_.get(store::Family::uids, id_key(account_, folder_id, message_id));
  if (!raw) return raw.error();
  if (!raw.value()) return std::optional<std::uint32_t>{};
  return parse_uint(*raw.value());
}

Result<AccountState::Applied> AccountState::apply(std::string_view folder_id, const Changes& changes) {
  ++generation_;
  auto current = folder(folder_id);
  if (!current) return current.error();
  if (!current.value())
    return make_error("the folder to sync is not in the store; the folder tree must be listed first");
  FolderRecord record = *current.value();
  auto existing = messages(folder_id);
  if (!existing) return existing.error();
  std::map<std::string, MessageRecord> by_id;
  for (auto& m : existing.value()) by_id.emplace(m.graph_id.value(), std::move(m));

  Applied applied;
  auto batch = store_.batch();
  auto expunge = [&](const MessageRecord& m) {
    batch.del(store::Family::messages, message_key(account_, folder_id, m.uid.value()));
    batch.del(store::Family::uids, uid_key(account_, folder_id, m.uid.value()));
    batch.del(store::Family::uids, id_key(account_, folder_id, m.graph_id.value()));
    applied.expunged.push_back(m);
  };
  for (const auto& id : changes.removed) {
    auto it = by_id.find(id);
    if (it == by_id.end()) continue;
    expunge(it->second);
    by_id.erase(it);
  }
  // Graph may list an id more than once in a page; the last occurrence wins.
  std::map<std::string, std::size_t> last_index;
  for (std::size_t i = 0; i < changes.upserts.size(); ++i) last_index[changes.upserts[i].graph_id.value()] = i;
  for (std::size_t i = 0; i < changes.upserts.size(); ++i) {
    MessageRecord incoming = changes.upserts[i];
    const std::string& id = incoming.graph_id.value();
    if (id.empty() || last_index[id] != i) continue;
    auto it = by_id.find(id);
    if (it != by_id.end()) {
      incoming.uid = it->second.uid;
      incoming.flags.set(mail::SystemFlag::deleted, it->second.flags.has(mail::SystemFlag::deleted));
      if (!incoming.rfc822_size) incoming.rfc822_size = it->second.rfc822_size;
      if (incoming == it->second) continue;
      batch.put(store::Family::messages, message_key(account_, folder_id, incoming.uid.value()), to_json(incoming));
      it->second = incoming;
      applied.changed.push_back(std::move(incoming));
    } else {
      incoming.uid = mail::Uid(record.uidnext++);
      incoming.flags.clear(mail::SystemFlag::deleted);
      batch.put(store::Family::messages, message_key(account_, folder_id, incoming.uid.value()), to_json(incoming));
      batch.put(store::Family::uids, uid_key(account_, folder_id, incoming.uid.value()), id);
      batch.put(store::Family::uids, id_key(account_, folder_id, id), std::to_string(incoming.uid.value()));
      by_id.emplace(id, incoming);
      applied.added.push_back(std::move(incoming));
    }
  }
  if (changes.expunge_unseen_below) {
    for (const auto& [id, m] : by_id) {
      if (m.uid.value() >= *changes.expunge_unseen_below) continue;
      if (changes.seen_ids && changes.seen_ids->count(id)) continue;
      if (last_index.count(id)) continue;
      expunge(m);
    }
  }
  std::sort(applied.expunged.begin(), applied.expunged.end(),
            [](const auto& x, const auto& y) { return x.uid < y.uid; });
  if (changes.delta_link) record.delta_link = *changes.delta_link;
  if (changes.round_complete) {
    record.initial_sync_complete = true;
    record.last_sync_ms = changes.now_ms;
  }
  batch.put(store::Family::folders, folder_key(account_, folder_id), to_json(record));
  auto written = store_.write(batch, false);
  if (!written) return written.error();
  return applied;
}

Result<void> AccountState::put_message(std::string_view folder_id, const MessageRecord& message) {
  ++generation_;
  auto batch = store_.batch();
  batch.put(store::Family::messages, message_key(account_, folder_id, message.uid.value()), to_json(message));
  batch.put(store::Family::uids, uid_key(account_, folder_id, message.uid.value()), message.graph_id.value());
  batch.put(store::Family::uids, id_key(account_, folder_id, message.graph_id.value()), std::to_string(message.uid.value()));
  return store_.write(batch, false);
}

Result<std::uint32_t> AccountState::add_local(std::string_view folder_id, MessageRecord message) {
  ++generation_;
  auto current = folder(folder_id);
  if (!current) return current.error();
  if (!current.value()) return make_error("the target folder is not in the store; list the folders first");
  auto known = uid_of(folder_id, message.graph_id.value());
  if (!known) return known.error();
  if (known.value()) return *known.value();
  FolderRecord record = *current.value();
  message.uid = mail::Uid(record.uidnext++);
  auto batch = store_.batch();
  batch.put(store::Family::messages, message_key(account_, folder_id, message.uid.value()), to_json(message));
  batch.put(store::Family::uids, uid_key(account_, folder_id, message.uid.value()), message.graph_id.value());
  batch.put(store::Family::uids, id_key(account_, folder_id, message.graph_id.value()), std::to_string(message.uid.value()));
  batch.put(store::Family::folders, folder_key(account_, folder_id), to_json(record));
  auto written = store_.write(batch, false);
  if (!written) return written.error();
  return message.uid.value();
}

Result<void> AccountState::remove_uids(std::string_view folder_id, const std::vector<std::uint32_t>& uids) {
  ++generation_;
  auto batch = store_.batch();
  for (auto uid : uids) {
    auto m = message(folder_id, uid);
    if (!m) return m.error();
    if (!m.value()) continue;
    batch.del(store::Family::messages, message_key(account_, folder_id, uid));
    batch.del(store::Family::uids, uid_key(account_, folder_id, uid));
    batch.del(store::Family::uids, id_key(account_, folder_id, m.value()->graph_id.value()));
  }
  return store_.write(batch, false);
}

Result<void> AccountState::set_subscribed(std::string_view path, bool subscribed) {
  const std::string key = account_ + "/#sub/" + std::string(path);
  if (subscribed) return store_.put(store::Family::folders, key, "");
  return store_.del(store::Family::folders, key);
}

Result<std::vector<std::string>> AccountState::subscribed() const {
  std::vector<std::string> out;
  const std::string prefix = account_ + "/#sub/";
  auto walked = store_.for_each_prefix(store::Family::folders, prefix, [&](std::string_view key, std::string_view) {
    out.emplace_back(key.substr(prefix.size()));
    return true;
  });
  if (!walked) return walked.error();
  return out;
}

Result<void> AccountState::reset_delta(std::string_view folder_id) {
  ++generation_;
  auto current = folder(folder_id);
  if (!current) return current.error();
  if (!current.value()) return {};
  FolderRecord record = *current.value();
  record.delta_link.clear();
  return store_.put(store::Family::folders, folder_key(account_, folder_id), to_json(record));
}

}  // namespace mailtrixy::sync
