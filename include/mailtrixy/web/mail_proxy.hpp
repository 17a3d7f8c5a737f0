#pragma once
// GET /mail-proxy/auth: the auth_http endpoint of nginx's mail proxy (ngx_mail_auth_http_module),
// which lets several bridges share their accounts behind one IMAP/SMTP front (docs/scaling.md).
//
// The request (headers only; nginx sends no body)
//   X-Mailtrixy-Auth-Key  the shared key of cluster.auth_http_key_file (nginx: auth_http_header);
//                         compared in constant time; missing or wrong → 403, nothing else read
//   Auth-Method           plain or login (what nginx sends for IMAP LOGIN / AUTH PLAIN / AUTH LOGIN);
//                         other methods (none, apop, cram-md5, external) are refused
//   Auth-User, Auth-Pass  the mailbox address and the bridge password, percent-encoded the way
//                         nginx does ('%', space, control and non-ASCII bytes as %XX); never logged
//   Auth-Protocol         imap or smtp; pop3 is refused (the bridge has no POP3 front-end)
//   Auth-Login-Attempt    1, 2, ... (informational)
//   Client-IP             the real client, used for the login rate limiter and logs
//   X-Mailtrixy-Forwarded 1 on a query one bridge forwards to a peer: it is never forwarded again
//
// The answer (HTTP 200; nginx reads only the headers)
//   Auth-Status: OK, Auth-Server: <IP>, Auth-Port: <port>  — this bridge's cluster.imap_backend or
//     smtp_backend for a local account, or what the peer holding the account answered
//   Auth-Status: <sentence for the client>, Auth-Wait: <seconds> (+ Auth-Error-Code for smtp):
//     wrong password or unknown user   "Invalid login or password", wait 3, 535 5.7.8
//     rate limited                     "Too many failed logins; ...", wait = the limiter's, 454 4.7.0
//     needs Microsoft sign-in          "... sign in again at <reconnect URL>", wait 3, 454 4.7.0
//     cannot check now / peer down     "Temporary authentication failure ...", wait 5, 454 4.7.0
//   Auth-Status: <refusal> without Auth-Wait (nginx then closes): pop3, an unsupported method.
//   A forwarded query for an account this bridge does not hold is answered with
//   X-Mailtrixy-Account: not-here (and the generic "Invalid login or password"), so the asking
//   bridge can tell "not mine" from "mine, wrong password".
//
// Routing: the account is looked up locally first (AccountLookup, no password involved). A local
// account is checked with the LoginService the IMAP and SMTP front-ends use (scrypt, rate limiting
// by Client-IP and account). Otherwise each peer is asked in order; the first OK wins, and a peer
// that holds the account and refuses it is believed. When no peer holds it the password is
// checked locally all the same, so an unknown user costs the same time and counts towards the
// client's rate limit like a wrong password; if a peer could not be asked, the answer is the
// temporary failure rather than "invalid password" (its account may be the one).
//
// Threading: handle() is thread-safe and blocks (password hashing, one HTTPS round trip per peer
// asked, each bounded by peer_timeout); it runs on a web listener thread.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mailtrixy/base/redact.hpp"
#include "mailtrixy/base/result.hpp"
#include "mailtrixy/mail/login.hpp"
#include "mailtrixy/net/http_client.hpp"
#include "mailtrixy/net/http_server.hpp"

