#include "options.hpp"

#include <algorithm>
#include <charconv>
#include <optional>

#include "http_text.hpp"
#include "mailtrixy/net/listen_address.hpp"

namespace mailtrixy::emulator {
namespace {

constexpr std::string_view kUsage =
    "usage: mailtrixy-emulator --cert FILE --key FILE [options]\n"
    "\n"
    "  --listen HOST:PORT              address to listen on (default 127.0.0.1:0, a free port)\n"
    "  --cert FILE --key FILE          TLS certificate and key (PEM); a self-signed pair for localhost\n"
    "                                  is created when both files are missing\n"
    "  --client ID:SECRET              an app registration (repeatable)\n"
    "  --redirect-uri URI              a redirect URI of the --client before it (repeatable)\n"
    "  --user EMAIL:PASSWORD           a mailbox (repeatable); *.onmicrosoft.com addresses are work\n"
    "                                  accounts, all others personal Microsoft accounts\n"
    "  --seed EMAIL=DIR                load DIR/*.eml into the user's Inbox, DIR/<Folder>/*.eml into folders\n"
    "  --access-token-lifetime SECONDS access token lifetime (default 3599)\n"
    "  --latency MS                    added to every Graph response (default 0)\n"
    "  --locale de                     German names for the default folders (default: English)\n"
    "  --threads N                     HTTP server threads (default 4)\n"
    "  --help                          this text\n"
    "\n"
    "When ready it prints: mailtrixy-emulator listening on https://HOST:PORT\n"
    "Control API and behaviour: docs/emulator.md\n";

std::optional<long long> parse_integer(std::string_view text) {
  long long value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

bool valid_address(std::string_view address) {
  const auto at = address.find('@');
  return at != std::string_view::npos && at > 0 && at + 1 < address.size() &&
         address.find('@', at + 1) == std::string_view::npos && address.find(' ') == std::string_view::npos &&
         address.find('/') == std::string_view::npos;
}

}  // namespace

std::string_view usage_text() { return kUsage; }

Result<CommandLine> parse_command_line(std::span<const std::string_view> arguments) {
  CommandLine result;
  EmulatorOptions& options = result.options;
  bool have_cert = false;
  bool have_key = false;
  for (std::size_t i = 0; i < arguments.size(); ++i) {
    std::string_view name = arguments[i];
    std::optional<std::string_view> inline_value;
    if (name.starts_with("--")) {
      if (const auto equals = name.find('='); equals != std::string_view::npos) {
        inline_value = name.substr(equals + 1);
        name = name.substr(0, equals);
      }
    }
    if (name == "--help" || name == "-h") {
      result.help = true;
      continue;
    }
    const auto value = [&]() -> Result<std::string_view> {
      if (inline_value) return *inline_value;
      if (i + 1 >= arguments.size()) {
        return make_error(std::string(name) + " needs a value; run mailtrixy-emulator --help for the options");
      }
      return arguments[++i];
    };
    if (name == "--listen") {
      auto text = value();
      if (!text) return text.error();
      auto address = net::parse_listen_address(*text);
      if (!address) return make_error("--listen: " + address.error().message);
      options.listen = std::string(*text);
    } else if (name == "--cert" || name == "--key") {
      auto text = value();
      if (!text) return text.error();
      if (text->empty()) return make_error(std::string(name) + " needs a file path");
      (name == "--cert" ? options.cert : options.key) = std::string(*text);
      (name == "--cert" ? have_cert : have_key) = true;
    } else if (name == "--client") {
      auto text = value();
      if (!text) return text.error();
      const auto colon = text->find(':');
      if (colon == std::string_view::npos || colon == 0 || colon + 1 == text->size()) {
        return make_error("--client '" + std::string(text->substr(0, colon)) +
                          "...' must be ID:SECRET, e.g. --client 6731de76-14a6-49ae-97bc-6eba6914391e:the-secret-value");
      }
      AppRegistration client;
      client.client_id = std::string(text->substr(0, colon));
      client.secret = std::string(text->substr(colon + 1));
      for (const AppRegistration& existing : options.clients) {
        if (iequals(existing.client_id, client.client_id)) {
          return make_error("--client " + client.client_id + " is given twice; register each app once");
        }
      }
      options.clients.push_back(std::move(client));
    } else if (name == "--redirect-uri") {
      auto text = value();
      if (!text) return text.error();
      if (options.clients.empty()) {
        return make_error("--redirect-uri " + std::string(*text) +
                          " must follow the --client ID:SECRET it belongs to");
      }
      if (text->empty() || text->find("://") == std::string_view::npos) {
        return make_error("--redirect-uri '" + std::string(*text) +
                          "' is not an absolute URI; write e.g. https://localhost:8443/email-oauth/microsoft/callback");
      }
      options.clients.back().redirect_uris.emplace_back(*text);
    } else if (name == "--user") {
      auto text = value();
      if (!text) return text.error();
      const auto colon = text->find(':');
      const std::string_view address = text->substr(0, colon);
      if (colon == std::string_view::npos || colon + 1 == text->size() || !valid_address(address)) {
        return make_error("--user '" + std::string(address) +
                          "...' must be EMAIL:PASSWORD with an address like alice@outlook.com, e.g. "
                          "--user alice@outlook.com:Passw0rd");
      }
      for (const UserOption& existing : options.users) {
        if (iequals(existing.address, address)) {
          return make_error("--user " + std::string(address) + " is given twice; add each mailbox once");
        }
      }
      options.users.push_back({std::string(address), std::string(text->substr(colon + 1))});
    } else if (name == "--seed") {
      auto text = value();
      if (!text) return text.error();
      const auto equals = text->find('=');
      if (equals == std::string_view::npos || equals == 0 || equals + 1 == text->size()) {
        return make_error("--seed '" + std::string(*text) + "' must be EMAIL=DIR, e.g. --seed alice@outlook.com=seed/alice");
      }
      options.seeds.emplace_back(std::string(text->substr(0, equals)), std::string(text->substr(equals + 1)));
    } else if (name == "--access-token-lifetime") {
      auto text = value();
      if (!text) return text.error();
      const auto seconds = parse_integer(*text);
      if (!seconds || *seconds < 1 || *seconds > 86400) {
        return make_error("--access-token-lifetime '" + std::string(*text) +
                          "' must be a whole number of seconds from 1 to 86400");
      }
      options.access_token_lifetime = std::chrono::seconds(*seconds);
    } else if (name == "--latency") {
      auto text = value();
      if (!text) return text.error();
      const auto millis = parse_integer(*text);
      if (!millis || *millis < 0 || *millis > 600000) {
        return make_error("--latency '" + std::string(*text) + "' must be a whole number of milliseconds from 0 to 600000");
      }
      options.latency = std::chrono::milliseconds(*millis);
    } else if (name == "--locale") {
      auto text = value();
      if (!text) return text.error();
      if (iequals(*text, "de")) {
        options.locale = Locale::german;
      } else if (iequals(*text, "en")) {
        options.locale = Locale::english;
      } else {
        return make_error("--locale '" + std::string(*text) + "' is not supported; use de or en");
      }
    } else if (name == "--threads") {
      auto text = value();
      if (!text) return text.error();
      const auto threads = parse_integer(*text);
      if (!threads || *threads < 1 || *threads > 64) {
        return make_error("--threads '" + std::string(*text) + "' must be a whole number from 1 to 64");
      }
      options.threads = static_cast<int>(*threads);
    } else {
      return make_error("unknown option '" + std::string(arguments[i]) +
                        "'; run mailtrixy-emulator --help for the options");
    }
  }
  if (result.help) return result;
  if (!have_cert || !have_key) {
    return make_error("--cert FILE and --key FILE are required (a self-signed pair is created when both are missing)");
  }
  for (const auto& [address, directory] : options.seeds) {
    const bool known = std::any_of(options.users.begin(), options.users.end(),
                                   [&](const UserOption& user) { return iequals(user.address, address); });
    if (!known) {
      return make_error("--seed " + address + "=" + directory.string() + " names no --user; add --user " + address +
                        ":PASSWORD");
    }
  }
  return result;
}

}  // namespace mailtrixy::emulator
