#include "subscriptions.hpp"

namespace mailtrixy::imap::detail {

mail::MailResult<std::set<std::string>> effective_subscriptions(Context& context,
                                                                const std::vector<mail::FolderInfo>& folders) {
  auto stored = context.mailbox->subscribed_folders();
  if (!stored) return stored.error();
  std::set<std::string> paths(stored->begin(), stored->end());
  if (paths.empty()) {
    for (const auto& folder : folders) paths.insert(folder.path);
  }
  return paths;
}

mail::MailResult<void> change_subscription(Context& context, const std::string& path, bool subscribed) {
  auto stored = context.mailbox->subscribed_folders();
  if (!stored) return stored.error();
  if (stored->empty()) {
    auto folders = context.mailbox->list_folders();
    if (!folders) return folders.error();
    for (const auto& folder : *folders) {
      if (folder.path == path) continue;
      if (auto written = context.mailbox->set_subscribed(folder.path, true); !written) return written;
    }
  }
  return context.mailbox->set_subscribed(path, subscribed);
}

}  // namespace mailtrixy::imap::detail
