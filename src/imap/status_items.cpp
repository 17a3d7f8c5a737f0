#include "status_items.hpp"

namespace mailtrixy::imap::detail {

std::string status_attributes(const mail::FolderStatus& status, const std::vector<std::string>& items) {
  std::string out;
  auto add = [&](const std::string& name, std::uint64_t value) {
    if (!out.empty()) out += ' ';
    out += name + " " + std::to_string(value);
  };
  for (const auto& item : items) {
    if (item == "MESSAGES") add(item, status.messages);
    else if (item == "RECENT") add(item, status.recent);
    else if (item == "UIDNEXT") add(item, status.uid_next.value());
    else if (item == "UIDVALIDITY") add(item, status.uid_validity.value());
    else if (item == "UNSEEN") add(item, status.unseen);
    else if (item == "SIZE") add(item, status.size);
    else if (item == "DELETED") add(item, status.deleted);
  }
  return out;
}

}  // namespace mailtrixy::imap::detail
