#pragma once
// The emulator core's internal wiring: the request handler and the pieces it dispatches to.
//
//   make_emulator_handler     every request: /_emulator/… → control, /v1.0/… → Graph,
//                             /{tenant}/oauth2/v2.0/… and discovery → identity
//   handle_graph_request      one Graph request (also each $batch item): faults, bearer token,
//                             mailbox resolution, scopes, the 4-per-mailbox limit, latency, then
//                             the user object, $batch or handle_mail_request()
//   handle_identity_request   authorize (sign-in form), token, openid-configuration, keys
//   handle_control_request    the /_emulator/ test-control API
//   handle_batch              POST /v1.0/$batch
//
// Graph errors raised before a mailbox is known (401, 404 user, faults) use graph_error_raw,
// which needs only the request; everything else uses graph_call.hpp's helpers.

#include <string>
#include <string_view>

#include "graph_call.hpp"
#include "mailtrixy/net/http_server.hpp"
#include "tokens.hpp"
#include "world.hpp"

namespace mailtrixy::emulator {

// Microsoft's documented limit: four concurrent requests per app and mailbox (graph-facts C1).
inline constexpr int kMailboxConcurrencyLimit = 4;
inline constexpr int kMaxBatchRequests = 20;

// What the core needs besides the world: the id-token signer.
struct CoreServices {
  World& world;
  const JwtSigner& signer;
};

net::HttpHandler make_emulator_handler(CoreServices services);

// Where a Graph request came from: straight off the wire, or out of a $batch (no latency of its
// own, and its mailbox slot is released as soon as it has been computed).
enum class GraphOrigin { wire, batch };

net::HttpResponse handle_graph_request(CoreServices services, const net::HttpRequest& request, GraphOrigin origin);

net::HttpResponse handle_batch(CoreServices services, const net::HttpRequest& request, const AccessToken& token,
                               const std::string& request_id);

net::HttpResponse handle_identity_request(CoreServices services, const net::HttpRequest& request);

net::HttpResponse handle_control_request(CoreServices services, const net::HttpRequest& request);

// The request id of a Graph response, and the client-request-id it echoes (the client's own
// when it sent one).
std::string client_request_id_for(const net::HttpRequest& request, const std::string& request_id);

// Graph's error JSON and headers without a GraphCall (errors raised before the mailbox is known).
net::HttpResponse graph_error_raw(const net::HttpRequest& request, const std::string& request_id, int status,
                                  std::string_view code, std::string_view message);

// The Graph response headers every answer carries: request-id, client-request-id,
// x-ms-ags-diagnostic, OData-Version (when `odata` is set), Cache-Control.
void add_graph_headers(net::HttpHeaders& headers, const net::HttpRequest& request, const std::string& request_id,
                       bool odata);

// "GET /me/mailFolders/{id}/messages": the request's route with ids replaced, for by_route.
std::string route_pattern(std::string_view method, std::string_view graph_path);

// Plain JSON response (control API, identity JSON) with the given status.
net::HttpResponse json_response(int status, std::string body);

}  // namespace mailtrixy::emulator
