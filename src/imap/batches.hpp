#pragma once
// Reading the metadata of many messages of the view without holding all of it at once: the
// positions are cut into batches that span at most kBatchSpan view positions, and each batch is
// one list_messages() call over its UID range.

#include <cstddef>
#include <functional>
#include <utility>
#include <vector>

#include "context.hpp"

namespace mailtrixy::imap::detail {

inline constexpr std::size_t kBatchSpan = 512;

// (view index, metadata) of the messages in one batch that still exist in the backend, ascending.
using MetaBatch = std::vector<std::pair<std::size_t, mail::MessageMeta>>;

// Calls `visit` for every batch of `indices` (ascending view indices). Stops at the first error
// of the backend or of `visit`.
mail::MailResult<void> for_each_batch(Context& context, const SelectedFolder& folder,
                                      const std::vector<std::size_t>& indices,
                                      const std::function<mail::MailResult<void>(MetaBatch&)>& visit);

}  // namespace mailtrixy::imap::detail
