#pragma once
// A canonical text form of parser events, shared by the unit tests and the fuzz target: two
// parses agree exactly when their descriptions are equal, and a failing test prints something
// readable.

#include <string>
#include <variant>
#include <vector>

#include "mailtrixy/imap/parser.hpp"

namespace mailtrixy::imap::testing {

inline std::string describe(const SequenceSet& set) {
  std::string out;
  auto bound = [](const SequenceBound& b) { return b.star ? std::string("*") : std::to_string(b.value); };
  for (const auto& range : set.ranges) {
    if (!out.empty()) out += ',';
    out += bound(range.first);
    if (!(range.first == range.last)) out += ":" + bound(range.last);
  }
  return out;
}

inline std::string describe(const Date& date) {
  return std::to_string(date.year) + "-" + std::to_string(date.month) + "-" + std::to_string(date.day);
}

inline std::string quote(const std::string& text) { return "\"" + text + "\""; }

inline std::string describe(const SearchKey& key) {
  using Kind = SearchKey::Kind;
  static const char* const kNames[] = {
      "ALL", "ANSWERED", "DELETED", "DRAFT", "FLAGGED", "NEW", "OLD", "RECENT", "SEEN",
      "UNANSWERED", "UNDELETED", "UNDRAFT", "UNFLAGGED", "UNSEEN", "KEYWORD", "UNKEYWORD",
      "BCC", "BODY", "CC", "FROM", "SUBJECT", "TEXT", "TO", "HEADER", "BEFORE", "ON", "SINCE",
      "SENTBEFORE", "SENTON", "SENTSINCE", "LARGER", "SMALLER", "UID", "SET", "NOT", "OR", "AND"};
  std::string out = kNames[static_cast<int>(key.kind)];
  switch (key.kind) {
    case Kind::keyword: case Kind::unkeyword: case Kind::bcc: case Kind::body: case Kind::cc:
    case Kind::from: case Kind::subject: case Kind::text: case Kind::to:
      out += " " + quote(key.text);
      break;
    case Kind::header:
      out += " " + quote(key.header_name) + " " + quote(key.text);
      break;
    case Kind::before: case Kind::on: case Kind::since: case Kind::sent_before: case Kind::sent_on:
    case Kind::sent_since:
      out += " " + describe(key.date);
      break;
    case Kind::larger: case Kind::smaller:
      out += " " + std::to_string(key.number);
      break;
    case Kind::uid: case Kind::sequence_set:
      out += " " + describe(key.set);
      break;
    case Kind::not_: case Kind::or_: case Kind::and_:
      out += "(";
      for (std::size_t i = 0; i < key.children.size(); ++i) out += (i ? " " : "") + describe(key.children[i]);
      out += ")";
      break;
    default:
      break;
  }
  return out;
}

inline std::string describe(const FetchAttribute& attribute) {
  using Kind = FetchAttribute::Kind;
  switch (attribute.kind) {
    case Kind::envelope: return "ENVELOPE";
    case Kind::flags: return "FLAGS";
    case Kind::internal_date: return "INTERNALDATE";
    case Kind::uid: return "UID";
    case Kind::rfc822: return "RFC822";
    case Kind::rfc822_header: return "RFC822.HEADER";
    case Kind::rfc822_size: return "RFC822.SIZE";
    case Kind::rfc822_text: return "RFC822.TEXT";
    case Kind::body: return "BODY";
    case Kind::body_structure: return "BODYSTRUCTURE";
    case Kind::body_section: break;
  }
  std::string out = attribute.peek ? "BODY.PEEK[" : "BODY[";
  for (std::size_t i = 0; i < attribute.section.part.size(); ++i) {
    out += (i ? "." : "") + std::to_string(attribute.section.part[i]);
  }
  using Text = SectionSpec::Text;
  const char* text = "";
  switch (attribute.section.text) {
    case Text::none: break;
    case Text::header: text = "HEADER"; break;
    case Text::header_fields: text = "HEADER.FIELDS"; break;
    case Text::header_fields_not: text = "HEADER.FIELDS.NOT"; break;
    case Text::text: text = "TEXT"; break;
    case Text::mime: text = "MIME"; break;
  }
  if (*text != '\0') out += std::string(attribute.section.part.empty() ? "" : ".") + text;
  if (!attribute.section.fields.empty()) {
    out += " (";
    for (std::size_t i = 0; i < attribute.section.fields.size(); ++i) {
      out += (i ? " " : "") + attribute.section.fields[i];
    }
    out += ")";
  }
  out += "]";
  if (attribute.partial) {
    out += "<" + std::to_string(attribute.partial->offset) + "." + std::to_string(attribute.partial->length) + ">";
  }
  return out;
}

inline std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) out += (i ? " " : "") + items[i];
  return out;
}

