#pragma once
// The state one SMTP session's verbs share. Internal to the smtp module.

#include <string>
#include <unordered_set>
#include <vector>

#include "mailtrixy/smtp/session.hpp"

namespace mailtrixy::smtp {

// One mail transaction: from MAIL to the end of DATA (or RSET, EHLO, HELO, STARTTLS).
struct Transaction {
  bool active = false;
  std::string from;
  bool smtputf8 = false;
  std::vector<std::string> recipients;            // in RCPT order, as the client spelled them
  std::unordered_set<std::string> recipient_keys;  // address_key() of each, to drop duplicates
};

// A SASL exchange waiting for the client's next line (AUTH without an initial response, or the
// steps of AUTH LOGIN).
struct SaslExchange {
  enum class Step { none, plain_response, login_username, login_password };
  Step step = Step::none;
  std::string username;
};

enum class Greeted { no, helo, ehlo };

struct Session::Context {
  Context(SessionOptions options_in, mail::LoginService& logins_in, mail::SubmissionQueue& queue_in,
          ConnectionInfo info_in)
      : options(std::move(options_in)),
        logins(logins_in),
        queue(queue_in),
        info(std::move(info_in)),
        parser(options.limits) {}

  SessionOptions options;
  mail::LoginService& logins;
  mail::SubmissionQueue& queue;
  ConnectionInfo info;
  InputParser parser;

  Greeted greeted = Greeted::no;
  std::string client_name;  // the EHLO/HELO argument, for logs

  bool authenticated = false;
  std::string account_key;
  std::string address;  // the account's mail address

  Transaction transaction;
  SaslExchange sasl;
  int errors = 0;  // refused commands in a row

  // AUTH is offered and accepted only over TLS or from loopback (RFC 4954 4: no plaintext
  // passwords over the network).
  bool auth_allowed() const { return info.tls || info.loopback; }
  void reset_transaction() { transaction = Transaction{}; }
};

}  // namespace mailtrixy::smtp
