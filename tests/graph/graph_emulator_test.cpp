// GraphClient and GraphRemoteMailbox against the real mailtrixy-emulator over HTTPS: throttling,
// faults, Retry-After, the 4-in-flight limit and token expiry are the emulator's, and its
// /_emulator/stats counters are the evidence.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <set>
#include <thread>

#include "graph_test_support.hpp"
#include "mailtrixy/graph/graph_client.hpp"
#include "mailtrixy/graph/graph_remote_mailbox.hpp"

namespace mailtrixy::graph {
namespace {

using namespace std::chrono_literals;
using testing::EmulatorOptions;
using testing::SignedInEmulator;
using testing::TempDir;

class GraphEmulatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(MAILTRIXY_EMULATOR)) GTEST_SKIP() << "no emulator binary at " << MAILTRIXY_EMULATOR;
    for (int i = 1; i <= 5; ++i) {
      testing::write_file(dir_ / "seed" / ("inbox-" + std::to_string(i) + ".eml"),
                          testing::sample_message(i, "Inbox message " + std::to_string(i)));
    }
    testing::write_file(dir_ / "seed" / "Projects" / "p1.eml", testing::sample_message(20, "Project plan"));
    testing::write_file(dir_ / "seed" / "Projects" / "Q1" / "q1.eml", testing::sample_message(21, "Q1 numbers"));
  }

  void start(EmulatorOptions options = {}) {
    options.seed = dir_ / "seed";
    env_ = std::make_unique<SignedInEmulator>(dir_.path(), options);
    client_ = make_client(token_source(*env_->tokens, env_->account_key));
    mailbox_ = std::make_unique<GraphRemoteMailbox>(*client_, GraphRemoteMailboxOptions{2});
  }

  std::unique_ptr<GraphClient> make_client(TokenSource source) {
    GraphClientOptions options;
    options.graph_url = env_->emulator->url();
    options.mailbox_key = env_->account_key;
    options.backoff_initial = 100ms;
    options.backoff_max = 1000ms;
    auto client = GraphClient::create(*env_->http, std::move(source), options);
    EXPECT_TRUE(client.ok()) << client.error().message;
    return std::move(client).value();
  }

  void TearDown() override {
    mailbox_.reset();
    client_.reset();
    env_.reset();
  }

  rapidjson::Document stats() { return env_->control("GET", "stats"); }

  // Every message of a folder by a complete delta round; returns the delta link.
  std::string full_round(const mail::FolderId& folder, std::vector<mail::RemoteMessage>& messages,
                         int* pages = nullptr) {
    std::string link;
    for (int page_count = 1;; ++page_count) {
      auto page = mailbox_->message_delta(folder, link);
      EXPECT_TRUE(page.ok()) << page.error().message;
      if (!page.ok()) return "";
      for (auto& message : page->changed) messages.push_back(message);
      if (page->last_page()) {
        if (pages != nullptr) *pages = page_count;
        return page->delta_link;
      }
      link = page->next_link;
    }
  }

  TempDir dir_;
  std::unique_ptr<SignedInEmulator> env_;
  std::unique_ptr<GraphClient> client_;
  std::unique_ptr<GraphRemoteMailbox> mailbox_;
};

const mail::RemoteFolder* find_folder(const std::vector<mail::RemoteFolder>& folders, const std::string& name) {
  for (const auto& folder : folders) {
    if (folder.display_name == name) return &folder;
  }
  return nullptr;
}

