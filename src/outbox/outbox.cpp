#include "mailtrixy/outbox/outbox.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>

#include "mailtrixy/base/log.hpp"
#include "mailtrixy/crypto/encoding.hpp"
#include "mailtrixy/crypto/random.hpp"
#include "mailtrixy/mail/envelope.hpp"
#include "mailtrixy/outbox/message_rewrite.hpp"

namespace mailtrixy::outbox {
namespace {

using mail::ErrorCode;
using mail::MailResult;
using mail::make_mail_error;

constexpr std::string_view kMetaPrefix = "meta/";
constexpr std::string_view kMimePrefix = "mime/";

std::int64_t system_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string make_queue_id(std::int64_t now_ms) {
  char time_part[32];
  std::snprintf(time_part, sizeof time_part, "%012" PRIx64, static_cast<std::uint64_t>(now_ms));
  return "q" + std::string(time_part) + crypto::hex_encode(crypto::random_bytes(4));
}

std::optional<EntryState> parse_state(std::string_view text) {
  for (EntryState state : {EntryState::queued, EntryState::deferred, EntryState::sending, EntryState::bouncing}) {
    if (to_string(state) == text) return state;
  }
  return std::nullopt;
}

std::string serialise(const QueueEntry& entry) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  auto string_field = [&](const char* key, std::string_view value) {
    writer.Key(key);
    writer.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
  };
  writer.StartObject();
  string_field("id", entry.id);
  string_field("account", entry.account_key);
  string_field("from", entry.envelope_from);
  writer.Key("recipients");
  writer.StartArray();
  for (const auto& recipient : entry.recipients) writer.String(recipient.c_str());
  writer.EndArray();
  string_field("message_id", entry.message_id);
  writer.Key("size");
  writer.Uint64(entry.size);
  string_field("client", entry.client);
  string_field("state", to_string(entry.state));
  writer.Key("attempts");
  writer.Int(entry.attempts);
  writer.Key("created_ms");
  writer.Int64(entry.created_ms);
  writer.Key("next_attempt_ms");
  writer.Int64(entry.next_attempt_ms);
  string_field("last_error", entry.last_error);
  string_field("bounce_status", entry.bounce_status);
  writer.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

Result<QueueEntry> parse_entry(std::string_view key, std::string_view text) {
  rapidjson::Document document;
  document.Parse(text.data(), text.size());
  auto bad = [&] {
    return make_error("the outbox record " + std::string(key) +
                      " is damaged; drop it with `mailtrixy queue drop` or restore the database");
  };
  if (document.HasParseError() || !document.IsObject()) return bad();
  auto text_of = [&](const char* name) -> std::string {
    const auto it = document.FindMember(name);
    return it != document.MemberEnd() && it->value.IsString()
               ? std::string(it->value.GetString(), it->value.GetStringLength())
               : std::string();
  };
  auto int64_of = [&](const char* name) -> std::int64_t {
    const auto it = document.FindMember(name);
    return it != document.MemberEnd() && it->value.IsInt64() ? it->value.GetInt64() : 0;
  };
  QueueEntry entry;
  entry.id = text_of("id");
  entry.account_key = text_of("account");
  entry.envelope_from = text_of("from");
  entry.message_id = text_of("message_id");
  entry.client = text_of("client");
  entry.last_error = text_of("last_error");
  entry.bounce_status = text_of("bounce_status");
  entry.size = static_cast<std::uint64_t>(int64_of("size"));
  entry.attempts = static_cast<int>(int64_of("attempts"));
  entry.created_ms = int64_of("created_ms");
  entry.next_attempt_ms = int64_of("next_attempt_ms");
  const auto state = parse_state(text_of("state"));
  const auto recipients = document.FindMember("recipients");
  if (entry.id.empty() || entry.account_key.empty() || !state || recipients == document.MemberEnd() ||
      !recipients->value.IsArray()) {
    return bad();
  }
  entry.state = *state;
  for (const auto& recipient : recipients->value.GetArray()) {
    if (recipient.IsString()) entry.recipients.emplace_back(recipient.GetString(), recipient.GetStringLength());
  }
  return entry;
}

bool permanent(ErrorCode code) {
  switch (code) {
    case ErrorCode::invalid:
    case ErrorCode::too_big:
    case ErrorCode::no_permission:
    case ErrorCode::not_found:
    case ErrorCode::not_supported:
    case ErrorCode::already_exists:
      return true;
    default:
      return false;
  }
}

// RFC 3463 status for a permanent failure.
std::string status_for(ErrorCode code) {
  switch (code) {
    case ErrorCode::too_big: return "5.3.4";
    case ErrorCode::no_permission: return "5.7.1";
    case ErrorCode::invalid: return "5.6.0";
    case ErrorCode::not_found: return "5.1.1";
    default: return "5.0.0";
  }
}

}  // namespace

std::string_view to_string(EntryState state) {
  switch (state) {
    case EntryState::queued: return "queued";
    case EntryState::deferred: return "deferred";
    case EntryState::sending: return "sending";
    case EntryState::bouncing: return "bouncing";
  }
  return "queued";
}

std::string metrics_text(const OutboxStats& stats) {
  std::string out;
  auto metric = [&](const char* name, const char* type, const char* help, std::uint64_t value) {
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n" + name + " " +
           std::to_string(value) + "\n";
  };
  metric("mailtrixy_queue_messages", "gauge", "Messages in the outbound queue.", stats.backlog);
  metric("mailtrixy_queue_enqueued_total", "counter", "Messages accepted into the outbound queue.", stats.enqueued);
  metric("mailtrixy_queue_sent_total", "counter", "Messages Microsoft accepted for sending.", stats.sent);
  metric("mailtrixy_queue_found_sent_total", "counter",
         "Messages whose outcome was unknown and that were found in Sent Items instead of being resent.",
         stats.found_already_sent);
  metric("mailtrixy_queue_deferred_total", "counter", "Delivery attempts that failed and will be retried.",
         stats.deferred);
  metric("mailtrixy_queue_bounced_total", "counter", "Messages given up, with a bounce in the sender's Inbox.",
         stats.bounced);
  return out;
}

std::string meta_key(std::string_view id) { return std::string(kMetaPrefix) + std::string(id); }
std::string mime_key(std::string_view id) { return std::string(kMimePrefix) + std::string(id); }

struct Outbox::Worker {
  std::shared_ptr<DeliveryChannel> channel;
  std::vector<std::thread> threads;
  bool stopping = false;
};

Outbox::Outbox(store::Store& store, OutboxOptions options) : store_(store), options_(std::move(options)) {
  if (options_.parallel_sends < 1) options_.parallel_sends = 1;
  if (options_.backoff_initial.count() < 1) options_.backoff_initial = std::chrono::milliseconds(1);
  if (options_.backoff_max < options_.backoff_initial) options_.backoff_max = options_.backoff_initial;
}

Result<std::unique_ptr<Outbox>> Outbox::open(store::Store& store, OutboxOptions options) {
  auto entries = list(store);
  if (!entries) return entries.error();
  std::unique_ptr<Outbox> outbox(new Outbox(store, std::move(options)));
  for (auto& entry : *entries) outbox->entries_.emplace(entry.id, std::move(entry));
  outbox->stats_.backlog = outbox->entries_.size();
  if (!outbox->entries_.empty()) {
    log::info("outbound queue loaded", {{"messages", outbox->entries_.size()}});
  }
  return outbox;
}

Outbox::~Outbox() { stop(); }

std::int64_t Outbox::now() const { return options_.now_ms ? options_.now_ms() : system_now_ms(); }

Result<std::vector<QueueEntry>> Outbox::list(const store::Store& store) {
  std::vector<QueueEntry> entries;
  store::Cursor cursor = store.cursor(store::Family::outbox);
  for (cursor.seek(kMetaPrefix); cursor.valid() && cursor.key().starts_with(kMetaPrefix); cursor.next()) {
    const std::string key(cursor.key());
    auto value = cursor.decrypted_value();
    auto entry = value ? parse_entry(key, *value) : Result<QueueEntry>(value.error());
    if (!entry) {
      // Kept visible (and droppable) instead of stopping the bridge; no worker takes it, since
      // it names no account.
      log::error("damaged outbound queue record", {{"key", key}, {"error", entry.error().message}});
      QueueEntry damaged;
      damaged.id = key.substr(kMetaPrefix.size());
      damaged.last_error = "damaged record (" + entry.error().message + "); drop it with `mailtrixy queue drop`";
      entries.push_back(std::move(damaged));
      continue;
    }
    entries.push_back(std::move(entry).value());
  }
  if (auto status = cursor.status(); !status) {
    return make_error("cannot read the outbound queue: " + status.error().message);
  }
  return entries;
}

MailResult<std::string> Outbox::enqueue(mail::Submission submission) {
  if (submission.account_key.empty()) {
    return make_mail_error(ErrorCode::invalid, "The submission names no account; authenticate first.");
  }
  if (submission.recipients.empty()) {
    return make_mail_error(ErrorCode::invalid, "The message has no recipients; give at least one RCPT TO.");
  }
  if (submission.mime.size() > options_.max_message_bytes) {
    return make_mail_error(ErrorCode::too_big, "The message is larger than the " +
                                                   std::to_string(options_.max_message_bytes) +
                                                   " bytes this bridge accepts (smtp.max_message_bytes).");
  }
  if (auto valid = mail::validate_message(submission.mime); !valid) return valid.error();

  QueueEntry entry;
  entry.created_ms = now();
  entry.id = make_queue_id(entry.created_ms);
  entry.account_key = std::move(submission.account_key);
  entry.envelope_from = std::move(submission.envelope_from);
  entry.recipients = std::move(submission.recipients);
  entry.client = std::move(submission.client);
  std::string mime = std::move(submission.mime);
  if (auto existing = message_id_of(mime)) {
    entry.message_id = *existing;
  } else {
    entry.message_id = make_message_id(entry.id, entry.envelope_from);
    mime = add_message_id(mime, entry.message_id);
  }
  entry.size = mime.size();

  store::WriteBatch batch = store_.batch();
  batch.put_encrypted(store::Family::outbox, meta_key(entry.id), serialise(entry));
  batch.put_encrypted(store::Family::outbox, mime_key(entry.id), mime);
  if (auto written = store_.write(batch, true); !written) {
    log::error("could not store a submitted message", {{"account", entry.account_key}, {"error", written.error().message}});
    return make_mail_error(ErrorCode::unavailable,
                           "The bridge could not store the message; try again later.");
  }
  log::info("message queued", {{"queue_id", entry.id},
                               {"account", entry.account_key},
                               {"recipients", entry.recipients.size()},
                               {"bytes", entry.size},
                               {"client", entry.client}});
  std::string id = entry.id;
  {
    std::lock_guard lock(mutex_);
    entries_.emplace(id, std::move(entry));
    ++stats_.enqueued;
    stats_.backlog = entries_.size();
  }
  changed_.notify_all();
  return id;
}

void Outbox::start_account(const std::string& account_key, std::shared_ptr<DeliveryChannel> channel) {
  stop_account(account_key);
  auto worker = std::make_shared<Worker>();
  worker->channel = std::move(channel);
  std::lock_guard lock(mutex_);
  if (stopped_) return;
  for (int i = 0; i < options_.parallel_sends; ++i) {
    worker->threads.emplace_back([this, account_key, worker] { run_worker(account_key, worker); });
  }
  workers_[account_key] = worker;
}

void Outbox::stop_account(const std::string& account_key) {
  std::shared_ptr<Worker> worker;
  {
    std::lock_guard lock(mutex_);
    const auto it = workers_.find(account_key);
    if (it == workers_.end()) return;
    worker = it->second;
    worker->stopping = true;
    workers_.erase(it);
  }
  changed_.notify_all();
  if (worker->channel) worker->channel->cancel();
  for (auto& thread : worker->threads) thread.join();
}

void Outbox::stop() {
  std::vector<std::string> accounts;
  {
    std::lock_guard lock(mutex_);
    stopped_ = true;
    for (const auto& [key, worker] : workers_) accounts.push_back(key);
  }
  for (const auto& key : accounts) stop_account(key);
}

std::optional<QueueEntry> Outbox::take_due(const std::string& account_key, const Worker& worker,
                                           std::unique_lock<std::mutex>& lock) {
  // Waits are bounded so an injected clock (tests) is noticed without a notification.
  constexpr std::int64_t kMaxWaitMs = 1000;
  while (!worker.stopping) {
    const std::int64_t current = now();
    std::int64_t earliest = current + kMaxWaitMs;
    for (auto& [id, entry] : entries_) {
      if (entry.account_key != account_key || busy_.contains(id)) continue;
      if (entry.next_attempt_ms <= current) {
        busy_[id] = true;
        return entry;
      }
      earliest = std::min(earliest, entry.next_attempt_ms);
    }
    changed_.wait_for(lock, std::chrono::milliseconds(std::clamp<std::int64_t>(earliest - current, 1, kMaxWaitMs)));
  }
  return std::nullopt;
}

void Outbox::run_worker(const std::string& account_key, std::shared_ptr<Worker> worker) {
  std::unique_lock lock(mutex_);
  while (true) {
    auto entry = take_due(account_key, *worker, lock);
    if (!entry) return;
    lock.unlock();
    try {
      attempt(*entry, *worker->channel);
    } catch (const std::exception& error) {
      // Never lose the entry to a bug: it is tried again later, and since the failure may have
      // come after Microsoft took the message, it is looked up in Sent Items first.
      log::error("outbound delivery attempt failed unexpectedly", {{"queue_id", entry->id}, {"error", error.what()}});
      QueueEntry copy = *entry;
      if (copy.state != EntryState::bouncing) copy.state = EntryState::sending;
      copy.next_attempt_ms = now() + options_.backoff_max.count();
      release(copy, false);
    }
    lock.lock();
  }
}

Result<void> Outbox::save(const QueueEntry& entry, bool sync) {
  store::WriteBatch batch = store_.batch();
  batch.put_encrypted(store::Family::outbox, meta_key(entry.id), serialise(entry));
  return store_.write(batch, sync);
}

void Outbox::release(const QueueEntry& entry, bool erase) {
  {
    std::lock_guard lock(mutex_);
    busy_.erase(entry.id);
    if (erase) {
      entries_.erase(entry.id);
    } else if (auto it = entries_.find(entry.id); it != entries_.end()) {
      it->second = entry;
    }
    stats_.backlog = entries_.size();
  }
  changed_.notify_all();
}

void Outbox::attempt(QueueEntry entry, DeliveryChannel& channel) {
  if (entry.state == EntryState::bouncing) {
    bounce(std::move(entry), channel);
    return;
  }
  if (entry.state == EntryState::sending) {
    // The last attempt's outcome is unknown: Sent Items tells whether Microsoft took it.
    auto sent = channel.already_sent(entry.message_id);
    if (!sent) {
      defer(std::move(entry), "could not check Sent Items before resending: " + sent.error().message, true);
      return;
    }
    if (*sent) {
      log::info("message found in Sent Items; not sending it again",
                {{"queue_id", entry.id}, {"account", entry.account_key}});
      finish(entry, false);
      return;
    }
  }
  const std::int64_t current = now();
  if (current - entry.created_ms >= options_.retry_for.count()) {
    entry.state = EntryState::bouncing;
    entry.bounce_status = "4.4.7";
    entry.last_error = "Microsoft did not accept the message within " +
                       std::to_string(options_.retry_for.count() / 1000) + " seconds (queue.retry_for)" +
                       (entry.last_error.empty() ? std::string(".") : "; the last error was: " + entry.last_error);
    (void)save(entry, false);
    bounce(std::move(entry), channel);
    return;
  }
  auto mime = store_.get_encrypted(store::Family::outbox, mime_key(entry.id));
  if (!mime) {
    defer(std::move(entry), "cannot read the stored message: " + mime.error().message, false);
    return;
  }
  if (!*mime) {
    log::error("a queued message has no stored body; dropping its entry", {{"queue_id", entry.id}});
    (void)store_.del(store::Family::outbox, meta_key(entry.id));
    release(entry, true);
    return;
  }
  // Recorded before Microsoft sees the message: after a crash from here on, the message is looked
  // up in Sent Items before it is sent again.
  entry.state = EntryState::sending;
  ++entry.attempts;
  if (auto saved = save(entry, false); !saved) {
    --entry.attempts;
    entry.state = EntryState::deferred;
    defer(std::move(entry), "cannot record the attempt: " + saved.error().message, false);
    return;
  }
  const std::string final_mime = apply_envelope(**mime, entry.recipients);
  bool may_have_been_sent = false;
  auto sent = channel.send(final_mime, &may_have_been_sent);
  if (sent) {
    log::info("message sent", {{"queue_id", entry.id},
                               {"account", entry.account_key},
                               {"attempts", entry.attempts},
                               {"recipients", entry.recipients.size()}});
    finish(entry, true);
    return;
  }
  if (permanent(sent.code()) && !may_have_been_sent) {
    entry.state = EntryState::bouncing;
    entry.bounce_status = status_for(sent.code());
    entry.last_error = sent.error().message;
    (void)save(entry, false);
    bounce(std::move(entry), channel);
    return;
  }
  defer(std::move(entry), sent.error().message, may_have_been_sent);
}

void Outbox::defer(QueueEntry entry, std::string reason, bool in_doubt) {
  if (entry.state != EntryState::bouncing) entry.state = in_doubt ? EntryState::sending : EntryState::deferred;
  entry.last_error = std::move(reason);
  const int exponent = std::clamp(entry.attempts - 1, 0, 30);
  std::int64_t delay = options_.backoff_initial.count();
  for (int i = 0; i < exponent && delay < options_.backoff_max.count(); ++i) delay *= 2;
  delay = std::min<std::int64_t>(delay, options_.backoff_max.count());
  std::int64_t next = now() + delay;
  // The attempt that gives up should come when retry_for ends, not a whole backoff later.
  if (entry.state != EntryState::bouncing) next = std::min(next, entry.created_ms + options_.retry_for.count());
  entry.next_attempt_ms = next;
  log::warn("delivery deferred", {{"queue_id", entry.id},
                                  {"account", entry.account_key},
                                  {"state", to_string(entry.state)},
                                  {"retry_in_ms", std::max<std::int64_t>(0, next - now())},
                                  {"reason", entry.last_error}});
  if (auto saved = save(entry, false); !saved) {
    log::error("cannot record a deferred delivery", {{"queue_id", entry.id}, {"error", saved.error().message}});
  }
  {
    std::lock_guard lock(mutex_);
    ++stats_.deferred;
  }
  release(entry, false);
}

void Outbox::bounce(QueueEntry entry, DeliveryChannel& channel) {
  auto mime = store_.get_encrypted(store::Family::outbox, mime_key(entry.id));
  BounceReport report;
  report.queue_id = entry.id;
  report.envelope_from = entry.envelope_from;
  report.recipients = entry.recipients;
  report.original_mime = mime && *mime ? **mime : std::string("Message-ID: " + entry.message_id + "\r\n\r\n");
  report.reason = entry.last_error.empty() ? "Microsoft refused the message." : entry.last_error;
  report.status = entry.bounce_status.empty() ? "5.0.0" : entry.bounce_status;
  report.arrival = std::chrono::system_clock::time_point(std::chrono::milliseconds(entry.created_ms));
  report.now = std::chrono::system_clock::now();
  auto delivered = channel.deliver_bounce(build_bounce(report));
  if (!delivered) {
    log::warn("could not put the bounce into the Inbox yet",
              {{"queue_id", report.queue_id}, {"error", delivered.error().message}});
    std::string reason = entry.last_error;
    defer(std::move(entry), std::move(reason), false);
    return;
  }
  log::warn("message bounced", {{"queue_id", entry.id}, {"account", entry.account_key}, {"reason", report.reason}});
  store::WriteBatch batch = store_.batch();
  batch.del(store::Family::outbox, meta_key(entry.id));
  batch.del(store::Family::outbox, mime_key(entry.id));
  if (auto written = store_.write(batch, false); !written) {
    log::error("cannot remove a bounced message from the queue", {{"queue_id", entry.id}});
  }
  {
    std::lock_guard lock(mutex_);
    ++stats_.bounced;
  }
  release(entry, true);
}

void Outbox::finish(const QueueEntry& entry, bool sent_now) {
  store::WriteBatch batch = store_.batch();
  batch.del(store::Family::outbox, meta_key(entry.id));
  batch.del(store::Family::outbox, mime_key(entry.id));
  // Not synced: should this deletion be lost, the entry comes back as `sending` and is found in
  // Sent Items instead of being sent twice.
  if (auto written = store_.write(batch, false); !written) {
    log::error("cannot remove a sent message from the queue", {{"queue_id", entry.id}, {"error", written.error().message}});
  }
  {
    std::lock_guard lock(mutex_);
    if (sent_now) {
      ++stats_.sent;
    } else {
      ++stats_.found_already_sent;
    }
    auto& recent = sent_recently_[entry.account_key];
    recent.emplace_back(entry.message_id, now());
    while (!recent.empty() && recent.front().second < now() - options_.sent_window.count()) recent.pop_front();
  }
  release(entry, true);
}

std::vector<QueueEntry> Outbox::list() const {
  std::lock_guard lock(mutex_);
  std::vector<QueueEntry> out;
  for (const auto& [id, entry] : entries_) out.push_back(entry);
  return out;
}

MailResult<QueueEntry> Outbox::retry(std::string_view id) {
  QueueEntry copy;
  {
    std::lock_guard lock(mutex_);
    const auto it = entries_.find(std::string(id));
    if (it == entries_.end()) {
      return make_mail_error(ErrorCode::not_found, "No queued message has the id " + std::string(id) +
                                                       "; `mailtrixy queue list` shows the queue.");
    }
    if (busy_.contains(it->first)) return it->second;  // being tried right now already
    it->second.next_attempt_ms = 0;
    copy = it->second;
    // Saved before a worker can take the entry: written after its delivery, the record would
    // come back from the dead.
    if (auto saved = save(copy, false); !saved) {
      return make_mail_error(ErrorCode::unavailable, "Cannot record the retry: " + saved.error().message);
    }
  }
  changed_.notify_all();
  log::info("queued message retried by the administrator", {{"queue_id", copy.id}});
  return copy;
}

MailResult<QueueEntry> Outbox::drop(std::string_view id) {
  QueueEntry copy;
  {
    std::lock_guard lock(mutex_);
    const auto it = entries_.find(std::string(id));
    if (it == entries_.end()) {
      return make_mail_error(ErrorCode::not_found, "No queued message has the id " + std::string(id) +
                                                       "; `mailtrixy queue list` shows the queue.");
    }
    if (busy_.contains(it->first)) {
      return make_mail_error(ErrorCode::unavailable, "The message " + std::string(id) +
                                                         " is being sent right now; try again in a moment.");
    }
    copy = it->second;
    store::WriteBatch batch = store_.batch();
    batch.del(store::Family::outbox, meta_key(copy.id));
    batch.del(store::Family::outbox, mime_key(copy.id));
    if (auto written = store_.write(batch, true); !written) {
      return make_mail_error(ErrorCode::unavailable, "Cannot remove the message: " + written.error().message);
    }
    entries_.erase(it);
    stats_.backlog = entries_.size();
  }
  changed_.notify_all();
  log::warn("queued message dropped by the administrator", {{"queue_id", copy.id}, {"account", copy.account_key}});
  return copy;
}

bool Outbox::recently_sent(std::string_view account_key, std::string_view message_id) const {
  std::lock_guard lock(mutex_);
  const auto it = sent_recently_.find(std::string(account_key));
  if (it == sent_recently_.end()) return false;
  const std::int64_t oldest = now() - options_.sent_window.count();
  return std::any_of(it->second.begin(), it->second.end(), [&](const auto& sent) {
    return sent.second >= oldest && sent.first == message_id;
  });
}

std::string Outbox::backlog_warning(std::chrono::milliseconds threshold) const {
  std::lock_guard lock(mutex_);
  const std::int64_t current = now();
  std::size_t waiting = 0;
  std::int64_t oldest = current;
  for (const auto& [id, entry] : entries_) {
    if (entry.account_key.empty() || current - entry.created_ms < threshold.count()) continue;
    ++waiting;
    oldest = std::min(oldest, entry.created_ms);
  }
  if (waiting == 0) return {};
  return "outbound queue: " + std::to_string(waiting) + " message" + (waiting == 1 ? "" : "s") +
         " waiting, the oldest for " + std::to_string((current - oldest) / 60000) +
         " minutes; `mailtrixy queue list` shows why";
}

OutboxStats Outbox::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

bool Outbox::wait_until_empty(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [this] { return entries_.empty(); });
}

}  // namespace mailtrixy::outbox
