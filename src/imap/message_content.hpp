#pragma once
// MessageContent: one message's MIME bytes and parsed structure, loaded only when a FETCH item
// or SEARCH key needs them. The structure comes from the shared StructureCache when it is
// there (no backend call); otherwise the MIME is fetched once, parsed, rendered and cached.

#include <memory>
#include <optional>
#include <string>

#include "context.hpp"
#include "mailtrixy/imap/structure_cache.hpp"

namespace mailtrixy::imap::detail {

class MessageContent {
 public:
  MessageContent(Context& context, const SelectedFolder& folder, const mail::MessageMeta& meta)
      : context_(context), folder_(folder), meta_(meta) {}

  // The whole message (downloaded at most once).
  mail::MailResult<const std::string*> mime();
  // The parsed structure with rendered BODYSTRUCTURE/BODY. When mime() was loaded it is the
  // structure of exactly those bytes.
  mail::MailResult<std::shared_ptr<const CachedStructure>> structure();

 private:
  StructureCacheKey key() const;

  Context& context_;
  const SelectedFolder& folder_;
  const mail::MessageMeta& meta_;
  std::optional<std::string> mime_;
  std::shared_ptr<const CachedStructure> structure_;
};

}  // namespace mailtrixy::imap::detail
