#include "selected_folder.hpp"

#include <algorithm>
#include <set>

namespace mailtrixy::imap::detail {

void PendingEvents::push(const mail::ChangeEvent& event) {
  std::lock_guard lock(mutex_);
  events_.push_back(event);
}

std::deque<mail::ChangeEvent> PendingEvents::take() {
  std::lock_guard lock(mutex_);
  return std::exchange(events_, {});
}

void PendingEvents::put_back(std::deque<mail::ChangeEvent> events) {
  if (events.empty()) return;
  std::lock_guard lock(mutex_);
  for (auto& event : events_) events.push_back(std::move(event));
  events_ = std::move(events);
}

bool PendingEvents::empty() const {
  std::lock_guard lock(mutex_);
  return events_.empty();
}

std::optional<std::uint32_t> SelectedFolder::sequence_of(mail::Uid uid) const {
  auto it = std::lower_bound(uids.begin(), uids.end(), uid);
  if (it == uids.end() || *it != uid) return std::nullopt;
  return static_cast<std::uint32_t>(it - uids.begin()) + 1;
}

std::optional<std::uint32_t> SelectedFolder::remove(mail::Uid uid) {
  auto it = std::lower_bound(uids.begin(), uids.end(), uid);
  if (it == uids.end() || *it != uid) return std::nullopt;
  auto sequence = static_cast<std::uint32_t>(it - uids.begin()) + 1;
  uids.erase(it);
  told_flags_.erase(uid.value());
  return sequence;
}

void SelectedFolder::remember_flags(mail::Uid uid, const mail::Flags& flags) {
  if (told_flags_.size() >= kMaxRemembered) told_flags_.clear();
  told_flags_[uid.value()] = flags;
}

bool SelectedFolder::deliver(std::string& out, bool allow_expunge) {
  using Kind = mail::ChangeEvent::Kind;
  auto events = pending->take();
  if (events.empty()) return true;

  // A message added and expunged within this batch was never announced: drop both events.
  std::set<std::uint32_t> added_here;
  std::set<std::uint32_t> vanished;
  for (const auto& event : events) {
    if (event.kind == Kind::message_added) added_here.insert(event.uid.value());
    if (event.kind == Kind::message_expunged && added_here.contains(event.uid.value())) {
      vanished.insert(event.uid.value());
    }
  }

  std::size_t told_count = uids.size();  // what the client believes EXISTS is
  bool grew = false;
  bool folder_gone = false;
  std::deque<mail::ChangeEvent> deferred;
  for (auto& event : events) {
    switch (event.kind) {
      case Kind::message_added: {
        if (vanished.contains(event.uid.value())) break;
        // The initial listing may already hold it (the subscription starts before the listing).
        if (!uids.empty() && event.uid <= uids.back()) break;
        uids.push_back(event.uid);
        grew = true;
        break;
      }
      case Kind::message_expunged: {
        if (vanished.contains(event.uid.value())) break;
        if (!allow_expunge) {
          deferred.push_back(std::move(event));
          break;
        }
        if (grew) {
          // The client must know the new count before sequence numbers shift under it.
          out += "* " + std::to_string(uids.size()) + " EXISTS\r\n";
          told_count = uids.size();
          grew = false;
        }
        if (auto sequence = remove(event.uid)) {
          out += "* " + std::to_string(*sequence) + " EXPUNGE\r\n";
          --told_count;
        }
        break;
      }
      case Kind::flags_changed: {
        auto sequence = sequence_of(event.uid);
        // Messages the client has not heard of yet get their flags when it fetches them.
        if (!sequence || *sequence > told_count) break;
        // Only messages this session changed itself are remembered (their echo is expected);
        // remembering every change other sessions make would grow with the folder for as long
        // as the session stays selected, in every session (docs/soak.md).
        if (auto told = told_flags_.find(event.uid.value()); told != told_flags_.end()) {
          if (told->second == event.meta.flags) break;
          told->second = event.meta.flags;
        }
        out += "* " + std::to_string(*sequence) + " FETCH (UID " + std::to_string(event.uid.value()) +
               " FLAGS " + flag_list(event.meta.flags) + ")\r\n";
        break;
      }
      // After this session's own RENAME the old name's subscription reports the old path as
      // removed; the folder itself lives on under the new name.
      case Kind::folder_removed: folder_gone = folder_gone || event.folder == path; break;
    }
  }
  if (grew) out += "* " + std::to_string(uids.size()) + " EXISTS\r\n";
  pending->put_back(std::move(deferred));
  return !folder_gone;
}

Result<std::vector<std::size_t>> resolve_sequence_set(const SequenceSet& set, const std::vector<mail::Uid>& view,
                                                      bool uid) {
  std::vector<std::size_t> indices;
  const auto count = static_cast<std::uint32_t>(view.size());
  for (const auto& range : set.ranges) {
    if (uid) {
      if (view.empty()) continue;
      std::uint32_t star = view.back().value();
      std::uint32_t a = range.first.star ? star : range.first.value;
      std::uint32_t b = range.last.star ? star : range.last.value;
      if (a > b) std::swap(a, b);
      auto lo = std::lower_bound(view.begin(), view.end(), mail::Uid{a});
      auto hi = std::upper_bound(view.begin(), view.end(), mail::Uid{b});
      for (auto it = lo; it < hi; ++it) indices.push_back(static_cast<std::size_t>(it - view.begin()));
      continue;
    }
    if (view.empty() && (range.first.star || range.last.star)) continue;
    std::uint32_t a = range.first.star ? count : range.first.value;
    std::uint32_t b = range.last.star ? count : range.last.value;
    if (a > b) std::swap(a, b);
    if (a == 0 || b > count) {
      return make_error("Invalid message sequence number " + std::to_string(b > count ? b : a) + ": the folder has " +
                        std::to_string(count) + " messages; use numbers from 1 to " + std::to_string(count) +
                        " or UIDs with the UID command.");
    }
    for (std::uint32_t n = a; n <= b; ++n) indices.push_back(n - 1);
  }
  std::sort(indices.begin(), indices.end());
  indices.erase(std::unique(indices.begin(), indices.end()), indices.end());
  return indices;
}

IntervalSet::IntervalSet(const SequenceSet& set, std::uint32_t star) {
  for (const auto& range : set.ranges) {
    std::uint32_t a = range.first.star ? star : range.first.value;
    std::uint32_t b = range.last.star ? star : range.last.value;
    if (a > b) std::swap(a, b);
    intervals_.emplace_back(a, b);
  }
  std::sort(intervals_.begin(), intervals_.end());
  std::vector<std::pair<std::uint32_t, std::uint32_t>> merged;
  for (const auto& interval : intervals_) {
    if (!merged.empty() && interval.first <= merged.back().second + 1ULL) {
      merged.back().second = std::max(merged.back().second, interval.second);
    } else {
      merged.push_back(interval);
    }
  }
  intervals_ = std::move(merged);
}

bool IntervalSet::contains(std::uint32_t value) const {
  auto it = std::upper_bound(intervals_.begin(), intervals_.end(), std::make_pair(value, UINT32_MAX));
  if (it == intervals_.begin()) return false;
  --it;
  return it->first <= value && value <= it->second;
}

std::string compact_set(const std::vector<std::uint32_t>& ascending) {
  std::string out;
  std::size_t i = 0;
  while (i < ascending.size()) {
    std::size_t j = i;
    while (j + 1 < ascending.size() && ascending[j + 1] == ascending[j] + 1) ++j;
    if (!out.empty()) out += ',';
    out += std::to_string(ascending[i]);
    if (j > i) out += ':' + std::to_string(ascending[j]);
    i = j + 1;
  }
  return out;
}

std::string flag_list(const mail::Flags& flags) {
  std::string out = "(";
  bool first = true;
  for (const auto& name : flags.names()) {
    if (!first) out += ' ';
    out += name;
    first = false;
  }
  out += ')';
  return out;
}

}  // namespace mailtrixy::imap::detail
