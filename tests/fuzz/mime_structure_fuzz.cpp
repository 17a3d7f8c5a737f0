// Fuzz target for the MIME structure parser and the IMAP rendering of structure: any input must
// parse, every span must lie inside the message (and inside its parent), every part number the
// parser reports must resolve, and every section of every part must render without reading out
// of bounds (ASan) or crashing.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "mailtrixy/imap/render.hpp"
#include "mailtrixy/mime/structure.hpp"

namespace {

using mailtrixy::imap::SectionSpec;
using mailtrixy::mime::Part;

void check_spans(const Part& part, std::size_t begin, std::size_t end) {
  if (part.whole.offset < begin || part.whole.end() > end || part.header.offset != part.whole.offset ||
      part.header.end() != part.body.offset || part.body.end() != part.whole.end()) {
    std::abort();
  }
  for (const Part& child : part.children) check_spans(child, part.body.offset, part.body.end());
}

void render_sections(const mailtrixy::mime::MessageStructure& structure, std::string_view message,
                     std::vector<std::uint32_t> number) {
  static const SectionSpec::Text kTexts[] = {SectionSpec::Text::none, SectionSpec::Text::header,
                                             SectionSpec::Text::header_fields,
                                             SectionSpec::Text::header_fields_not, SectionSpec::Text::text,
                                             SectionSpec::Text::mime};
  for (SectionSpec::Text text : kTexts) {
    if (text == SectionSpec::Text::mime && number.empty()) continue;
    SectionSpec section;
    section.part = number;
    section.text = text;
    section.fields = {"From", "Content-Type"};
    std::string bytes = mailtrixy::imap::section_bytes(structure, message, section);
    if (bytes.size() > message.size() + 4) std::abort();  // HEADER.FIELDS may add one CRLF pair
    (void)mailtrixy::imap::section_label(section, mailtrixy::imap::Partial{1, 7});
    (void)mailtrixy::imap::apply_partial(bytes, mailtrixy::imap::Partial{3, 5});
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view message(reinterpret_cast<const char*>(data), size);
  const mailtrixy::mime::MessageStructure structure = mailtrixy::mime::parse_structure(message);
  check_spans(structure.root, 0, message.size());
  if (structure.root.whole.length != message.size()) std::abort();

  (void)mailtrixy::imap::render_body_structure(structure, message, true);
  (void)mailtrixy::imap::render_body_structure(structure, message, false);
  if (structure.root.envelope) (void)mailtrixy::imap::render_envelope(*structure.root.envelope);

  render_sections(structure, message, {});
  for (const auto& number : mailtrixy::mime::part_numbers(structure)) {
    if (mailtrixy::mime::find_part(structure, number) == nullptr) std::abort();
    render_sections(structure, message, number);
  }
  // Numbers that do not exist must simply give nothing.
  SectionSpec missing;
  missing.part = {9999, 1};
  if (!mailtrixy::imap::section_bytes(structure, message, missing).empty()) std::abort();
  return 0;
}
