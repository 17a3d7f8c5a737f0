#pragma once
// SubmissionQueue: where the SMTP front-end hands an accepted message. The implementation
// (outbox::Outbox) writes it durably (a synced RocksDB batch) before enqueue() returns, so the
// front-end may answer "250 2.0.0 queued as <id>" the moment it gets the id; delivery through
// Graph happens later, in the outbox's worker, exactly once.
//
// Threading: thread-safe; enqueue() blocks on a synced write.

#include <string>
#include <vector>

#include "mailtrixy/mail/error.hpp"

namespace mailtrixy::mail {

struct Submission {
  std::string account_key;               // the authenticated account
  std::string envelope_from;             // MAIL FROM addr-spec (already checked against the account)
  std::vector<std::string> recipients;   // every RCPT TO addr-spec, in order, no duplicates
  std::string mime;                      // the message as received: dot-unstuffed, CRLF line ends
  std::string client;                    // peer address, for logs
};

class SubmissionQueue {
 public:
  virtual ~SubmissionQueue() = default;
  // The queue id ("q" + time + random, printable, no spaces) once the message is durable.
  // Errors: invalid (empty recipients or a message that is not RFC 5322), too_big, unavailable
  // (the store failed; the client should try again later).
  virtual MailResult<std::string> enqueue(Submission submission) = 0;
};

}  // namespace mailtrixy::mail
