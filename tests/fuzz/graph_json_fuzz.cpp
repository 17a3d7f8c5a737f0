// Fuzz target for everything the bridge reads from Microsoft's JSON answers: Graph messages,
// folders and delta pages (graph_remote_mailbox.hpp), Graph error bodies (GraphResponse::error,
// describe), the token endpoint's success and error answers and id_token claims
// (auth/token_endpoint.hpp) with their classification (auth/sign_in_error.hpp), and the sync
// engine's own JSON records (sync/records.hpp), which the store hands back byte for byte.
//
// Each input goes to every reader (the JSON shapes differ, coverage guides the fuzzer to each).
// Whatever the bytes: no crash, no sanitizer report, errors carry a message, and
//   - a parsed message or folder has an id; a parsed delta page has exactly one link;
//   - a record that reads back is written again and reads back to the same value, and the flags
//     read by message_flags_from_json are those message_from_json reads;
//   - a token response that parses has an access token and a positive lifetime, and no token
//     value appears in any error message.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "mailtrixy/auth/sign_in_error.hpp"
#include "mailtrixy/auth/token_endpoint.hpp"
#include "mailtrixy/crypto/encoding.hpp"
#include "mailtrixy/graph/graph_client.hpp"
#include "mailtrixy/graph/graph_remote_mailbox.hpp"
#include "mailtrixy/sync/records.hpp"

namespace {

using namespace mailtrixy;

void check(bool condition) {
  if (!condition) std::abort();
}

void graph_payloads(std::string_view json) {
  if (const auto message = graph::parse_message(json); message.ok()) {
    check(!message->id.value().empty());
  } else {
    check(!message.error().message.empty());
  }
  if (const auto folder = graph::parse_folder(json); folder.ok()) {
    check(!folder->id.value().empty());
  } else {
    check(!folder.error().message.empty());
  }
  if (const auto page = graph::parse_delta_page(json); page.ok()) {
    check(page->next_link.empty() != page->delta_link.empty());
    for (const auto& changed : page->changed) check(!changed.id.value().empty());
    for (const auto& removed : page->removed) check(!removed.value().empty());
  } else {
    check(!page.error().message.empty());
  }
  graph::GraphResponse response;
  response.status = 400 + static_cast<int>(json.size() % 200);
  response.body = std::string(json);
  (void)response.error();
  check(!response.describe().empty());
  (void)graph::parse_retry_after(json.substr(0, 32));
  (void)graph::encode_id(json.substr(0, 256));
}

void sync_records(std::string_view json) {
  if (const auto folder = sync::folder_from_json(json); folder.ok()) {
    const auto again = sync::folder_from_json(sync::to_json(*folder));
    check(again.ok());
    const sync::FolderRecord& a = *folder;
    const sync::FolderRecord& b = *again;
    check(a.id == b.id && a.parent_id == b.parent_id && a.path == b.path && a.display_name == b.display_name &&
          a.special_use == b.special_use && a.uidvalidity == b.uidvalidity && a.uidnext == b.uidnext &&
          a.delta_link == b.delta_link && a.initial_sync_complete == b.initial_sync_complete &&
          a.last_sync_ms == b.last_sync_ms && a.total == b.total && a.unread == b.unread);
  }
  const auto message = sync::message_from_json(json);
  if (message.ok()) {
    const auto again = sync::message_from_json(sync::to_json(*message));
    check(again.ok() && *again == *message);
    const auto flags = sync::message_flags_from_json(sync::to_json(*message));
    check(flags.ok() && flags->uid == message->uid && flags->flags == message->flags);
  }
  (void)sync::message_flags_from_json(json);
  const std::string id(json.substr(0, 256));
  check(sync::decode_id(sync::encode_id(id)) == id);
}

void token_answers(std::string_view json) {
  const auto received = std::chrono::system_clock::time_point(std::chrono::seconds(1'800'000'000));
  if (const auto tokens = auth::parse_token_response(json, received); tokens.ok()) {
    check(!tokens->access_token.reveal().empty());
    check(tokens->expires_in.count() > 0 && tokens->expires_at == received + tokens->expires_in);
  } else {
    check(!tokens.error().message.empty());
  }
  const auto error = auth::parse_token_error(400 + static_cast<int>(json.size() % 200), json);
  (void)error.aadsts();
  const auto classified = auth::classify_sign_in_error(error);
  check(!classified.title.empty() && !classified.explanation.empty());
  (void)auth::first_description_line(json);
  (void)auth::parse_retry_after(json.substr(0, 64), received);
  // The id_token as the token endpoint would carry it: header.payload.signature.
  (void)auth::decode_id_token_claims(json);
  (void)auth::decode_id_token_claims("eyJhbGciOiJub25lIn0." + crypto::base64url_encode(json) + ".c2ln");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view json(reinterpret_cast<const char*>(data), size);
  graph_payloads(json);
  sync_records(json);
  token_answers(json);
  return 0;
}