TEST_F(GraphEmulatorTest, ListsTheNestedFolderTreeWithSpecialUseFromAliases) {
  start();
  auto folders = mailbox_->list_folders();
  ASSERT_TRUE(folders.ok()) << folders.error().message;
  const auto* inbox = find_folder(*folders, "Inbox");
  const auto* projects = find_folder(*folders, "Projects");
  const auto* q1 = find_folder(*folders, "Q1");
  const auto* sync_issues = find_folder(*folders, "Sync Issues");
  const auto* conflicts = find_folder(*folders, "Conflicts");
  ASSERT_TRUE(inbox && projects && q1 && sync_issues && conflicts);
  EXPECT_EQ(inbox->special_use, mail::SpecialUse::inbox);
  EXPECT_EQ(inbox->total_count, 5U);
  EXPECT_EQ(inbox->unread_count, 5U);
  EXPECT_EQ(q1->parent_id, projects->id);
  EXPECT_EQ(projects->parent_id, inbox->parent_id);  // both under msgfolderroot
  EXPECT_TRUE(sync_issues->hidden);
  EXPECT_EQ(conflicts->parent_id, sync_issues->id);  // children of hidden folders are found too
  std::map<mail::SpecialUse, std::string> uses;
  for (const auto& folder : *folders) {
    if (folder.special_use != mail::SpecialUse::none) uses[folder.special_use] = folder.display_name;
  }
  EXPECT_EQ(uses[mail::SpecialUse::sent], "Sent Items");
  EXPECT_EQ(uses[mail::SpecialUse::drafts], "Drafts");
  EXPECT_EQ(uses[mail::SpecialUse::trash], "Deleted Items");
  EXPECT_EQ(uses[mail::SpecialUse::junk], "Junk Email");
  EXPECT_EQ(uses[mail::SpecialUse::archive], "Archive");
  // Parents come before their children.
  std::set<std::string> listed;
  for (const auto& folder : *folders) {
    if (folder.parent_id != inbox->parent_id) {
      EXPECT_TRUE(listed.count(folder.parent_id.value())) << folder.display_name;
    }
    listed.insert(folder.id.value());
  }
}

TEST_F(GraphEmulatorTest, DeltaSeesDeliveriesFlagChangesAndMovesWithStableImmutableIds) {
  start();
  const mail::FolderId inbox("inbox");
  std::vector<mail::RemoteMessage> messages;
  int pages = 0;
  std::string delta_link = full_round(inbox, messages, &pages);
  ASSERT_EQ(messages.size(), 5U);
  EXPECT_GE(pages, 3);  // page size 2
  for (const auto& message : messages) {
    EXPECT_FALSE(message.flags.has(mail::SystemFlag::seen));
    EXPECT_EQ(message.envelope.from.at(0).address, "bob@example.com");
    EXPECT_TRUE(message.envelope.subject.starts_with("Inbox message "));
  }

  // A delivery appears in the next round.
  net::HttpClientRequest deliver;
  deliver.method = "POST";
  deliver.url = env_->emulator->url() + "/_emulator/users/" + testing::kUser + "/deliver";
  deliver.body = testing::sample_message(40, "Fresh delivery");
  ASSERT_EQ(env_->http->send(deliver)->status, 200);
  auto page = mailbox_->message_delta(inbox, delta_link);
  ASSERT_TRUE(page.ok()) << page.error().message;
  ASSERT_EQ(page->changed.size(), 1U);
  EXPECT_EQ(page->changed[0].envelope.subject, "Fresh delivery");
  delta_link = page->delta_link;
  ASSERT_FALSE(delta_link.empty());

  // Flags written through update_flags come back through delta.
  const mail::GraphId target = messages[0].id;
  mail::RemoteFlagUpdate update;
  update.seen = true;
  update.flagged = true;
  update.answered = true;
  update.forwarded = false;
  update.keywords = std::vector<std::string>{"Red_category", "todo"};
  ASSERT_TRUE(mailbox_->update_flags(target, update).ok());
  page = mailbox_->message_delta(inbox, delta_link);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->changed.size(), 1U);
  const mail::Flags& flags = page->changed[0].flags;
  EXPECT_TRUE(flags.has(mail::SystemFlag::seen));
  EXPECT_TRUE(flags.has(mail::SystemFlag::flagged));
  EXPECT_TRUE(flags.has(mail::SystemFlag::answered));
  EXPECT_TRUE(flags.has_keyword("Red_category"));
  EXPECT_TRUE(flags.has_keyword("todo"));
  delta_link = page->delta_link;

  // A move keeps the immutable id: removed from Inbox, present in Archive under the same id.
  auto moved = mailbox_->move_message(target, mail::FolderId("archive"));
  ASSERT_TRUE(moved.ok()) << moved.error().message;
  EXPECT_EQ(moved->id, target);
  page = mailbox_->message_delta(inbox, delta_link);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->removed.size(), 1U);
  EXPECT_EQ(page->removed[0], target);
  std::vector<mail::RemoteMessage> archived;
  full_round(mail::FolderId("archive"), archived);
  ASSERT_EQ(archived.size(), 1U);
  EXPECT_EQ(archived[0].id, target);
  auto again = mailbox_->get_message(target);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->flags.has(mail::SystemFlag::answered));
  auto mime = mailbox_->fetch_mime(target);
  ASSERT_TRUE(mime.ok());
  EXPECT_NE(mime->find("Subject: Inbox message"), std::string::npos);
  auto size = mailbox_->message_size(target);
  ASSERT_TRUE(size.ok());
  EXPECT_EQ(*size, mime->size());

  // Delete goes to Deleted Items; an unknown id is not_found.
  ASSERT_TRUE(mailbox_->delete_message(target).ok());
  std::vector<mail::RemoteMessage> trash;
  full_round(mail::FolderId("deleteditems"), trash);
  ASSERT_EQ(trash.size(), 1U);
  EXPECT_EQ(trash[0].id, target);
  ASSERT_TRUE(mailbox_->permanently_delete_message(target).ok());
  EXPECT_EQ(mailbox_->get_message(target).code(), mail::ErrorCode::not_found);

  // An expired delta token is a typed error; a fresh round works.
  env_->control("POST", std::string("users/") + testing::kUser + "/expire-delta");
  EXPECT_EQ(mailbox_->message_delta(inbox, delta_link).code(), mail::ErrorCode::sync_state_not_found);
  std::vector<mail::RemoteMessage> resync;
  EXPECT_FALSE(full_round(inbox, resync).empty());
  EXPECT_EQ(resync.size(), 5U);  // 5 seeded + 1 delivered - 1 moved
}

