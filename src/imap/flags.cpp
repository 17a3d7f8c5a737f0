#include "flags.hpp"

namespace mailtrixy::imap::detail {

Result<mail::Flags> parse_flags(const std::vector<std::string>& names) {
  mail::Flags flags;
  for (const auto& name : names) {
    if (auto system = mail::parse_system_flag(name)) {
      flags.set(*system);
      continue;
    }
    if (!name.empty() && name[0] == '\\') {
      std::string lower;
      for (char c : name) lower += static_cast<char>((c >= 'A' && c <= 'Z') ? c + 32 : c);
      if (lower == "\\recent") continue;
      return make_error("Unknown system flag " + name +
                        "; the flags are \\Seen \\Answered \\Flagged \\Deleted \\Draft and keywords without a backslash.");
    }
    if (!mail::is_valid_keyword(name)) {
      return make_error("The keyword \"" + name + "\" is not a valid IMAP flag; use letters, digits and punctuation other than ( ) { % * \" \\ ].");
    }
    flags.add_keyword(name);
  }
  return flags;
}

}  // namespace mailtrixy::imap::detail
