#pragma once
// The data of a STATUS response (also sent by LIST ... RETURN (STATUS ...), RFC 5819).

#include <string>
#include <vector>

#include "mailtrixy/mail/backend.hpp"

namespace mailtrixy::imap::detail {

// "MESSAGES 3 UNSEEN 1" for items {"MESSAGES", "UNSEEN"} (upper-case names, in the order asked).
std::string status_attributes(const mail::FolderStatus& status, const std::vector<std::string>& items);

}  // namespace mailtrixy::imap::detail
