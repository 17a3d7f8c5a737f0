// Mail folders (graph-facts B1): list (children of msgfolderroot, childFolders), hidden folders
// only with includeHiddenFolders=true, get, create (409 ErrorFolderExists on a duplicate name),
// rename, delete (into Deleted Items, for good when already there), move/copy/permanentDelete,
// and the folder-hierarchy delta.

#include <algorithm>
#include <mutex>
#include <shared_mutex>

#include "graph_mail_common.hpp"

namespace mailtrixy::emulator::graph_mail {
namespace {

using mail::Folder;

constexpr int kDefaultPageSize = 10;

std::string select_suffix(const odata::Selection& selection) {
  if (!selection.explicit_list) return {};
  std::string out = "(";
  for (std::size_t i = 0; i < selection.properties.size(); ++i) {
    if (i > 0) out += ',';
    out += selection.properties[i];
  }
  return out + ")";
}

struct FolderQuery {
  odata::Selection selection;
  odata::Filter filter;
  bool has_filter = false;
  std::vector<odata::OrderKey> order;
  int top = kDefaultPageSize;
  long long skip = 0;
  bool include_hidden = false;
};

bool parse_folder_query(const Context& context, FolderQuery& query, odata::QueryError& error) {
  const odata::QueryString& q = context.query;
  if (const auto select = q.get("$select")) {
    if (!odata::parse_select(*select, odata::EntityType::mail_folder, query.selection, error)) return false;
  }
  if (const auto filter = q.get("$filter")) {
    if (!odata::parse_filter(*filter, odata::EntityType::mail_folder, query.filter, error)) return false;
    query.has_filter = true;
  }
  if (const auto order = q.get("$orderby")) {
    if (!odata::parse_orderby(*order, odata::EntityType::mail_folder, query.order, error)) return false;
  }
  if (const auto top = q.get("$top")) {
    if (!odata::parse_top(*top, query.top, error)) return false;
  }
  if (const auto skip = q.get("$skip")) {
    if (!odata::parse_skip(*skip, query.skip, error)) return false;
  }
  if (const auto expand = q.get("$expand")) {
    odata::Expansion expansion;
    if (!odata::parse_expand(*expand, odata::EntityType::mail_folder, expansion, error)) return false;
  }
  if (const auto hidden = q.get("includeHiddenFolders"))
    query.include_hidden = mime::iequals(*hidden, "true");
  return true;
}

net::HttpResponse folder_entity(const Context& context, const Folder& folder, int status,
                                const std::string& entity_set, const odata::Selection* selection) {
  rapidjson::StringBuffer buffer;
  JsonWriter writer(buffer);
  const std::string context_url =
      context.metadata_base() + "/" + entity_set + (selection ? select_suffix(*selection) : "") + "/$entity";
  write_folder(writer, context, folder, selection, context_url);
  return graph_json(context.call, status, buffer.GetString());
}

net::HttpResponse list_folders(Context& context, const Folder& parent, const std::string& entity_set) {
  FolderQuery query;
  odata::QueryError error;
  if (!parse_folder_query(context, query, error)) return query_error(context, error);
  std::vector<const Folder*> folders;
  for (std::uint32_t serial : parent.children) {
    const Folder& child = context.state.folder(serial);
    if (child.hidden && !query.include_hidden) continue;
    if (query.has_filter && !odata::evaluate(query.filter, FolderAccess(context.state, child))) continue;
    folders.push_back(&child);
  }
  // Exchange lists a folder's children by display name.
  std::stable_sort(folders.begin(), folders.end(), [](const Folder* a, const Folder* b) {
    std::string left = a->display_name;
    std::string right = b->display_name;
    for (char& c : left) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (char& c : right) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return left < right;
  });
  if (!query.order.empty()) {
    std::stable_sort(folders.begin(), folders.end(), [&](const Folder* a, const Folder* b) {
      return odata::compare_for_order(query.order, FolderAccess(context.state, *a),
                                      FolderAccess(context.state, *b)) < 0;
    });
  }
  rapidjson::StringBuffer buffer;
  JsonWriter writer(buffer);
  writer.StartObject();
  write_key(writer, "@odata.context");
  write_string(writer, context.metadata_base() + "/" + entity_set + select_suffix(query.selection));
  write_key(writer, "value");
  writer.StartArray();
  const auto total = static_cast<long long>(folders.size());
  const long long end = std::min(total, query.skip + query.top);
  for (long long i = query.skip; i < end; ++i)
    write_folder(writer, context, *folders[static_cast<std::size_t>(i)], &query.selection);
  writer.EndArray();
  if (end < total) {
    write_key(writer, "@odata.nextLink");
    write_string(
        writer, context.api_base() + std::string(context.call.resource) + "?" +
                    rebuild_query(context.query, {"$skip", "$top"},
                                  "%24top=" + std::to_string(query.top) + "&%24skip=" + std::to_string(end)));
  }
  writer.EndObject();
  return graph_json(context.call, 200, buffer.GetString());
}

// Validates a create/rename body: only displayName (and isHidden on create) are writable.
std::optional<net::HttpResponse> read_folder_body(const Context& context, const rapidjson::Document& body,
                                                  bool creating, std::optional<std::string>& name,
                                                  bool& hidden) {
  for (auto it = body.MemberBegin(); it != body.MemberEnd(); ++it) {
    const std::string_view key(it->name.GetString(), it->name.GetStringLength());
    if (mime::iequals(key, "displayName")) {
      if (!it->value.IsString()) {
        return bad_request(context, "The displayName of a mail folder must be a string.");
      }
      name = std::string(it->value.GetString(), it->value.GetStringLength());
    } else if (mime::iequals(key, "isHidden")) {
      if (!it->value.IsBool()) return bad_request(context, "isHidden must be true or false.");
      if (!creating) {
        return graph_error(context.call, 400, "ErrorInvalidPropertyUpdate",
                           "isHidden can only be set when the folder is created.");
      }
      hidden = it->value.GetBool();
    } else if (key.rfind("@odata.", 0) == 0 || mime::iequals(key, "id") ||
               mime::iequals(key, "parentFolderId") || mime::iequals(key, "childFolderCount") ||
               mime::iequals(key, "unreadItemCount") || mime::iequals(key, "totalItemCount") ||
               mime::iequals(key, "sizeInBytes")) {
      // Read-only properties are ignored, as Graph does.
    } else {
      return graph_error(
          context.call, 400, "RequestBodyRead",
          "The property '" + std::string(key) +
              "' does not exist on type 'microsoft.graph.mailFolder'. Make sure to only use property "
              "names that are defined by the type or mark the type as open type.");
    }
  }
  if (creating && (!name || name->empty())) {
    return graph_error(context.call, 400, "ErrorInvalidRequest",
                       "A mail folder needs a non-empty displayName, e.g. {\"displayName\": \"Projects\"}.");
  }
  if (name && name->empty()) {
    return graph_error(context.call, 400, "ErrorInvalidRequest",
                       "The displayName of a mail folder cannot be empty.");
  }
  return std::nullopt;
}

net::HttpResponse folder_exists(const Context& context) {
  return graph_error(context.call, 409, "ErrorFolderExists",
                     "A folder with the specified name already exists.");
}

net::HttpResponse too_deep(const Context& context) {
  return graph_error(
      context.call, 400, "ErrorInvalidRequest",
      "Folders can be nested at most " + std::to_string(MailboxState::kMaxFolderDepth) + " levels deep.");
}

net::HttpResponse create_folder(Context& context, Folder& parent, const std::string& entity_set) {
  rapidjson::Document body;
  if (auto failure = parse_json_object(context, body)) return std::move(*failure);
  std::optional<std::string> name;
  bool hidden = false;
  if (auto failure = read_folder_body(context, body, true, name, hidden)) return std::move(*failure);
  MailboxState::FolderError error{};
  Folder* folder = context.state.create_folder(parent, mime::sanitize_utf8(*name), hidden, error);
  if (error == MailboxState::FolderError::too_deep) return too_deep(context);
  if (!folder) return folder_exists(context);
  return folder_entity(context, *folder, 201, entity_set, nullptr);
}

void copy_tree(MailboxState& state, const Folder& source, Folder& destination_parent, Folder*& copied,
               bool& name_clash) {
  MailboxState::FolderError error{};
  copied = state.create_folder(destination_parent, source.display_name, source.hidden, error);
  if (!copied) {
    name_clash = true;
    return;
  }
  for (const mail::Message* message : std::vector<mail::Message*>(source.messages))
    state.copy(*message, *copied);
  for (std::uint32_t child : std::vector<std::uint32_t>(source.children)) {
    Folder* ignored = nullptr;
    copy_tree(state, state.folder(child), *copied, ignored, name_clash);
  }
}

net::HttpResponse folder_action(Context& context, Folder& folder, const Route& route) {
  if (context.call.request.method != "POST") return method_not_allowed(context);
  if (route.action == "permanentdelete") {
    if (folder.well_known != mail::WellKnown::none) {
      return graph_error(context.call, 400, "ErrorDeleteDistinguishedFolder",
                         "Distinguished folders cannot be deleted.");
    }
    context.state.delete_folder(folder);
    return graph_empty(context.call, 204);
  }
  rapidjson::Document body;
  if (auto failure = parse_json_object(context, body)) return std::move(*failure);
  const rapidjson::Value* destination_id = member(body, "destinationId");
  if (!destination_id || !destination_id->IsString()) {
    return graph_error(context.call, 400, "ErrorInvalidParameter",
                       "The destinationId parameter is required: send {\"destinationId\": \"<folder id or "
                       "well-known name>\"}.");
  }
  std::optional<net::HttpResponse> failure;
  Folder* destination = find_folder(context, destination_id->GetString(), failure);
  if (!destination) return std::move(*failure);
  if (route.action == "move") {
    switch (context.state.move_folder(folder, *destination)) {
      case MailboxState::FolderError::distinguished:
        return graph_error(context.call, 400, "ErrorMoveDistinguishedFolder",
                           "Distinguished folders cannot be moved.");
      case MailboxState::FolderError::into_itself:
        return graph_error(context.call, 400, "ErrorMoveCopyFailed",
                           "A folder cannot be moved into itself or one of its subfolders.");
      case MailboxState::FolderError::exists: return folder_exists(context);
      case MailboxState::FolderError::too_deep: return too_deep(context);
      case MailboxState::FolderError::none: break;
    }
    return folder_entity(context, folder, 201, "mailFolders", nullptr);
  }
  if (context.state.is_within(*destination, folder)) {
    return graph_error(context.call, 400, "ErrorMoveCopyFailed",
                       "A folder cannot be copied into itself or one of its subfolders.");
  }
  if (context.state.depth(*destination) + context.state.height(folder) > MailboxState::kMaxFolderDepth) {
    return too_deep(context);
  }
  Folder* copied = nullptr;
  bool clash = false;
  copy_tree(context.state, folder, *destination, copied, clash);
  if (!copied) return folder_exists(context);
  return folder_entity(context, *copied, 201, "mailFolders", nullptr);
}

net::HttpResponse delete_folder(Context& context, Folder& folder) {
  if (folder.well_known != mail::WellKnown::none || folder.parent == 0) {
    return graph_error(context.call, 400, "ErrorDeleteDistinguishedFolder",
                       "Distinguished folders cannot be deleted.");
  }
  // Outlook moves a deleted folder into Deleted Items; inside Deleted Items it is gone for good.
  Folder& deleted_items = context.state.well_known(mail::WellKnown::deleteditems);
  if (context.state.is_within(folder, deleted_items) || !folder.in_ipm_subtree ||
      context.state.move_folder(folder, deleted_items) != MailboxState::FolderError::none) {
    context.state.delete_folder(folder);
  }
  return graph_empty(context.call, 204);
}

// --- folder delta

std::string folder_delta_url(const Context& context, const std::string& select) {
  std::string url = context.api_base() + "/mailFolders/delta";
  if (!select.empty()) url += "?%24select=" + odata::percent_encode(select);
  return url;
}

net::HttpResponse folder_delta(Context& context) {
  DeltaToken token;
  token.kind = 'f';
  bool resumed = false;
  const auto skip_token = context.query.get("$skiptoken");
  const auto delta_token = context.query.get("$deltatoken");
  if (skip_token || (delta_token && !delta_token->empty())) {
    const auto decoded = decode_delta_token(context.state, skip_token ? *skip_token : *delta_token);
    if (!decoded || decoded->kind != 'f') return invalid_sync_state(context);
    token = *decoded;
    if (token.generation != context.state.sync_generation()) {
      return sync_state_not_found(context, token, folder_delta_url(context, token.select));
    }
    resumed = true;
  } else {
    token.generation = context.state.sync_generation();
    if (const auto select = context.query.get("$select")) token.select = std::string(*select);
    token.page_size = context.max_page_size.value_or(0);
  }
  odata::Selection selection;
  if (!token.select.empty()) {
    odata::QueryError error;
    if (!odata::parse_select(token.select, odata::EntityType::mail_folder, selection, error)) {
      return query_error(context, error);
    }
  }
  if (!resumed || token.high == 0) {  // a new round
    token.high = context.state.current_seq();
    token.cursor = token.since;
  }
  const int page_size = delta_page_size(context, token.page_size);
  const bool initial = token.since == 0;
  const auto& changes = context.state.hierarchy_changes();
  const auto& removals = context.state.hierarchy_removals();
  auto change = changes.upper_bound(token.cursor);
  auto removal = initial ? removals.end() : removals.upper_bound(token.cursor);

  rapidjson::StringBuffer buffer;
  JsonWriter writer(buffer);
  writer.StartObject();
  write_key(writer, "@odata.context");
  write_string(writer, context.call.world.base_url() + "/v1.0/$metadata#Collection(mailFolder)");
  write_key(writer, "value");
  writer.StartArray();
  int written = 0;
  std::uint64_t cursor = token.cursor;
  while (written < page_size) {
    const bool change_left = change != changes.end() && change->first <= token.high;
    const bool removal_left = removal != removals.end() && removal->first <= token.high;
    if (!change_left && !removal_left) break;
    if (change_left && (!removal_left || change->first < removal->first)) {
      write_folder(writer, context, context.state.folder(change->second), &selection);
      cursor = change->first;
      ++change;
    } else {
      writer.StartObject();
      write_key(writer, "id");
      write_string(writer, context.state.folder_id(removal->second));
      write_key(writer, "@removed");
      writer.StartObject();
      write_key(writer, "reason");
      write_string(writer, "deleted");
      writer.EndObject();
      writer.EndObject();
      cursor = removal->first;
      ++removal;
    }
    ++written;
  }
  writer.EndArray();
  const bool more = (change != changes.end() && change->first <= token.high) ||
                    (removal != removals.end() && removal->first <= token.high);
  DeltaToken next = token;
  if (more) {
    next.cursor = cursor;
    write_key(writer, "@odata.nextLink");
    write_string(writer, context.api_base() +
                             "/mailFolders/delta?$skiptoken=" + encode_delta_token(context.state, next));
  } else {
    next.since = token.high;
    next.high = 0;
    next.cursor = 0;
    write_key(writer, "@odata.deltaLink");
    write_string(writer, context.api_base() +
                             "/mailFolders/delta?$deltatoken=" + encode_delta_token(context.state, next));
  }
  writer.EndObject();
  return graph_json(context.call, 200, buffer.GetString());
}

}  // namespace

net::HttpResponse handle_folders(Context& context, const Route& route) {
  const std::string& method = context.call.request.method;
  const bool reading = method == "GET" || method == "HEAD";
  std::shared_mutex& mutex = context.mailbox.mutex();
  std::unique_lock<std::shared_mutex> exclusive(mutex, std::defer_lock);
  std::shared_lock<std::shared_mutex> shared(mutex, std::defer_lock);
  if (reading) {
    shared.lock();
  } else {
    exclusive.lock();
  }

  if (route.kind == Route::Kind::folder_delta) {
    if (!reading) return method_not_allowed(context);
    return folder_delta(context);
  }
  if (route.kind == Route::Kind::folders) {
    if (reading) return list_folders(context, context.state.root(), "mailFolders");
    if (method == "POST") return create_folder(context, context.state.root(), "mailFolders");
    return method_not_allowed(context);
  }
  std::optional<net::HttpResponse> failure;
  Folder* folder = find_folder(context, *route.folder, failure);
  if (!folder) return std::move(*failure);
  const std::string child_set = "mailFolders('" + route.folder_written + "')/childFolders";
  switch (route.kind) {
    case Route::Kind::child_folders:
      if (reading) return list_folders(context, *folder, child_set);
      if (method == "POST") return create_folder(context, *folder, child_set);
      return method_not_allowed(context);
    case Route::Kind::folder_action: return folder_action(context, *folder, route);
    case Route::Kind::folder: {
      if (reading) {
        FolderQuery query;
        odata::QueryError error;
        if (!parse_folder_query(context, query, error)) return query_error(context, error);
        return folder_entity(context, *folder, 200, "mailFolders", &query.selection);
      }
      if (method == "PATCH") {
        rapidjson::Document body;
        if (auto parse_failure = parse_json_object(context, body)) return std::move(*parse_failure);
        std::optional<std::string> name;
        bool hidden = false;
        if (auto bad = read_folder_body(context, body, false, name, hidden)) return std::move(*bad);
        if (name) {
          const auto error = context.state.rename_folder(*folder, mime::sanitize_utf8(*name));
          if (error == MailboxState::FolderError::exists) return folder_exists(context);
          if (error != MailboxState::FolderError::none) {
            return graph_error(context.call, 400, "ErrorInvalidRequest", "This folder cannot be renamed.");
          }
        }
        return folder_entity(context, *folder, 200, "mailFolders", nullptr);
      }
      if (method == "DELETE") return delete_folder(context, *folder);
      return method_not_allowed(context);
    }
    default: break;
  }
  return method_not_allowed(context);
}

}  // namespace mailtrixy::emulator::graph_mail