namespace mailtrixy::web {

inline constexpr const char* kMailProxyPath = "/mail-proxy/auth";
inline constexpr const char* kMailProxyKeyHeader = "X-Mailtrixy-Auth-Key";
inline constexpr const char* kMailProxyForwardedHeader = "X-Mailtrixy-Forwarded";
inline constexpr const char* kMailProxyAccountHeader = "X-Mailtrixy-Account";

enum class MailProtocol { imap, smtp, pop3 };

// What nginx asks, parsed from the request headers.
struct MailProxyQuery {
  std::string method;                 // lower-cased Auth-Method
  std::string user;                   // Auth-User, decoded
  Secret<std::string> password;       // Auth-Pass, decoded
  MailProtocol protocol = MailProtocol::imap;
  int attempt = 1;                    // Auth-Login-Attempt
  std::string client_ip;              // Client-IP, or the connection's address when absent
  bool forwarded = false;             // X-Mailtrixy-Forwarded: 1
};

// Errors (one sentence, sent back as the Auth-Status of a 400): a missing Auth-User, Auth-Pass,
// Auth-Method or Auth-Protocol, an unknown protocol, a non-numeric Auth-Login-Attempt.
Result<MailProxyQuery> parse_mail_proxy_query(const net::HttpRequest& request);

// The answer, before it becomes headers.
struct MailProxyAnswer {
  bool ok = false;
  std::string status;          // "OK" when ok, else the sentence for the client
  std::string server;          // ok: IP address
  std::uint16_t port = 0;      // ok
  std::optional<int> wait_seconds;
  std::string smtp_error_code;  // e.g. "535 5.7.8"; sent only for smtp refusals
  bool not_here = false;        // adds X-Mailtrixy-Account: not-here
  std::vector<std::pair<std::string, std::string>> extra;  // e.g. a peer's Auth-User rewrite
};

// The outcome label of /metrics (mailtrixy_mail_proxy_auth_total{outcome=...}).
enum class MailProxyOutcome {
  ok,                 // a local account, password right
  peer_ok,            // a peer holds the account and accepted it
  peer_refused,       // a peer holds the account and refused it
  wrong_credentials,
  rate_limited,
  needs_sign_in,
  unavailable,        // store failure, or a peer could not be asked
  not_here,           // a forwarded query for an account held elsewhere
  unsupported,        // pop3 or an unsupported Auth-Method
  bad_request,        // unparsable headers
  forbidden,          // missing or wrong key
};
std::string_view to_string(MailProxyOutcome outcome);

net::HttpResponse render_mail_proxy_answer(const MailProxyAnswer& answer);

// The refusal nginx should show for a LoginService outcome other than ok (see the table above).
MailProxyAnswer refusal_for(const mail::LoginResult& result, MailProtocol protocol);

struct MailProxyOptions {
  Secret<std::string> key;     // must not be empty
  std::string imap_backend;    // "IP:PORT" ("[v6]:PORT" allowed)
  std::string smtp_backend;
  std::vector<std::string> peers;  // "https://IP:PORT", no trailing '/'
  std::chrono::milliseconds peer_timeout{5000};
};

// true when this bridge holds an account with that address; an Error when it cannot tell.
using AccountLookup = std::function<Result<bool>(std::string_view address)>;
// Sends one request to a peer (net::HttpClient::send in the bridge; a fake in tests).
using PeerTransport = std::function<Result<net::HttpClientResponse>(const net::HttpClientRequest& request)>;

class MailProxyEndpoint {
 public:
  // `logins` must outlive the endpoint. Errors: an empty key, a backend that is not IP:PORT.
  static Result<std::unique_ptr<MailProxyEndpoint>> create(MailProxyOptions options, mail::LoginService& logins,
                                                           AccountLookup holds_account, PeerTransport peers);

  net::HttpResponse handle(const net::HttpRequest& request);

  // Prometheus text: mailtrixy_mail_proxy_auth_total{outcome="..."} for every outcome seen.
  std::string prometheus() const;

  struct Backend {
    std::string host;
    std::uint16_t port = 0;
  };

 private:
  MailProxyEndpoint(MailProxyOptions options, mail::LoginService& logins, AccountLookup holds_account,
                    PeerTransport peers, Backend imap, Backend smtp);
  MailProxyAnswer answer(const MailProxyQuery& query, MailProxyOutcome& outcome);
  MailProxyAnswer ask_peers(const MailProxyQuery& query, MailProxyOutcome& outcome);
  void count(MailProxyOutcome outcome);

  MailProxyOptions options_;
  mail::LoginService& logins_;
  AccountLookup holds_account_;
  PeerTransport peers_;
  Backend imap_;
  Backend smtp_;
  mutable std::mutex mutex_;
  std::map<MailProxyOutcome, unsigned long long> counts_;
};

}  // namespace mailtrixy::web
