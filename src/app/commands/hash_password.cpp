#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <string>

#include "../command.hpp"
#include "mailtrixy/crypto/password.hpp"

namespace mailtrixy::app {
// Reads one line from stdin; on a terminal the typed characters are not echoed.
bool read_password(std::string& password) {
  const bool terminal = ::isatty(STDIN_FILENO) == 1;
  termios saved{};
  if (terminal) {
    std::fputs("Password: ", stderr);
    ::tcgetattr(STDIN_FILENO, &saved);
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  }
  const bool got = static_cast<bool>(std::getline(std::cin, password));
  if (terminal) {
    ::tcsetattr(STDIN_FILENO, TCSANOW, &saved);
    std::fputs("\n", stderr);
  }
  if (!password.empty() && password.back() == '\r') password.pop_back();
  return got || !password.empty();
}

int run_hash_password(const CommandContext& context) {
  if (!context.args.empty()) {
    print_error("hash-password takes no arguments; it reads the password on stdin");
    return kUsageError;
  }
  std::string password;
  if (!read_password(password) || password.empty()) {
    print_error("no password on stdin; usage: echo -n 'PASSWORD' | mailtrixy hash-password");
    return kUsageError;
  }
  std::printf("%s\n", crypto::hash_password(password).c_str());
  return kSuccess;
}

}  // namespace mailtrixy::app
