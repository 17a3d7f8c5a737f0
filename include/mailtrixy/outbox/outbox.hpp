#pragma once
// Outbox: the durable outbound SMTP queue (mail::SubmissionQueue) and its delivery workers
// (spec §7; the design is docs/adr/0007-outbox-exactly-once.md, the user view docs/outbox.md).
//
// Enqueue. enqueue() checks the submission (recipients present, an RFC 5322 message, size within
// max_message_bytes), gives the message a Message-ID when it has none, and writes two records to
// the store's `outbox` family in ONE synced batch (fsync of the write-ahead log) before it
// returns the queue id:
//     "meta/<id>"  the entry (account, envelope, Message-ID, state, attempts, times, last error)
//     "mime/<id>"  the message as it will be sent (both encrypted with put_encrypted)
// Queue ids are "q" + 12 hex digits of milliseconds since the epoch + 8 random hex digits, so they
// sort by arrival.
//
// Delivery. start_account() starts `parallel_sends` worker threads for one account with its
// DeliveryChannel; they take due entries of that account in queue order. One attempt:
//   1. an entry in state `sending` is one whose last attempt's outcome is unknown (the bridge
//      died during it, or the network failed after the request went out): the channel is first
//      asked whether Sent Items already holds its Message-ID (and left-over drafts are deleted);
//      if it does, the entry is done and nothing is sent again;
//   2. an entry older than retry_for is given up (step 5);
//   3. the entry is recorded as `sending` (attempts + 1) BEFORE the message goes to Microsoft;
//   4. the message (To/Cc/Bcc made to agree with the envelope: message_rewrite.hpp) is sent;
//      success deletes both records; a transient failure (unavailable, needs_sign_in, quota,
//      internal) schedules the next attempt after an exponential backoff (backoff_initial
//      doubling to backoff_max) and records the reason; a failure after which Microsoft may
//      have sent it keeps the state `sending`, so step 1 runs before any resend;
//   5. a permanent failure (invalid, too_big, no_permission, not_found, not_supported) or the end
//      of retry_for turns the entry `bouncing`: a delivery status notification (RFC 3464) goes
//      into the sender's Inbox through the channel, retried like a send until it is there; then
//      the records are deleted.
// So a message is sent at most once per Message-ID, and at least once unless it bounces.
//
// Sent Items. recently_sent() tells, for `sent_window` after a send, that a Message-ID was sent
// by the queue: the IMAP side uses it to answer a client's APPEND of its own copy to Sent with
// the copy Microsoft already made (sync::SyncedMailbox::set_sent_copy_check).
//
// Administration (`mailtrixy queue list|retry|drop`): list() reads the records (also through
// the static overload on a read-only store), retry() makes a waiting entry due now, drop()
// deletes an entry that is not being sent at this moment.
//
// Threads: every public method is thread-safe; enqueue() blocks on the synced write. stop()
// (also the destructor) ends every worker after its current attempt.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "mailtrixy/base/result.hpp"
#include "mailtrixy/mail/error.hpp"
#include "mailtrixy/mail/submission.hpp"
#include "mailtrixy/store/store.hpp"

