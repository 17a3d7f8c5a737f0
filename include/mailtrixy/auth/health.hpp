#pragma once
// What the auth module contributes to GET /healthz: one human-readable reason per problem, to
// be appended to web::HealthReport::reasons. Empty when sign-in and every account are healthy.
//
//   "Microsoft integration not configured: set the Client ID and client secret (Admin → Settings → Integrations)"
//   "Microsoft integration broken: Microsoft rejected the client secret (AADSTS7000215)"
//   "2 accounts need sign-in: alice@outlook.com, bob@contoso.onmicrosoft.com"
// Addresses are listed (at most 10, then "and N more"); no secrets. The expiring-secret warning
// comes from the configuration (app::health_report) and is not repeated here.

#include <string>
#include <vector>

#include "mailtrixy/auth/accounts.hpp"
#include "mailtrixy/auth/integration.hpp"

namespace mailtrixy::auth {

struct AuthHealth {
  std::vector<std::string> reasons;
  std::size_t accounts_total = 0;
  std::size_t accounts_needing_sign_in = 0;
  bool integration_ok = false;
};

// Reads the account list (a store scan: cheap for the few hundred accounts a bridge serves).
AuthHealth auth_health(const Integration& integration, const AccountStore& accounts);

}  // namespace mailtrixy::auth
