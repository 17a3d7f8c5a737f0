#pragma once
// The bridge's web front-end: the HTTPS routes of product spec §4. This scope is the
// health endpoint; the sign-in pages and admin integration pages build on the same router.

#include <functional>
#include <string>
#include <vector>

#include "mailtrixy/net/http_server.hpp"

namespace mailtrixy::web {

// What GET /healthz reports: "ok" when nothing needs attention, otherwise "degraded" with one
// human-readable reason per problem (expiring secret, accounts needing sign-in, queue backlog).
struct HealthReport {
  std::vector<std::string> reasons;
  bool ok() const { return reasons.empty(); }
};
using HealthProbe = std::function<HealthReport()>;

struct WebDependencies {
  HealthProbe health;
  std::string version;
};

// Builds the request handler for the web listener. Every response carries the security headers
// (CSP, nosniff, frame denial, no referrer leakage).
net::HttpHandler make_web_handler(WebDependencies dependencies);

}  // namespace mailtrixy::web
