// Fuzz target for the web front-end (web/server.hpp): the real handler over a real temporary
// store, with a configured Microsoft integration and an admin password, driven by a scripted
// conversation of requests, so every route is reachable: the pages, the POST forms (with and
// without a valid CSRF token and Origin), the admin sign-in, the integrations form, the OAuth
// start and the callback's error pages.
//
// Input: requests separated by a line "%%". Each request is
//   METHOD TARGET
//   Header-Name: value        (any number)
//                             (an empty line)
//   body
// In every part, {cookie} becomes the session cookie the bridge last set ("name=value"), {csrf}
// the last CSRF token a page carried and {state} the OAuth state of the last redirect to
// Microsoft, so a short input can hold a whole sign-in; {password} is the admin password.
// An input starting with "PLAIN\n" talks to a plain-HTTP localhost set-up instead of HTTPS; one
// starting with "RAW\n" is raw bytes on a connection: parsed by Beast with the server's limits
// and answered through net's respond() (src/net/http_message.hpp), as http_connection.cpp does.
//
// Every response must have a status in 200-599, the security headers, no CR/LF in any header,
// no "<script" in an HTML body (the pages have no JavaScript, and input echoed unescaped would
// show up there), and never the client secret.
//
// MAILTRIXY_FUZZ_TRACE=1 prints each request line with its status (for writing seeds).
//
// State is reset for each input (a new handler, integration and sign-in flow; the records the
// routes write are deleted), so an input means the same thing whatever ran before. The callback
// with a valid state reaches the token endpoint at 127.0.0.1:1, where nothing listens: the
// connection is refused at once and the "could not reach Microsoft" page is shown. Admin
// password hashes use the cheapest scrypt parameters, so sign-ins cost microseconds.

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <unistd.h>

#include "http_message.hpp"
#include "mailtrixy/auth/accounts.hpp"
#include "mailtrixy/auth/integration.hpp"
#include "mailtrixy/auth/oauth.hpp"
#include "mailtrixy/base/log.hpp"
#include "mailtrixy/config/load.hpp"
#include "mailtrixy/crypto/aead.hpp"
#include "mailtrixy/crypto/password.hpp"
#include "mailtrixy/net/http_client.hpp"
#include "mailtrixy/store/store.hpp"
#include "mailtrixy/web/forms.hpp"
#include "mailtrixy/web/server.hpp"

