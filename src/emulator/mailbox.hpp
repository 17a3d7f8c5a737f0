#pragma once
// One emulated Exchange mailbox: the folder tree, the messages with their MIME, flags,
// categories and extended properties, per-folder change logs for delta queries, and the record
// of everything sent from it. Owned by the Graph-mail part of the emulator (graph_mail*.cpp);
// the core (router, identity, control API) uses only what is declared in this section.
//
// Thread-safety: every public member function locks the mailbox's own mutex. The Graph-mail
// routes lock it themselves (shared for reads, exclusive for changes) around MailboxState calls,
// and never hold two mailboxes' locks at once: a send collects what it delivers, unlocks, then
// delivers to each recipient.

#include <filesystem>
#include <memory>
#include <shared_mutex>
#include <string>
#include <vector>

#include "mailtrixy/base/result.hpp"

namespace mailtrixy::emulator {

enum class Locale { english, german };

// One message that left this mailbox through sendMail or send: who it went to (the union of
// To, Cc and Bcc) and the MIME as the emulator stored it.
struct SentRecord {
  std::vector<std::string> recipients;
  std::string mime;
};

class MailboxState;  // defined by the Graph-mail implementation

class Mailbox {
 public:
  Mailbox(std::string owner_address, Locale locale);
  ~Mailbox();
  Mailbox(const Mailbox&) = delete;
  Mailbox& operator=(const Mailbox&) = delete;

  const std::string& owner_address() const { return owner_address_; }

  // Loads DIR/*.eml into Inbox and DIR/<Folder>/*.eml into that folder (created when it is not a
  // default folder; "Sent Items", "Drafts", ... map to the default folders; nested folders as
  // DIR/<Parent>/<Child>/). Each file's bytes become the message's MIME unchanged.
  Result<void> seed_from_directory(const std::filesystem::path& directory);

  // A message arriving from outside: stored in Inbox, unread, not a draft, received now.
  void deliver(std::string mime);

  std::vector<SentRecord> sent() const;

  // Invalidates every delta token (messages and folders) issued so far: the next request with
  // one answers 410 SyncStateNotFound, as Exchange does when its sync state is gone. Behind
  // POST /_emulator/users/{email}/expire-delta.
  void expire_sync_states();

  // The implementation's state; only graph_mail*.cpp touches it.
  MailboxState& state() { return *state_; }
  std::shared_mutex& mutex() const { return mutex_; }

 private:
  std::string owner_address_;
  mutable std::shared_mutex mutex_;
  std::unique_ptr<MailboxState> state_;
};

}  // namespace mailtrixy::emulator
