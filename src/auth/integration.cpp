#include "mailtrixy/auth/integration.hpp"

#include <algorithm>
#include <cctype>

#include "mailtrixy/base/log.hpp"
#include "mailtrixy/config/diagnose.hpp"

namespace mailtrixy::auth {
namespace {

constexpr const char* kClientIdVariable = "MAILTRIXY_MICROSOFT_CLIENT_ID";

std::string trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())) != 0) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())) != 0) text.remove_suffix(1);
  return std::string(text);
}

std::string strip_trailing_slash(std::string text) {
  while (!text.empty() && text.back() == '/') text.pop_back();
  return text;
}

}  // namespace

bool looks_like_guid(std::string_view text) {
  if (text.size() != 36) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? text[i] != '-' : std::isxdigit(static_cast<unsigned char>(text[i])) == 0) return false;
  }
  return true;
}

std::string IntegrationSettings::authorize_endpoint() const {
  return login_url + "/" + tenant + "/oauth2/v2.0/authorize";
}

std::string IntegrationSettings::token_endpoint() const { return login_url + "/" + tenant + "/oauth2/v2.0/token"; }

std::string_view describe(config::Source source) {
  switch (source) {
    case config::Source::defaults: return "not set";
    case config::Source::yaml: return "YAML";
    case config::Source::file: return "file";
    case config::Source::environment: return "environment";
    case config::Source::admin_page: return "admin page";
  }
  return "not set";
}

Integration::Integration(store::Store& store, IntegrationSettings base, bool client_id_from_environment,
                         bool client_secret_from_environment)
    : store_(store),
      base_(std::move(base)),
      client_id_from_environment_(client_id_from_environment),
      client_secret_from_environment_(client_secret_from_environment) {}

Result<std::unique_ptr<Integration>> Integration::load(const config::Settings& settings, store::Store& store,
                                                       const config::Environment& environment) {
  const config::MicrosoftSettings& microsoft = settings.microsoft;
  IntegrationSettings base;
  base.client_id = trim(microsoft.client_id);
  const auto id_variable = environment ? environment(kClientIdVariable) : std::nullopt;
  const bool id_from_environment = id_variable.has_value() && !trim(*id_variable).empty();
  base.client_id_source = id_from_environment ? config::Source::environment
                          : base.client_id.empty() ? config::Source::defaults
                                                   : config::Source::yaml;
  base.client_secret = microsoft.client_secret;
  base.client_secret_source = microsoft.client_secret.empty() ? config::Source::defaults : microsoft.client_secret_source;
  base.client_secret_expires = microsoft.client_secret_expires;
  base.tenant = microsoft.tenant.empty() ? "common" : microsoft.tenant;
  base.login_url = strip_trailing_slash(microsoft.login_url);
  base.graph_url = strip_trailing_slash(microsoft.graph_url);
  base.ca_file = microsoft.ca_file;
  base.redirect_uri = config::redirect_uri(settings);

  std::unique_ptr<Integration> integration(
      new Integration(store, std::move(base), id_from_environment,
                      microsoft.client_secret_source == config::Source::environment && !microsoft.client_secret.empty()));

  auto stored_id = store.get(store::Family::settings, kClientIdSettingKey);
  if (!stored_id) return make_error("cannot read the admin page's Client ID: " + stored_id.error().message);
  if (stored_id->has_value() && !(*stored_id)->empty()) integration->admin_client_id_ = **stored_id;
  auto stored_secret = store.get_encrypted(store::Family::settings, kClientSecretSettingKey);
  if (!stored_secret) {
    return make_error("cannot read the client secret saved on the admin page: " + stored_secret.error().message +
                      "; enter it again in Admin → Settings → Integrations");
  }
  if (stored_secret->has_value() && !(*stored_secret)->empty()) {
    integration->admin_client_secret_ = Secret<std::string>(**stored_secret);
  }
  return integration;
}

IntegrationSettings Integration::effective_locked() const {
  IntegrationSettings out = base_;
  if (!client_id_from_environment_ && admin_client_id_) {
    out.client_id = *admin_client_id_;
    out.client_id_source = config::Source::admin_page;
  }
  if (!client_secret_from_environment_ && admin_client_secret_) {
    out.client_secret = *admin_client_secret_;
    out.client_secret_source = config::Source::admin_page;
  }
  return out;
}

IntegrationSettings Integration::current() const {
  std::lock_guard lock(mutex_);
  return effective_locked();
}

