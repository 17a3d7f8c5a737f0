#include <cstdio>

#include "../command.hpp"

namespace mailtrixy::app {

// Library versions are those found at build time (CMake passes them in), which for Debian's
// packages are the ones linked at run time too.
int run_version(const CommandContext& context) {
  if (!context.args.empty()) {
    print_error("version takes no arguments");
    return kUsageError;
  }
  std::printf("mailtrixy %s\n", MAILTRIXY_VERSION);
  std::printf("  boost %s\n  openssl %s\n  rocksdb %s\n  yaml-cpp %s\n", MAILTRIXY_BOOST_VERSION,
              MAILTRIXY_OPENSSL_VERSION, MAILTRIXY_ROCKSDB_VERSION, MAILTRIXY_YAML_CPP_VERSION);
  return kSuccess;
}

}  // namespace mailtrixy::app
