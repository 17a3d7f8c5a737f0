// The auth_http endpoint of nginx's mail proxy; the contract is in mail_proxy.hpp.

#include "mailtrixy/web/mail_proxy.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <utility>

#include "mailtrixy/base/log.hpp"
#include "mailtrixy/crypto/hash.hpp"
#include "mailtrixy/net/listen_address.hpp"
#include "mailtrixy/web/forms.hpp"

namespace mailtrixy::web {
namespace {

constexpr int kWrongPasswordWait = 3;
constexpr int kTemporaryWait = 5;

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view protocol_name(MailProtocol protocol) {
  switch (protocol) {
    case MailProtocol::imap: return "imap";
    case MailProtocol::smtp: return "smtp";
    case MailProtocol::pop3: return "pop3";
  }
  return "imap";
}

// Header values end up in a response header: no CR, LF or NUL may pass (a URL never has them,
// but a peer's answer is relayed).
std::string header_safe(std::string_view text) {
  std::string out;
  for (char c : text) out += (c == '\r' || c == '\n' || c == '\0') ? ' ' : c;
  return out;
}

MailProxyAnswer refusal(std::string status, std::optional<int> wait, MailProtocol protocol, std::string smtp_code) {
  MailProxyAnswer answer;
  answer.status = std::move(status);
  answer.wait_seconds = wait;
  if (protocol == MailProtocol::smtp) answer.smtp_error_code = std::move(smtp_code);
  return answer;
}

MailProxyAnswer invalid_login(MailProtocol protocol) {
  return refusal("Invalid login or password", kWrongPasswordWait, protocol, "535 5.7.8");
}

MailProxyAnswer temporary_failure(MailProtocol protocol) {
  return refusal("Temporary authentication failure; try again later", kTemporaryWait, protocol, "454 4.7.0");
}

Result<MailProxyEndpoint::Backend> parse_backend(std::string_view text, std::string_view name) {
  auto parsed = net::parse_listen_address(text);
  if (!parsed || parsed->port == 0) {
    return make_error(std::string(name) + " \"" + std::string(text) +
                      "\" is not IP:PORT; set cluster." + std::string(name) + " to the address the proxy connects to");
  }
  std::string host = parsed->host;
  if (host.starts_with('[') && host.ends_with(']')) host = host.substr(1, host.size() - 2);
  // nginx does not resolve Auth-Server, and a wildcard is no address to connect to.
  const bool ip = std::all_of(host.begin(), host.end(), [](char c) {
    return std::isxdigit(static_cast<unsigned char>(c)) != 0 || c == '.' || c == ':';
  });
  if (host.empty() || !ip || host == "0.0.0.0" || host == "::") {
    return make_error(std::string(name) + " \"" + std::string(text) +
                      "\" does not name one IP address the proxy can connect to; set cluster." + std::string(name) +
                      " to this bridge's IP and port (e.g. 10.0.0.1:1143)");
  }
  return MailProxyEndpoint::Backend{std::move(host), parsed->port};
}

}  // namespace

std::string_view to_string(MailProxyOutcome outcome) {
  switch (outcome) {
    case MailProxyOutcome::ok: return "ok";
    case MailProxyOutcome::peer_ok: return "peer_ok";
    case MailProxyOutcome::peer_refused: return "peer_refused";
    case MailProxyOutcome::wrong_credentials: return "wrong_credentials";
    case MailProxyOutcome::rate_limited: return "rate_limited";
    case MailProxyOutcome::needs_sign_in: return "needs_sign_in";
    case MailProxyOutcome::unavailable: return "unavailable";
    case MailProxyOutcome::not_here: return "not_here";
    case MailProxyOutcome::unsupported: return "unsupported";
    case MailProxyOutcome::bad_request: return "bad_request";
    case MailProxyOutcome::forbidden: return "forbidden";
  }
  return "unknown";
}

Result<MailProxyQuery> parse_mail_proxy_query(const net::HttpRequest& request) {
  MailProxyQuery query;
  const auto method = request.header("Auth-Method");
  const auto user = request.header("Auth-User");
  const auto password = request.header("Auth-Pass");
  const auto protocol = request.header("Auth-Protocol");
  if (!method || method->empty()) return make_error("the Auth-Method header is missing; this URL is nginx's auth_http");
  if (!user) return make_error("the Auth-User header is missing; this URL is nginx's auth_http");
  if (!password) return make_error("the Auth-Pass header is missing; this URL is nginx's auth_http");
  if (!protocol) return make_error("the Auth-Protocol header is missing; this URL is nginx's auth_http");
  query.method = lower(*method);
  // nginx percent-encodes Auth-User and Auth-Pass (ngx_escape_uri with NGX_ESCAPE_MAIL_AUTH: '%',
  // space, control and non-ASCII bytes); since '%' itself is always encoded, decoding every %XX
  // is exact. Queries forwarded to a peer are encoded by percent_encode(), which the peer decodes
  // the same way.
  auto decoded_user = percent_decode(*user, false);
  if (!decoded_user) return make_error("Auth-User has a '%' that is not followed by two hex digits, or an encoded NUL");
  auto decoded_password = percent_decode(*password, false);
  if (!decoded_password) return make_error("Auth-Pass has a '%' that is not followed by two hex digits, or an encoded NUL");
  query.user = std::move(*decoded_user);
  query.password = Secret<std::string>(std::move(*decoded_password));
  const std::string protocol_text = lower(*protocol);
  if (protocol_text == "imap") {
    query.protocol = MailProtocol::imap;
  } else if (protocol_text == "smtp") {
    query.protocol = MailProtocol::smtp;
  } else if (protocol_text == "pop3") {
    query.protocol = MailProtocol::pop3;
  } else {
    return make_error("Auth-Protocol \"" + header_safe(protocol_text.substr(0, 16)) + "\" is not imap, smtp or pop3");
  }
  if (const auto attempt = request.header("Auth-Login-Attempt")) {
    int value = 0;
    const auto [end, error] = std::from_chars(attempt->data(), attempt->data() + attempt->size(), value);
    if (error != std::errc() || end != attempt->data() + attempt->size() || value < 1) {
      return make_error("Auth-Login-Attempt is not a positive number");
    }
    query.attempt = value;
  }
  const auto client = request.header("Client-IP");
  query.client_ip = client && !client->empty() ? std::string(*client) : request.remote_address;
  const auto forwarded = request.header(kMailProxyForwardedHeader);
  query.forwarded = forwarded && *forwarded == "1";
  return query;
}

net::HttpResponse render_mail_proxy_answer(const MailProxyAnswer& answer) {
  net::HttpResponse response;
  response.status = 200;
  response.headers.emplace_back("Auth-Status", answer.ok ? std::string("OK") : header_safe(answer.status));
  if (answer.ok) {
    response.headers.emplace_back("Auth-Server", header_safe(answer.server));
    response.headers.emplace_back("Auth-Port", std::to_string(answer.port));
  } else {
    if (answer.wait_seconds) response.headers.emplace_back("Auth-Wait", std::to_string(*answer.wait_seconds));
    if (!answer.smtp_error_code.empty()) response.headers.emplace_back("Auth-Error-Code", header_safe(answer.smtp_error_code));
  }
  if (answer.not_here) response.headers.emplace_back(kMailProxyAccountHeader, "not-here");
  for (const auto& [name, value] : answer.extra) response.headers.emplace_back(name, header_safe(value));
  return response;
}

MailProxyAnswer refusal_for(const mail::LoginResult& result, MailProtocol protocol) {
  using Outcome = mail::LoginResult::Outcome;
  switch (result.outcome) {
    case Outcome::ok: break;
    case Outcome::wrong_credentials: return invalid_login(protocol);
    case Outcome::rate_limited: {
      auto seconds = std::chrono::ceil<std::chrono::seconds>(result.retry_after).count();
      if (seconds < 1) seconds = 1;
      return refusal("Too many failed logins; try again in " + std::to_string(seconds) + " seconds",
                     static_cast<int>(seconds), protocol, "454 4.7.0");
    }
    case Outcome::needs_sign_in:
      return refusal("The Microsoft sign-in for " + result.address + " has expired or was revoked; sign in again at " +
                         result.reconnect_url,
                     kWrongPasswordWait, protocol, "454 4.7.0");
    case Outcome::unavailable: return temporary_failure(protocol);
  }
  return temporary_failure(protocol);
}

Result<std::unique_ptr<MailProxyEndpoint>> MailProxyEndpoint::create(MailProxyOptions options,
                                                                     mail::LoginService& logins,
                                                                     AccountLookup holds_account,
                                                                     PeerTransport peers) {
  if (options.key.empty()) return make_error("the auth_http endpoint needs a key (cluster.auth_http_key_file)");
  if (!holds_account) return make_error("the auth_http endpoint needs an account lookup");
  if (!options.peers.empty() && !peers) return make_error("cluster.peers is set but no HTTP client was given for them");
  auto imap = parse_backend(options.imap_backend, "imap_backend");
  if (!imap) return make_error(imap.error().message);
  auto smtp = parse_backend(options.smtp_backend, "smtp_backend");
  if (!smtp) return make_error(smtp.error().message);
  return std::unique_ptr<MailProxyEndpoint>(new MailProxyEndpoint(std::move(options), logins, std::move(holds_account),
                                                                  std::move(peers), std::move(*imap), std::move(*smtp)));
}

MailProxyEndpoint::MailProxyEndpoint(MailProxyOptions options, mail::LoginService& logins, AccountLookup holds_account,
                                     PeerTransport peers, Backend imap, Backend smtp)
    : options_(std::move(options)),
      logins_(logins),
      holds_account_(std::move(holds_account)),
      peers_(std::move(peers)),
      imap_(std::move(imap)),
      smtp_(std::move(smtp)) {}

void MailProxyEndpoint::count(MailProxyOutcome outcome) {
  std::lock_guard lock(mutex_);
  ++counts_[outcome];
}

std::string MailProxyEndpoint::prometheus() const {
  std::string out =
      "# HELP mailtrixy_mail_proxy_auth_total Queries of the mail proxy's auth_http endpoint, by outcome.\n"
      "# TYPE mailtrixy_mail_proxy_auth_total counter\n";
  std::lock_guard lock(mutex_);
  for (const auto& [outcome, count] : counts_) {
    out += "mailtrixy_mail_proxy_auth_total{outcome=\"" + std::string(to_string(outcome)) + "\"} " +
           std::to_string(count) + "\n";
  }
  return out;
}

net::HttpResponse MailProxyEndpoint::handle(const net::HttpRequest& request) {
  const auto key = request.header(kMailProxyKeyHeader);
  // Hashing first makes the comparison constant-time whatever the lengths.
  if (!key || !crypto::constant_time_equal(crypto::sha256(*key), crypto::sha256(options_.key.reveal()))) {
    count(MailProxyOutcome::forbidden);
    log::warn("mail proxy auth query refused: missing or wrong key",
              {{"client", request.remote_address}, {"key_sent", key ? "yes" : "no"}});
    return net::HttpResponse::text(403, "Forbidden: send the shared key of cluster.auth_http_key_file in " +
                                            std::string(kMailProxyKeyHeader) + ".\n");
  }
  auto query = parse_mail_proxy_query(request);
  if (!query) {
    count(MailProxyOutcome::bad_request);
    log::warn("mail proxy auth query is malformed", {{"client", request.remote_address}, {"error", query.error().message}});
    MailProxyAnswer answer;
    answer.status = "Invalid authentication request: " + query.error().message;
    net::HttpResponse response = render_mail_proxy_answer(answer);
    response.status = 400;
    return response;
  }
  MailProxyOutcome outcome = MailProxyOutcome::unavailable;
  MailProxyAnswer answer = this->answer(*query, outcome);
  count(outcome);
  // The user is logged only once accepted: a refused "user" may be a password typed in the wrong field.
  log::info("mail proxy auth query answered",
            {{"outcome", to_string(outcome)},
             {"protocol", protocol_name(query->protocol)},
             {"client", query->client_ip},
             {"attempt", query->attempt},
             {"forwarded_by", query->forwarded ? request.remote_address : std::string()},
             {"user", answer.ok ? query->user : std::string()},
             {"backend", answer.ok ? answer.server + ":" + std::to_string(answer.port) : std::string()}});
  return render_mail_proxy_answer(answer);
}

MailProxyAnswer MailProxyEndpoint::answer(const MailProxyQuery& query, MailProxyOutcome& outcome) {
  if (query.protocol == MailProtocol::pop3) {
    outcome = MailProxyOutcome::unsupported;
    return refusal("POP3 is not supported by this bridge; use IMAP", std::nullopt, query.protocol, "");
  }
  if (query.method != "plain" && query.method != "login") {
    outcome = MailProxyOutcome::unsupported;
    return refusal("Use a password login (IMAP LOGIN, AUTH PLAIN or AUTH LOGIN) with the bridge password",
                   std::nullopt, query.protocol, "504 5.5.4");
  }
  auto holds = holds_account_(query.user);
  if (!holds) {
    outcome = MailProxyOutcome::unavailable;
    log::warn("mail proxy auth: cannot look the account up", {{"error", holds.error().message}});
    return temporary_failure(query.protocol);
  }
  if (!*holds) {
    if (query.forwarded) {
      outcome = MailProxyOutcome::not_here;
      MailProxyAnswer answer = invalid_login(query.protocol);
      answer.not_here = true;
      return answer;
    }
    if (!options_.peers.empty()) {
      MailProxyAnswer from_peers = ask_peers(query, outcome);
      if (outcome != MailProxyOutcome::not_here) return from_peers;
    }
    // Held nowhere: checked here all the same (see the header) to count it and to take as long.
  }
  const mail::LoginResult result = logins_.login(query.user, query.password.reveal(), query.client_ip);
  switch (result.outcome) {
    case mail::LoginResult::Outcome::ok: {
      outcome = MailProxyOutcome::ok;
      const Backend& backend = query.protocol == MailProtocol::smtp ? smtp_ : imap_;
      MailProxyAnswer answer;
      answer.ok = true;
      answer.status = "OK";
      answer.server = backend.host;
      answer.port = backend.port;
      return answer;
    }
    case mail::LoginResult::Outcome::wrong_credentials: outcome = MailProxyOutcome::wrong_credentials; break;
    case mail::LoginResult::Outcome::rate_limited: outcome = MailProxyOutcome::rate_limited; break;
    case mail::LoginResult::Outcome::needs_sign_in: outcome = MailProxyOutcome::needs_sign_in; break;
    case mail::LoginResult::Outcome::unavailable: outcome = MailProxyOutcome::unavailable; break;
  }
  MailProxyAnswer answer = refusal_for(result, query.protocol);
  if (query.forwarded && !*holds) answer.not_here = true;
  return answer;
}

// Sets `outcome` to peer_ok / peer_refused (the returned answer is the peer's), unavailable (a
// peer could not be asked and none claimed the account), or not_here (every peer said so).
MailProxyAnswer MailProxyEndpoint::ask_peers(const MailProxyQuery& query, MailProxyOutcome& outcome) {
  bool some_unreachable = false;
  for (const std::string& peer : options_.peers) {
    net::HttpClientRequest request;
    request.method = "GET";
    request.url = peer + kMailProxyPath;
    request.timeout = options_.peer_timeout;
    request.headers = {{kMailProxyKeyHeader, options_.key.reveal()},
                       {kMailProxyForwardedHeader, "1"},
                       {"Auth-Method", query.method},
                       {"Auth-User", percent_encode(query.user)},
                       {"Auth-Pass", percent_encode(query.password.reveal())},
                       {"Auth-Protocol", std::string(protocol_name(query.protocol))},
                       {"Auth-Login-Attempt", std::to_string(query.attempt)},
                       {"Client-IP", query.client_ip}};
    auto response = peers_(request);
    if (!response) {
      some_unreachable = true;
      log::warn("mail proxy auth: a peer bridge could not be asked", {{"peer", peer}, {"error", response.error().message}});
      continue;
    }
    const auto status = response->header("Auth-Status");
    if (response->status != 200 || !status) {
      some_unreachable = true;
      log::warn("mail proxy auth: a peer bridge gave no usable answer",
                {{"peer", peer}, {"status", response->status},
                 {"hint", response->status == 403 ? "the peers must share the same auth_http key" : ""}});
      continue;
    }
    const auto account = response->header(kMailProxyAccountHeader);
    if (account && *account == "not-here") continue;
    MailProxyAnswer answer;
    answer.ok = *status == "OK";
    answer.status = std::string(*status);
    if (answer.ok) {
      const auto server = response->header("Auth-Server");
      const auto port = response->header("Auth-Port");
      int port_value = 0;
      if (!server || !port ||
          std::from_chars(port->data(), port->data() + port->size(), port_value).ec != std::errc() || port_value < 1 ||
          port_value > 65535) {
        some_unreachable = true;
        log::warn("mail proxy auth: a peer bridge answered OK without a usable Auth-Server/Auth-Port", {{"peer", peer}});
        continue;
      }
      answer.server = std::string(*server);
      answer.port = static_cast<std::uint16_t>(port_value);
      for (const char* rewrite : {"Auth-User", "Auth-Pass"}) {
        if (const auto value = response->header(rewrite)) answer.extra.emplace_back(rewrite, std::string(*value));
      }
      outcome = MailProxyOutcome::peer_ok;
      return answer;
    }
    if (const auto wait = response->header("Auth-Wait")) {
      int seconds = 0;
      if (std::from_chars(wait->data(), wait->data() + wait->size(), seconds).ec == std::errc()) {
        answer.wait_seconds = seconds;
      }
    }
    if (const auto code = response->header("Auth-Error-Code")) answer.smtp_error_code = std::string(*code);
    outcome = MailProxyOutcome::peer_refused;
    return answer;
  }
  if (some_unreachable) {
    outcome = MailProxyOutcome::unavailable;
    return temporary_failure(query.protocol);
  }
  outcome = MailProxyOutcome::not_here;
  return {};
}

}  // namespace mailtrixy::web
