#pragma once
// Process-wide protections applied before any command runs (docs/security.md, "Local users").
//
// Every command that touches the data directory handles secrets: the master key, OAuth tokens,
// the Microsoft client secret, bridge and admin passwords (hash-password reads one on stdin). So
// the bridge binary, whatever the command:
//   - disables core dumps (RLIMIT_CORE soft and hard limit 0) and marks itself non-dumpable
//     (PR_SET_DUMPABLE 0): a core file or a same-uid debugger would see the decrypted tokens and
//     the master key in memory;
//   - sets the umask to 077, so every file the process creates (RocksDB tables, logs, WAL,
//     backups, generated certificates) is readable by the owner only, whatever the caller's umask.
//
// Failures are reported as warnings on stderr and never stop the command: a kernel that refuses
// prctl (e.g. under some sandboxes) should not make the bridge unusable.

namespace mailtrixy::app {

void harden_process();

}  // namespace mailtrixy::app
