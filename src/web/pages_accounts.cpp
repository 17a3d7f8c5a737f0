// The user's pages: Settings → Email Accounts, the sign-in result and the sign-in errors.

#include <cctype>

#include "layout.hpp"
#include "mailtrixy/web/forms.hpp"
#include "pages.hpp"

namespace mailtrixy::web {
namespace {

constexpr std::string_view kAccountsPage = R"(<div class="page-header">
  <p class="breadcrumb"><a href="/settings/email-accounts">Settings</a> › Email Accounts</p>
  <h1>Email Accounts</h1>
  <p class="lead">Connect your Outlook or Microsoft 365 mailbox once, then use any IMAP and SMTP mail client with the bridge password you get here.</p>
</div>
{{notice}}
<section class="card" aria-labelledby="connected-heading">
  <div class="card-header">
    <div>
      <h2 id="connected-heading">Connected accounts</h2>
      <p>Mailboxes connected from this browser</p>
    </div>
    <a class="button button-primary" href="#add-account">Add Account</a>
  </div>
  {{accounts}}
</section>
<section class="card" id="add-account" aria-labelledby="add-heading">
  <div class="card-header">
    <div>
      <h2 id="add-heading">Add Account</h2>
      <p>Choose your email provider</p>
    </div>
  </div>
  {{integration_notice}}
  <div class="tiles">
    {{tile}}
  </div>
  <p class="muted small">You sign in on Microsoft's own page: the bridge never sees your Microsoft password. It asks for permission to read and send your mail and to stay signed in, so your mail client keeps working.</p>
</section>
{{signout}})";

constexpr std::string_view kEnabledTile =
    R"(<a class="tile tile-microsoft" href="/email-oauth/microsoft/start">
      <span class="tile-logo">{{logo}}</span>
      <span class="tile-text"><span class="tile-title">Sign in with Outlook</span><span class="tile-sub">Outlook.com, Hotmail, Live and Microsoft 365</span></span>
      <span class="tile-badge">PREFERRED</span>
    </a>)";

constexpr std::string_view kDisabledTile =
    R"(<span class="tile tile-microsoft tile-disabled" aria-disabled="true">
      <span class="tile-logo">{{logo}}</span>
      <span class="tile-text"><span class="tile-title">Sign in with Outlook</span><span class="tile-sub">Not available until the administrator finishes the set-up</span></span>
      <span class="tile-badge">PREFERRED</span>
    </span>)";

constexpr std::string_view kAccountItem = R"(<li class="account">
      <div class="avatar" aria-hidden="true">{{initial}}</div>
      <div class="account-main">
        <div class="account-email">{{address}}</div>
        <div class="account-meta">{{meta}}</div>
        {{reason}}
      </div>
      {{badge}}
      {{action}})";

constexpr std::string_view kSuccessPage = R"(<div class="result">
  <div class="result-icon result-icon-success"><svg width="28" height="28" viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d="M9 16.2 4.8 12l-1.4 1.4L9 19 21 7l-1.4-1.4z" fill="currentColor"/></svg></div>
  <div>
    <h1>Outlook connected successfully!</h1>
    <p>{{intro}} The initial sync of your mailbox has started: your folders and recent mail appear in your mail client within a few minutes.</p>
  </div>
</div>
<section class="card" aria-labelledby="settings-heading">
  <div class="card-header">
    <div>
      <h2 id="settings-heading">Your mail client settings</h2>
      <p>Enter these in Thunderbird, Outlook, Apple Mail or any other IMAP/SMTP client.</p>
    </div>
  </div>
  <div class="callout callout-warning" role="note">
    <strong>Copy the password now.</strong>
    <p>It is shown only this once: the bridge keeps only a hash of it. If you lose it, sign in with Outlook again to get a new one.</p>
  </div>
  <table class="settings">
    <tr><th scope="row">Username</th><td><code id="bridge-username">{{username}}</code></td></tr>
    <tr><th scope="row">Password</th><td><code id="bridge-password" class="secret">{{password}}</code></td></tr>
    <tr><th scope="row">Incoming mail (IMAP)</th><td>{{imap}}</td></tr>
    <tr><th scope="row">Outgoing mail (SMTP)</th><td>{{smtp}}</td></tr>
    <tr><th scope="row">Authentication</th><td>Normal password (the bridge password above)</td></tr>
  </table>
  {{relinked}}
