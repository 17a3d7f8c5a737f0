#include "mailtrixy/outbox/graph_channel.hpp"

#include <utility>

#include "mailtrixy/base/log.hpp"
#include "mailtrixy/graph/graph_remote_mailbox.hpp"

namespace mailtrixy::outbox {

Result<std::shared_ptr<GraphDeliveryChannel>> GraphDeliveryChannel::create(net::HttpClient& http,
                                                                           graph::TokenSource tokens,
                                                                           graph::GraphClientOptions options) {
  auto client = graph::GraphClient::create(http, std::move(tokens), std::move(options));
  if (!client) return client.error();
  std::shared_ptr<graph::GraphClient> shared = std::move(client).value();
  auto sender = std::make_shared<graph::GraphSender>(*shared, http);
  auto inbox = std::make_shared<graph::GraphRemoteMailbox>(*shared);
  return std::make_shared<GraphDeliveryChannel>(std::move(sender), std::move(inbox), std::move(shared));
}

GraphDeliveryChannel::GraphDeliveryChannel(std::shared_ptr<graph::GraphSender> sender,
                                           std::shared_ptr<mail::RemoteMailbox> inbox,
                                           std::shared_ptr<graph::GraphClient> client)
    : client_(std::move(client)), sender_(std::move(sender)), inbox_(std::move(inbox)) {}

void GraphDeliveryChannel::cancel() {
  if (client_) client_->stop();
}

mail::MailResult<void> GraphDeliveryChannel::send(std::string_view mime, bool* may_have_been_sent) {
  graph::GraphSender::Report report;
  auto sent = sender_->send(mime, &report);
  if (may_have_been_sent != nullptr) *may_have_been_sent = !sent && report.may_have_been_sent;
  return sent;
}

mail::MailResult<bool> GraphDeliveryChannel::already_sent(std::string_view message_id) {
  auto found = sender_->in_sent_items(message_id);
  if (!found || *found) return found;
  auto deleted = sender_->delete_drafts(message_id);
  if (!deleted) return deleted.error();
  if (*deleted > 0) log::info("deleted drafts left by an interrupted send", {{"drafts", *deleted}});
  return false;
}

mail::MailResult<void> GraphDeliveryChannel::deliver_bounce(std::string_view mime) {
  mail::CreateMessageOptions options;  // no \Seen, no \Draft: a new, unread message
  auto created = inbox_->create_message(mail::FolderId("inbox"), mime, options);
  if (!created) return created.error();
  return {};
}

}  // namespace mailtrixy::outbox