namespace mailtrixy::outbox {

// How one account's messages reach Microsoft; GraphDeliveryChannel (graph_channel.hpp) is the
// real one. Methods block and are called from the account's worker threads, several at once.
class DeliveryChannel {
 public:
  virtual ~DeliveryChannel() = default;
  // Sends the message as it is (headers already name exactly the recipients). On failure,
  // *may_have_been_sent tells whether Microsoft might have sent it all the same.
  virtual mail::MailResult<void> send(std::string_view mime, bool* may_have_been_sent) = 0;
  // Whether a message with this Message-ID was sent (is in Sent Items). Also removes what an
  // interrupted send may have left behind (drafts), so a resend starts clean.
  virtual mail::MailResult<bool> already_sent(std::string_view message_id) = 0;
  // Puts a delivery status notification into the account's Inbox, unread.
  virtual mail::MailResult<void> deliver_bounce(std::string_view mime) = 0;
  // Wakes calls blocked in a retry wait (they fail with unavailable); called when the account's
  // workers stop. The channel is not used afterwards.
  virtual void cancel() {}
};

enum class EntryState {
  queued,    // accepted, not tried yet
  deferred,  // the last attempt failed and nothing was sent; waiting for next_attempt
  sending,   // an attempt is running, or its outcome is unknown (checked before any resend)
  bouncing,  // given up; the delivery status notification is still to be put in the Inbox
};
std::string_view to_string(EntryState state);

struct QueueEntry {
  std::string id;
  std::string account_key;
  std::string envelope_from;
  std::vector<std::string> recipients;
  std::string message_id;
  std::uint64_t size = 0;  // bytes of the stored message
  std::string client;      // peer address of the submission
  EntryState state = EntryState::queued;
  int attempts = 0;
  std::int64_t created_ms = 0;
  std::int64_t next_attempt_ms = 0;
  std::string last_error;     // the last failure, one sentence; empty before any
  std::string bounce_status;  // RFC 3463 status of the final failure, while bouncing
};

struct OutboxOptions {
  std::uint64_t max_message_bytes = 157286400;       // smtp.max_message_bytes
  std::chrono::milliseconds retry_for{std::chrono::hours(48)};      // queue.retry_for
  std::chrono::milliseconds backoff_initial{std::chrono::seconds(30)};  // queue.backoff_initial
  std::chrono::milliseconds backoff_max{std::chrono::minutes(15)};      // queue.backoff_max
  std::chrono::milliseconds sent_window{std::chrono::minutes(10)};      // for recently_sent()
  int parallel_sends = 3;  // worker threads per account; Graph allows 4 requests per mailbox
  std::function<std::int64_t()> now_ms;  // injected clock (tests); empty: the system clock
};

struct OutboxStats {
  std::uint64_t enqueued = 0;
  std::uint64_t sent = 0;
  std::uint64_t found_already_sent = 0;  // in-doubt entries found in Sent Items, not resent
  std::uint64_t deferred = 0;            // transient failures
  std::uint64_t bounced = 0;
  std::size_t backlog = 0;               // entries in the queue now
};

class Outbox final : public mail::SubmissionQueue {
 public:
  // Loads the entries already in the store (left by an earlier run). A record that does not
  // decrypt or parse is logged and listed with no account (never sent, droppable). Errors: the
  // store cannot be read.
  static Result<std::unique_ptr<Outbox>> open(store::Store& store, OutboxOptions options);
  ~Outbox() override;
  Outbox(const Outbox&) = delete;
  Outbox& operator=(const Outbox&) = delete;

  mail::MailResult<std::string> enqueue(mail::Submission submission) override;

  // Starts delivering the account's entries through `channel` (replacing an earlier channel of
  // the same account after its workers finished their attempts).
  void start_account(const std::string& account_key, std::shared_ptr<DeliveryChannel> channel);
  void stop_account(const std::string& account_key);
  void stop();

  std::vector<QueueEntry> list() const;
  // Read-only listing for the CLI (a store opened read-only while `serve` runs, or not).
  static Result<std::vector<QueueEntry>> list(const store::Store& store);
  // not_found for an unknown id.
  mail::MailResult<QueueEntry> retry(std::string_view id);
  // not_found for an unknown id; unavailable while the entry is being sent (try again).
  mail::MailResult<QueueEntry> drop(std::string_view id);

  bool recently_sent(std::string_view account_key, std::string_view message_id) const;
  OutboxStats stats() const;
  // For /healthz: one sentence when a message has waited longer than `threshold` (Microsoft
  // unreachable, an account that must sign in again, a bounce that cannot be filed), else empty.
  std::string backlog_warning(std::chrono::milliseconds threshold) const;
  // Blocks until the account has no entries left or `timeout` passed; true when empty (tests).
  bool wait_until_empty(std::chrono::milliseconds timeout) const;

 private:
  struct Worker;
  Outbox(store::Store& store, OutboxOptions options);
  std::int64_t now() const;
  void run_worker(const std::string& account_key, std::shared_ptr<Worker> worker);
  std::optional<QueueEntry> take_due(const std::string& account_key, const Worker& worker,
                                     std::unique_lock<std::mutex>& lock);
  void attempt(QueueEntry entry, DeliveryChannel& channel);
  void bounce(QueueEntry entry, DeliveryChannel& channel);
  void defer(QueueEntry entry, std::string reason, bool in_doubt);
  void finish(const QueueEntry& entry, bool sent_now);
  Result<void> save(const QueueEntry& entry, bool sync);
  void release(const QueueEntry& entry, bool erase);

  store::Store& store_;
  OutboxOptions options_;

  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  std::map<std::string, QueueEntry> entries_;  // by id: queue order
  std::map<std::string, bool> busy_;           // ids an attempt is running for
  std::map<std::string, std::shared_ptr<Worker>> workers_;
  std::map<std::string, std::deque<std::pair<std::string, std::int64_t>>> sent_recently_;
  OutboxStats stats_;
  bool stopped_ = false;
};

// Prometheus text for /metrics: queue backlog and counters.
std::string metrics_text(const OutboxStats& stats);

// The store keys of an entry's two records.
std::string meta_key(std::string_view id);
std::string mime_key(std::string_view id);

}  // namespace mailtrixy::outbox
