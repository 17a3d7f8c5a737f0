// mailtrixy-render-tool FILE ITEM...
//
// Prints what the bridge would put in a FETCH response for each ITEM of the message in FILE, so
// tests/integration/test_mime_dovecot.py can compare it with Dovecot byte for byte. The message
// is first normalized to CRLF line endings, as the bridge serves it.
//
// ITEM is one of ENVELOPE, BODYSTRUCTURE, BODY, RFC822.SIZE, PARTS, or a section such as BODY[],
// BODY[1.2.MIME], BODY[HEADER.FIELDS (FROM TO)], optionally with <offset.length>.
// For each item the output is "<length>\n<bytes>\n", where the bytes are the item as it appears
// in the FETCH response ("BODY[1] {5}\r\nhello"). PARTS prints every part number, one per line.

#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <string>

#include "mailtrixy/imap/render.hpp"
#include "mailtrixy/imap/wire.hpp"
#include "mailtrixy/mime/structure.hpp"

namespace {

using mailtrixy::imap::Partial;
using mailtrixy::imap::SectionSpec;

std::string upper(std::string text) {
  for (char& c : text) c = static_cast<char>((c >= 'a' && c <= 'z') ? c - 'a' + 'A' : c);
  return text;
}

// "1.2.HEADER.FIELDS (A B)" -> SectionSpec. Returns false on a malformed section.
bool parse_section(std::string text, SectionSpec& section) {
  std::size_t pos = 0;
  while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
    std::uint32_t number = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      number = number * 10 + static_cast<std::uint32_t>(text[pos] - '0');
      ++pos;
    }
    section.part.push_back(number);
    if (pos < text.size() && text[pos] == '.') ++pos;
  }
  std::string rest = text.substr(pos);
  std::string keyword = upper(rest.substr(0, rest.find(' ')));
  if (keyword.empty()) {
    section.text = SectionSpec::Text::none;
  } else if (keyword == "HEADER") {
    section.text = SectionSpec::Text::header;
  } else if (keyword == "TEXT") {
    section.text = SectionSpec::Text::text;
  } else if (keyword == "MIME") {
    section.text = SectionSpec::Text::mime;
  } else if (keyword == "HEADER.FIELDS" || keyword == "HEADER.FIELDS.NOT") {
    section.text = keyword == "HEADER.FIELDS" ? SectionSpec::Text::header_fields
                                              : SectionSpec::Text::header_fields_not;
    std::size_t open = rest.find('(');
    std::size_t close = rest.rfind(')');
    if (open == std::string::npos || close == std::string::npos || close < open) return false;
    std::istringstream names(rest.substr(open + 1, close - open - 1));
    std::string name;
    while (names >> name) section.fields.push_back(name);
  } else {
    return false;
  }
  return true;
}

void emit(const std::string& bytes) { std::cout << bytes.size() << '\n' << bytes << '\n'; }

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: mailtrixy-render-tool FILE ITEM...\n";
    return 2;
  }
  std::ifstream file(argv[1], std::ios::binary);
  if (!file) {
    std::cerr << "mailtrixy-render-tool: cannot read " << argv[1] << "; give a readable message file.\n";
    return 1;
  }
  std::string raw((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  const std::string message = mailtrixy::mime::normalize_crlf(raw);
  const mailtrixy::mime::MessageStructure structure = mailtrixy::mime::parse_structure(message);

  for (int i = 2; i < argc; ++i) {
    std::string item = argv[i];
    std::string name = upper(item);
    if (name == "ENVELOPE") {
      emit("ENVELOPE " + mailtrixy::imap::render_envelope(*structure.root.envelope));
    } else if (name == "BODYSTRUCTURE") {
      emit("BODYSTRUCTURE " + mailtrixy::imap::render_body_structure(structure, message, true));
    } else if (name == "BODY") {
      emit("BODY " + mailtrixy::imap::render_body_structure(structure, message, false));
    } else if (name == "RFC822.SIZE") {
      emit("RFC822.SIZE " + std::to_string(message.size()));
    } else if (name == "PARTS") {
      std::string out;
      for (const auto& number : mailtrixy::mime::part_numbers(structure)) {
        for (std::size_t k = 0; k < number.size(); ++k) {
          if (k > 0) out += '.';
          out += std::to_string(number[k]);
        }
        out += '\n';
      }
      emit(out);
    } else if (name.starts_with("BODY[") || name.starts_with("BODY.PEEK[")) {
      std::size_t open = item.find('[');
      std::size_t close = item.rfind(']');
      if (close == std::string::npos || close < open) {
        std::cerr << "mailtrixy-render-tool: malformed item " << item << "; write e.g. BODY[1.MIME].\n";
        return 2;
      }
      SectionSpec section;
      if (!parse_section(item.substr(open + 1, close - open - 1), section)) {
        std::cerr << "mailtrixy-render-tool: malformed section in " << item << "; write e.g. BODY[1.MIME].\n";
        return 2;
      }
      std::optional<Partial> partial;
      std::string tail = item.substr(close + 1);
      if (!tail.empty()) {
        unsigned offset = 0;
        unsigned length = 0;
        if (std::sscanf(tail.c_str(), "<%u.%u>", &offset, &length) != 2 || length == 0) {
          std::cerr << "mailtrixy-render-tool: malformed partial in " << item << "; write <offset.length>.\n";
          return 2;
        }
        partial = Partial{offset, length};
      }
      std::string bytes = mailtrixy::imap::section_bytes(structure, message, section);
      std::string out = mailtrixy::imap::section_label(section, partial) + " ";
      mailtrixy::imap::append_literal(out, mailtrixy::imap::apply_partial(bytes, partial));
      emit(out);
    } else {
      std::cerr << "mailtrixy-render-tool: unknown item " << item
                << "; use ENVELOPE, BODYSTRUCTURE, BODY, RFC822.SIZE, PARTS or BODY[section].\n";
      return 2;
    }
  }
  return 0;
}
