#pragma once
// The Microsoft app registration the bridge signs users in with ("the integration"): its
// Client ID and client secret, the endpoints, and whether it currently works.
//
// Where the Client ID and the secret come from, highest precedence first:
//   1. the environment (MAILTRIXY_MICROSOFT_CLIENT_ID; MAILTRIXY_CLIENT_SECRET or
//      MAILTRIXY_MICROSOFT_CLIENT_SECRET) — deployments that inject secrets from outside
//      (systemd credentials, Kubernetes) must not be overridden by a web form;
//   2. the admin page (Admin → Settings → Integrations), stored in the store's `settings`
//      family: the Client ID in plain text under "microsoft/client_id", the secret sealed under
//      "microsoft/client_secret" (AES-256-GCM, never readable through any page or log);
//   3. microsoft.client_secret_file (secret only);
//   4. the YAML (microsoft.client_id, microsoft.client_secret).
// The Client ID and the secret are resolved independently, each with its own Source, so an
// admin may keep the YAML's Client ID and set only a new secret on the page. The admin page wins
// over the YAML/file because it is the newer, deliberate action (renewing an expired secret
// without editing files or restarting); ADR docs/adr/0005-auth-integration.md records this.
//
// set_from_admin_page() takes effect at once: current() returns the new values to every later
// caller (the next sign-in, the next token refresh), no restart. A value that would be shadowed
// by the environment is still stored, but the call reports that it is not in effect.
//
// Status. ok, not_configured (no Client ID or no secret), or broken: the token endpoint said the
// secret is wrong (invalid_client, AADSTS7000215) or expired (AADSTS7000222). The token manager
// marks it broken and stops all refreshing; a new secret (admin page) clears it. generation()
// grows with every change of value or status so waiting code can tell something changed.
//
// Thread safety: every method may be called from any thread.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "mailtrixy/base/redact.hpp"
#include "mailtrixy/base/result.hpp"
#include "mailtrixy/config/load.hpp"
#include "mailtrixy/config/settings.hpp"
#include "mailtrixy/store/store.hpp"

namespace mailtrixy::auth {

// Keys in store::Family::settings.
inline constexpr const char* kClientIdSettingKey = "microsoft/client_id";
inline constexpr const char* kClientSecretSettingKey = "microsoft/client_secret";  // encrypted

// The effective app registration at one moment.
struct IntegrationSettings {
  std::string client_id;
  Secret<std::string> client_secret;
  config::Source client_id_source = config::Source::defaults;
  config::Source client_secret_source = config::Source::defaults;
  std::string client_secret_expires;  // "YYYY-MM-DD" from the config, or empty
  std::string tenant = "common";
  std::string login_url;              // no trailing '/'
  std::string graph_url;              // no trailing '/'
  std::filesystem::path ca_file;      // extra CA bundle for login_url and graph_url; may be empty
  std::string redirect_uri;           // public_url + /email-oauth/microsoft/callback

  bool configured() const { return !client_id.empty() && !client_secret.empty(); }
  // {login_url}/{tenant}/oauth2/v2.0/authorize and .../token
  std::string authorize_endpoint() const;
  std::string token_endpoint() const;
};

// "YAML", "file", "environment", "admin page", "not set" (for the admin page's "from ..." line).
std::string_view describe(config::Source source);

enum class IntegrationState { ok, not_configured, broken };

struct IntegrationStatus {
  IntegrationState state = IntegrationState::not_configured;
  std::string reason;     // one sentence, e.g. "Microsoft rejected the client secret (AADSTS7000215)."
  std::string fix;        // what the admin should do
  std::string error_code; // "AADSTS7000215", "AADSTS7000222" or "" (not configured)
  std::chrono::system_clock::time_point since{};
};

class Integration {
 public:
  // Combines `settings` (already loaded, environment included) with the admin-page values in
  // `store`. `environment` tells which values came from the environment (the config loader
  // records that only for the secret). Errors: the stored secret does not decrypt.
  // `store` must outlive the Integration.
  static Result<std::unique_ptr<Integration>> load(const config::Settings& settings,
                                                   store::Store& store,
                                                   const config::Environment& environment);

  Integration(const Integration&) = delete;
  Integration& operator=(const Integration&) = delete;

  // A snapshot; cheap enough to call per request.
  IntegrationSettings current() const;

  struct AdminPageUpdate {
    bool in_effect = true;          // false when the environment overrides what was stored
    std::string shadowed_by;        // e.g. "MAILTRIXY_CLIENT_SECRET" when !in_effect
  };
  // Validates and stores the admin page's values (one synced batch), then switches to them and
  // clears a `broken` status. `client_id` must be a GUID. `client_secret` empty means "keep the
  // current secret" (the page never shows it); a non-empty one must not look like a GUID (that is
  // the Secret ID, not the Value) and must not contain whitespace or control characters.
  // Errors are one sentence each, suitable for the form.
  Result<AdminPageUpdate> set_from_admin_page(const std::string& client_id,
                                              const Secret<std::string>& client_secret);

  IntegrationStatus status() const;
  // Called by the token code on invalid_client. `error_code` is "AADSTS7000215" or
  // "AADSTS7000222" (or another AADSTS code); reason and fix are derived from it.
  void mark_broken(const std::string& error_code, const std::string& error_description_first_line);

  std::uint64_t generation() const;

  // Called (outside the lock, on the changing thread) after every change of values or status.
  using Listener = std::function<void()>;
  void subscribe_changed(Listener listener);

 private:
  Integration(store::Store& store, IntegrationSettings base, bool client_id_from_environment,
              bool client_secret_from_environment);
  IntegrationSettings effective_locked() const;
  void notify();

  store::Store& store_;
  mutable std::mutex mutex_;
  IntegrationSettings base_;        // YAML/file/env values
  bool client_id_from_environment_ = false;
  bool client_secret_from_environment_ = false;
  std::optional<std::string> admin_client_id_;
  std::optional<Secret<std::string>> admin_client_secret_;
  IntegrationStatus broken_;        // state == broken when set
  std::uint64_t generation_ = 1;
  std::vector<Listener> listeners_;
};

// True for a GUID in its 8-4-4-4-12 hex form (either case).
bool looks_like_guid(std::string_view text);

}  // namespace mailtrixy::auth
