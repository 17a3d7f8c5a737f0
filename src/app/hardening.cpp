#include "hardening.hpp"

#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "command.hpp"

namespace mailtrixy::app {

void harden_process() {
  // A core dump would write the decrypted access/refresh tokens, the client secret and the
  // master key to disk, readable by whoever can read the dump directory (or by a crash handler
  // such as systemd-coredump or apport). Both limits are zeroed so the process cannot raise them.
  const rlimit no_core{0, 0};
  if (::setrlimit(RLIMIT_CORE, &no_core) != 0) {
    print_error(std::string("warning: cannot disable core dumps (setrlimit RLIMIT_CORE): ") + std::strerror(errno));
  }
  // Non-dumpable also stops other processes of the same user from attaching with ptrace or
  // reading /proc/<pid>/mem and /proc/<pid>/environ (MAILTRIXY_MASTER_KEY may be there), and
  // stops the kernel from dumping even if a core pattern pipes to a helper.
  if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
    print_error(std::string("warning: cannot mark the process non-dumpable (prctl PR_SET_DUMPABLE): ") +
                std::strerror(errno));
  }
  // Files made by RocksDB (tables, WAL, MANIFEST, LOG) and the rest get mode 0600, directories
  // 0700: the store's records are encrypted, but its LOG and file names are not everyone's.
  ::umask(077);
}

}  // namespace mailtrixy::app
