// Messages (graph-facts B2-B8, B11, B12): list with $select/$top/$skip/$filter/$orderby/
// $expand/$search, get, $value, per-folder delta, PATCH, move, copy, DELETE, permanentDelete.

#include <algorithm>
#include <charconv>
#include <mutex>
#include <shared_mutex>

#include "graph_mail_common.hpp"
#include "mailtrixy/crypto/encoding.hpp"
#include "mailtrixy/crypto/hash.hpp"

namespace mailtrixy::emulator::graph_mail {
namespace {

using mail::Folder;
using mail::Message;

constexpr int kDefaultPageSize = 10;
constexpr int kMaxPageSize = 1000;
constexpr std::size_t kMaxSearchResults = 1000;

std::string select_suffix(const odata::Selection& selection) {
  if (!selection.explicit_list) return {};
  std::string out = "(";
  for (std::size_t i = 0; i < selection.properties.size(); ++i) {
    if (i > 0) out += ',';
    out += selection.properties[i];
  }
  return out + ")";
}

struct MessageQuery {
  odata::Selection selection;
  odata::Expansion expansion;
  odata::Filter filter;
  bool has_filter = false;
  std::vector<odata::OrderKey> order;
  std::vector<odata::SearchTerm> search;
  int top = kDefaultPageSize;
  long long skip = 0;
};

bool parse_message_query(const Context& context, MessageQuery& query, odata::QueryError& error,
                         bool listing) {
  const odata::QueryString& q = context.query;
  if (const auto select = q.get("$select")) {
    if (!odata::parse_select(*select, odata::EntityType::message, query.selection, error)) return false;
  }
  if (const auto expand = q.get("$expand")) {
    if (!odata::parse_expand(*expand, odata::EntityType::message, query.expansion, error)) return false;
  }
  if (!listing) return true;
  if (const auto filter = q.get("$filter")) {
    if (!odata::parse_filter(*filter, odata::EntityType::message, query.filter, error)) return false;
    query.has_filter = true;
  }
  if (const auto order = q.get("$orderby")) {
    if (!odata::parse_orderby(*order, odata::EntityType::message, query.order, error)) return false;
  }
  if (const auto top = q.get("$top")) {
    if (!odata::parse_top(*top, query.top, error)) return false;
  }
  if (const auto skip = q.get("$skip")) {
    if (!odata::parse_skip(*skip, query.skip, error)) return false;
  }
  if (const auto search = q.get("$search")) {
    if (!query.order.empty()) {
      error = {400, "SearchWithOrderBy", "The query parameter '$orderBy' is not supported with '$search'."};
      return false;
    }
    if (query.has_filter) {
      error = {400, "SearchWithFilter", "The query parameter '$filter' is not supported with '$search'."};
      return false;
    }
    if (!odata::parse_search(*search, query.search, error)) return false;
  }
  return odata::check_orderby_against_filter(query.order, query.has_filter ? &query.filter : nullptr, error);
}

bool contains_lower(std::string_view haystack, std::string_view needle_lower) {
  std::string lowered(haystack);
  for (char& c : lowered) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lowered.find(needle_lower) != std::string::npos;
}

bool address_matches(const std::vector<mime::Address>& list, std::string_view needle) {
  return std::any_of(list.begin(), list.end(), [&](const mime::Address& a) {
    return contains_lower(a.address, needle) || contains_lower(a.name, needle);
  });
}

bool matches_search(const Message& message, const std::vector<odata::SearchTerm>& terms) {
  std::optional<std::string> body;
  const auto body_text = [&]() -> const std::string& {
    if (!body) {
      const mime::Content content =
          mime::extract_content(message.mime ? *message.mime : std::string(), false);
      body = content.text ? *content.text : content.html ? mime::html_to_text(*content.html) : std::string();
    }
    return *body;
  };
  const auto from = [&] {
    return message.from ? std::vector<mime::Address>{*message.from} : std::vector<mime::Address>{};
  };
  for (const auto& term : terms) {
    bool hit = false;
    if (term.field.empty()) {
      hit = contains_lower(message.subject, term.text) || address_matches(from(), term.text) ||
            contains_lower(body_text(), term.text);
    } else if (term.field == "subject") {
      hit = contains_lower(message.subject, term.text);
    } else if (term.field == "from") {
      hit = address_matches(from(), term.text);
    } else if (term.field == "to") {
      hit = address_matches(message.to, term.text);
    } else if (term.field == "cc") {
      hit = address_matches(message.cc, term.text);
    } else if (term.field == "bcc") {
      hit = address_matches(message.bcc, term.text);
    } else if (term.field == "body") {
      hit = contains_lower(body_text(), term.text);
    } else {  // participants, recipients
      hit = address_matches(message.to, term.text) || address_matches(message.cc, term.text) ||
            address_matches(message.bcc, term.text) ||
            (term.field == "participants" && address_matches(from(), term.text));
    }
    if (!hit) return false;
  }
  return true;
}

std::string collection_context(const Context& context, const Route& route,
                               const odata::Selection& selection) {
  std::string url = context.metadata_base();
  if (route.folder) url += "/mailFolders('" + route.folder_written + "')";
  return url + "/messages" + select_suffix(selection);
}

std::string entity_context(const Context& context, const odata::Selection* selection) {
  return context.metadata_base() + "/messages" + (selection ? select_suffix(*selection) : "") + "/$entity";
}

net::HttpResponse render_entity(const Context& context, const Message& message, int status,
                                const odata::Selection* selection, const odata::Expansion* expansion) {
  rapidjson::StringBuffer buffer;
  JsonWriter writer(buffer);
  const std::string context_url = entity_context(context, selection);
  MessageView view;
  view.selection = selection;
  view.expansion = expansion;
  view.immutable_ids = context.call.immutable_ids;
  view.body = context.body_preference;
  view.context_url = context_url;
  write_message(writer, context, message, view);
  net::HttpResponse response = graph_json(context.call, status, buffer.GetString());
  add_preference_applied(context, response);
  return response;
}

net::HttpResponse list_messages(Context& context, const Route& route, const Folder* folder) {
  MessageQuery query;
  odata::QueryError error;
  if (!parse_message_query(context, query, error, true)) return query_error(context, error);
  const bool immutable = context.call.immutable_ids;

  // The candidates, oldest first.
  std::vector<const Message*> all;
  const std::vector<Message*>* source = nullptr;
  if (folder) {
    source = &folder->messages;
  } else {
    for (Folder* f : context.state.all_folders()) {
      if (f->in_ipm_subtree) all.insert(all.end(), f->messages.begin(), f->messages.end());
    }
    std::sort(all.begin(), all.end(), [](const Message* a, const Message* b) {
      return a->received != b->received ? a->received < b->received
                                        : a->immutable_serial < b->immutable_serial;
    });
  }
  const auto candidate_count = source ? source->size() : all.size();
  const auto candidate = [&](std::size_t i) -> const Message* { return source ? (*source)[i] : all[i]; };

  // Graph's default order is receivedDateTime descending; the index is already in that order.
  const bool default_order =
      query.order.empty() || (query.order.size() == 1 && query.order[0].path == "receivedDateTime");
  const bool ascending = !query.order.empty() && !query.order[0].descending && default_order;
  std::vector<const Message*> matched;
  std::size_t total = 0;
  const bool simple = !query.has_filter && query.search.empty() && default_order;
  if (simple) {
    total = candidate_count;
  } else {
    for (std::size_t k = 0; k < candidate_count; ++k) {
      const std::size_t i = ascending ? k : candidate_count - 1 - k;
      const Message* message = candidate(i);
      if (query.has_filter &&
          !odata::evaluate(query.filter, MessageAccess(context.state, *message, immutable)))
        continue;
      if (!query.search.empty() && !matches_search(*message, query.search)) continue;
      matched.push_back(message);
    }
    if (!query.search.empty()) {
      // Search results come sorted by sent date, newest first, at most 1000 of them.
      std::stable_sort(matched.begin(), matched.end(),
                       [](const Message* a, const Message* b) { return a->sent > b->sent; });
      if (matched.size() > kMaxSearchResults) matched.resize(kMaxSearchResults);
    } else if (!default_order) {
      std::stable_sort(matched.begin(), matched.end(), [&](const Message* a, const Message* b) {
        return odata::compare_for_order(query.order, MessageAccess(context.state, *a, immutable),
                                        MessageAccess(context.state, *b, immutable)) < 0;
      });
    }
    total = matched.size();
  }
  const auto at = [&](std::size_t position) -> const Message* {
    if (!simple) return matched[position];
    return candidate(ascending ? position : candidate_count - 1 - position);
  };

  rapidjson::StringBuffer buffer;
  JsonWriter writer(buffer);
  writer.StartObject();
  write_key(writer, "@odata.context");
  write_string(writer, collection_context(context, route, query.selection));
  write_key(writer, "value");
  writer.StartArray();
  MessageView view;
  view.selection = &query.selection;
  view.expansion = &query.expansion;
  view.immutable_ids = immutable;
  view.body = context.body_preference;
  const auto first = static_cast<std::size_t>(std::min<long long>(query.skip, static_cast<long long>(total)));
  const std::size_t end = std::min(total, first + static_cast<std::size_t>(query.top));
  for (std::size_t position = first; position < end; ++position)
    write_message(writer, context, *at(position), view);
  writer.EndArray();
  if (end < total) {
    write_key(writer, "@odata.nextLink");
    write_string(
        writer, context.api_base() + std::string(context.call.resource) + "?" +
                    rebuild_query(context.query, {"$skip", "$top"},
                                  "%24top=" + std::to_string(query.top) + "&%24skip=" + std::to_string(end)));
  }
  writer.EndObject();
  net::HttpResponse response = graph_json(context.call, 200, buffer.GetString());
  add_preference_applied(context, response);
  return response;
}

// --- PATCH

std::optional<net::HttpResponse> check_extended_value(const Context& context, const std::string& id,
                                                      const std::string& value) {
  const std::string_view type = mail::extended_property_type(id);
  bool ok = true;
  if (type == "Integer" || type == "Long" || type == "Short") {
    long long number = 0;
    const auto result = std::from_chars(value.data(), value.data() + value.size(), number);
    ok = !value.empty() && result.ec == std::errc{} && result.ptr == value.data() + value.size();
  } else if (type == "Boolean") {
    ok = mime::iequals(value, "true") || mime::iequals(value, "false");
  } else if (type == "SystemTime") {
    ok = odata::parse_iso_datetime(value).has_value();
  }
  if (ok) return std::nullopt;
  return graph_error(context.call, 400, "ErrorInvalidExtendedPropertyValue",
                     "The value '" + value + "' is not a valid " + std::string(type) +
                         " for extended property '" + id + "'.");
}

std::optional<net::HttpResponse> read_date_time_zone(const Context& context, const rapidjson::Value& value,
                                                     std::optional<mail::DateTimeTimeZone>& out) {
  if (value.IsNull()) {
    out.reset();
    return std::nullopt;
  }
  const rapidjson::Value* date_time = member(value, "dateTime");
  if (!date_time || !date_time->IsString()) {
    return bad_request(context,
                       "A dateTimeTimeZone needs a dateTime string, e.g. {\"dateTime\": "
                       "\"2024-05-01T10:00:00\", \"timeZone\": \"UTC\"}.");
  }
  mail::DateTimeTimeZone result;
  result.date_time = json_text(*date_time);
  const rapidjson::Value* zone = member(value, "timeZone");
  result.time_zone = zone && zone->IsString() ? json_text(*zone) : "UTC";
  out = std::move(result);
  return std::nullopt;
}

net::HttpResponse patch_message(Context& context, Message& message) {
  rapidjson::Document body;
  if (auto failure = parse_json_object(context, body)) return std::move(*failure);

  // Validate everything first, so a bad property leaves the message untouched.
  std::optional<bool> is_read;
  std::optional<std::vector<std::string>> categories;
  std::optional<mail::FollowupFlag> flag;
  std::optional<mail::Importance> importance;
  std::optional<bool> focused;
  std::optional<bool> read_receipt;
  std::optional<bool> delivery_receipt;
  std::vector<mail::ExtendedProperty> extended;
  bool draft_change = false;
  std::optional<std::string> subject;
  std::optional<std::pair<bool, std::string>> new_body;
  std::optional<std::vector<mime::Address>> to, cc, bcc, reply_to;
  std::optional<std::optional<mime::Address>> from, sender;
  std::optional<std::string> internet_message_id;

  for (auto it = body.MemberBegin(); it != body.MemberEnd(); ++it) {
    const std::string key(it->name.GetString(), it->name.GetStringLength());
    const rapidjson::Value& value = it->value;
    const auto type_error = [&](std::string_view expected) {
      return bad_request(context, "The property '" + key + "' must be " + std::string(expected) + ".");
    };
    if (mime::iequals(key, "isRead")) {
      if (!value.IsBool()) return type_error("true or false");
      is_read = value.GetBool();
    } else if (mime::iequals(key, "categories")) {
      if (!value.IsArray()) return type_error("an array of strings");
      std::vector<std::string> list;
      for (const auto& item : value.GetArray()) {
        if (!item.IsString()) return type_error("an array of strings");
        list.push_back(json_text(item));
      }
      categories = std::move(list);
    } else if (mime::iequals(key, "flag")) {
      mail::FollowupFlag next = message.flag;
      if (auto bad = read_flag(context, value, next)) return std::move(*bad);
      flag = std::move(next);
    } else if (mime::iequals(key, "importance")) {
      if (!value.IsString()) return type_error("low, normal or high");
      importance = parse_importance(json_text(value));
      if (!importance) return enum_error(context, json_text(value), "microsoft.graph.importance");
    } else if (mime::iequals(key, "inferenceClassification")) {
      if (!value.IsString()) return type_error("focused or other");
      const std::string text = json_text(value);
      if (!mime::iequals(text, "focused") && !mime::iequals(text, "other")) {
        return enum_error(context, text, "microsoft.graph.inferenceClassificationType");
      }
      focused = mime::iequals(text, "focused");
    } else if (mime::iequals(key, "isReadReceiptRequested")) {
      if (!value.IsBool()) return type_error("true or false");
      read_receipt = value.GetBool();
    } else if (mime::iequals(key, "isDeliveryReceiptRequested")) {
      if (!value.IsBool()) return type_error("true or false");
      delivery_receipt = value.GetBool();
    } else if (mime::iequals(key, "singleValueExtendedProperties")) {
      if (auto bad = read_extended_properties(context, value, extended)) return std::move(*bad);
    } else if (mime::iequals(key, "subject") || mime::iequals(key, "body") ||
               mime::iequals(key, "toRecipients") || mime::iequals(key, "ccRecipients") ||
               mime::iequals(key, "bccRecipients") || mime::iequals(key, "replyTo") ||
               mime::iequals(key, "from") || mime::iequals(key, "sender") ||
               mime::iequals(key, "internetMessageId")) {
      draft_change = true;
      if (mime::iequals(key, "subject")) {
        if (!value.IsString() && !value.IsNull()) return type_error("a string");
        subject = value.IsNull() ? std::string() : json_text(value);
      } else if (mime::iequals(key, "body")) {
        const rapidjson::Value* content = member(value, "content");
        const rapidjson::Value* content_type = member(value, "contentType");
        if (!content || !content->IsString())
          return type_error("an itemBody, e.g. {\"contentType\": \"text\", \"content\": \"...\"}");
        bool html = false;
        if (content_type && content_type->IsString()) {
          const std::string type = json_text(*content_type);
          if (mime::iequals(type, "html"))
            html = true;
          else if (!mime::iequals(type, "text"))
            return enum_error(context, type, "microsoft.graph.bodyType");
        }
        new_body = std::make_pair(html, json_text(*content));
      } else if (mime::iequals(key, "toRecipients")) {
        to.emplace();
        if (auto bad = read_address_list(context, value, *to)) return std::move(*bad);
      } else if (mime::iequals(key, "ccRecipients")) {
        cc.emplace();
        if (auto bad = read_address_list(context, value, *cc)) return std::move(*bad);
      } else if (mime::iequals(key, "bccRecipients")) {
        bcc.emplace();
        if (auto bad = read_address_list(context, value, *bcc)) return std::move(*bad);
      } else if (mime::iequals(key, "replyTo")) {
        reply_to.emplace();
        if (auto bad = read_address_list(context, value, *reply_to)) return std::move(*bad);
      } else if (mime::iequals(key, "from")) {
        from.emplace();
        if (auto bad = read_address(context, value, *from)) return std::move(*bad);
      } else if (mime::iequals(key, "sender")) {
        sender.emplace();
        if (auto bad = read_address(context, value, *sender)) return std::move(*bad);
      } else {
        if (!value.IsString()) return type_error("a string");
        internet_message_id = json_text(value);
      }
    } else if (is_read_only_message_property(key)) {
      // Read-only (isDraft included: it cannot be changed after creation, graph-facts B9).
    } else {
      return unknown_message_property(context, key);
    }
  }
  if (draft_change && !message.is_draft) {
    return graph_error(context.call, 400, "ErrorInvalidPropertyUpdateSentMessage",
                       "Update operation is not allowed on a sent message: subject, body, recipients and "
                       "internetMessageId can only be changed while the message is a draft.");
  }

  // Apply.
  bool versioned = false;
  if (is_read) context.state.set_read(message, *is_read);
  if (categories) {
    message.categories = std::move(*categories);
    versioned = true;
  }
  if (flag) {
    message.flag = std::move(*flag);
    versioned = true;
  }
  if (importance) {
    message.importance = *importance;
    versioned = true;
  }
  if (focused) {
    message.focused = *focused;
    versioned = true;
  }
  if (read_receipt) {
    message.read_receipt_requested = *read_receipt;
    versioned = true;
  }
  if (delivery_receipt) {
    message.delivery_receipt_requested = *delivery_receipt;
    versioned = true;
  }
  for (auto& property : extended) {
    // PidTagMessageFlags is read-only once the item exists (MS-OXCMSG 2.2.1.6): ignored, as the
    // cloud store does (graph-facts B9).
    if (property.id == "Integer 0xe07") continue;
    auto existing = std::find_if(message.extended.begin(), message.extended.end(),
                                 [&](const mail::ExtendedProperty& p) { return p.id == property.id; });
    if (existing != message.extended.end()) {
      existing->value = std::move(property.value);
    } else {
      message.extended.push_back(std::move(property));
    }
    versioned = true;
  }
  if (draft_change) {
    ensure_draft_parts(message);
    if (subject) {
      message.subject = *subject;
    }
    if (new_body) {
      message.draft->html = new_body->first;
      message.draft->body = std::move(new_body->second);
    }
    if (to) message.to = std::move(*to);
    if (cc) message.cc = std::move(*cc);
    if (bcc) message.bcc = std::move(*bcc);
    if (reply_to) message.reply_to = std::move(*reply_to);
    if (from) message.from = std::move(*from);
    if (sender) message.sender = std::move(*sender);
    if (internet_message_id) message.internet_message_id = *internet_message_id;
    context.state.rebuild_draft_mime(message);
    versioned = true;
  }
  context.state.touch(message, versioned);
  return render_entity(context, message, 200, nullptr, nullptr);
}

// --- move, copy, delete

net::HttpResponse message_action(Context& context, Message& message, const Route& route) {
  if (context.call.request.method != "POST") return method_not_allowed(context);
  if (route.action == "permanentdelete") {
    context.state.erase(message);
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
  Message& result = route.action == "move" ? context.state.move(message, *destination)
                                           : context.state.copy(message, *destination);
  return render_entity(context, result, 201, nullptr, nullptr);
}

net::HttpResponse delete_message(Context& context, Message& message) {
  // DELETE is a soft delete on Exchange: the item goes to Recoverable Items\Deletions (not to
  // Deleted Items, graph-facts B8), where it cannot be deleted again.
  Folder& deletions = context.state.well_known(mail::WellKnown::recoverableitemsdeletions);
  if (message.folder == deletions.serial) {
    return graph_error(context.call, 400, "ErrorCannotDeleteObject", "Object cannot be deleted.");
  }
  context.state.move(message, deletions);
  return graph_empty(context.call, 204);
}

// --- delta

std::string message_delta_base(const Context& context, const Folder& folder) {
  return context.api_base() + "/mailFolders('" + context.state.folder_id(folder) + "')/messages/delta";
}

net::HttpResponse message_delta(Context& context, const Folder& folder) {
  DeltaToken token;
  bool resumed = false;
  const auto skip_token = context.query.get("$skiptoken");
  const auto delta_token = context.query.get("$deltatoken");
  if (skip_token || (delta_token && !delta_token->empty())) {
    const auto decoded = decode_delta_token(context.state, skip_token ? *skip_token : *delta_token);
    if (!decoded || decoded->kind != 'm' || decoded->folder != folder.serial)
      return invalid_sync_state(context);
    token = *decoded;
    if (token.generation != context.state.sync_generation()) {
      std::string fresh = message_delta_base(context, folder);
      if (!token.select.empty()) fresh += "?%24select=" + odata::percent_encode(token.select);
      return sync_state_not_found(context, token, fresh);
    }
    resumed = true;
  } else {
    token.kind = 'm';
    token.folder = folder.serial;
    token.generation = context.state.sync_generation();
    if (const auto select = context.query.get("$select")) token.select = std::string(*select);
    if (const auto expand = context.query.get("$expand")) token.expand = std::string(*expand);
    if (const auto filter = context.query.get("$filter")) token.filter = std::string(*filter);
    int top = 0;
    if (const auto top_text = context.query.get("$top")) {
      odata::QueryError error;
      if (!odata::parse_top(*top_text, top, error)) return query_error(context, error);
    }
    token.page_size = context.max_page_size.value_or(top);
    if (const auto order = context.query.get("$orderby")) {
      std::vector<odata::OrderKey> keys;
      odata::QueryError error;
      if (!odata::parse_orderby(*order, odata::EntityType::message, keys, error))
        return query_error(context, error);
      if (keys.size() != 1 || keys[0].path != "receivedDateTime" || !keys[0].descending) {
        return graph_error(context.call, 400, "ErrorInvalidUrlQuery",
                           "Delta queries only support $orderby=receivedDateTime desc.");
      }
    }
    if (context.query.get("$search")) {
      return graph_error(context.call, 400, "ErrorInvalidUrlQuery",
                         "$search is not supported with delta queries.");
    }
  }
  odata::Selection selection;
  odata::Expansion expansion;
  odata::Filter filter;
  odata::QueryError error;
  if (!token.select.empty() &&
      !odata::parse_select(token.select, odata::EntityType::message, selection, error)) {
    return query_error(context, error);
  }
  if (!token.expand.empty() &&
      !odata::parse_expand(token.expand, odata::EntityType::message, expansion, error)) {
    return query_error(context, error);
  }
  if (!token.filter.empty()) {
    if (!odata::parse_filter(token.filter, odata::EntityType::message, filter, error))
      return query_error(context, error);
    // Delta supports only receivedDateTime ge|gt {value} (graph-facts B5).
    const odata::Expr& root = *filter.root;
    if (root.kind != odata::Expr::Kind::comparison || root.operand.path != "receivedDateTime" ||
        (root.op != odata::CompareOp::ge && root.op != odata::CompareOp::gt)) {
      return graph_error(context.call, 400, "ErrorInvalidUrlQueryFilter",
                         "Delta queries only support $filter=receivedDateTime ge {value} or gt {value}.");
    }
  }
  if (!resumed || token.high == 0) {
    token.high = context.state.current_seq();
    token.cursor = token.since;
  }
  const int page_size = delta_page_size(context, token.page_size);
  const bool initial = token.since == 0;
  const bool immutable = context.call.immutable_ids;

  rapidjson::StringBuffer buffer;
  JsonWriter writer(buffer);
  writer.StartObject();
  write_key(writer, "@odata.context");
  write_string(writer, context.call.world.base_url() + "/v1.0/$metadata#Collection(message)");
  write_key(writer, "value");
  writer.StartArray();
  MessageView view;
  view.selection = &selection;
  view.expansion = &expansion;
  view.immutable_ids = immutable;
  view.body = context.body_preference;
  view.with_odata_type = true;
  int written = 0;
  std::uint64_t cursor = token.cursor;
  auto it = folder.changes.upper_bound(token.cursor);
  for (; it != folder.changes.end() && it->first <= token.high && written < page_size; ++it) {
    const mail::DeltaEntry& entry = it->second;
    cursor = it->first;
    if (entry.removed) {
      if (initial) continue;  // the first round lists what exists, without tombstones
      writer.StartObject();
      write_key(writer, "@odata.type");
      write_string(writer, "#microsoft.graph.message");
      write_key(writer, "id");
      write_string(writer, immutable ? context.state.immutable_id(entry.immutable_serial)
                                     : context.state.regular_id(entry.location_serial));
      write_key(writer, "@removed");
      writer.StartObject();
      write_key(writer, "reason");
      write_string(writer, "deleted");
      writer.EndObject();
      writer.EndObject();
      ++written;
      continue;
    }
    const Message* message = context.state.by_immutable_serial(entry.immutable_serial);
    if (!message) continue;
    if (filter.root && !odata::evaluate(filter, MessageAccess(context.state, *message, immutable))) continue;
    write_message(writer, context, *message, view);
    ++written;
  }
  writer.EndArray();
  const bool more = it != folder.changes.end() && it->first <= token.high;
  DeltaToken next = token;
  if (more) {
    next.cursor = cursor;
    write_key(writer, "@odata.nextLink");
    write_string(writer, message_delta_base(context, folder) +
                             "?$skiptoken=" + encode_delta_token(context.state, next));
  } else {
    next.since = token.high;
    next.high = 0;
    next.cursor = 0;
    write_key(writer, "@odata.deltaLink");
    write_string(writer, message_delta_base(context, folder) +
                             "?$deltatoken=" + encode_delta_token(context.state, next));
  }
  writer.EndObject();
  net::HttpResponse response = graph_json(context.call, 200, buffer.GetString());
  add_preference_applied(context, response);
  return response;
}

// --- token codec

void append_field(std::string& out, std::string_view value) {
  out += odata::percent_encode(value);
  out += '\n';
}

std::optional<std::uint64_t> read_number(std::string_view text) {
  std::uint64_t value = 0;
  const auto result = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || result.ec != std::errc{} || result.ptr != text.data() + text.size())
    return std::nullopt;
  return value;
}

}  // namespace

bool is_read_only_message_property(std::string_view key) {
  static constexpr std::array<std::string_view, 14> kReadOnly = {"id",
                                                                 "changeKey",
                                                                 "createdDateTime",
                                                                 "lastModifiedDateTime",
                                                                 "receivedDateTime",
                                                                 "sentDateTime",
                                                                 "hasAttachments",
                                                                 "parentFolderId",
                                                                 "conversationId",
                                                                 "conversationIndex",
                                                                 "webLink",
                                                                 "bodyPreview",
                                                                 "isDraft",
                                                                 "uniqueBody"};
  if (key.rfind("@odata.", 0) == 0 || key.find("@odata.") != std::string_view::npos) return true;
  return std::any_of(kReadOnly.begin(), kReadOnly.end(),
                     [&](std::string_view name) { return mime::iequals(name, key); });
}

std::optional<mail::FlagStatus> parse_flag_status(std::string_view text) {
  if (mime::iequals(text, "notFlagged")) return mail::FlagStatus::not_flagged;
  if (mime::iequals(text, "flagged")) return mail::FlagStatus::flagged;
  if (mime::iequals(text, "complete")) return mail::FlagStatus::complete;
  return std::nullopt;
}

std::optional<mail::Importance> parse_importance(std::string_view text) {
  if (mime::iequals(text, "low")) return mail::Importance::low;
  if (mime::iequals(text, "normal")) return mail::Importance::normal;
  if (mime::iequals(text, "high")) return mail::Importance::high;
  return std::nullopt;
}

std::string json_text(const rapidjson::Value& value) {
  return mime::sanitize_utf8(std::string_view(value.GetString(), value.GetStringLength()));
}

net::HttpResponse enum_error(const Context& context, std::string_view value, std::string_view type) {
  return graph_error(
      context.call, 400, "RequestBodyRead",
      "Requested value '" + std::string(value) + "' was not found in enum type '" + std::string(type) + "'.");
}

std::optional<net::HttpResponse> read_extended_properties(const Context& context,
                                                          const rapidjson::Value& array,
                                                          std::vector<mail::ExtendedProperty>& out) {
  if (!array.IsArray())
    return bad_request(context, "singleValueExtendedProperties must be an array of {id, value}.");
  for (const auto& item : array.GetArray()) {
    const rapidjson::Value* id = member(item, "id");
    const rapidjson::Value* value = member(item, "value");
    if (!id || !id->IsString() || !value || !value->IsString()) {
      return bad_request(context,
                         "Each extended property needs a string id and a string value, e.g. "
                         "{\"id\": \"Integer 0x1081\", \"value\": \"102\"}.");
    }
    const auto normalized = mail::normalize_extended_property_id(json_text(*id));
    if (!normalized) {
      return graph_error(context.call, 400, "ErrorInvalidExtendedPropertyId",
                         "The extended property id '" + json_text(*id) +
                             "' is not valid; use '{type} 0x{tag}', '{type} {guid} Name {name}' or "
                             "'{type} {guid} Id 0x{id}'.");
    }
    std::string text = json_text(*value);
    if (auto bad = check_extended_value(context, *normalized, text)) return bad;
    out.push_back({*normalized, std::move(text)});
  }
  return std::nullopt;
}

std::optional<net::HttpResponse> read_address(const Context& context, const rapidjson::Value& value,
                                              std::optional<mime::Address>& out) {
  if (value.IsNull()) {
    out.reset();
    return std::nullopt;
  }
  const rapidjson::Value* email = member(value, "emailAddress");
  const rapidjson::Value* address = email ? member(*email, "address") : nullptr;
  if (!address || !address->IsString()) {
    return graph_error(context.call, 400, "ErrorInvalidRecipients",
                       "A recipient needs {\"emailAddress\": {\"address\": \"user@example.com\"}}.");
  }
  mime::Address result;
  result.address = json_text(*address);
  if (const rapidjson::Value* name = member(*email, "name"); name && name->IsString())
    result.name = json_text(*name);
  out = std::move(result);
  return std::nullopt;
}

std::optional<net::HttpResponse> read_address_list(const Context& context, const rapidjson::Value& value,
                                                   std::vector<mime::Address>& out) {
  out.clear();
  if (value.IsNull()) return std::nullopt;
  if (!value.IsArray()) return bad_request(context, "A recipient list must be an array of recipients.");
  for (const auto& item : value.GetArray()) {
    std::optional<mime::Address> address;
    if (auto bad = read_address(context, item, address)) return bad;
    if (address) out.push_back(std::move(*address));
  }
  return std::nullopt;
}

void ensure_draft_parts(Message& message) {
  if (message.draft) return;
  const mime::Content content = mime::extract_content(message.mime ? *message.mime : std::string(), true);
  auto parts = std::make_unique<mail::DraftParts>();
  parts->html = content.html.has_value();
  parts->body = content.html ? *content.html : content.text.value_or("");
  for (const auto& attachment : content.attachments) {
    mail::FileAttachment file;
    file.serial = parts->next_attachment_serial++;
    file.name = attachment.name;
    file.content_type = attachment.content_type;
    file.content_id = attachment.content_id;
    file.is_inline = attachment.is_inline;
    file.bytes = std::make_shared<const std::string>(attachment.bytes);
    file.modified = message.last_modified;
    parts->attachments.push_back(std::move(file));
  }
  message.draft = std::move(parts);
}

net::HttpResponse unknown_message_property(const Context& context, std::string_view name) {
  return graph_error(
      context.call, 400, "RequestBodyRead",
      "The property '" + std::string(name) +
          "' does not exist on type 'microsoft.graph.message'. Make sure to only use property names "
          "that are defined by the type or mark the type as open type.");
}

std::optional<net::HttpResponse> read_flag(const Context& context, const rapidjson::Value& value,
                                           mail::FollowupFlag& flag) {
  if (!value.IsObject()) {
    return bad_request(
        context, "The property 'flag' must be a followupFlag object, e.g. {\"flagStatus\": \"flagged\"}.");
  }
  mail::FollowupFlag next = flag;
  mail::FlagDates dates = flag.dates ? *flag.dates : mail::FlagDates{};
  for (auto f = value.MemberBegin(); f != value.MemberEnd(); ++f) {
    const std::string_view name(f->name.GetString(), f->name.GetStringLength());
    if (mime::iequals(name, "flagStatus")) {
      if (!f->value.IsString())
        return bad_request(context, "flagStatus must be notFlagged, flagged or complete.");
      const auto status = parse_flag_status(json_text(f->value));
      if (!status) return enum_error(context, json_text(f->value), "microsoft.graph.followupFlagStatus");
      next.status = *status;
    } else if (mime::iequals(name, "startDateTime")) {
      if (auto bad = read_date_time_zone(context, f->value, dates.start)) return bad;
    } else if (mime::iequals(name, "dueDateTime")) {
      if (auto bad = read_date_time_zone(context, f->value, dates.due)) return bad;
    } else if (mime::iequals(name, "completedDateTime")) {
      if (auto bad = read_date_time_zone(context, f->value, dates.completed)) return bad;
    } else if (name.find("@odata.") == std::string_view::npos) {
      return graph_error(context.call, 400, "RequestBodyRead",
                         "The property '" + std::string(name) +
                             "' does not exist on type 'microsoft.graph.followupFlag'. Make sure to only use "
                             "property names that are defined by the type.");
    }
  }
  if (next.status == mail::FlagStatus::not_flagged) dates = mail::FlagDates{};
  const bool any_date = dates.start || dates.due || dates.completed;
  next.dates = any_date ? std::make_shared<const mail::FlagDates>(std::move(dates)) : nullptr;
  flag = std::move(next);
  return std::nullopt;
}

net::HttpResponse message_entity(const Context& context, const Message& message, int status) {
  return render_entity(context, message, status, nullptr, nullptr);
}

std::string encode_delta_token(const MailboxState& state, const DeltaToken& token) {
  std::string payload;
  append_field(payload, std::string(1, token.kind));
  append_field(payload, std::to_string(token.folder));
  append_field(payload, std::to_string(token.generation));
  append_field(payload, std::to_string(token.since));
  append_field(payload, std::to_string(token.high));
  append_field(payload, std::to_string(token.cursor));
  append_field(payload, std::to_string(token.page_size));
  append_field(payload, token.select);
  append_field(payload, token.expand);
  append_field(payload, token.filter);
  payload += crypto::sha256(state.tag() + payload).substr(0, 12);
  return crypto::base64url_encode(payload);
}

std::optional<DeltaToken> decode_delta_token(const MailboxState& state, std::string_view text) {
  const auto bytes = crypto::base64url_decode(text);
  if (!bytes.ok() || bytes->size() < 13) return std::nullopt;
  const std::string_view all = *bytes;
  const std::string_view payload = all.substr(0, all.size() - 12);
  if (crypto::sha256(state.tag() + std::string(payload)).substr(0, 12) != all.substr(all.size() - 12))
    return std::nullopt;
  std::vector<std::string> fields;
  std::size_t start = 0;
  while (start < payload.size()) {
    const std::size_t end = payload.find('\n', start);
    if (end == std::string_view::npos) return std::nullopt;
    fields.push_back(odata::percent_decode(payload.substr(start, end - start), false));
    start = end + 1;
  }
  if (fields.size() != 10 || fields[0].size() != 1) return std::nullopt;
  DeltaToken token;
  token.kind = fields[0][0];
  const auto folder = read_number(fields[1]);
  const auto generation = read_number(fields[2]);
  const auto since = read_number(fields[3]);
  const auto high = read_number(fields[4]);
  const auto cursor = read_number(fields[5]);
  const auto page_size = read_number(fields[6]);
  if (!folder || !generation || !since || !high || !cursor || !page_size) return std::nullopt;
  token.folder = static_cast<std::uint32_t>(*folder);
  token.generation = *generation;
  token.since = *since;
  token.high = *high;
  token.cursor = *cursor;
  token.page_size = static_cast<int>(std::min<std::uint64_t>(*page_size, kMaxPageSize));
  token.select = fields[7];
  token.expand = fields[8];
  token.filter = fields[9];
  return token;
}

net::HttpResponse sync_state_not_found(const Context& context, const DeltaToken& token,
                                       const std::string& fresh_url) {
  const std::string highest = std::to_string(context.state.sync_generation());
  net::HttpResponse response =
      graph_error(context.call, 410, "SyncStateNotFound",
                  "The sync state generation is not found; generation=" + std::to_string(token.generation) +
                      ";[highest=" + highest + "][" + highest + "].");
  response.headers.emplace_back("Location", fresh_url);
  return response;
}

net::HttpResponse invalid_sync_state(const Context& context) {
  return graph_error(context.call, 400, "ErrorInvalidSyncStateData",
                     "The sync state data is corrupt or otherwise invalid; follow the @odata.nextLink or "
                     "@odata.deltaLink exactly as returned, or start again without a token.");
}

int delta_page_size(const Context& context, int from_token) {
  int size = context.max_page_size.value_or(from_token > 0 ? from_token : kDefaultPageSize);
  return std::clamp(size, 1, kMaxPageSize);
}

net::HttpResponse handle_messages(Context& context, const Route& route) {
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

  std::optional<net::HttpResponse> failure;
  Folder* folder = nullptr;
  if (route.folder) {
    folder = find_folder(context, *route.folder, failure);
    if (!folder) return std::move(*failure);
  }
  if (route.kind == Route::Kind::messages) {
    if (!reading) return method_not_allowed(context);
    return list_messages(context, route, folder);
  }
  if (route.kind == Route::Kind::message_delta) {
    if (!reading) return method_not_allowed(context);
    return message_delta(context, *folder);
  }
  Message* message = find_message(context, *route.message, failure);
  if (!message) return std::move(*failure);
  switch (route.kind) {
    case Route::Kind::message_value: {
      if (!reading) return method_not_allowed(context);
      const std::shared_ptr<const std::string> mime = message->mime;
      shared.unlock();
      net::HttpResponse response = graph_empty(context.call, 200);
      response.headers.emplace_back("Content-Type", "text/plain");
      response.body = mime ? *mime : std::string();
      return response;
    }
    case Route::Kind::message_action: return message_action(context, *message, route);
    case Route::Kind::message: {
      if (reading) {
        MessageQuery query;
        odata::QueryError error;
        if (!parse_message_query(context, query, error, false)) return query_error(context, error);
        return render_entity(context, *message, 200, &query.selection, &query.expansion);
      }
      if (method == "PATCH") return patch_message(context, *message);
      if (method == "DELETE") return delete_message(context, *message);
      return method_not_allowed(context);
    }
    default: break;
  }
  return method_not_allowed(context);
}

}  // namespace mailtrixy::emulator::graph_mail
