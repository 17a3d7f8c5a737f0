#include <algorithm>
#include <chrono>
#include <memory>
#include <unordered_map>

#include "../batches.hpp"
#include "../command_table.hpp"
#include "../message_content.hpp"
#include "../text_search.hpp"
#include "mailtrixy/mail/envelope.hpp"

namespace mailtrixy::imap::detail {

// SEARCH and UID SEARCH (RFC 3501 6.4.4). Every key is evaluated per message over the metadata
// cache (flags, dates, size, envelope addresses and subject); only HEADER (other than
// Message-ID), BODY and TEXT read the MIME, and only for messages the cheaper keys of the same
// AND did not already rule out. docs/imap.md lists which key reads what.

namespace {

using Key = SearchKey;
using K = SearchKey::Kind;

bool needs_body(const Key& key) {
  switch (key.kind) {
    case K::body:
    case K::text: return true;
    case K::header: {
      std::string lower;
      for (char c : key.header_name) lower += static_cast<char>((c >= 'A' && c <= 'Z') ? c + 32 : c);
      return lower != "message-id";
    }
    case K::not_:
    case K::or_:
    case K::and_:
      return std::any_of(key.children.begin(), key.children.end(), [](const Key& child) { return needs_body(child); });
    default: return false;
  }
}

// AND lists with the metadata keys first, so a body is fetched only when they all matched.
std::vector<Key> cheap_first(std::vector<Key> keys) {
  for (auto& key : keys) key.children = key.kind == K::and_ ? cheap_first(std::move(key.children)) : std::move(key.children);
  std::stable_partition(keys.begin(), keys.end(), [](const Key& key) { return !needs_body(key); });
  return keys;
}

std::chrono::sys_days to_days(const Date& date) {
  return std::chrono::sys_days{std::chrono::year{date.year} / std::chrono::month{date.month} / std::chrono::day{date.day}};
}

std::chrono::sys_days day_of(mail::TimePoint time) { return std::chrono::floor<std::chrono::days>(time); }

bool contains(const std::string& folded_haystack, const std::string& folded_needle) {
  return folded_haystack.find(folded_needle) != std::string::npos;
}

std::string address_text(const std::vector<mail::Address>& addresses) {
  std::string text;
  for (const auto& address : addresses) {
    if (!address.name.empty()) text += decode_header_value(address.name) + " ";
    text += "<" + address.address + ">, ";
  }
  return text;
}

class Evaluator {
 public:
  Evaluator(Context& context, std::uint32_t message_count, std::uint32_t largest_uid)
      : context_(context), folder_(*context.selected), count_(message_count), largest_uid_(largest_uid) {}

  // One message; errors other than "message gone" end the search.
  mail::MailResult<bool> matches(const std::vector<Key>& keys, std::size_t index, const mail::MessageMeta& meta) {
    Message message{index, meta, MessageContent(context_, folder_, meta), {}, {}, {}, false, false};
    for (const auto& key : keys) {
      auto matched = evaluate(key, message);
      if (!matched) return matched;
      if (!*matched) return false;
    }
    return true;
  }

 private:
  struct Message {
    std::size_t index;
    const mail::MessageMeta& meta;
    MessageContent content;
    std::string header;  // searchable_header(), folded, once loaded
    std::string body;    // searchable_body(), folded, once loaded
    std::vector<mail::HeaderField> fields;
    bool header_loaded;
    bool body_loaded;
  };

  mail::MailResult<void> load_header(Message& message) {
    if (message.header_loaded) return {};
    auto mime = message.content.mime();
    if (!mime) return mime.error();
    auto structure = message.content.structure();
    if (!structure) return structure.error();
    std::string_view header_bytes = (*structure)->structure.root.header.in(**mime);
    message.fields = mail::parse_header_fields(header_bytes);
    message.header = fold_case(searchable_header(header_bytes));
    message.header_loaded = true;
    return {};
  }

  mail::MailResult<void> load_body(Message& message) {
    if (message.body_loaded) return {};
    auto mime = message.content.mime();
    if (!mime) return mime.error();
    auto structure = message.content.structure();
    if (!structure) return structure.error();
    message.body = fold_case(searchable_body((*structure)->structure, **mime));
    message.body_loaded = true;
    return {};
  }