TEST_F(GraphEmulatorTest, AStormOfCallsNeverHasMoreThanFourInFlightAndIsNeverThrottled) {
  EmulatorOptions options;
  options.latency_ms = 150;
  start(options);
  std::vector<mail::RemoteMessage> messages;
  full_round(mail::FolderId("inbox"), messages);
  ASSERT_FALSE(messages.empty());
  env_->control("POST", "stats/reset");
  // A second client for the same mailbox shares the gate.
  auto second = make_client(token_source(*env_->tokens, env_->account_key));
  GraphRemoteMailbox other(*second);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 12; ++t) {
    threads.emplace_back([&, t] {
      GraphRemoteMailbox& mailbox = t % 2 == 0 ? *mailbox_ : other;
      for (int i = 0; i < 3; ++i) {
        if (!mailbox.get_message(messages[static_cast<std::size_t>(i + t) % messages.size()].id).ok()) ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  const auto counters = stats();
  EXPECT_EQ(counters["graph_requests"].GetInt(), 36);
  EXPECT_EQ(counters["throttled"].GetInt(), 0);
  const int max_in_flight = counters["max_in_flight"][testing::kUser].GetInt();
  EXPECT_LE(max_in_flight, 4);
  EXPECT_GE(max_in_flight, 3);  // the queue did keep the mailbox busy
  std::printf("storm: graph_requests=%d throttled=%d max_in_flight=%d\n", counters["graph_requests"].GetInt(),
              counters["throttled"].GetInt(), max_in_flight);
}

TEST_F(GraphEmulatorTest, RetryAfterIsHonouredAnd503FaultsAreSurvived) {
  start();
  env_->control("POST", "faults",
                R"([{"route":"^GET /v1.0/me/mailFolders/inbox/messages/delta","status":429,"count":3,"retry_after":0.7},
                    {"route":"^GET /v1.0/me/messages/","status":503,"count":2},
                    {"route":"^GET /v1.0/me/mailFolders/archive/messages/delta","status":504,"count":1,"retry_after":0.2}])");
  const auto started = std::chrono::steady_clock::now();
  auto page = mailbox_->message_delta(mail::FolderId("inbox"), "");
  const auto elapsed = std::chrono::steady_clock::now() - started;
  ASSERT_TRUE(page.ok()) << page.error().message;
  EXPECT_GE(elapsed, 2100ms);  // three Retry-After waits of 0.7 s, never shorter
  std::vector<mail::RemoteMessage> archived;
  full_round(mail::FolderId("archive"), archived);
  auto message = mailbox_->get_message(page->changed.at(0).id);
  ASSERT_TRUE(message.ok()) << message.error().message;
  const auto counters = stats();
  EXPECT_EQ(counters["faults_injected"].GetInt(), 6);
  EXPECT_GE(client_->stats().retries, 6U);
  std::printf("faults: faults_injected=%d graph_requests=%d retries=%llu wait=%lldms\n",
              counters["faults_injected"].GetInt(), counters["graph_requests"].GetInt(),
              static_cast<unsigned long long>(client_->stats().retries),
              static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count()));

  // A 504 to a POST is not repeated: the copy may exist already, and a second one would be a
  // duplicate (for sendMail, a second delivery). The caller gets the error and decides.
  env_->control("POST", "stats/reset");
  env_->control("POST", "faults", R"({"route":"^POST /v1.0/me/messages/.*/copy","status":504,"count":2})");
  EXPECT_FALSE(mailbox_->copy_message(page->changed.at(0).id, mail::FolderId("archive")).ok());
  EXPECT_EQ(stats()["faults_injected"].GetInt(), 1);
  env_->control("DELETE", "faults");

  // Throttling that outlasts every attempt ends as `unavailable`, not a hang or a crash.
  env_->control("POST", "faults", R"({"route":"^GET /v1.0/me/messages/","status":503,"count":50})");
  EXPECT_EQ(mailbox_->get_message(page->changed.at(0).id).code(), mail::ErrorCode::unavailable);
  env_->control("DELETE", "faults");
}

TEST_F(GraphEmulatorTest, AHungGraphEndsAtTheCallDeadlineNotAfterEveryAttempt) {
  start();
  GraphClientOptions options;
  options.graph_url = env_->emulator->url();
  options.mailbox_key = env_->account_key;
  options.backoff_initial = 100ms;
  options.call_deadline = 2500ms;  // request_timeout stays 60 s: the deadline must cut it
  auto created = GraphClient::create(*env_->http, token_source(*env_->tokens, env_->account_key), options);
  ASSERT_TRUE(created.ok()) << created.error().message;
  env_->control("POST", "faults", R"({"route":"^GET /v1.0/me/mailFolders/inbox$","kind":"hang","hold":30,"count":20})");
  const auto started = std::chrono::steady_clock::now();
  CallFailure why = CallFailure::none;
  auto answer = (*created)->send({"GET", "/me/mailFolders/inbox", "", "", {}}, &why);
  const auto elapsed = std::chrono::steady_clock::now() - started;
  EXPECT_FALSE(answer.ok());
  EXPECT_EQ(why, CallFailure::unavailable);
  EXPECT_GE(elapsed, 2400ms);
  EXPECT_LT(elapsed, 5000ms);

  // Throttling whose Retry-After would pass the deadline hands the 429 back at once.
  env_->control("DELETE", "faults");
  env_->control("POST", "faults", R"({"route":"^GET /v1.0/me/mailFolders/inbox$","status":429,"retry_after":10,"count":5})");
  const auto throttled_at = std::chrono::steady_clock::now();
  auto throttled = (*created)->send({"GET", "/me/mailFolders/inbox", "", "", {}}, &why);
  ASSERT_TRUE(throttled.ok()) << throttled.error().message;
  EXPECT_EQ(throttled->status, 429);
  EXPECT_LT(std::chrono::steady_clock::now() - throttled_at, 2000ms);
  env_->control("DELETE", "faults");
  (*created)->stop();
}

TEST_F(GraphEmulatorTest, AnExpiredAccessTokenIsRefreshedOnceAndTheCallRepeated) {
  EmulatorOptions options;
  options.access_token_lifetime = 2;
  start(options);
  // A token source that keeps handing out its first token until Graph rejects it, so the 401
  // path (not the manager's proactive refresh) is what gets exercised.
  auto cached = std::make_shared<std::optional<Secret<std::string>>>();
  auto invalidations = std::make_shared<std::atomic<int>>(0);
  auth::TokenManager& manager = *env_->tokens;
  const std::string key = env_->account_key;
  TokenSource sticky;
  sticky.get = [cached, &manager, key](CallFailure*) -> Result<Secret<std::string>> {
    if (!*cached) {
      auto token = manager.access_token(key);
      if (!token.ok()) return token.error();
      *cached = *token;
    }
    return **cached;
  };
  sticky.invalidate = [cached, invalidations, &manager, key](const Secret<std::string>& rejected) {
    ++*invalidations;
    manager.invalidate(key, rejected);
    cached->reset();
  };
  auto client = make_client(sticky);
  GraphRemoteMailbox mailbox(*client);
  ASSERT_TRUE(mailbox.list_folders().ok());
  const int token_requests_before = stats()["token_requests"].GetInt();
  std::this_thread::sleep_for(2200ms);  // the token has expired at the emulator
  auto folders = mailbox.list_folders();
  ASSERT_TRUE(folders.ok()) << folders.error().message;
  EXPECT_GE(invalidations->load(), 1);
  EXPECT_EQ(client->stats().token_refreshes, static_cast<std::uint64_t>(invalidations->load()));
  EXPECT_GE(stats()["token_requests"].GetInt(), token_requests_before + 1);

  // With the TokenManager itself, a sequence that spans several token lifetimes never fails.
  const auto until = std::chrono::steady_clock::now() + 5s;
  int calls = 0;
  while (std::chrono::steady_clock::now() < until) {
    auto page = mailbox_->message_delta(mail::FolderId("inbox"), "");
    ASSERT_TRUE(page.ok()) << page.error().message;
    ++calls;
    std::this_thread::sleep_for(200ms);
  }
  EXPECT_GT(calls, 10);
  std::printf("token expiry: token_requests=%d 401-refreshes=%d\n", stats()["token_requests"].GetInt(),
              invalidations->load());
}

TEST_F(GraphEmulatorTest, BatchRetriesThrottledItemsAndMatchesAnswersById) {
  start();
  auto folders = mailbox_->list_folders();
  ASSERT_TRUE(folders.ok());
  std::vector<BatchItem> items;
  for (int round = 0; round < 3; ++round) {
    for (const auto& folder : *folders) items.push_back({"GET", "/me/mailFolders/" + encode_id(folder.id.value()), ""});
  }
  ASSERT_GT(items.size(), 20U);  // more than one batch
  env_->control("POST", "faults", R"({"route":"^GET /v1.0/me/mailFolders/","status":429,"count":4,"retry_after":0.3})");
  env_->control("POST", "stats/reset");
  auto answers = client_->batch(items);
  ASSERT_EQ(answers.size(), items.size());
  for (std::size_t i = 0; i < answers.size(); ++i) {
    ASSERT_TRUE(answers[i].ok()) << answers[i].error().message;
    ASSERT_EQ(answers[i]->status, 200) << answers[i]->body;
    const auto folder = parse_folder(answers[i]->body);
    ASSERT_TRUE(folder.ok());
    EXPECT_EQ(folder->id, (*folders)[i % folders->size()].id);
  }
  const auto counters = stats();
  EXPECT_EQ(counters["faults_injected"].GetInt(), 4);
  EXPECT_LE(counters["by_route"]["POST /$batch"].GetInt(), 4);
  std::printf("batch: items=%zu batch_items=%d graph_requests=%d\n", items.size(), counters["batch_items"].GetInt(),
              counters["graph_requests"].GetInt());
}

TEST_F(GraphEmulatorTest, CreatesMessagesAsNonDraftsOrDraftsAndManagesFolders) {
  start();
  mail::CreateMessageOptions options;
  options.flags.set(mail::SystemFlag::seen).set(mail::SystemFlag::answered).add_keyword("Project_X");
  options.received = std::chrono::sys_days(std::chrono::year(2025) / 3 / 4) + 5h;
  auto created = mailbox_->create_message(mail::FolderId("archive"), testing::sample_message(30, "Appended"), options);
  ASSERT_TRUE(created.ok()) << created.error().message;
  EXPECT_FALSE(created->flags.has(mail::SystemFlag::draft));
  EXPECT_TRUE(created->flags.has(mail::SystemFlag::seen));
  EXPECT_TRUE(created->flags.has(mail::SystemFlag::answered));
  EXPECT_TRUE(created->flags.has_keyword("Project_X"));
  EXPECT_EQ(created->received, *options.received);
  EXPECT_EQ(created->envelope.subject, "Appended");
  EXPECT_EQ(created->envelope.message_id, "<m30@example.com>");
  // The intermediate draft is gone.
  std::vector<mail::RemoteMessage> drafts;
  full_round(mail::FolderId("drafts"), drafts);
  EXPECT_TRUE(drafts.empty());

  mail::CreateMessageOptions draft_options;
  draft_options.flags.set(mail::SystemFlag::draft);
  auto draft = mailbox_->create_message(mail::FolderId("drafts"), testing::sample_message(31, "Half written"),
                                        draft_options);
  ASSERT_TRUE(draft.ok()) << draft.error().message;
  EXPECT_TRUE(draft->flags.has(mail::SystemFlag::draft));
  EXPECT_FALSE(draft->flags.has(mail::SystemFlag::seen));

  EXPECT_EQ(mailbox_->create_message(mail::FolderId("inbox"), "no headers at all", {}).code(), mail::ErrorCode::invalid);

  auto folder = mailbox_->create_folder(mail::FolderId(), "Receipts");
  ASSERT_TRUE(folder.ok()) << folder.error().message;
  EXPECT_EQ(mailbox_->create_folder(mail::FolderId(), "receipts").code(), mail::ErrorCode::already_exists);
  auto child = mailbox_->create_folder(folder->id, "2026");
  ASSERT_TRUE(child.ok());
  EXPECT_EQ(child->parent_id, folder->id);
  auto renamed = mailbox_->rename_folder(folder->id, "Invoices");
  ASSERT_TRUE(renamed.ok());
  EXPECT_EQ(renamed->display_name, "Invoices");
  auto moved = mailbox_->move_folder(child->id, mail::FolderId());
  ASSERT_TRUE(moved.ok()) << moved.error().message;
  EXPECT_EQ(moved->id, child->id);
  EXPECT_EQ(moved->parent_id, folder->parent_id);
  EXPECT_TRUE(mailbox_->delete_folder(folder->id).ok());
  EXPECT_EQ(mailbox_->delete_folder(mail::FolderId("inbox")).code(), mail::ErrorCode::no_permission);
  const auto missing = mailbox_->rename_folder(mail::FolderId("AQMkADnonexistent"), "x").code();
  EXPECT_TRUE(missing == mail::ErrorCode::invalid || missing == mail::ErrorCode::not_found) << mail::to_string(missing);
}

TEST_F(GraphEmulatorTest, DeleteStagingDraftsRemovesOnlyDraftsOfThatMessageIdInTheWindow) {
  start();
  mail::CreateMessageOptions draft_options;
  draft_options.flags.set(mail::SystemFlag::draft);
  // Stand-ins for staging drafts: MIME-created drafts in Drafts, as Graph's recipe makes them.
  ASSERT_TRUE(mailbox_->create_message(mail::FolderId("drafts"), testing::sample_message(40, "Staged"), draft_options).ok());
  ASSERT_TRUE(mailbox_->create_message(mail::FolderId("drafts"), testing::sample_message(41, "Other"), draft_options).ok());
  // The non-draft copy of the same message stored in Drafts itself must stay.
  auto kept = mailbox_->create_message(mail::FolderId("drafts"), testing::sample_message(40, "Staged"), {});
  ASSERT_TRUE(kept.ok()) << kept.error().message;
  const auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());

  auto too_early = mailbox_->delete_staging_drafts("<m40@example.com>", now - 2h, now - 1h);
  ASSERT_TRUE(too_early.ok()) << too_early.error().message;
  EXPECT_EQ(*too_early, 0u);
  auto deleted = mailbox_->delete_staging_drafts("<m40@example.com>", now - 2min, now + 2min);
  ASSERT_TRUE(deleted.ok()) << deleted.error().message;
  EXPECT_EQ(*deleted, 1u);

  std::vector<mail::RemoteMessage> drafts;
  full_round(mail::FolderId("drafts"), drafts);
  ASSERT_EQ(drafts.size(), 2u);
  for (const auto& message : drafts) {
    EXPECT_FALSE(message.envelope.message_id == "<m40@example.com>" && message.flags.has(mail::SystemFlag::draft));
  }
  EXPECT_EQ(mailbox_->delete_staging_drafts("", now - 2min, now + 2min).code(), mail::ErrorCode::invalid);
}

TEST_F(GraphEmulatorTest, LinksToAnotherOriginAreRefusedWithoutSendingTheToken) {
  start();
  EXPECT_EQ(mailbox_->message_delta(mail::FolderId("inbox"), "https://evil.example/v1.0/me/messages/delta").code(),
            mail::ErrorCode::invalid);
  GraphClientOptions options;
  options.graph_url = "graph.microsoft.com";
  EXPECT_FALSE(GraphClient::create(*env_->http, token_source(*env_->tokens, env_->account_key), options).ok());
}

}  // namespace
}  // namespace mailtrixy::graph
