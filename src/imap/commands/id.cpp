#include "../command_table.hpp"
#include "mailtrixy/base/log.hpp"
#include "mailtrixy/imap/wire.hpp"

namespace mailtrixy::imap::detail {

// ID (RFC 2971), in any state: Apple Mail sends it before LOGIN.
Reply handle_id(Context& context, const Command& command) {
  const auto& args = std::get<IdArgs>(command.arguments);
  if (args.fields) {
    std::string name;
    std::string version;
    for (const auto& [field, value] : *args.fields) {
      if (!value) continue;
      std::string lower;
      for (char c : field) lower += static_cast<char>((c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c);
      if (lower == "name") name = *value;
      if (lower == "version") version = *value;
    }
    log::info("imap client id", {{"peer", context.info.peer}, {"client", single_line(name)},
                                  {"client_version", single_line(version)}});
  }
  std::string line = "ID (\"name\" ";
  append_string(line, context.options.server_name);
  if (!context.options.version.empty()) {
    line += " \"version\" ";
    append_string(line, context.options.version);
  }
  line += ')';
  write_untagged(*context.out, line);
  return Reply::ok("ID completed");
}

}  // namespace mailtrixy::imap::detail
