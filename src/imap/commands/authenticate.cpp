#include "../command_table.hpp"
#include "../login_flow.hpp"
#include "mailtrixy/crypto/encoding.hpp"

namespace mailtrixy::imap::detail {

namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = (a[i] >= 'A' && a[i] <= 'Z') ? static_cast<char>(a[i] + 32) : a[i];
    char y = (b[i] >= 'A' && b[i] <= 'Z') ? static_cast<char>(b[i] + 32) : b[i];
    if (x != y) return false;
  }
  return true;
}

// RFC 4616: [authzid] NUL authcid NUL passwd, base64 on the wire ("=" is an empty response).
Reply plain(Context& context, std::string_view base64) {
  std::string decoded;
  if (base64 != "=") {
    auto bytes = crypto::base64_decode(base64);
    if (!bytes) return Reply::bad("The AUTHENTICATE PLAIN response is not valid base64.");
    decoded = std::move(*bytes);
  }
  auto first = decoded.find('\0');
  auto second = first == std::string::npos ? std::string::npos : decoded.find('\0', first + 1);
  if (second == std::string::npos || decoded.find('\0', second + 1) != std::string::npos) {
    return Reply::bad("The AUTHENTICATE PLAIN response must be authzid NUL user NUL password, base64-encoded.");
  }
  std::string_view all(decoded);
  std::string_view authzid = all.substr(0, first);
  std::string_view user = all.substr(first + 1, second - first - 1);
  std::string_view password = all.substr(second + 1);
  if (!authzid.empty() && !iequals(authzid, user)) {
    return Reply::no("Logging in as another user is not supported; leave the authorization identity empty.",
                     "AUTHORIZATIONFAILED");
  }
  return complete_login(context, user, password);
}

}  // namespace

Reply handle_authenticate(Context& context, const Command& command) {
  const auto& args = std::get<AuthenticateArgs>(command.arguments);
  if (args.mechanism != "PLAIN") {
    return Reply::no("Only AUTHENTICATE PLAIN is supported; use it or LOGIN with the bridge password.", "CANNOT");
  }
  if (!context.plaintext_auth_allowed()) return privacy_required();
  if (args.initial_response) return plain(context, *args.initial_response);
  // Two-step form: an empty challenge, then the response on a line of its own.
  *context.out += "+ \r\n";
  context.mode = Mode::authenticate;
  context.mode_tag = command.tag;
  context.parser.expect_line();
  return Reply::in_progress();
}

Reply continue_authenticate(Context& context, const std::string& line) {
  context.mode = Mode::commands;
  std::string_view response(line);
  while (!response.empty() && (response.back() == ' ' || response.back() == '\t')) response.remove_suffix(1);
  if (response == "*") return Reply::bad("Authentication cancelled.");
  return plain(context, response);
}

}  // namespace mailtrixy::imap::detail