inline std::string describe_arguments(const CommandArguments& arguments) {
  struct Visitor {
    std::string operator()(std::monostate) const { return ""; }
    std::string operator()(const LoginArgs& a) const { return quote(a.user) + " " + quote(a.password); }
    std::string operator()(const AuthenticateArgs& a) const {
      return a.mechanism + (a.initial_response ? " " + quote(*a.initial_response) : "");
    }
    std::string operator()(const EnableArgs& a) const { return join(a.capabilities); }
    std::string operator()(const IdArgs& a) const {
      if (!a.fields) return "NIL";
      std::string out = "(";
      for (const auto& [field, value] : *a.fields) out += quote(field) + "=" + (value ? quote(*value) : "NIL") + ";";
      return out + ")";
    }
    std::string operator()(const MailboxArgs& a) const {
      return quote(a.mailbox) + (a.parameters.empty() ? "" : " (" + join(a.parameters) + ")");
    }
    std::string operator()(const RenameArgs& a) const { return quote(a.from) + " " + quote(a.to); }
    std::string operator()(const ListArgs& a) const {
      std::string out = quote(a.reference) + " [";
      for (const auto& p : a.patterns) out += quote(p);
      out += "]";
      if (a.extended) {
        out += " sel=";
        out += a.selection.subscribed ? "S" : "";
        out += a.selection.remote ? "R" : "";
        out += a.selection.recursive_match ? "M" : "";
        out += a.selection.special_use ? "U" : "";
        out += " ret=";
        out += a.returns.subscribed ? "S" : "";
        out += a.returns.children ? "C" : "";
        out += a.returns.special_use ? "U" : "";
        if (!a.returns.status_items.empty()) out += "(" + join(a.returns.status_items) + ")";
      }
      if (a.xlist) out += " xlist";
      return out;
    }
    std::string operator()(const StatusArgs& a) const { return quote(a.mailbox) + " (" + join(a.items) + ")"; }
    std::string operator()(const AppendArgs& a) const {
      std::string out = quote(a.mailbox) + " (" + join(a.flags) + ")";
      if (a.internal_date) out += " @" + std::to_string(a.internal_date->time_since_epoch().count());
      return out + " " + std::to_string(a.message.size()) + ":" + quote(a.message);
    }
    std::string operator()(const SearchArgs& a) const {
      std::string out;
      if (a.return_options) out += "RETURN (" + join(*a.return_options) + ") ";
      if (a.charset) out += "CHARSET " + *a.charset + " ";
      for (std::size_t i = 0; i < a.keys.size(); ++i) out += (i ? " " : "") + describe(a.keys[i]);
      return out;
    }
    std::string operator()(const FetchArgs& a) const {
      std::string out = describe(a.set) + " (";
      for (std::size_t i = 0; i < a.attributes.size(); ++i) out += (i ? " " : "") + describe(a.attributes[i]);
      return out + ")";
    }
    std::string operator()(const StoreArgs& a) const {
      const char* mode = a.mode == mail::StoreMode::add ? "+" : a.mode == mail::StoreMode::remove ? "-" : "";
      return describe(a.set) + " " + mode + "FLAGS" + (a.silent ? ".SILENT" : "") + " (" + join(a.flags) + ")";
    }
    std::string operator()(const CopyArgs& a) const { return describe(a.set) + " " + quote(a.mailbox); }
    std::string operator()(const UidExpungeArgs& a) const { return describe(a.set); }
  };
  return std::visit(Visitor{}, arguments);
}

inline std::string describe(const Command& command) {
  std::string out = command.tag + " ";
  if (command.uid) out += "UID ";
  out += std::string(command_name(command.kind));
  const std::string arguments = describe_arguments(command.arguments);
  if (!arguments.empty()) out += " " + arguments;
  return out;
}

inline std::string describe(const ParseEvent& event) {
  switch (event.kind) {
    case ParseEvent::Kind::command: return "command: " + describe(event.command);
    case ParseEvent::Kind::continuation: return "continuation: " + event.tag;
    case ParseEvent::Kind::bad: return std::string(event.fatal ? "fatal " : "") + "bad: " + event.tag + " " + event.message;
    case ParseEvent::Kind::too_big: return "too_big: " + event.tag + " " + event.message;
    case ParseEvent::Kind::line: return "line: " + event.line;
  }
  return "?";
}

}  // namespace mailtrixy::imap::testing
