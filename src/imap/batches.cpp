#include "batches.hpp"

namespace mailtrixy::imap::detail {

mail::MailResult<void> for_each_batch(Context& context, const SelectedFolder& folder,
                                      const std::vector<std::size_t>& indices,
                                      const std::function<mail::MailResult<void>(MetaBatch&)>& visit) {
  std::size_t begin = 0;
  while (begin < indices.size()) {
    std::size_t end = begin + 1;
    while (end < indices.size() && indices[end] - indices[begin] < kBatchSpan) ++end;
    mail::UidRange range{folder.uids[indices[begin]], folder.uids[indices[end - 1]]};
    auto metas = context.mailbox->list_messages(folder.path, range);
    if (!metas) return metas.error();
    MetaBatch batch;
    batch.reserve(end - begin);
    auto meta = metas->begin();
    for (std::size_t i = begin; i < end; ++i) {
      mail::Uid uid = folder.uids[indices[i]];
      while (meta != metas->end() && meta->uid < uid) ++meta;
      if (meta != metas->end() && meta->uid == uid) batch.emplace_back(indices[i], std::move(*meta));
    }
    if (auto visited = visit(batch); !visited) return visited;
    begin = end;
  }
  return {};
}

}  // namespace mailtrixy::imap::detail
