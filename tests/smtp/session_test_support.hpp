#pragma once
// Test doubles for the SMTP session: a LoginService with one account and a SubmissionQueue that
// records what it is given.

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "mailtrixy/crypto/encoding.hpp"
#include "mailtrixy/mail/login.hpp"
#include "mailtrixy/mail/submission.hpp"
#include "mailtrixy/smtp/command.hpp"

namespace mailtrixy::smtp::testing {

inline constexpr const char* kUser = "Alice.Smith@outlook.com";
inline constexpr const char* kPassword = "bridge-password-1";
inline constexpr const char* kAccountKey = "oid1.tid1";

class FakeLogins final : public mail::LoginService {
 public:
  mail::LoginResult login(std::string_view user, std::string_view password, std::string_view client) override {
    std::lock_guard lock(mutex);
    calls.push_back({std::string(user), std::string(password), std::string(client)});
    mail::LoginResult result;
    if (!same_address(user, kUser) || password != kPassword) {
      result.outcome = mail::LoginResult::Outcome::wrong_credentials;
      return result;
    }
    result.outcome = forced;
    result.account_key = kAccountKey;
    result.address = kUser;
    result.reconnect_url = "https://localhost:8443/settings/email-accounts";
    result.retry_after = std::chrono::milliseconds(2500);
    return result;
  }
  struct Call {
    std::string user, password, client;
  };
  std::mutex mutex;
  std::vector<Call> calls;
  mail::LoginResult::Outcome forced = mail::LoginResult::Outcome::ok;
};

class RecordingQueue final : public mail::SubmissionQueue {
 public:
  mail::MailResult<std::string> enqueue(mail::Submission submission) override {
    std::lock_guard lock(mutex);
    if (failure) return *failure;
    submissions.push_back(std::move(submission));
    return "q" + std::to_string(submissions.size());
  }
  std::mutex mutex;
  std::vector<mail::Submission> submissions;
  std::optional<mail::MailError> failure;
};

inline std::string plain_credentials(std::string_view user = kUser, std::string_view password = kPassword) {
  std::string raw;
  raw.push_back('\0');
  raw += user;
  raw.push_back('\0');
  raw += password;
  return crypto::base64_encode(raw);
}

// The reply lines in one chunk of session output, without their CRLF.
inline std::vector<std::string> lines_of(const std::string& out) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < out.size()) {
    const std::size_t end = out.find("\r\n", start);
    if (end == std::string::npos) {
      lines.push_back(out.substr(start));
      break;
    }
    lines.push_back(out.substr(start, end - start));
    start = end + 2;
  }
  return lines;
}

}  // namespace mailtrixy::smtp::testing
