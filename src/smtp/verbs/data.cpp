// DATA (RFC 5321 4.1.1.4): the message follows the 354; the parser unstuffs it, enforces the
// size limit and hands it over at the final dot, and it is queued durably before the 250.

#include <string>
#include <utility>

#include "mailtrixy/base/log.hpp"
#include "mailtrixy/base/metrics.hpp"
#include "mailtrixy/smtp/reply.hpp"
#include "verbs.hpp"

namespace mailtrixy::smtp::verbs {

Outcome data(Session::Context& context, std::string_view, std::string& out) {
  if (!context.transaction.active) {
    append_reply(out, 503, "5.5.1", "Send MAIL FROM and RCPT TO before DATA");
    return Outcome::refused;
  }
  if (context.transaction.recipients.empty()) {
    // 554 rather than 503: RFC 2920 3.1, a pipelined DATA after refused recipients.
    append_reply(out, 554, "5.5.1", "No valid recipients; send RCPT TO before DATA");
    return Outcome::refused;
  }
  context.parser.begin_data(context.options.max_message_bytes);
  append_reply(out, 354, "", "End data with <CR><LF>.<CR><LF>");
  return Outcome::ok;
}

Outcome finish_data(Session::Context& context, InputEvent& event, std::string& out) {
  Transaction transaction = std::move(context.transaction);
  context.reset_transaction();
  if (event.too_big) {
    log::info("smtp message over the size limit",
              {{"session", context.info.session_id}, {"account", context.account_key}, {"bytes", event.data_size}});
    append_reply(out, 552, "5.3.4",
                 "Message size exceeds the fixed maximum message size of " +
                     std::to_string(context.options.max_message_bytes) + " bytes");
    return Outcome::ok;
  }
  mail::Submission submission;
  submission.account_key = context.account_key;
  submission.envelope_from = std::move(transaction.from);
  submission.recipients = std::move(transaction.recipients);
  submission.mime = std::move(event.data);
  submission.client = context.info.peer;
  const std::size_t recipient_count = submission.recipients.size();
  auto queued = context.queue.enqueue(std::move(submission));
  if (!queued) {
    log::warn("smtp message not queued", {{"session", context.info.session_id},
                                          {"account", context.account_key},
                                          {"error", std::string(mail::to_string(queued.code()))},
                                          {"reason", queued.error().message}});
    append_reply(out, reply_for_submission_error(queued.error()));
    return Outcome::ok;
  }
  log::info("smtp message queued", {{"session", context.info.session_id},
                                    {"account", context.account_key},
                                    {"queue_id", *queued},
                                    {"recipients", recipient_count},
                                    {"bytes", event.data_size}});
  static auto& accepted = metrics::global()
                              .counter("mailtrixy_smtp_messages_accepted_total",
                                       "Messages accepted by SMTP into the outbound queue.")
                              .get();
  static auto& accepted_bytes = metrics::global()
                                    .counter("mailtrixy_smtp_accepted_bytes_total",
                                             "Bytes of the messages accepted by SMTP into the outbound queue.")
                                    .get();
  accepted.inc();
  accepted_bytes.inc(event.data_size);
  append_reply(out, 250, "2.0.0", "Ok: queued as " + *queued);
  return Outcome::ok;
}

}  // namespace mailtrixy::smtp::verbs
