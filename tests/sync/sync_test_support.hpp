#pragma once
// Shared helpers for the sync tests: a fresh store in a private temp directory.

#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>

#include "mailtrixy/crypto/aead.hpp"
#include "mailtrixy/store/store.hpp"

namespace mailtrixy::sync::testing {

class TempStore {
 public:
  TempStore() {
    std::string pattern = "/tmp/mailtrixy-sync-test-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = pattern;
    reopen();
  }
  TempStore(const TempStore&) = delete;
  TempStore& operator=(const TempStore&) = delete;
  ~TempStore() {
    store_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  // Closes and opens the database again, as a restart would.
  void reopen() {
    store_.reset();
    auto opened = store::Store::open(store::OpenOptions{.data_dir = dir_, .key = key_, .read_only = false, .migrations = {}});
    if (!opened) throw std::runtime_error(opened.error().message);
    store_ = std::move(opened.value());
  }
  void close() { store_.reset(); }
  store::Store& store() { return *store_; }
  const std::filesystem::path& dir() const { return dir_; }
  const crypto::Key& key() const { return key_; }

 private:
  std::filesystem::path dir_;
  crypto::Key key_ = crypto::Key::generate();
  std::unique_ptr<store::Store> store_;
};

}  // namespace mailtrixy::sync::testing

#include <atomic>
#include <functional>

#include "mailtrixy/mail/remote_mailbox.hpp"

namespace mailtrixy::sync::testing {

// Forwards to another RemoteMailbox; `before_delta` may fail a message_delta call (it gets the
// 1-based number of the call), to stop a round between two pages as a crash would.
class InterruptingRemote final : public mail::RemoteMailbox {
 public:
  explicit InterruptingRemote(std::shared_ptr<mail::RemoteMailbox> inner) : inner_(std::move(inner)) {}
  std::function<std::optional<mail::MailError>(int)> before_delta;
  // Runs inside create_message, before it is forwarded (e.g. a sync round racing an APPEND).
  std::function<void()> during_create;

  mail::MailResult<std::vector<mail::RemoteFolder>> list_folders() override { return inner_->list_folders(); }
  mail::MailResult<mail::DeltaPage> message_delta(const mail::FolderId& folder, std::string_view link) override {
    int call = ++delta_calls_;
    if (before_delta)
      if (auto error = before_delta(call)) return *error;
    return inner_->message_delta(folder, link);
  }
  mail::MailResult<mail::RemoteMessage> get_message(const mail::GraphId& id) override { return inner_->get_message(id); }
  mail::MailResult<std::string> fetch_mime(const mail::GraphId& id) override { return inner_->fetch_mime(id); }
  mail::MailResult<std::uint64_t> message_size(const mail::GraphId& id) override { return inner_->message_size(id); }
  mail::MailResult<void> update_flags(const mail::GraphId& id, const mail::RemoteFlagUpdate& update) override {
    return inner_->update_flags(id, update);
  }
  mail::MailResult<mail::RemoteMessage> move_message(const mail::GraphId& id, const mail::FolderId& to) override {
    return inner_->move_message(id, to);
  }
  mail::MailResult<mail::RemoteMessage> copy_message(const mail::GraphId& id, const mail::FolderId& to) override {
    return inner_->copy_message(id, to);
  }
  mail::MailResult<void> delete_message(const mail::GraphId& id) override { return inner_->delete_message(id); }
  mail::MailResult<void> permanently_delete_message(const mail::GraphId& id) override {
    return inner_->permanently_delete_message(id);
  }
  mail::MailResult<mail::RemoteMessage> create_message(const mail::FolderId& folder, std::string_view mime,
                                                       const mail::CreateMessageOptions& options) override {
    if (during_create) during_create();
    return inner_->create_message(folder, mime, options);
  }
  mail::MailResult<std::size_t> delete_staging_drafts(std::string_view message_id, mail::TimePoint from,
                                                      mail::TimePoint until) override {
    return inner_->delete_staging_drafts(message_id, from, until);
  }
  mail::MailResult<mail::RemoteFolder> create_folder(const mail::FolderId& parent, std::string_view name) override {
    return inner_->create_folder(parent, name);
  }
  mail::MailResult<mail::RemoteFolder> rename_folder(const mail::FolderId& id, std::string_view name) override {
    return inner_->rename_folder(id, name);
  }
  mail::MailResult<mail::RemoteFolder> move_folder(const mail::FolderId& id, const mail::FolderId& parent) override {
    return inner_->move_folder(id, parent);
  }
  mail::MailResult<void> delete_folder(const mail::FolderId& id) override { return inner_->delete_folder(id); }

 private:
  std::shared_ptr<mail::RemoteMailbox> inner_;
  std::atomic<int> delta_calls_{0};
};

}  // namespace mailtrixy::sync::testing
