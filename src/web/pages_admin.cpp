// The admin's pages: sign-in, Settings → Integrations (the Microsoft app registration).

#include "layout.hpp"
#include "pages.hpp"

namespace mailtrixy::web {
namespace {

constexpr std::string_view kLoginPage = R"(<div class="page-header">
  <p class="breadcrumb">Admin</p>
  <h1>Administrator sign-in</h1>
  <p class="lead">Sign in to manage the bridge's connection to Microsoft.</p>
</div>
<section class="card" aria-labelledby="login-heading">
  <h2 id="login-heading" class="visually-hidden">Sign in</h2>
  {{error}}
  <form method="post" action="/admin/login">
    {{csrf}}
    <div class="field">
      <label for="username">Username</label>
      <input id="username" name="username" type="text" autocomplete="username" required value="{{username}}">
    </div>
    <div class="field">
      <label for="password">Password</label>
      <input id="password" name="password" type="password" autocomplete="current-password" required>
    </div>
    <div class="actions"><button type="submit" class="button button-primary">Sign in</button></div>
  </form>
</section>)";

constexpr std::string_view kDisabledPage = R"(<div class="page-header">
  <p class="breadcrumb">Admin</p>
  <h1>Admin pages are disabled</h1>
  <p class="lead">No administrator password is configured, so nobody can sign in here.</p>
</div>
<section class="card">
  <h2>How to enable them</h2>
  <ol class="steps">
    <li>On the bridge's server, run <code>mailtrixy hash-password</code> and type the password you want.</li>
    <li>Put the printed hash into <code>admin.password_hash</code> in <code>config/mailtrixy.yaml</code> (or the environment variable <code>MAILTRIXY_ADMIN_PASSWORD_HASH</code>).</li>
    <li>Restart the bridge, then come back to this page.</li>
  </ol>
  <p class="muted small">Until then the Microsoft Client ID and Secret can be set in the configuration file; see <code>mailtrixy check-config</code>.</p>
</section>)";

constexpr std::string_view kSignedOutPage = R"(<section class="card">
  <h1>{{heading}}</h1>
  <p>{{message}}</p>
  <div class="actions">{{action}}</div>
</section>)";

constexpr std::string_view kIntegrationsPage = R"(<div class="page-header">
  <p class="breadcrumb">Admin › Settings</p>
  <h1>Integrations</h1>
  <p class="lead">The Microsoft app registration users sign in with. Changes take effect at once, without a restart.</p>
</div>
{{saved}}
{{status}}
<section class="card" aria-labelledby="microsoft-heading">
  <div class="card-header">
    <div>
      <h2 id="microsoft-heading">Microsoft (Outlook.com and Microsoft 365)</h2>
      <p>From Azure portal → Microsoft Entra ID → App registrations</p>
    </div>
  </div>
  <table class="settings">
    <tr><th scope="row">Redirect URI to register</th><td><code id="redirect-uri">{{redirect_uri}}</code><br><span class="muted small">Platform "Web", exactly as shown (lower case, no trailing slash).</span></td></tr>
    <tr><th scope="row">Client ID in use</th><td>{{client_id}} <span class="muted small">from {{client_id_source}}</span></td></tr>
    <tr><th scope="row">Client secret</th><td>{{secret}}</td></tr>
    <tr><th scope="row">Tenant</th><td><code>{{tenant}}</code> at <code>{{login_url}}</code></td></tr>
  </table>
</section>
<section class="card" aria-labelledby="change-heading">
  <h2 id="change-heading">Change the app registration</h2>
  <p class="muted small">Both values come from the app's Overview and Certificates &amp; secrets pages. The secret is encrypted before it is stored and is never shown again.</p>
  {{form_error}}
  <form method="post" action="/admin/settings/integrations" autocomplete="off">
    {{csrf}}
    <div class="field">
      <label for="client_id">Microsoft Client ID</label>
      <input id="client_id" name="client_id" type="text" class="mono" required spellcheck="false" value="{{form_client_id}}" aria-describedby="client_id_hint">
      <span class="hint" id="client_id_hint">The "Application (client) ID", a GUID such as 6731de76-14a6-49ae-97bc-6eba6914391e.</span>
    </div>
    <div class="field">
      <label for="client_secret">Microsoft Client Secret</label>
      <input id="client_secret" name="client_secret" type="password" class="mono" autocomplete="new-password" spellcheck="false" aria-describedby="client_secret_hint">
      <span class="hint" id="client_secret_hint">Paste the secret's <strong>Value</strong>, not its Secret ID. Leave empty to keep the current secret.</span>
    </div>
    <div class="actions"><button type="submit" class="button button-primary">Save</button></div>
  </form>
</section>
<section class="card" aria-labelledby="checks-heading">
  <h2 id="checks-heading">Configuration checks</h2>
  {{diagnoses}}
