#pragma once
// The pages' content (what goes inside <main>), as pure functions of plain view models: the
// router gathers the data (sessions, accounts, integration status) and these only render it, so
// every page can be tested with hand-made models and hostile strings.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "mailtrixy/web/html.hpp"

namespace mailtrixy::web {

// ---- user pages ---------------------------------------------------------------------------

struct AccountView {
  std::string address;
  std::string display_name;
  bool needs_sign_in = false;
  std::string needs_sign_in_reason;
  std::string connected;  // human date, e.g. "2026-01-09 14:02 UTC"
};

enum class IntegrationNotice { none, not_configured, broken };

struct AccountsPageModel {
  std::vector<AccountView> accounts;
  IntegrationNotice integration = IntegrationNotice::none;
  std::string integration_reason;  // for broken
  std::string integration_fix;
  std::string csrf_token;
  bool signed_in = false;  // the browser has a session with accounts (offers sign-out)
  std::string notice;      // a one-line confirmation, e.g. after signing out
};
Html accounts_page(const AccountsPageModel& model);

// Where mail clients connect. A port of 0 means that listener is disabled.
struct MailEndpoint {
  std::string host;
  std::uint16_t tls_port = 0;       // implicit TLS
  std::uint16_t starttls_port = 0;  // plain, STARTTLS offered
};

struct SuccessPageModel {
  std::string address;
  std::string display_name;
  std::string username;
  std::string password;  // shown once
  bool relinked = false;
  MailEndpoint imap;
  MailEndpoint smtp;
};
Html success_page(const SuccessPageModel& model);

struct ErrorPageModel {
  std::string title;
  std::string explanation;
  std::string fix;
  bool admin_action = false;
  std::string error;        // Microsoft's error, e.g. "invalid_client"
  std::string codes;        // "AADSTS7000215", comma-separated
  std::string description;  // Microsoft's first description line
  bool offer_retry = true;  // a "Try again" button to /email-oauth/microsoft/start
};
Html error_page(const ErrorPageModel& model);

// ---- admin pages --------------------------------------------------------------------------

struct AdminLoginModel {
  std::string csrf_token;
  std::string username;  // pre-filled after a failed attempt
  std::string error;     // shown above the form
};
Html admin_login_page(const AdminLoginModel& model);
Html admin_disabled_page();
Html admin_signed_out_page(const std::string& csrf_token, bool signed_in);

struct DiagnosisView {
  std::string severity;  // "error", "warning", "advice"
  std::string key;
  std::string message;
  std::string fix;
};

struct IntegrationsPageModel {
  std::string csrf_token;
  std::string client_id;
  std::string client_id_source;  // "YAML", "admin page", ...
  bool secret_set = false;
  std::string secret_source;
  std::string secret_expires;  // "YYYY-MM-DD" or empty
  std::string redirect_uri;
  std::string tenant;
  std::string login_url;
  std::string status;  // "ok", "not_configured", "broken"
  std::string status_reason;
  std::string status_fix;
  std::string status_code;
  std::vector<DiagnosisView> diagnoses;
  std::string saved;           // confirmation after a successful POST
  std::string form_error;      // error of the last POST
  std::string form_client_id;  // what the admin typed, re-shown after an error
};
Html integrations_page(const IntegrationsPageModel& model);

// ---- shared -------------------------------------------------------------------------------

// A simple message page (404, 405, CSRF failure, ...): heading, one paragraph, a link back.
Html message_page(const std::string& heading, const std::string& message, const std::string& link_href,
                  const std::string& link_text);

}  // namespace mailtrixy::web
