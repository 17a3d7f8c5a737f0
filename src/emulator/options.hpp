#pragma once
// The emulator's command line (product spec §10, docs/emulator.md):
//
//   mailtrixy-emulator --listen 127.0.0.1:0 --cert FILE --key FILE
//       --client ID:SECRET --redirect-uri URI   (an app registration; repeatable; each
//                                                --redirect-uri belongs to the --client before it)
//       --user EMAIL:PASSWORD                    (a mailbox; repeatable)
//       --seed EMAIL=DIR                         (repeatable; EMAIL must be a --user)
//       --access-token-lifetime SECONDS          (default 3599)
//       --latency MS                             (default 0)
//       --locale de                              (or en, the default)
//       --threads N                              (HTTP threads, default 4)
//
// Every option also accepts the --name=value form. Parsing checks the form of each value (a
// listen address that parses, an address with one '@', numbers in range, no duplicate user or
// client); whether files exist and ports are free is found out when the emulator starts.

#include <span>
#include <string>
#include <string_view>

#include "mailtrixy/base/result.hpp"
#include "world.hpp"

namespace mailtrixy::emulator {

struct CommandLine {
  EmulatorOptions options;
  bool help = false;
};

// Errors are one sentence naming the option and what to write instead.
Result<CommandLine> parse_command_line(std::span<const std::string_view> arguments);

// The usage text printed by --help and after a usage error.
std::string_view usage_text();

}  // namespace mailtrixy::emulator
