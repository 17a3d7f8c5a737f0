#include "command_table.hpp"

#include <array>
#include <stdexcept>

namespace mailtrixy::imap::detail {

namespace {

constexpr std::uint8_t bits(State state) { return static_cast<std::uint8_t>(state); }
constexpr std::uint8_t kAny = bits(State::not_authenticated) | bits(State::authenticated) | bits(State::selected);
constexpr std::uint8_t kNotAuthenticated = bits(State::not_authenticated);
constexpr std::uint8_t kAuthenticated = bits(State::authenticated) | bits(State::selected);
constexpr std::uint8_t kSelected = bits(State::selected);

using K = CommandKind;
using U = Updates;

// The table. Order follows RFC 3501 section 6.
constexpr std::array kCommands = {
    // Any state.
    CommandSpec{K::capability, kAny, U::no_expunge, handle_capability},
    CommandSpec{K::noop, kAny, U::all, handle_noop},
    CommandSpec{K::logout, kAny, U::none, handle_logout},
    CommandSpec{K::id, kAny, U::no_expunge, handle_id},
    // Not authenticated.
    CommandSpec{K::starttls, kNotAuthenticated, U::none, handle_starttls},
    CommandSpec{K::authenticate, kNotAuthenticated, U::none, handle_authenticate},
    CommandSpec{K::login, kNotAuthenticated, U::none, handle_login},
    // Authenticated (and selected).
    CommandSpec{K::enable, kAuthenticated, U::no_expunge, handle_enable},
    CommandSpec{K::namespace_, kAuthenticated, U::no_expunge, handle_namespace},
    CommandSpec{K::select, kAuthenticated, U::none, handle_select},
    CommandSpec{K::examine, kAuthenticated, U::none, handle_select},
    CommandSpec{K::create, kAuthenticated, U::no_expunge, handle_create},
    CommandSpec{K::delete_, kAuthenticated, U::no_expunge, handle_delete},
    CommandSpec{K::rename, kAuthenticated, U::no_expunge, handle_rename},
    CommandSpec{K::subscribe, kAuthenticated, U::no_expunge, handle_subscribe},
    CommandSpec{K::unsubscribe, kAuthenticated, U::no_expunge, handle_subscribe},
    CommandSpec{K::list, kAuthenticated, U::no_expunge, handle_list},
    CommandSpec{K::lsub, kAuthenticated, U::no_expunge, handle_lsub},
    CommandSpec{K::status, kAuthenticated, U::no_expunge, handle_status},
    CommandSpec{K::append, kAuthenticated, U::no_expunge, handle_append},
    CommandSpec{K::idle, kAuthenticated, U::all, handle_idle},
    // Selected.
    CommandSpec{K::check, kSelected, U::all, handle_check},
    CommandSpec{K::close, kSelected, U::none, handle_close},
    CommandSpec{K::unselect, kSelected, U::none, handle_unselect},
    CommandSpec{K::expunge, kSelected, U::all, handle_expunge},
    CommandSpec{K::search, kSelected, U::no_expunge, handle_search},
    CommandSpec{K::fetch, kSelected, U::no_expunge, handle_fetch},
    CommandSpec{K::store, kSelected, U::no_expunge, handle_store},
    CommandSpec{K::copy, kSelected, U::no_expunge, handle_copy},
    CommandSpec{K::move, kSelected, U::all, handle_move},
};

}  // namespace

const CommandSpec& command_spec(CommandKind kind) {
  for (const auto& spec : kCommands) {
    if (spec.kind == kind) return spec;
  }
  throw std::logic_error("IMAP command without an entry in the command table");
}

}  // namespace mailtrixy::imap::detail
