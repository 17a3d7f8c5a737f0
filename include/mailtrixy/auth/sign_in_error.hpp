#pragma once
// Why a sign-in with Microsoft failed, in words the user or the admin can act on (product spec §4
// troubleshooting). Every failure of SignInFlow::finish_sign_in() is one of these kinds; the web
// page shows `title` as the heading, `explanation` and `fix` as paragraphs, and the raw Microsoft
// details (error, codes, first description line) in a "technical details" block.
//
// Classification of Microsoft's answers (error + AADSTS code, never the description text):
//   callback error=access_denied (AADSTS65004)            → consent_declined
//   invalid_client + 7000215 (or other invalid_client)      → invalid_client_secret
//   invalid_client + 7000222                                → expired_client_secret
//   7000218 (no secret sent)                                → invalid_client_secret
//   50011 (redirect URI mismatch, at the token endpoint)    → redirect_uri_mismatch
//   invalid_grant + 54005                                   → code_already_redeemed
//   invalid_grant + 50148 / 501481 / 50147 / 50149          → pkce_mismatch
//   other invalid_grant                                     → invalid_grant_other
//   HTTP 5xx, temporarily_unavailable, server_error         → server_error
//   other errors (invalid_scope, unauthorized_client, ...)  → microsoft_error_other

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mailtrixy/auth/token_endpoint.hpp"

namespace mailtrixy::auth {

struct SignInError {
  enum class Kind {
    integration_not_configured,  // no Client ID or secret yet
    state_unknown_or_expired,    // no pending sign-in with that state (never made, used, or > 10 min)
    state_from_other_browser,    // the state belongs to another browser session
    consent_declined,            // error=access_denied on the callback
    invalid_client_secret,       // AADSTS7000215: most often the Secret ID pasted instead of the Value
    expired_client_secret,       // AADSTS7000222
    redirect_uri_mismatch,       // AADSTS50011
    missing_offline_access,      // granted scopes lack offline_access: no refresh token
    code_already_redeemed,       // AADSTS54005
    pkce_mismatch,               // AADSTS50148 and relatives
    invalid_grant_other,         // another invalid_grant (expired code, wrong tenant, ...)
    microsoft_error_other,       // another error from Microsoft on the callback or the token endpoint
    server_error,                // Microsoft answered 5xx / temporarily_unavailable
    network,                     // Microsoft could not be reached (DNS, connect, TLS, timeout)
    malformed_response,          // an answer the bridge could not understand
    internal_error,              // the bridge's own storage failed
  };

  Kind kind = Kind::internal_error;
  std::string title;        // heading, e.g. "Microsoft rejected the client secret"
  std::string explanation;  // what happened and why, one or two sentences
  std::string fix;          // what to do, one or two sentences (may name the redirect URI to register)
  bool admin_action = false;  // true when only the admin can fix it (secret, redirect URI, permissions)

  // Microsoft's own words, for the "technical details" block; empty for the bridge's own errors.
  std::string error;                      // e.g. "invalid_client"
  std::vector<std::int64_t> error_codes;  // e.g. {7000215}
  std::string description;                // first line of error_description, without Trace/Correlation IDs
};

// "consent_declined", ... (stable identifiers for logs, metrics and tests).
std::string_view to_string(SignInError::Kind kind);

// Context that some texts need.
struct SignInErrorContext {
  std::string redirect_uri;  // the exact URI the bridge sends (to register in Azure)
  std::string detail;        // extra detail for network/malformed/internal errors (no secrets)
};

// An error of `kind` with its title, explanation and fix filled in.
SignInError make_sign_in_error(SignInError::Kind kind, const SignInErrorContext& context = {});

// Classifies an error from the token endpoint or the callback and fills the texts and the raw
// Microsoft details.
SignInError classify_sign_in_error(const TokenEndpointError& error,
                                   const SignInErrorContext& context = {});

}  // namespace mailtrixy::auth