</section>
<section class="card" aria-labelledby="azure-heading">
  <h2 id="azure-heading">Setting up the app in Azure</h2>
  <ol class="steps">
    <li>Azure portal → Microsoft Entra ID → App registrations → <em>New registration</em>.</li>
    <li>Supported account types: <em>Accounts in any organizational directory and personal Microsoft accounts</em>.</li>
    <li>Redirect URI: platform <em>Web</em>, <code>{{redirect_uri}}</code>.</li>
    <li>API permissions → Microsoft Graph → Delegated: <code>Mail.ReadWrite</code>, <code>Mail.Send</code>, <code>User.Read</code>, <code>offline_access</code>.</li>
    <li>Certificates &amp; secrets → <em>New client secret</em> → copy the <strong>Value</strong> at once (it is shown only once) and paste it above, with the Application (client) ID from the Overview page.</li>
  </ol>
</section>)";

Html callout(std::string_view kind, const std::string& strong, const std::string& message) {
  return render(
      R"(<div class="callout callout-{{kind}}" role="status"><strong>{{strong}}</strong>{{message}}</div>)",
      {{"kind", kind},
       {"strong", strong},
       {"message", message.empty() ? Html{} : render("<p>{{text}}</p>", {{"text", message}})}});
}

}  // namespace

Html admin_login_page(const AdminLoginModel& model) {
  return render(kLoginPage, {{"error", model.error.empty() ? Html{} : callout("danger", model.error, "")},
                             {"csrf", csrf_field(model.csrf_token)},
                             {"username", model.username}});
}

Html admin_disabled_page() {
  return Html::trusted(std::string(kDisabledPage));
}

Html admin_signed_out_page(const std::string& csrf_token, bool signed_in) {
  if (signed_in) {
    return render(
        kSignedOutPage,
        {{"heading", "Sign out"},
         {"message", "You are signed in as the administrator."},
         {"action",
          render(
              R"(<form method="post" action="/admin/logout">{{csrf}}<button type="submit" class="button button-primary">Sign out</button></form>)",
              {{"csrf", csrf_field(csrf_token)}})}});
  }
  return render(
      kSignedOutPage,
      {{"heading", "Signed out"},
       {"message", "You are signed out of the admin pages."},
       {"action",
        Html::trusted(R"(<a class="button button-primary" href="/admin/login">Sign in again</a>)")}});
}

Html integrations_page(const IntegrationsPageModel& model) {
  Html status;
  if (model.status == "broken") {
    const bool code_in_reason =
        !model.status_code.empty() && model.status_reason.find(model.status_code) != std::string::npos;
    status = callout("danger", "Sign-in with Microsoft is broken: " + model.status_reason,
                     model.status_fix +
                         (model.status_code.empty() || code_in_reason ? "" : " (" + model.status_code + ")"));
  } else if (model.status == "not_configured") {
    status = callout(
        "warning", "Sign-in with Microsoft is not configured yet.",
        "Enter the Client ID and the client secret Value below; users can sign in as soon as you save.");
  } else {
    status = callout("success", "Sign-in with Microsoft is configured.", "");
  }

  const Html client_id = model.client_id.empty() ? Html::trusted(R"(<span class="muted">not set</span>)")
                                                 : render("<code>{{id}}</code>", {{"id", model.client_id}});
  Html secret;
  if (model.secret_set) {
    secret = render(
        R"(<span class="badge badge-active">Set</span> <span class="muted small">from {{source}}{{expires}}</span>)",
        {{"source", model.secret_source},
         {"expires", model.secret_expires.empty() ? std::string() : "; expires " + model.secret_expires}});
  } else {
    secret = Html::trusted(R"(<span class="badge badge-neutral">Not set</span>)");
  }

  Html diagnoses;
  if (model.diagnoses.empty()) {
    diagnoses = Html::trusted(
        R"(<p class="muted">No problems found with the public URL and the Microsoft settings.</p>)");
  } else {
    diagnoses = Html::trusted(R"(<ul class="diagnoses">)");
    for (const DiagnosisView& diagnosis : model.diagnoses) {
      const std::string_view badge = diagnosis.severity == "error"     ? "badge-attention"
                                     : diagnosis.severity == "warning" ? "badge-attention"
                                                                       : "badge-neutral";
      diagnoses += render(
          R"(<li><span class="badge {{badge}}">{{severity}}</span> <span class="diagnosis-key">{{key}}</span><div>{{message}}</div>{{fix}}</li>)",
          {{"badge", badge},
           {"severity", diagnosis.severity},
           {"key", diagnosis.key},
           {"message", diagnosis.message},
           {"fix", diagnosis.fix.empty() ? Html{}
                                         : render(R"(<div class="muted small">Fix: {{fix}}</div>)",
                                                  {{"fix", diagnosis.fix}})}});
    }
    diagnoses += Html::trusted("</ul>");
  }

  return render(kIntegrationsPage,
                {{"saved", model.saved.empty() ? Html{} : callout("success", model.saved, "")},
                 {"status", status},
                 {"redirect_uri", model.redirect_uri},
                 {"client_id", client_id},
                 {"client_id_source", model.client_id_source},
                 {"secret", secret},
                 {"tenant", model.tenant},
                 {"login_url", model.login_url},
                 {"form_error", model.form_error.empty() ? Html{} : callout("danger", model.form_error, "")},
                 {"csrf", csrf_field(model.csrf_token)},
                 {"form_client_id", model.form_client_id},
                 {"diagnoses", diagnoses}});
}

}  // namespace mailtrixy::web