</section>
<div class="actions">
  <a class="button button-primary" href="/settings/email-accounts">Done</a>
</div>)";

constexpr std::string_view kErrorPage = R"(<div class="result">
  <div class="result-icon result-icon-error"><svg width="28" height="28" viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d="M12 2a10 10 0 1 0 0 20 10 10 0 0 0 0-20zm1 15h-2v-2h2zm0-4h-2V7h2z" fill="currentColor"/></svg></div>
  <div>
    <p class="breadcrumb">Sign in with Outlook</p>
    <h1>{{title}}</h1>
    <p id="error-explanation">{{explanation}}</p>
  </div>
</div>
<section class="card" aria-labelledby="fix-heading">
  <h2 id="fix-heading">How to fix it</h2>
  <p id="error-fix">{{fix}}</p>
  {{admin_note}}
  {{details}}
</section>
<div class="actions">
  {{retry}}
  <a class="button button-secondary" href="/settings/email-accounts">Back to Email Accounts</a>
</div>)";

constexpr std::string_view kMessagePage = R"(<section class="card">
  <h1>{{heading}}</h1>
  <p>{{message}}</p>
  <div class="actions"><a class="button button-primary" href="{{href}}">{{link}}</a></div>
</section>)";

Html callout(std::string_view kind, const std::string& strong, const std::string& message) {
  return render(
      R"(<div class="callout callout-{{kind}}" role="status"><strong>{{strong}}</strong>{{message}}</div>)",
      {{"kind", kind},
       {"strong", strong},
       {"message", message.empty() ? Html{} : render("<p>{{text}}</p>", {{"text", message}})}});
}

std::string initial_of(const AccountView& account) {
  const std::string& source = account.display_name.empty() ? account.address : account.display_name;
  for (const char c : source) {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      return std::string(1, static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
    }
  }
  return "?";
}

Html account_item(const AccountView& account) {
  std::string meta = account.display_name.empty() ? std::string() : account.display_name + " · ";
  meta += "Connected " + account.connected;
  const Html badge = account.needs_sign_in
                         ? Html::trusted(R"(<span class="badge badge-attention">Needs sign-in</span>)")
                         : Html::trusted(R"(<span class="badge badge-active">Active</span>)");
  const Html reason =
      account.needs_sign_in
          ? render(
                R"(<div class="account-meta">{{reason}} Sign in again to reconnect; your mail and settings are kept.</div>)",
                {{"reason", account.needs_sign_in_reason.empty()
                                ? std::string("Microsoft no longer accepts this account's sign-in.")
                                : account.needs_sign_in_reason}})
          : Html{};
  const Html action =
      account.needs_sign_in
          ? render(
                R"(<div class="account-actions"><a class="button button-primary button-small" href="/email-oauth/microsoft/start?login_hint={{hint}}">Sign in again</a></div>)",
                {{"hint", percent_encode(account.address)}})
          : Html{};
  return render(kAccountItem, {{"initial", initial_of(account)},
                               {"address", account.address},
                               {"meta", meta},
                               {"reason", reason},
                               {"badge", badge},
                               {"action", action}}) +
         Html::trusted("\n    </li>");
}

Html endpoint_cell(const MailEndpoint& endpoint) {
  if (endpoint.tls_port == 0 && endpoint.starttls_port == 0) {
    return Html::trusted(R"(<span class="muted">Not enabled on this bridge; ask the administrator.</span>)");
  }
  Html cell = render("Server <code>{{host}}</code>", {{"host", endpoint.host}});
  if (endpoint.tls_port != 0) {
    cell += render(R"(<br>Port <code>{{port}}</code> with SSL/TLS)",
                   {{"port", std::to_string(endpoint.tls_port)}});
  }
  if (endpoint.starttls_port != 0) {
    cell += render(
        endpoint.tls_port != 0
            ? std::string_view(
                  R"(<br><span class="muted small">or port <code>{{port}}</code> with STARTTLS</span>)")
            : std::string_view(R"(<br>Port <code>{{port}}</code> with STARTTLS)"),
        {{"port", std::to_string(endpoint.starttls_port)}});
  }
  return cell;
}

}  // namespace

