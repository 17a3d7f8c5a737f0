#include <algorithm>
#include <cctype>
#include <string>

#include "mailtrixy/mail/types.hpp"

namespace mailtrixy::mail {

std::string_view special_use_attribute(SpecialUse use) {
  switch (use) {
    case SpecialUse::sent: return "\\Sent";
    case SpecialUse::drafts: return "\\Drafts";
    case SpecialUse::trash: return "\\Trash";
    case SpecialUse::junk: return "\\Junk";
    case SpecialUse::archive: return "\\Archive";
    case SpecialUse::none:
    case SpecialUse::inbox: return "";
  }
  return "";
}

std::string_view well_known_alias(SpecialUse use) {
  switch (use) {
    case SpecialUse::inbox: return "inbox";
    case SpecialUse::sent: return "sentitems";
    case SpecialUse::drafts: return "drafts";
    case SpecialUse::trash: return "deleteditems";
    case SpecialUse::junk: return "junkemail";
    case SpecialUse::archive: return "archive";
    case SpecialUse::none: return "";
  }
  return "";
}

std::vector<std::string> split_folder_path(std::string_view path) {
  std::vector<std::string> parts;
  while (!path.empty()) {
    auto slash = path.find(kFolderDelimiter);
    parts.emplace_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return parts;
}

bool is_inbox(std::string_view path) {
  return path.size() == kInbox.size() &&
         std::equal(path.begin(), path.end(), kInbox.begin(),
                    [](char a, char b) { return std::toupper(static_cast<unsigned char>(a)) == b; });
}

std::optional<std::string> normalize_folder_path(std::string_view path) {
  if (path.empty() || path.front() == kFolderDelimiter) return std::nullopt;
  // A single trailing delimiter is tolerated: some clients CREATE "foo/" to mean "foo".
  if (path.back() == kFolderDelimiter) path.remove_suffix(1);
  auto parts = split_folder_path(path);
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const auto& part = parts[i];
    if (part.empty()) return std::nullopt;
    if (std::any_of(part.begin(), part.end(),
                    [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; })) {
      return std::nullopt;
    }
    if (i > 0) out += kFolderDelimiter;
    out += (i == 0 && is_inbox(part)) ? std::string(kInbox) : part;
  }
  return out;
}

}  // namespace mailtrixy::mail
