#include "mailtrixy/auth/health.hpp"

namespace mailtrixy::auth {

AuthHealth auth_health(const Integration& integration, const AccountStore& accounts) {
  AuthHealth health;
  const IntegrationStatus status = integration.status();
  health.integration_ok = status.state == IntegrationState::ok;
  if (status.state == IntegrationState::not_configured) {
    health.reasons.push_back("Microsoft integration not configured: " + status.reason +
                             " Set the Client ID and client secret (Admin → Settings → Integrations).");
  } else if (status.state == IntegrationState::broken) {
    health.reasons.push_back("Microsoft integration broken: " + status.reason);
  }

  auto listed = accounts.list();
  if (!listed) {
    health.reasons.push_back("accounts cannot be read: " + listed.error().message);
    return health;
  }
  health.accounts_total = listed->size();
  std::vector<std::string> waiting;
  for (const Account& account : *listed) {
    if (account.status == AccountStatus::needs_sign_in) waiting.push_back(account.address);
  }
  health.accounts_needing_sign_in = waiting.size();
  if (!waiting.empty()) {
    constexpr std::size_t kShown = 10;
    std::string text = std::to_string(waiting.size()) + (waiting.size() == 1 ? " account needs" : " accounts need") +
                       " sign-in: ";
    for (std::size_t i = 0; i < waiting.size() && i < kShown; ++i) {
      if (i > 0) text += ", ";
      text += waiting[i];
    }
    if (waiting.size() > kShown) text += " and " + std::to_string(waiting.size() - kShown) + " more";
    health.reasons.push_back(std::move(text));
  }
  return health;
}

}  // namespace mailtrixy::auth
