#pragma once
// The configuration keys as a reference: which keys exist and how a value is written.
//
// known_keys() is the loader's own schema (the table behind unknown-key suggestions and
// environment overrides), so it cannot disagree with what load() accepts. format_value() writes
// a loaded value back in the syntax config/mailtrixy.yaml uses, which lets a caller compare
// settings key by key: tests/config/reference_test.cpp checks every row of
// docs/configuration.md against the defaults this way (a documented default is loaded, formatted
// and compared with the formatted defaults of an empty file).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mailtrixy/config/settings.hpp"

namespace mailtrixy::config {

// Every key the loader accepts, dotted ("public_url", "imap.listen"), in the schema's order.
std::vector<std::string> known_keys();

// The value of `dotted_key` in `settings`, as YAML text: strings and paths as they are ("" when
// empty), booleans true/false, sizes in bytes, durations in seconds ("60s"), lists as
// [a, b] ("[]" when empty), log.level and log.format by name. A secret (microsoft.client_secret,
// cluster.auth_http_key_file's content) is never written: a set secret reads "(set)".
// nullopt when the key is unknown here: a key added to the loader needs a line in reference.cpp.
std::optional<std::string> format_value(const Settings& settings, std::string_view dotted_key);

}  // namespace mailtrixy::config
