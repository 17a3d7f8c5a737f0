#include "mailtrixy/mail/error.hpp"

namespace mailtrixy::mail {

std::string_view to_string(ErrorCode code) {
  switch (code) {
    case ErrorCode::not_found: return "not_found";
    case ErrorCode::already_exists: return "already_exists";
    case ErrorCode::no_permission: return "no_permission";
    case ErrorCode::too_big: return "too_big";
    case ErrorCode::unavailable: return "unavailable";
    case ErrorCode::needs_sign_in: return "needs_sign_in";
    case ErrorCode::quota: return "quota";
    case ErrorCode::invalid: return "invalid";
    case ErrorCode::sync_state_not_found: return "sync_state_not_found";
    case ErrorCode::not_supported: return "not_supported";
    case ErrorCode::internal: return "internal";
  }
  return "internal";
}

}  // namespace mailtrixy::mail
