// Fuzz target for the SMTP input parser and the session above it: arbitrary client bytes, cut into
// pieces whose size the first byte chooses, must never crash, hang or break an invariant (the
// parser never holds a command line over its limit; every reply line is a 3-digit code).
// A tiny login service (user "a@b.c", password "p") and an accepting queue let the input reach
// MAIL, RCPT and DATA.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "mailtrixy/mail/login.hpp"
#include "mailtrixy/mail/submission.hpp"
#include "mailtrixy/smtp/command.hpp"
#include "mailtrixy/smtp/parser.hpp"
#include "mailtrixy/smtp/session.hpp"

namespace {

using namespace mailtrixy;

class Logins final : public mail::LoginService {
 public:
  mail::LoginResult login(std::string_view user, std::string_view password, std::string_view) override {
    mail::LoginResult result;
    if (user == "a@b.c" && password == "p") {
      result.outcome = mail::LoginResult::Outcome::ok;
      result.account_key = "k";
      result.address = "a@b.c";
    }
    return result;
  }
};

class Queue final : public mail::SubmissionQueue {
 public:
  mail::MailResult<std::string> enqueue(mail::Submission submission) override {
    if (submission.recipients.empty()) std::abort();  // the session must never queue without recipients
    return std::string("q1");
  }
};

void check_replies(const std::string& out) {
  std::size_t start = 0;
  while (start < out.size()) {
    const std::size_t end = out.find("\r\n", start);
    if (end == std::string::npos || end - start < 4) std::abort();
    for (std::size_t i = start; i < start + 3; ++i) {
      if (out[i] < '0' || out[i] > '9') std::abort();
    }
    if (out[start + 3] != ' ' && out[start + 3] != '-') std::abort();
    start = end + 2;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t piece = 1 + data[0] % 64;
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);

  // The bare parser, with data mode whenever a line says DATA.
  smtp::InputParser parser(smtp::ParserLimits{64});
  for (std::size_t at = 0; at < input.size(); at += piece) {
    parser.feed(input.substr(at, piece));
    while (auto event = parser.next()) {
      if (event->kind == smtp::InputEvent::Kind::line && event->line == "DATA") parser.begin_data(128);
      if (event->kind == smtp::InputEvent::Kind::data_complete && event->data.size() > 128) std::abort();
    }
    if (!parser.in_data() && parser.buffered() > 64 + piece + 1) std::abort();
  }

  // The whole session.
  Logins logins;
  Queue queue;
  smtp::ConnectionInfo info;
  info.peer = "127.0.0.1:1";
  info.peer_address = "127.0.0.1";
  info.starttls_available = true;
  smtp::SessionOptions options;
  options.max_message_bytes = 256;
  options.limits.max_line_length = 128;
  smtp::Session session(options, logins, queue, info);
  for (std::size_t at = 0; at < input.size(); at += piece) {
    std::string out;
    const smtp::SessionAction action = session.receive(input.substr(at, piece), out);
    check_replies(out);
    if (action == smtp::SessionAction::close) break;
    if (action == smtp::SessionAction::start_tls) session.on_tls_started();
  }
  (void)smtp::check_address(input, true);
  (void)smtp::parse_path_argument(input, "FROM:");
  return 0;
}