namespace {

using namespace mailtrixy;

constexpr std::string_view kAdminPassword = "fuzz-admin-password";
constexpr std::string_view kClientSecret = "Qx48Q~fUzZsEcReT.vAlUe-0123456789abcdefXY";

void check(bool condition) {
  if (!condition) std::abort();
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

const config::Environment kNoEnvironment = [](const std::string&) -> std::optional<std::string> {
  return std::nullopt;
};

// One bridge set-up: settings and a store that live for the whole run.
struct Site {
  std::filesystem::path directory;
  config::Settings settings;
  std::unique_ptr<store::Store> store;

  Site(const std::filesystem::path& dir, bool tls) : directory(dir) {
    std::filesystem::remove_all(directory);
    std::filesystem::create_directories(directory);
    std::string yaml = std::string("public_url: ") + (tls ? "https://bridge.example.test:8443" : "http://localhost:8080") +
                       "\ndata_dir: data\nweb:\n  tls: " + (tls ? "true" : "false") +
                       "\nmicrosoft:\n  client_id: 6731de76-14a6-49ae-97bc-6eba6914391e\n  client_secret: " +
                       std::string(kClientSecret) +
                       "\n  login_url: http://127.0.0.1:1\n  graph_url: http://127.0.0.1:1\n"
                       "admin:\n  password_hash: \"" +
                       crypto::hash_password(kAdminPassword, {1, 1, 1}) + "\"\n";
    auto loaded = config::load_from_string(yaml, directory / "mailtrixy.yaml", kNoEnvironment);
    check(loaded.ok());
    settings = std::move(loaded).value();
    auto opened = store::Store::open(store::OpenOptions{settings.data_dir, crypto::Key::generate(), false, {}});
    check(opened.ok());
    store = std::move(opened).value();
  }

  // Deletes what the routes may have written: sessions, pending states, admin-page settings,
  // accounts and tokens.
  void reset() {
    auto batch = store->batch();
    for (const auto family : {store::Family::web_sessions, store::Family::settings, store::Family::accounts,
                              store::Family::tokens}) {
      check(store->for_each_prefix(family, "", [&](std::string_view key, std::string_view) {
                   batch.del(family, key);
                   return true;
                 }).ok());
    }
    if (!batch.empty()) check(store->write(batch, false).ok());
  }
};

// Log lines are dropped, but each is checked first: the client secret must never be logged.
void check_log_line(std::string_view line, void*) {
  check(line.find(kClientSecret) == std::string_view::npos);
  static const bool trace = std::getenv("MAILTRIXY_FUZZ_TRACE") != nullptr;
  if (trace) std::fprintf(stderr, "    log: %.*s\n", static_cast<int>(line.size()), line.data());
}

struct Globals {
  Globals() {
    log::configure(log::Level::debug, log::Format::text);
    log::set_sink(&check_log_line, nullptr);
    tls_site = std::make_unique<Site>(base / "tls", true);
    plain_site = std::make_unique<Site>(base / "plain", false);
    http = std::move(net::HttpClient::create(net::HttpClientOptions{{}, 1, 0, std::chrono::milliseconds(500)}).value());
  }
  // The stores close before their directory goes.
  ~Globals() {
    http.reset();
    tls_site.reset();
    plain_site.reset();
    std::error_code ignored;
    std::filesystem::remove_all(base, ignored);
  }
  Globals(const Globals&) = delete;
  Globals& operator=(const Globals&) = delete;

  const std::filesystem::path base =
      std::filesystem::temp_directory_path() / ("mailtrixy-fuzz-web-" + std::to_string(::getpid()));
  std::unique_ptr<Site> tls_site;
  std::unique_ptr<Site> plain_site;
  std::unique_ptr<net::HttpClient> http;
};

Globals& globals() {
  static Globals instance;
  return instance;
}

// The handler and its auth objects for one input.
struct Bridge {
  Site& site;
  std::unique_ptr<auth::Integration> integration;
  std::unique_ptr<auth::AccountStore> accounts;
  std::unique_ptr<auth::SignInFlow> sign_in;
  net::HttpHandler handler;

  Bridge(Site& s, net::HttpClient& http) : site(s) {
    site.reset();
    auto loaded = auth::Integration::load(site.settings, *site.store, kNoEnvironment);
    check(loaded.ok());
    integration = std::move(loaded).value();
    accounts = std::make_unique<auth::AccountStore>(*site.store);
    auth::SignInFlowOptions options;
    options.request_timeout = std::chrono::milliseconds(500);
    sign_in = std::make_unique<auth::SignInFlow>(*integration, *accounts, http, auth::system_clock(), options);
    web::WebDependencies dependencies;
    dependencies.settings = &site.settings;
    dependencies.store = site.store.get();
    dependencies.integration = integration.get();
    dependencies.accounts = accounts.get();
    dependencies.sign_in = sign_in.get();
    dependencies.version = "fuzz";
    dependencies.health = [] { return web::HealthReport{}; };
    dependencies.metrics = [] { return std::string(); };
    handler = web::make_web_handler(std::move(dependencies));
  }
};

const std::string* find_header(const net::HttpResponse& response, std::string_view name) {
  for (const auto& [key, value] : response.headers) {
    if (lower(key) == lower(name)) return &value;
  }
  return nullptr;
}

void check_response(const net::HttpResponse& response) {
  check(response.status >= 200 && response.status <= 599);
  check(find_header(response, "Content-Security-Policy") != nullptr);
  check(find_header(response, "X-Content-Type-Options") != nullptr);
  for (const auto& [key, value] : response.headers) {
    check(key.find_first_of("\r\n:") == std::string::npos && value.find_first_of("\r\n") == std::string::npos);
  }
  const std::string* type = find_header(response, "Content-Type");
  if (type != nullptr && type->starts_with("text/html")) check(lower(response.body).find("<script") == std::string::npos);
  check(response.body.find(kClientSecret) == std::string::npos);
}

// What the conversation has learnt from the bridge's answers.
struct Memory {
  std::string cookie;  // "name=value"
  std::string csrf;
  std::string state;

  void learn(const net::HttpResponse& response) {
    if (const std::string* set_cookie = find_header(response, "Set-Cookie")) {
      cookie = set_cookie->substr(0, set_cookie->find(';'));
    }
    const std::string marker = R"(name="csrf_token" value=")";
    if (const auto at = response.body.find(marker); at != std::string::npos) {
      const auto begin = at + marker.size();
      csrf = response.body.substr(begin, response.body.find('"', begin) - begin);
    }
    if (const std::string* location = find_header(response, "Location")) {
      if (const auto at = location->find("state="); at != std::string::npos) {
        state = location->substr(at + 6, location->find('&', at) - at - 6);
      }
    }
  }

  std::string expand(std::string_view text) const {
    std::string out;
    while (!text.empty()) {
      const auto open = text.find('{');
      out += text.substr(0, open);
      if (open == std::string_view::npos) break;
      text.remove_prefix(open);
      if (text.starts_with("{cookie}")) {
        out += cookie;
        text.remove_prefix(8);
      } else if (text.starts_with("{csrf}")) {
        out += web::percent_encode(csrf);
        text.remove_prefix(6);
      } else if (text.starts_with("{state}")) {
        out += state;
        text.remove_prefix(7);
      } else if (text.starts_with("{password}")) {
        out += kAdminPassword;
        text.remove_prefix(10);
      } else {
        out += '{';
        text.remove_prefix(1);
      }
    }
    return out;
  }
};

net::HttpRequest scripted_request(std::string_view text, const Memory& memory, bool tls) {
  net::HttpRequest request;
  request.remote_address = "127.0.0.1";
  request.remote_port = 40000;
  request.tls = tls;
  auto take_line = [&text]() {
    const auto end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    if (line.ends_with('\r')) line.remove_suffix(1);
    return line;
  };
  const std::string_view request_line = take_line();
  const auto space = request_line.find(' ');
  request.method = std::string(request_line.substr(0, space));
  request.target = space == std::string_view::npos ? "/" : memory.expand(request_line.substr(space + 1));
  const auto question = request.target.find('?');
  request.path = request.target.substr(0, question);
  if (question != std::string::npos) request.query = request.target.substr(question + 1);
  while (!text.empty()) {
    const std::string_view line = take_line();
    if (line.empty()) break;
    const auto colon = line.find(':');
    std::string_view value = colon == std::string_view::npos ? std::string_view() : line.substr(colon + 1);
    while (value.starts_with(' ')) value.remove_prefix(1);
    request.headers.emplace_back(std::string(line.substr(0, colon)), memory.expand(value));
  }
  request.body = memory.expand(text);
  return request;
}

void run_script(std::string_view script, Site& site) {
  Bridge bridge(site, *globals().http);
  Memory memory;
  int requests = 0;
  while (!script.empty() && requests++ < 16) {
    const auto separator = script.find("\n%%\n");
    const std::string_view one = script.substr(0, separator);
    script.remove_prefix(separator == std::string_view::npos ? script.size() : separator + 4);
    const net::HttpRequest request = scripted_request(one, memory, site.settings.web.tls);
    const net::HttpResponse response = bridge.handler(request);
    static const bool trace = std::getenv("MAILTRIXY_FUZZ_TRACE") != nullptr;
    check_response(response);
    memory.learn(response);
    if (trace) {
      std::fprintf(stderr, "  %s %s -> %d (cookie %s, csrf %s)\n", request.method.c_str(), request.target.c_str(),
                   response.status, memory.cookie.c_str(), memory.csrf.c_str());
    }
    if (response.on_answered) response.on_answered();
  }
}

// Raw bytes on a connection: as many requests as parse, each answered through respond().
void run_raw(std::string_view bytes, Site& site) {
  namespace http = boost::beast::http;
  Bridge bridge(site, *globals().http);
  const net::detail::Peer peer{"127.0.0.1", 40000, true};
  int requests = 0;
  while (!bytes.empty() && requests++ < 8) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(4096);
    parser.body_limit(4096);
    parser.eager(true);
    boost::system::error_code ec;
    std::size_t used = parser.put(boost::asio::buffer(bytes.data(), bytes.size()), ec);
    while (!ec && !parser.is_done() && used < bytes.size()) {
      const std::size_t more = parser.put(boost::asio::buffer(bytes.data() + used, bytes.size() - used), ec);
      if (more == 0) break;
      used += more;
    }
    if (!ec && !parser.is_done()) {
      parser.put_eof(ec);
    }
    if (ec || !parser.is_done()) {
      const int status = ec == http::error::body_limit ? 413 : ec == http::error::header_limit ? 431 : 400;
      std::ostringstream out;
      out << net::detail::error_response(status, 11, ec.message());
      check(out.str().starts_with("HTTP/1.1 "));
      return;
    }
    bytes.remove_prefix(used);
    net::detail::PreparedResponse prepared = net::detail::respond(bridge.handler, parser.release(), peer, true);
    const unsigned status = prepared.message.result_int();
    static const bool trace = std::getenv("MAILTRIXY_FUZZ_TRACE") != nullptr;
    if (trace) std::fprintf(stderr, "  raw request -> %u\n", status);
    check(status >= 200 && status <= 599);
    std::ostringstream out;
    out << prepared.message;
    check(out.str().starts_with("HTTP/1."));
    if (prepared.on_answered) prepared.on_answered();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  Globals& g = globals();
  if (input.starts_with("RAW\n")) {
    run_raw(input.substr(4), *g.tls_site);
  } else if (input.starts_with("PLAIN\n")) {
    run_script(input.substr(6), *g.plain_site);
  } else {
    run_script(input, *g.tls_site);
  }
  return 0;
}
