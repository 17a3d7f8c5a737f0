#include "mailtrixy/auth/sign_in_error.hpp"

#include <algorithm>

namespace mailtrixy::auth {
namespace {

using Kind = SignInError::Kind;

constexpr const char* kSecretSteps =
    "In the Azure portal open App registrations → your app → Certificates & secrets, copy the secret's "
    "Value column (not the Secret ID), and paste it into Admin → Settings → Integrations → Microsoft Client Secret.";

constexpr const char* kRenewalSteps =
    "In the Azure portal open App registrations → your app → Certificates & secrets → New client secret, copy the "
    "new secret's Value and paste it into Admin → Settings → Integrations → Microsoft Client Secret (or "
    "microsoft.client_secret_file), then update microsoft.client_secret_expires. Existing connections keep working "
    "once the new secret is in place.";

bool contains(const std::vector<std::int64_t>& codes, std::int64_t code) {
  return std::find(codes.begin(), codes.end(), code) != codes.end();
}

}  // namespace

std::string_view to_string(SignInError::Kind kind) {
  switch (kind) {
    case Kind::integration_not_configured: return "integration_not_configured";
    case Kind::state_unknown_or_expired: return "state_unknown_or_expired";
    case Kind::state_from_other_browser: return "state_from_other_browser";
    case Kind::consent_declined: return "consent_declined";
    case Kind::invalid_client_secret: return "invalid_client_secret";
    case Kind::expired_client_secret: return "expired_client_secret";
    case Kind::redirect_uri_mismatch: return "redirect_uri_mismatch";
    case Kind::missing_offline_access: return "missing_offline_access";
    case Kind::code_already_redeemed: return "code_already_redeemed";
    case Kind::pkce_mismatch: return "pkce_mismatch";
    case Kind::invalid_grant_other: return "invalid_grant_other";
    case Kind::microsoft_error_other: return "microsoft_error_other";
    case Kind::server_error: return "server_error";
    case Kind::network: return "network";
    case Kind::malformed_response: return "malformed_response";
    case Kind::internal_error: return "internal_error";
  }
  return "unknown";
}

SignInError make_sign_in_error(SignInError::Kind kind, const SignInErrorContext& context) {
  SignInError e;
  e.kind = kind;
  const std::string redirect = context.redirect_uri.empty() ? "the bridge's redirect URI" : context.redirect_uri;
  const std::string detail = context.detail.empty() ? "" : " (" + context.detail + ")";
  switch (kind) {
    case Kind::integration_not_configured:
      e.title = "Sign-in with Microsoft is not set up yet";
      e.explanation = "The bridge has no Microsoft Client ID or client secret, so it cannot send you to Microsoft.";
      e.fix = "Ask the administrator to enter the Microsoft Client ID and Client Secret in Admin → Settings → "
              "Integrations (or in config/mailtrixy.yaml), then try again.";
      e.admin_action = true;
      break;
    case Kind::state_unknown_or_expired:
      e.title = "This sign-in link has expired or was already used";
      e.explanation = "Each sign-in can be completed once, within 10 minutes of starting it. This one is unknown, "
                      "already finished, or too old.";
      e.fix = "Start again with Add Account → Sign in with Outlook, and don't reload or revisit the page Microsoft "
              "sends you back to.";
      break;
    case Kind::state_from_other_browser:
      e.title = "This sign-in was started in another browser";
      e.explanation = "The answer from Microsoft belongs to a sign-in that another browser started, so the bridge "
                      "refused it to protect your account.";
      e.fix = "Start the sign-in with Add Account → Sign in with Outlook in the browser where you want to use the "
              "bridge, and finish it there.";
      break;
    case Kind::consent_declined:
      e.title = "Consent was declined";
      e.explanation = "Microsoft reports that consent was declined, so the bridge got no access to your mailbox and "
                      "nothing was connected.";
      e.fix = "Sign in again and choose Accept on Microsoft's permissions page. If your organisation requires an "
              "administrator to approve new apps, ask them to grant consent for this app first.";
      break;
    case Kind::invalid_client_secret:
      e.title = "Microsoft rejected the client secret";
      e.explanation = "Microsoft says the Client Secret doesn't match Azure; most common cause: the Secret ID was "
                      "pasted instead of the Value.";
      e.fix = kSecretSteps;
      e.admin_action = true;
      break;
    case Kind::expired_client_secret:
      e.title = "The client secret has expired";
      e.explanation = "Microsoft refuses the app's client secret because it expired in Azure (AADSTS7000222); no "
                      "sign-in or token refresh works until it is renewed.";
      e.fix = kRenewalSteps;
      e.admin_action = true;
      break;
    case Kind::redirect_uri_mismatch:
      e.title = "The redirect URI is not registered in Azure";
      e.explanation = "Microsoft only sends users back to redirect URIs registered for the app, exactly as written "
                      "(scheme, host, port, path, case, no trailing slash), and " + redirect + " is not one of them.";
      e.fix = "In the Azure portal open App registrations → your app → Authentication → Web → Redirect URIs, add " +
              redirect + " exactly, save, and sign in again.";
      e.admin_action = true;
      break;
    case Kind::missing_offline_access:
      e.title = "Microsoft did not grant offline access";
      e.explanation = "Without the offline_access permission Microsoft gives the bridge no refresh token, so its "
                      "access to your mailbox would stop after about an hour and your mail clients with it.";
      e.fix = "The administrator should add the delegated permission offline_access (App registrations → your app → "
              "API permissions → Add a permission → Microsoft Graph → Delegated), then sign in again and accept "
              "every requested permission.";
      e.admin_action = true;
      break;
    case Kind::code_already_redeemed:
      e.title = "This sign-in was already completed";
      e.explanation = "Microsoft's one-time sign-in code was already used (AADSTS54005), usually because the page "
                      "was reloaded or opened twice.";
      e.fix = "Start again with Add Account → Sign in with Outlook; if your account shows as connected, you are done.";
      break;
    case Kind::pkce_mismatch:
      e.title = "Microsoft could not verify this sign-in";
      e.explanation = "The proof that this sign-in was started by the bridge (PKCE) did not match at Microsoft, so "
                      "the code was refused.";
      e.fix = "Start again with Add Account → Sign in with Outlook, in one browser tab, without going back.";
      break;
    case Kind::invalid_grant_other:
      e.title = "Microsoft refused the sign-in code";
      e.explanation = "Microsoft did not accept the code it issued (it may have expired after 10 minutes, or the "
                      "sign-in was interrupted).";
      e.fix = "Start again with Add Account → Sign in with Outlook.";
      break;
    case Kind::microsoft_error_other:
      e.title = "Microsoft reported an error";
      e.explanation = "The sign-in did not complete; Microsoft's own message is shown below.";
      e.fix = "Try again. If it keeps failing, give the administrator the details below: they usually point at the "
              "app registration in Azure.";
      break;
    case Kind::server_error:
      e.title = "Microsoft is having trouble";
      e.explanation = "Microsoft's sign-in service answered with a temporary error" + detail + ".";
      e.fix = "Wait a few minutes and sign in again.";
      break;
    case Kind::network:
      e.title = "The bridge could not reach Microsoft";
      e.explanation = "The connection to Microsoft's sign-in service failed" + detail + ".";
      e.fix = "Try again in a minute. If it keeps failing, the administrator should check the bridge's network "
              "access and, for a private certificate authority, microsoft.ca_file.";
      e.admin_action = true;
      break;
    case Kind::malformed_response:
      e.title = "Microsoft's answer could not be understood";
      e.explanation = "The bridge received an answer from Microsoft it could not use" + detail + ".";
      e.fix = "Try again; if it keeps happening, the administrator should check microsoft.login_url and "
              "microsoft.graph_url.";
      e.admin_action = true;
      break;
    case Kind::internal_error:
      e.title = "The bridge could not save your account";
      e.explanation = "Signing in at Microsoft worked, but the bridge failed to store the result" + detail + ".";
      e.fix = "Try again; if it keeps failing, the administrator should check the bridge's log and its data "
              "directory.";
      e.admin_action = true;
      break;
  }
  return e;
}

SignInError classify_sign_in_error(const TokenEndpointError& error, const SignInErrorContext& context) {
  const std::int64_t code = error.aadsts();
  std::vector<std::int64_t> codes = error.error_codes;
  if (codes.empty() && code != 0) codes.push_back(code);
  Kind kind = Kind::microsoft_error_other;
  if (error.error == "access_denied" || contains(codes, 65004)) {
    kind = Kind::consent_declined;
  } else if (contains(codes, 7000222)) {
    kind = Kind::expired_client_secret;
  } else if (error.error == "invalid_client" || contains(codes, 7000215) || contains(codes, 7000218)) {
    kind = Kind::invalid_client_secret;
  } else if (contains(codes, 50011)) {
    kind = Kind::redirect_uri_mismatch;
  } else if (contains(codes, 54005)) {
    kind = Kind::code_already_redeemed;
  } else if (contains(codes, 50148) || contains(codes, 501481) || contains(codes, 50147) || contains(codes, 50149)) {
    kind = Kind::pkce_mismatch;
  } else if (error.error == "invalid_grant") {
    kind = Kind::invalid_grant_other;
  } else if (error.error == "temporarily_unavailable" || error.error == "server_error" ||
             (error.error.empty() && error.http_status >= 500)) {
    kind = Kind::server_error;
  } else if (error.error.empty() && error.http_status != 0) {
    kind = Kind::malformed_response;
  }
  SignInErrorContext with_detail = context;
  if (with_detail.detail.empty() && error.http_status != 0 &&
      (kind == Kind::server_error || kind == Kind::malformed_response)) {
    with_detail.detail = "HTTP " + std::to_string(error.http_status);
  }
  SignInError out = make_sign_in_error(kind, with_detail);
  out.error = error.error;
  out.error_codes = std::move(codes);
  out.description = error.description;
  return out;
}

}  // namespace mailtrixy::auth
