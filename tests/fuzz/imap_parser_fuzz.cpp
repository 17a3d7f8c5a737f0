// Fuzz target for the IMAP command parser: arbitrary client bytes, fed whole and again in pieces
// whose sizes the input chooses, must never crash or hang, must give the same events however
// they are cut, and every parsed command must satisfy the contract of command.hpp (non-empty
// sequence sets without 0, valid dates, the argument alternative that belongs to its kind...).
// The first byte picks small or default limits, so the limit paths are reached too.
// The same bytes also exercise mailbox_name.hpp: a name that decodes must re-encode to exactly
// itself (the decoder accepts only the one shortest form), and every encoding must decode.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "../imap_protocol/describe.hpp"
#include "mailtrixy/imap/mailbox_name.hpp"
#include "mailtrixy/imap/parser.hpp"

namespace {

using namespace mailtrixy::imap;

void check(bool condition) {
  if (!condition) std::abort();
}

void check_set(const SequenceSet& set) {
  check(!set.ranges.empty());
  for (const auto& range : set.ranges) {
    check(range.first.star || range.first.value > 0);
    check(range.last.star || range.last.value > 0);
  }
}

void check_date(const Date& date) {
  check(date.month >= 1 && date.month <= 12 && date.day >= 1 && date.day <= 31);
}

void check_key(const SearchKey& key) {
  using Kind = SearchKey::Kind;
  switch (key.kind) {
    case Kind::not_: check(key.children.size() == 1); break;
    case Kind::or_: check(key.children.size() == 2); break;
    case Kind::and_: check(!key.children.empty()); break;
    case Kind::uid: case Kind::sequence_set: check_set(key.set); break;
    case Kind::before: case Kind::on: case Kind::since: case Kind::sent_before: case Kind::sent_on:
    case Kind::sent_since: check_date(key.date); break;
    case Kind::keyword: case Kind::unkeyword: check(!key.text.empty()); break;
    default: check(key.children.empty()); break;
  }
  for (const auto& child : key.children) check_key(child);
}

void check_command(const Command& command) {
  check(!command.tag.empty());
  check(!command_name(command.kind).empty());
  switch (command.kind) {
    case CommandKind::login: check(std::holds_alternative<LoginArgs>(command.arguments)); break;
    case CommandKind::authenticate: {
      const auto& args = std::get<AuthenticateArgs>(command.arguments);
      check(!args.mechanism.empty());
      if (args.initial_response) check(!args.initial_response->empty());
      break;
    }
    case CommandKind::enable: check(!std::get<EnableArgs>(command.arguments).capabilities.empty()); break;
    case CommandKind::id: check(std::holds_alternative<IdArgs>(command.arguments)); break;
    case CommandKind::select: case CommandKind::examine: case CommandKind::create: case CommandKind::delete_:
    case CommandKind::subscribe: case CommandKind::unsubscribe:
      check(std::holds_alternative<MailboxArgs>(command.arguments));
      break;
    case CommandKind::rename: check(std::holds_alternative<RenameArgs>(command.arguments)); break;
    case CommandKind::list: case CommandKind::lsub: {
      const auto& args = std::get<ListArgs>(command.arguments);
      check(!args.patterns.empty());
      if (command.kind == CommandKind::lsub) check(args.patterns.size() == 1 && !args.extended);
      break;
    }
    case CommandKind::status: check(!std::get<StatusArgs>(command.arguments).items.empty()); break;
    case CommandKind::append: check(std::holds_alternative<AppendArgs>(command.arguments)); break;
    case CommandKind::search: {
      const auto& args = std::get<SearchArgs>(command.arguments);
      check(!args.keys.empty());
      for (const auto& key : args.keys) check_key(key);
      break;
    }
    case CommandKind::fetch: {
      const auto& args = std::get<FetchArgs>(command.arguments);
      check_set(args.set);
      check(!args.attributes.empty());
      for (const auto& attribute : args.attributes) {
        if (attribute.kind != FetchAttribute::Kind::body_section) {
          check(!attribute.peek && !attribute.partial);
          continue;
        }
        if (attribute.section.text == SectionSpec::Text::mime) check(!attribute.section.part.empty());
        for (auto part : attribute.section.part) check(part > 0);
        if (attribute.partial) check(attribute.partial->length > 0);
      }
      break;
    }
    case CommandKind::store: check_set(std::get<StoreArgs>(command.arguments).set); break;
    case CommandKind::copy: case CommandKind::move: check_set(std::get<CopyArgs>(command.arguments).set); break;
    case CommandKind::expunge:
      if (command.uid) {
        check_set(std::get<UidExpungeArgs>(command.arguments).set);
      } else {
        check(std::holds_alternative<std::monostate>(command.arguments));
      }
      break;
    default:
      check(std::holds_alternative<std::monostate>(command.arguments));
      check(!command.uid);
      break;
  }
}

// Feeds `input` in pieces whose sizes come from `sizes` (cycled; empty: all at once).
std::vector<std::string> run(std::string_view input, std::string_view sizes, const ParserLimits& limits) {
  CommandParser parser(limits);
  std::vector<std::string> out;
  std::size_t at = 0;
  std::size_t turn = 0;
  while (at < input.size()) {
    std::size_t piece = input.size();
    if (!sizes.empty()) piece = 1 + static_cast<unsigned char>(sizes[turn++ % sizes.size()]) % 64;
    piece = std::min(piece, input.size() - at);
    parser.feed(input.substr(at, piece));
    at += piece;
    check(parser.buffered() <= at);
    while (auto event = parser.next()) {
      if (event->kind == ParseEvent::Kind::command) {
        check(event->tag == event->command.tag);
        check_command(event->command);
        const auto* auth = std::get_if<AuthenticateArgs>(&event->command.arguments);
        if (event->command.kind == CommandKind::idle || (auth != nullptr && !auth->initial_response)) {
          parser.expect_line();
        }
      } else if (event->kind == ParseEvent::Kind::bad || event->kind == ParseEvent::Kind::too_big) {
        check(!event->tag.empty() && !event->message.empty());
      }
      out.push_back(testing::describe(*event));
    }
  }
  return out;
}

void check_mailbox_names(std::string_view bytes) {
  const std::string_view name = bytes.substr(0, 512);
  if (const auto decoded = decode_mailbox_name(name)) check(encode_mailbox_name(*decoded) == name);
  const std::string encoded = encode_mailbox_name(name);
  const auto round_trip = decode_mailbox_name(encoded);
  check(round_trip.has_value());
  check(encode_mailbox_name(*round_trip) == encoded);
  const std::size_t half = name.size() / 2;
  const bool matches = list_pattern_matches(name.substr(0, half), name.substr(half));
  (void)matches;
  (void)list_pattern_could_match_below(name.substr(0, half), name.substr(half));
  if (name.find_first_of("*%") == std::string_view::npos) {
    // A pattern without wildcards matches itself, unless its first level is a lower-case INBOX,
    // which names the mailbox "INBOX" instead.
    std::string first_level(name.substr(0, name.find('/')));
    for (char& c : first_level) c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
    const bool inbox_variant = first_level == "INBOX" && name.substr(0, 5) != "INBOX";
    check(inbox_variant ? !list_pattern_matches(name, name) : list_pattern_matches(name, name));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  ParserLimits limits;
  if ((data[0] & 1) != 0) {
    limits.max_line_length = 64 + data[1];
    limits.max_literal_size = 16 + data[1];
    limits.max_command_size = 256 + 4U * data[1];
  }
  // Up to 8 bytes after the header choose the piece sizes; the rest is what the client sends.
  const std::size_t size_bytes = std::min<std::size_t>(data[0] >> 5, size - 2);
  const std::string_view sizes = bytes.substr(2, size_bytes);
  const std::string_view input = bytes.substr(2 + size_bytes);
  const auto whole = run(input, {}, limits);
  const auto pieces = run(input, sizes.empty() ? std::string_view("\x01") : sizes, limits);
  check(whole == pieces);
  check_mailbox_names(input);
  return 0;
}
