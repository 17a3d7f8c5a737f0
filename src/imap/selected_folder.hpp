#pragma once
// SelectedFolder: the selected folder as one session's client sees it.
//
// The view is the sorted vector of UIDs the client has been told about; message sequence number
// n is uids[n - 1]. It changes only when the session tells the client (EXISTS, EXPUNGE), never
// behind its back, so sequence numbers in the client's commands always mean what the client
// thinks they mean.
//
// Changes made by anyone (another session, Outlook, this session's own writes) arrive from the
// backend as ChangeEvents on a backend thread. The subscription callback only appends them to a
// mutex-protected queue and calls the session's wake function; it never calls the backend. The
// session applies the queue at safe points (deliver()):
//   - with expunges allowed (NOOP, CHECK, IDLE, EXPUNGE, MOVE): everything, in order;
//   - otherwise (after FETCH, STORE, SEARCH and every other command): new messages (EXISTS) and
//     flag changes (FETCH FLAGS), while expunges stay queued, in order, for the next safe point
//     (RFC 3501 7.4.1, RFC 9051 5.5). A message added and expunged before the client heard of
//     it is never announced at all.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "mailtrixy/base/result.hpp"
#include "mailtrixy/imap/command.hpp"
#include "mailtrixy/mail/backend.hpp"

namespace mailtrixy::imap::detail {

// The queue between the backend's callback thread and the session.
class PendingEvents {
 public:
  void push(const mail::ChangeEvent& event);
  std::deque<mail::ChangeEvent> take();
  // Puts events that could not be delivered yet back in front of newer ones.
  void put_back(std::deque<mail::ChangeEvent> events);
  bool empty() const;

 private:
  mutable std::mutex mutex_;
  std::deque<mail::ChangeEvent> events_;
};

class SelectedFolder {
 public:
  std::string path;       // backend path (UTF-8, "INBOX", "Archive/2024")
  bool read_only = false;  // EXAMINE
  mail::UidValidity uid_validity;
  std::vector<mail::Uid> uids;  // the client's view, ascending
  std::shared_ptr<PendingEvents> pending = std::make_shared<PendingEvents>();
  mail::ChangeSubscription subscription;

  std::size_t size() const { return uids.size(); }
  // 1-based sequence number of `uid` in the view, nullopt when absent.
  std::optional<std::uint32_t> sequence_of(mail::Uid uid) const;
  // Removes `uid` from the view; returns its former sequence number.
  std::optional<std::uint32_t> remove(mail::Uid uid);

  // What the client was told about the flags of a message this session changed (STORE, or a
  // FETCH that set \Seen), so that the change event its own write causes is not echoed as a
  // second, redundant FETCH; updates keep a remembered entry current but add none. Bounded: when
  // it grows past kMaxRemembered it is cleared, which only costs redundant FETCH lines.
  void remember_flags(mail::Uid uid, const mail::Flags& flags);
  static constexpr std::size_t kMaxRemembered = 100000;
  std::size_t remembered_flags() const { return told_flags_.size(); }

  // Applies queued events (see the file comment), writing EXISTS / EXPUNGE / FETCH lines to
  // `out`. Returns false when the folder itself went away (deleted or renamed by someone else):
  // the session must then end the connection.
  bool deliver(std::string& out, bool allow_expunge);

 private:
  std::unordered_map<std::uint32_t, mail::Flags> told_flags_;
};

// Indices into a view (0-based, ascending, unique) named by a sequence set: message sequence
// numbers, or UIDs when `uid` is set. Sequence numbers beyond the view are an error (a sentence
// for "BAD"); "*" in an empty view names nothing. UIDs that are not in the view are skipped, and
// "n:*" with n above the largest UID still names the largest one (RFC 3501 6.4.8).
Result<std::vector<std::size_t>> resolve_sequence_set(const SequenceSet& set, const std::vector<mail::Uid>& view,
                                                      bool uid);

// A set as merged, sorted closed intervals, for membership tests (SEARCH keys). `star` is the
// value of "*" (the largest sequence number or UID).
class IntervalSet {
 public:
  IntervalSet(const SequenceSet& set, std::uint32_t star);
  bool contains(std::uint32_t value) const;

 private:
  std::vector<std::pair<std::uint32_t, std::uint32_t>> intervals_;
};

// "1:3,5,8:9" for ascending values (the RFC 4315 uid-set of COPYUID/APPENDUID).
std::string compact_set(const std::vector<std::uint32_t>& ascending);

// "(\Seen \Flagged Work)".
std::string flag_list(const mail::Flags& flags);

}  // namespace mailtrixy::imap::detail