  mail::MailResult<std::uint64_t> size(const Message& message) {
    if (message.meta.rfc822_size) return *message.meta.rfc822_size;
    return context_.mailbox->message_size(folder_.path, message.meta.uid);
  }

  mail::MailResult<bool> evaluate(const Key& key, Message& message) {
    const auto& meta = message.meta;
    const auto& flags = meta.flags;
    using mail::SystemFlag;
    switch (key.kind) {
      case K::all: return true;
      case K::answered: return flags.has(SystemFlag::answered);
      case K::deleted: return flags.has(SystemFlag::deleted);
      case K::draft: return flags.has(SystemFlag::draft);
      case K::flagged: return flags.has(SystemFlag::flagged);
      case K::seen: return flags.has(SystemFlag::seen);
      case K::unanswered: return !flags.has(SystemFlag::answered);
      case K::undeleted: return !flags.has(SystemFlag::deleted);
      case K::undraft: return !flags.has(SystemFlag::draft);
      case K::unflagged: return !flags.has(SystemFlag::flagged);
      case K::unseen: return !flags.has(SystemFlag::seen);
      // The bridge does not track \Recent: no message is recent, so NEW matches nothing and OLD all.
      case K::new_:
      case K::recent: return false;
      case K::old: return true;
      case K::keyword: return has_keyword(flags, key.text);
      case K::unkeyword: return !has_keyword(flags, key.text);
      case K::from: return contains(fold_case(address_text(meta.envelope.from)), fold_case(key.text));
      case K::to: return contains(fold_case(address_text(meta.envelope.to)), fold_case(key.text));
      case K::cc: return contains(fold_case(address_text(meta.envelope.cc)), fold_case(key.text));
      case K::bcc: return contains(fold_case(address_text(meta.envelope.bcc)), fold_case(key.text));
      case K::subject: return contains(fold_case(decode_header_value(meta.envelope.subject)), fold_case(key.text));
      case K::header: return header(key, message);
      case K::body: {
        if (auto loaded = load_body(message); !loaded) return loaded.error();
        return contains(message.body, fold_case(key.text));
      }
      case K::text: {
        if (auto loaded = load_header(message); !loaded) return loaded.error();
        std::string needle = fold_case(key.text);
        if (contains(message.header, needle)) return true;
        if (auto loaded = load_body(message); !loaded) return loaded.error();
        return contains(message.body, needle);
      }
      case K::before: return day_of(meta.internal_date) < to_days(key.date);
      case K::on: return day_of(meta.internal_date) == to_days(key.date);
      case K::since: return day_of(meta.internal_date) >= to_days(key.date);
      case K::sent_before: return day_of(sent_date(meta)) < to_days(key.date);
      case K::sent_on: return day_of(sent_date(meta)) == to_days(key.date);
      case K::sent_since: return day_of(sent_date(meta)) >= to_days(key.date);
      case K::larger:
      case K::smaller: {
        auto bytes = size(message);
        if (!bytes) return bytes.error();
        return key.kind == K::larger ? *bytes > key.number : *bytes < key.number;
      }
      case K::uid: return intervals(key, largest_uid_).contains(meta.uid.value());
      case K::sequence_set: return intervals(key, count_).contains(static_cast<std::uint32_t>(message.index + 1));
      case K::not_: {
        if (key.children.empty()) return true;
        auto inner = evaluate(key.children[0], message);
        if (!inner) return inner;
        return !*inner;
      }
      case K::or_: {
        for (const auto& child : key.children) {
          auto inner = evaluate(child, message);
          if (!inner) return inner;
          if (*inner) return true;
        }
        return false;
      }
      case K::and_: {
        for (const auto& child : key.children) {
          auto inner = evaluate(child, message);
          if (!inner) return inner;
          if (!*inner) return false;
        }
        return true;
      }
    }
    return false;
  }

