#pragma once
// GraphDeliveryChannel: the outbox's DeliveryChannel for one account over Microsoft Graph.
//
//   send            graph::GraphSender::send (MIME sendMail, or a JSON draft with upload
//                   sessions for messages over the sendMail limit)
//   already_sent    GraphSender::in_sent_items by internetMessageId; when the message is not
//                   there, the drafts an interrupted large send may have left with that
//                   Message-ID are deleted first, so the resend starts clean
//   deliver_bounce  RemoteMailbox::create_message into the `inbox` alias as a normal, unread
//                   message (GraphRemoteMailbox: graph-facts B9's non-draft recipe)

#include <memory>

#include "mailtrixy/base/result.hpp"
#include "mailtrixy/graph/graph_client.hpp"

#include "mailtrixy/graph/graph_sender.hpp"
#include "mailtrixy/mail/remote_mailbox.hpp"
#include "mailtrixy/outbox/outbox.hpp"

namespace mailtrixy::outbox {

class GraphDeliveryChannel final : public DeliveryChannel {
 public:
  // A channel with its own GraphClient for the account (options.mailbox_key set: it shares the
  // 4-in-flight gate with the account's other clients). `http` must outlive the channel.
  static Result<std::shared_ptr<GraphDeliveryChannel>> create(net::HttpClient& http, graph::TokenSource tokens,
                                                              graph::GraphClientOptions options);
  // Over existing parts (tests); `client`, when given, is stopped by cancel().
  GraphDeliveryChannel(std::shared_ptr<graph::GraphSender> sender, std::shared_ptr<mail::RemoteMailbox> inbox,
                       std::shared_ptr<graph::GraphClient> client = nullptr);

  mail::MailResult<void> send(std::string_view mime, bool* may_have_been_sent) override;
  mail::MailResult<bool> already_sent(std::string_view message_id) override;
  mail::MailResult<void> deliver_bounce(std::string_view mime) override;
  void cancel() override;

 private:
  std::shared_ptr<graph::GraphClient> client_;
  std::shared_ptr<graph::GraphSender> sender_;
  std::shared_ptr<mail::RemoteMailbox> inbox_;
};

}  // namespace mailtrixy::outbox