Result<Integration::AdminPageUpdate> Integration::set_from_admin_page(const std::string& client_id,
                                                                     const Secret<std::string>& client_secret) {
  const std::string id = trim(client_id);
  if (id.empty()) {
    return make_error("Enter the Microsoft Client ID: the Application (client) ID from the app's Overview page in Azure.");
  }
  if (!looks_like_guid(id)) {
    return make_error("The Microsoft Client ID must be the Application (client) ID from Azure, a GUID such as "
                      "00001111-aaaa-2222-bbbb-3333cccc4444.");
  }
  const std::string secret = trim(client_secret.reveal());
  if (!secret.empty()) {
    if (looks_like_guid(secret)) {
      return make_error("This looks like the Secret ID; paste the secret Value (Azure portal → App registrations → "
                        "your app → Certificates & secrets, the Value column).");
    }
    if (secret == id) return make_error("The client secret is the Client ID; paste the secret Value instead.");
    const bool bad_character = std::any_of(secret.begin(), secret.end(), [](unsigned char c) {
      return std::isspace(c) != 0 || std::iscntrl(c) != 0;
    });
    if (bad_character) {
      return make_error("The client secret contains spaces or control characters; copy the Value again without "
                        "line breaks.");
    }
  }

  store::WriteBatch batch = store_.batch();
  batch.put(store::Family::settings, kClientIdSettingKey, id);
  if (!secret.empty()) batch.put_encrypted(store::Family::settings, kClientSecretSettingKey, secret);
  if (auto written = store_.write(batch, true); !written) {
    return make_error("The integration settings could not be saved: " + written.error().message);
  }

  AdminPageUpdate update;
  {
    std::lock_guard lock(mutex_);
    admin_client_id_ = id;
    if (!secret.empty()) admin_client_secret_ = Secret<std::string>(secret);
    broken_ = {};
    ++generation_;
    if (client_id_from_environment_) {
      update.in_effect = false;
      update.shadowed_by = kClientIdVariable;
    } else if (!secret.empty() && client_secret_from_environment_) {
      update.in_effect = false;
      update.shadowed_by = "MAILTRIXY_CLIENT_SECRET";
    }
  }
  log::info("Microsoft integration updated on the admin page",
            {{"client_id", id}, {"secret_changed", secret.empty() ? "no" : "yes"},
             {"in_effect", update.in_effect ? "yes" : "no"}});
  notify();
  return update;
}

IntegrationStatus Integration::status() const {
  std::lock_guard lock(mutex_);
  const IntegrationSettings effective = effective_locked();
  IntegrationStatus status;
  if (effective.client_id.empty() || effective.client_secret.empty()) {
    status.state = IntegrationState::not_configured;
    status.reason = effective.client_id.empty() ? "The Microsoft Client ID is not set."
                                                : "The Microsoft client secret is not set.";
    status.fix = "Enter the Microsoft Client ID and the client secret Value in Admin → Settings → Integrations, or "
                 "set microsoft.client_id and microsoft.client_secret_file in config/mailtrixy.yaml.";
    return status;
  }
  if (broken_.state == IntegrationState::broken) return broken_;
  status.state = IntegrationState::ok;
  return status;
}

void Integration::mark_broken(const std::string& error_code, const std::string& error_description_first_line) {
  {
    std::lock_guard lock(mutex_);
    if (broken_.state == IntegrationState::broken && broken_.error_code == error_code) return;
    broken_.state = IntegrationState::broken;
    broken_.error_code = error_code;
    broken_.since = std::chrono::system_clock::now();
    if (error_code == "AADSTS7000222") {
      broken_.reason = "The client secret has expired (AADSTS7000222).";
      broken_.fix = "In the Azure portal open App registrations → your app → Certificates & secrets → New client "
                    "secret, copy the new Value and paste it into Admin → Settings → Integrations → Microsoft Client "
                    "Secret. Existing connections keep working once the new secret is in place.";
    } else if (error_code == "AADSTS7000215") {
      broken_.reason = "Microsoft rejected the client secret (AADSTS7000215): the Client Secret doesn't match Azure; "
                       "most common cause: the Secret ID was pasted instead of the Value.";
      broken_.fix = "In the Azure portal open App registrations → your app → Certificates & secrets, copy the secret's "
                    "Value (not the Secret ID) and paste it into Admin → Settings → Integrations → Microsoft Client "
                    "Secret.";
    } else {
      broken_.reason = "Microsoft rejected the app's credentials" +
                       (error_code.empty() ? std::string(".") : " (" + error_code + ").") +
                       (error_description_first_line.empty() ? "" : " " + error_description_first_line);
      broken_.fix = "Check the Microsoft Client ID and client secret in Admin → Settings → Integrations against the app "
                    "registration in Azure.";
    }
    ++generation_;
  }
  log::error("Microsoft integration marked broken; token refreshes stop until the client secret is changed",
             {{"code", error_code}});
  notify();
}

std::uint64_t Integration::generation() const {
  std::lock_guard lock(mutex_);
  return generation_;
}

void Integration::subscribe_changed(Listener listener) {
  std::lock_guard lock(mutex_);
  listeners_.push_back(std::move(listener));
}

void Integration::notify() {
  std::vector<Listener> listeners;
  {
    std::lock_guard lock(mutex_);
    listeners = listeners_;
  }
  for (const Listener& listener : listeners) {
    if (listener) listener();
  }
}

}  // namespace mailtrixy::auth
