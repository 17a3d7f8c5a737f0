#include <algorithm>

#include "../batches.hpp"
#include "../command_table.hpp"
#include "../format.hpp"
#include "../message_content.hpp"
#include "mailtrixy/imap/render.hpp"
#include "mailtrixy/imap/wire.hpp"

namespace mailtrixy::imap::detail {

// FETCH and UID FETCH (RFC 3501 6.4.5). Metadata items (FLAGS, UID, INTERNALDATE, RFC822.SIZE,
// ENVELOPE) come from the backend's metadata cache; BODYSTRUCTURE/BODY from the structure cache
// when present; everything else from the MIME, downloaded one message at a time and released
// before the next one. The answer holds exactly the items asked for, plus UID in UID FETCH and
// FLAGS when this FETCH set \Seen.

namespace {

using Kind = FetchAttribute::Kind;

bool sets_seen(const FetchAttribute& attribute) {
  return (attribute.kind == Kind::body_section && !attribute.peek) || attribute.kind == Kind::rfc822 ||
         attribute.kind == Kind::rfc822_text;
}

bool whole_message(const FetchAttribute& attribute) {
  return attribute.section.part.empty() && attribute.section.text == SectionSpec::Text::none;
}

SectionSpec text_only(SectionSpec::Text text) {
  SectionSpec spec;
  spec.text = text;
  return spec;
}

class FetchWriter {
 public:
  FetchWriter(Context& context, const FetchArgs& args, bool uid)
      : context_(context), folder_(*context.selected), args_(args), uid_(uid) {
    for (const auto& attribute : args.attributes) {
      if (attribute.kind == Kind::uid) asks_uid_ = true;
      if (attribute.kind == Kind::flags) asks_flags_ = true;
      if (sets_seen(attribute)) marks_seen_ = !folder_.read_only;
    }
  }

  mail::MailResult<void> batch(MetaBatch& batch) {
    for (auto& [index, meta] : batch) {
      if (auto written = message(index, meta); !written) return written;
      context_.maybe_stream();
    }
    return {};
  }

 private:
  mail::MailResult<void> message(std::size_t index, mail::MessageMeta& meta) {
    MessageContent content(context_, folder_, meta);
    // \Seen is set only once the body is in hand: fetchmail and scanners take \Seen as "already
    // delivered", so a message must never be marked and then not sent.
    bool seen_now = false;
    if (marks_seen_ && !meta.flags.has(mail::SystemFlag::seen)) {
      auto mime = content.mime();
      if (!mime) return skip_or_fail(mime.error());
      mail::Flags seen;
      seen.set(mail::SystemFlag::seen);
      auto updated = context_.mailbox->store_flags(folder_.path, {meta.uid}, mail::StoreMode::add, seen);
      if (!updated) return updated.error();
      if (!updated->empty()) meta.flags = updated->front().flags;
      seen_now = true;
    }
    std::string line = "* " + std::to_string(index + 1) + " FETCH (";
    bool first = true;
    auto item = [&]() -> std::string& {
      if (!first) line += ' ';
      first = false;
      return line;
    };
    if (uid_ && !asks_uid_) item() += "UID " + std::to_string(meta.uid.value());
    for (const auto& attribute : args_.attributes) {
      switch (attribute.kind) {
        case Kind::uid: item() += "UID " + std::to_string(meta.uid.value()); break;
        case Kind::flags: item() += "FLAGS " + flag_list(meta.flags); break;
        case Kind::internal_date: item() += "INTERNALDATE \"" + format_internal_date(meta.internal_date) + "\""; break;
        case Kind::rfc822_size: {
          std::uint64_t size = 0;
          if (meta.rfc822_size) {
            size = *meta.rfc822_size;
          } else {
            auto known = context_.mailbox->message_size(folder_.path, meta.uid);
            if (!known) return skip_or_fail(known.error());
            size = *known;
          }
          item() += "RFC822.SIZE " + std::to_string(size);
          break;
        }
        case Kind::envelope: item() += "ENVELOPE " + render_envelope(meta.envelope); break;
        case Kind::body_structure:
        case Kind::body: {
          auto structure = content.structure();
          if (!structure) return skip_or_fail(structure.error());
          item() += attribute.kind == Kind::body ? "BODY " + (*structure)->body
                                                 : "BODYSTRUCTURE " + (*structure)->body_structure;
          break;
        }
        case Kind::rfc822: {
          auto mime = content.mime();
          if (!mime) return skip_or_fail(mime.error());
          item() += "RFC822 ";
          append_literal(line, **mime);
          break;
        }
        case Kind::rfc822_header:
        case Kind::rfc822_text: {
          bool header = attribute.kind == Kind::rfc822_header;
          auto bytes = section(content, text_only(header ? SectionSpec::Text::header : SectionSpec::Text::text));
          if (!bytes) return skip_or_fail(bytes.error());
          item() += header ? "RFC822.HEADER " : "RFC822.TEXT ";
          append_literal(line, *bytes);
          break;
        }
        case Kind::body_section: {
          item() += section_label(attribute.section, attribute.partial) + " ";
          if (whole_message(attribute)) {
            auto mime = content.mime();
            if (!mime) return skip_or_fail(mime.error());
            append_literal(line, apply_partial(**mime, attribute.partial));
          } else {
            auto bytes = section(content, attribute.section);
            if (!bytes) return skip_or_fail(bytes.error());
            append_literal(line, apply_partial(*bytes, attribute.partial));
          }
          break;
        }
      }
    }
    if (seen_now) {
      if (!asks_flags_) item() += "FLAGS " + flag_list(meta.flags);
      context_.selected->remember_flags(meta.uid, meta.flags);
    }
    line += ")\r\n";
    *context_.out += line;
    return {};
  }

  mail::MailResult<std::string> section(MessageContent& content, const SectionSpec& spec) {
    auto mime = content.mime();
    if (!mime) return mime.error();
    auto structure = content.structure();
    if (!structure) return structure.error();
    return section_bytes((*structure)->structure, **mime, spec);
  }

  // A message that vanished between listing and download is left out (the client hears of the
  // expunge later); any other failure ends the FETCH.
  mail::MailResult<void> skip_or_fail(const mail::MailError& error) {
    if (error.code == mail::ErrorCode::not_found) return {};
    return error;
  }

  Context& context_;
  const SelectedFolder& folder_;
  const FetchArgs& args_;
  bool uid_;
  bool asks_uid_ = false;
  bool asks_flags_ = false;
  bool marks_seen_ = false;
};

}  // namespace

Reply handle_fetch(Context& context, const Command& command) {
  const auto& args = std::get<FetchArgs>(command.arguments);
  auto indices = resolve_sequence_set(args.set, context.selected->uids, command.uid);
  if (!indices) return Reply::bad(indices.error().message);
  FetchWriter writer(context, args, command.uid);
  auto done = for_each_batch(context, *context.selected, *indices, [&](MetaBatch& batch) { return writer.batch(batch); });
  if (!done) return translate_error(done.error());
  return Reply::ok(command.uid ? "UID FETCH completed" : "FETCH completed");
}

}  // namespace mailtrixy::imap::detail
