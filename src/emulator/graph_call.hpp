#pragma once
// The contract between the emulator's core and its Graph-mail routes.
//
// The core (router.cpp) has already, for every /v1.0/... request: checked the bearer token
// (401 InvalidAuthenticationToken otherwise), resolved which mailbox the path addresses
// (/me → the token's user; /users/{id|upn} → that user, 404 if unknown), applied injected
// faults and the 4-concurrent-requests-per-mailbox limit, and it adds the latency. It then calls
// handle_mail_request() for everything below the user, e.g. resource = "/mailFolders/inbox/messages".
// /me itself (the user object) and /$batch are served by the core.

#include <string>
#include <string_view>

#include "mailtrixy/net/http_server.hpp"
#include "world.hpp"

namespace mailtrixy::emulator {

struct GraphCall {
  const net::HttpRequest& request;
  World& world;
  User& user;                  // the addressed mailbox's owner
  std::string_view resource;   // path below /v1.0/me or /v1.0/users/{id}, starting with '/', not URL-decoded
  std::string_view user_segment;  // "me" or "users/{id}" as written, for @odata.context and nextLink
  bool immutable_ids = false;  // the request carried Prefer: IdType="ImmutableId"
  std::string request_id;      // echoed in headers and error bodies
};

// Serves one Graph mail request (folders, messages, $value, delta, PATCH, move/copy, delete,
// create, sendMail, send, attachments and upload sessions). Implemented in graph_mail*.cpp.
net::HttpResponse handle_mail_request(GraphCall& call);

// PUT/DELETE {base}/_upload/... : the pre-authenticated upload URLs createUploadSession hands
// out (graph-facts B10). Routed here by the core for every /_upload/ path, without a bearer
// token (the authtoken in the URL is the credential), outside the Graph counters and limits.
// Implemented in graph_mail_send.cpp.
net::HttpResponse handle_upload_request(World& world, const net::HttpRequest& request);

// Test-control actions that need the mailbox's internals: the core calls this for
// /_emulator/users/{email}/{action} routes it does not serve itself. Actions:
//   POST expire-delta   every delta token of the mailbox answers 410 SyncStateNotFound from now on
// Unknown actions answer 404 with a JSON error. Implemented in graph_mail_send.cpp.
net::HttpResponse handle_mail_control(World& world, User& user, std::string_view action,
                                      const net::HttpRequest& request);

// Graph response helpers, implemented by the core (odata.cpp) and shared by every route:
// JSON with Graph's OData content type and request-id / client-request-id / OData-Version
// headers; errors as {"error":{"code","message","innerError":{date, request-id, client-request-id}}}.
net::HttpResponse graph_json(const GraphCall& call, int status, std::string body);
net::HttpResponse graph_error(const GraphCall& call, int status, std::string_view code, std::string_view message);
net::HttpResponse graph_empty(const GraphCall& call, int status);  // 202/204: no body, no content type

}  // namespace mailtrixy::emulator