  // Built once per key, not once per message.
  const IntervalSet& intervals(const Key& key, std::uint32_t star) {
    auto it = intervals_.find(&key);
    if (it == intervals_.end()) it = intervals_.emplace(&key, IntervalSet(key.set, star)).first;
    return it->second;
  }

  static bool has_keyword(const mail::Flags& flags, const std::string& keyword) {
    if (auto system = mail::parse_system_flag(keyword)) return flags.has(*system);
    return flags.has_keyword(keyword);
  }

  // SENTBEFORE/ON/SINCE use the Date: header; a message without one falls back to its internal
  // date, like Dovecot.
  static mail::TimePoint sent_date(const mail::MessageMeta& meta) {
    return meta.envelope.date ? *meta.envelope.date : meta.internal_date;
  }

  mail::MailResult<bool> header(const Key& key, Message& message) {
    std::string name_lower;
    for (char c : key.header_name) name_lower += static_cast<char>((c >= 'A' && c <= 'Z') ? c + 32 : c);
    std::string needle = fold_case(key.text);
    const auto& envelope_id = message.meta.envelope.message_id;
    if (name_lower == "message-id" && !envelope_id.empty()) {
      // Answered from the metadata cache: offlineimap and Thunderbird search whole folders by it.
      return contains(fold_case(envelope_id), needle);
    }
    if (auto loaded = load_header(message); !loaded) return loaded.error();
    for (const auto& field : message.fields) {
      if (fold_case(field.name) != name_lower) continue;
      if (needle.empty() || contains(fold_case(decode_header_value(field.value)), needle)) return true;
    }
    return false;
  }

  Context& context_;
  const SelectedFolder& folder_;
  std::uint32_t count_;
  std::uint32_t largest_uid_;
  std::unordered_map<const Key*, IntervalSet> intervals_;
};

}  // namespace

Reply handle_search(Context& context, const Command& command) {
  const auto& args = std::get<SearchArgs>(command.arguments);
  if (args.charset && *args.charset != "UTF-8" && *args.charset != "US-ASCII") {
    return Reply::no("The charset " + *args.charset + " is not supported; use UTF-8 or US-ASCII.",
                     "BADCHARSET (UTF-8 US-ASCII)");
  }
  auto& folder = *context.selected;
  auto keys = cheap_first(args.keys);
  std::vector<std::size_t> all(folder.size());
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
  Evaluator evaluator(context, static_cast<std::uint32_t>(folder.size()),
                      folder.uids.empty() ? 0 : folder.uids.back().value());
  std::vector<std::uint32_t> found;
  auto done = for_each_batch(context, folder, all, [&](MetaBatch& batch) -> mail::MailResult<void> {
    for (const auto& [index, meta] : batch) {
      auto matched = evaluator.matches(keys, index, meta);
      if (!matched) {
        if (matched.code() == mail::ErrorCode::not_found) continue;  // gone meanwhile
        return matched.error();
      }
      if (*matched) found.push_back(command.uid ? meta.uid.value() : static_cast<std::uint32_t>(index + 1));
    }
    return {};
  });
  if (!done) return translate_error(done.error());

  std::string line;
  if (args.return_options) {
    // ESEARCH form (RFC 4731), when the client asked for it with RETURN (...).
    line = "ESEARCH (TAG ";
    line += '"' + command.tag + '"';
    line += ')';
    if (command.uid) line += " UID";
    auto options = *args.return_options;
    if (options.empty()) options.push_back("ALL");
    for (const auto& option : options) {
      if (found.empty() && option != "COUNT") continue;
      if (option == "MIN") line += " MIN " + std::to_string(found.front());
      if (option == "MAX") line += " MAX " + std::to_string(found.back());
      if (option == "COUNT") line += " COUNT " + std::to_string(found.size());
      if (option == "ALL") line += " ALL " + compact_set(found);
    }
  } else {
    line = "SEARCH";
    for (auto value : found) line += " " + std::to_string(value);
  }
  write_untagged(*context.out, line);
  return Reply::ok(command.uid ? "UID SEARCH completed" : "SEARCH completed");
}

}  // namespace mailtrixy::imap::detail
