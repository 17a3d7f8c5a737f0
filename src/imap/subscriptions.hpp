#pragma once
// The subscription list as IMAP clients need it (imap-clients.md §14 item 12): every folder
// counts as subscribed until a client changes a subscription for the first time. The backend
// stores only explicit subscriptions, so "nothing stored" means "the default: everything"; the
// first SUBSCRIBE or UNSUBSCRIBE writes the default out (every existing folder) before applying
// the change, and from then on the stored list is the truth.

#include <set>
#include <string>
#include <vector>

#include "context.hpp"

namespace mailtrixy::imap::detail {

// The subscribed paths (including stored ones that no longer exist).
mail::MailResult<std::set<std::string>> effective_subscriptions(Context& context,
                                                                const std::vector<mail::FolderInfo>& folders);

// SUBSCRIBE / UNSUBSCRIBE with the default written out first.
mail::MailResult<void> change_subscription(Context& context, const std::string& path, bool subscribed);

}  // namespace mailtrixy::imap::detail
