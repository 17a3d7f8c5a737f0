#include "message_content.hpp"

#include "mailtrixy/imap/render.hpp"

namespace mailtrixy::imap::detail {

StructureCacheKey MessageContent::key() const {
  return StructureCacheKey{context_.account_key, folder_.path, folder_.uid_validity.value(), meta_.uid.value()};
}

mail::MailResult<const std::string*> MessageContent::mime() {
  if (!mime_) {
    auto fetched = context_.mailbox->fetch_mime(folder_.path, meta_.uid);
    if (!fetched) return fetched.error();
    mime_ = std::move(*fetched);
    // A cached structure of different bytes (the message was re-downloaded and differs) is useless.
    if (structure_ && structure_->message_size != mime_->size()) structure_.reset();
  }
  return &*mime_;
}

mail::MailResult<std::shared_ptr<const CachedStructure>> MessageContent::structure() {
  if (structure_) return structure_;
  auto* cache = context_.options.structure_cache.get();
  if (cache != nullptr) {
    if (auto cached = cache->find(key())) {
      std::optional<std::uint64_t> expected = mime_ ? std::optional<std::uint64_t>(mime_->size()) : meta_.rfc822_size;
      if (!expected || *expected == cached->message_size) {
        structure_ = std::move(cached);
        return structure_;
      }
    }
  }
  auto bytes = mime();
  if (!bytes) return bytes.error();
  const std::string& message = **bytes;
  auto entry = std::make_shared<CachedStructure>();
  entry->message_size = message.size();
  entry->structure = mime::parse_structure(message);
  entry->body_structure = render_body_structure(entry->structure, message, true);
  entry->body = render_body_structure(entry->structure, message, false);
  structure_ = entry;
  if (cache != nullptr) cache->insert(key(), entry);
  return structure_;
}

}  // namespace mailtrixy::imap::detail
