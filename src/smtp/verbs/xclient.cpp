// XCLIENT (Postfix's XCLIENT_README), the way nginx's mail proxy hands a connection over: it has
// already authenticated the user (through the bridge's auth_http endpoint) and names the real
// client and the account. Trusted proxies only; see docs/scaling.md.

#include <algorithm>
#include <cctype>
#include <optional>
#include <string>
#include <vector>

#include "mailtrixy/base/log.hpp"
#include "mailtrixy/smtp/reply.hpp"
#include "verbs.hpp"

namespace mailtrixy::smtp::verbs {
namespace {

constexpr std::string_view kAttributes[] = {"NAME", "ADDR", "PORT", "PROTO", "HELO", "LOGIN", "DESTADDR", "DESTPORT"};

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// xtext (RFC 3461 4): "+XX" stands for the byte with hex value XX. Postfix's XCLIENT_README
// asks for it, but nginx sends the values raw, so a '+' not followed by two hex digits is kept as
// it is ("alice+news@example.com" from nginx) instead of being an error.
std::string decode_xtext(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const bool encoded = text[i] == '+' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 &&
                         hex_value(text[i + 2]) >= 0;
    if (!encoded) {
      out += text[i];
      continue;
    }
    out += static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
    i += 2;
  }
  return out;
}

struct Attribute {
  std::string name;   // upper-cased
  std::string value;  // decoded
  std::string raw;    // as sent
};

bool unavailable(std::string_view value) { return value == "[UNAVAILABLE]" || value == "[TEMPUNAVAIL]"; }

}  // namespace

Outcome xclient(Session::Context& context, std::string_view arguments, std::string& out) {
  if (!context.info.trusted_proxy) {
    log::warn("smtp XCLIENT refused: the client is not a trusted proxy",
              {{"session", context.info.session_id}, {"peer", context.info.peer}});
    append_reply(out, 550, "5.7.0", "Insufficient authorization: XCLIENT is only for the configured mail proxies");
    return Outcome::refused;
  }
  if (context.transaction.active) {
    append_reply(out, 503, "5.5.1", "XCLIENT is not allowed during a mail transaction; send RSET first");
    return Outcome::refused;
  }
  std::vector<Attribute> attributes;
  std::size_t position = 0;
  while (position < arguments.size()) {
    while (position < arguments.size() && arguments[position] == ' ') ++position;
    if (position >= arguments.size()) break;
    std::size_t end = arguments.find(' ', position);
    if (end == std::string_view::npos) end = arguments.size();
    const std::string_view word = arguments.substr(position, end - position);
    position = end;
    const std::size_t equals = word.find('=');
    if (equals == std::string_view::npos || equals == 0) {
      append_reply(out, 501, "5.5.4", "Syntax: XCLIENT attribute=value ...; got a word without '='");
      return Outcome::refused;
    }
    std::string name(word.substr(0, equals));
    for (char& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (std::find(std::begin(kAttributes), std::end(kAttributes), name) == std::end(kAttributes)) {
      append_reply(out, 501, "5.5.4", "Bad XCLIENT attribute name: " + name.substr(0, 32));
      return Outcome::refused;
    }
    const std::string_view raw = word.substr(equals + 1);
    attributes.push_back({std::move(name), decode_xtext(raw), std::string(raw)});
  }
  if (attributes.empty()) {
    append_reply(out, 501, "5.5.4", "Syntax: XCLIENT attribute=value ... (NAME, ADDR, PORT, PROTO, HELO, LOGIN)");
    return Outcome::refused;
  }

  // Everything is checked before anything changes, so a refused XCLIENT leaves the session as it was.
  std::optional<std::string> address;
  std::optional<std::string> login;
  std::string raw_login;
  for (const Attribute& attribute : attributes) {
    if (attribute.name == "ADDR" && !unavailable(attribute.value)) {
      std::string value = attribute.value;
      if (value.size() > 5 && (value.starts_with("IPV6:") || value.starts_with("ipv6:"))) value.erase(0, 5);
      address = value.substr(0, 64);
    }
    if (attribute.name == "LOGIN") {
      login = attribute.value;
      raw_login = attribute.raw;
    }
  }
  const std::string client_address = address.value_or(context.info.peer_address);

  std::optional<mail::LoginResult> resolved;
  if (login && !unavailable(*login)) {
    if (!context.options.proxy_login) {
      append_reply(out, 454, "4.7.0", "XCLIENT LOGIN is not available on this listener");
      return Outcome::refused;
    }
    resolved = context.options.proxy_login(*login, client_address);
    // "a+be@example.com" raw from nginx reads as xtext "a\xBE@example.com": try it as sent too.
    if (resolved->outcome == mail::LoginResult::Outcome::wrong_credentials && raw_login != *login) {
      resolved = context.options.proxy_login(raw_login, client_address);
    }
    using Result_ = mail::LoginResult::Outcome;
    switch (resolved->outcome) {
      case Result_::ok: break;
      case Result_::wrong_credentials:
        log::info("smtp XCLIENT LOGIN for an account this bridge does not hold",
                  {{"session", context.info.session_id}, {"peer", context.info.peer}});
        append_reply(out, 535, "5.7.8", "No such account on this bridge; check the proxy's routing (auth_http)");
        return Outcome::refused;
      case Result_::needs_sign_in:
        append_reply(out, 454, "4.7.0",
                     "The Microsoft sign-in for " + resolved->address + " has expired or was revoked; sign in again at " +
                         resolved->reconnect_url);
        return Outcome::refused;
      case Result_::rate_limited:
      case Result_::unavailable:
        append_reply(out, 454, "4.7.0", "Temporary authentication failure; try again later");
        return Outcome::refused;
    }
  }

  // Postfix semantics: the session starts over as if the named client had just connected.
  const std::string proxy = context.info.peer;
  if (address) {
    context.info.peer_address = *address;
    context.info.peer = *address + " via " + proxy;
  }
  context.reset_transaction();
  context.sasl = SaslExchange{};
  context.greeted = Greeted::no;
  context.client_name.clear();
  if (login) {
    context.authenticated = false;
    context.account_key.clear();
    context.address.clear();
  }
  if (resolved) {
    context.authenticated = true;
    context.account_key = resolved->account_key;
    context.address = resolved->address;
    log::info("smtp authenticated by a trusted proxy (XCLIENT)", {{"session", context.info.session_id},
                                                                  {"account", resolved->account_key},
                                                                  {"peer", context.info.peer}});
  }
  append_reply(out, 220, "", context.options.hostname + " ESMTP MailTrixy Bridge ready");
  return Outcome::ok;
}

}  // namespace mailtrixy::smtp::verbs