Html accounts_page(const AccountsPageModel& model) {
  Html accounts;
  if (model.accounts.empty()) {
    accounts = Html::trusted(
        R"(<div class="empty"><strong>No accounts connected in this browser yet.</strong>Use <em>Add Account</em> below to connect an Outlook.com or Microsoft 365 mailbox.</div>)");
  } else {
    accounts = Html::trusted(R"(<ul class="account-list">)");
    for (const AccountView& account : model.accounts) accounts += account_item(account);
    accounts += Html::trusted("</ul>");
  }

  Html notice;
  switch (model.integration) {
    case IntegrationNotice::none: break;
    case IntegrationNotice::not_configured:
      notice = callout("info", "Outlook sign-in is not set up yet.",
                       "An administrator must enter the Microsoft Client ID and Client Secret under Admin → "
                       "Settings → Integrations.");
      break;
    case IntegrationNotice::broken:
      notice = callout(
          "danger", "Outlook sign-in is currently not working.",
          model.integration_reason + (model.integration_fix.empty() ? "" : " " + model.integration_fix));
      break;
  }

  const Html tile =
      render(model.integration == IntegrationNotice::not_configured ? kDisabledTile : kEnabledTile,
             {{"logo", microsoft_logo(28)}});
  const Html signout =
      model.signed_in
          ? render(
                R"(<form class="inline-form" method="post" action="/settings/sign-out">{{csrf}}<button type="submit" class="button button-secondary button-small">Sign out of this browser</button></form>)",
                {{"csrf", csrf_field(model.csrf_token)}})
          : Html{};
  return render(kAccountsPage,
                {{"notice", model.notice.empty() ? Html{} : callout("success", model.notice, "")},
                 {"accounts", accounts},
                 {"integration_notice", notice},
                 {"tile", tile},
                 {"signout", signout}});
}

Html success_page(const SuccessPageModel& model) {
  const std::string who =
      model.display_name.empty() ? model.address : model.display_name + " (" + model.address + ")";
  const Html relinked =
      model.relinked
          ? Html::trusted(
                R"(<p class="muted small">This mailbox was connected before: its mail, folders and settings are kept. The previous bridge password no longer works; use the new one above.</p>)")
          : Html{};
  return render(kSuccessPage, {{"intro", who + " is now connected to this bridge."},
                               {"username", model.username},
                               {"password", model.password},
                               {"imap", endpoint_cell(model.imap)},
                               {"smtp", endpoint_cell(model.smtp)},
                               {"relinked", relinked}});
}

Html error_page(const ErrorPageModel& model) {
  const Html admin_note =
      model.admin_action
          ? Html::trusted(
                R"(<div class="callout callout-info" role="note"><strong>This needs the bridge administrator.</strong><p>Administrators change the Microsoft settings under <a href="/admin/settings/integrations">Admin → Settings → Integrations</a>.</p></div>)")
          : Html{};
  Html details;
  if (!model.error.empty() || !model.codes.empty() || !model.description.empty()) {
    details = Html::trusted(R"(<div class="details"><h3>Technical details</h3><table class="settings">)");
    if (!model.error.empty()) {
      details += render(R"(<tr><th scope="row">Microsoft error</th><td><code>{{v}}</code></td></tr>)",
                        {{"v", model.error}});
    }
    if (!model.codes.empty()) {
      details += render(R"(<tr><th scope="row">Error code</th><td><code>{{v}}</code></td></tr>)",
                        {{"v", model.codes}});
    }
    if (!model.description.empty()) {
      details += render(R"(<tr><th scope="row">Message</th><td>{{v}}</td></tr>)", {{"v", model.description}});
    }
    details += Html::trusted("</table></div>");
  }
  const Html retry =
      model.offer_retry
          ? Html::trusted(
                R"(<a class="button button-primary" href="/email-oauth/microsoft/start">Try again</a>)")
          : Html{};
  return render(kErrorPage, {{"title", model.title},
                             {"explanation", model.explanation},
                             {"fix", model.fix},
                             {"admin_note", admin_note},
                             {"details", details},
                             {"retry", retry}});
}

Html message_page(const std::string& heading, const std::string& message, const std::string& link_href,
                  const std::string& link_text) {
  return render(kMessagePage,
                {{"heading", heading}, {"message", message}, {"href", link_href}, {"link", link_text}});
}

}  // namespace mailtrixy::web
