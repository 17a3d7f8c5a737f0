#pragma once
// OData query options as Graph's mail endpoints understand them: parsing and validating
// $select, $top, $skip, $filter, $orderby, $expand and $search, evaluating a $filter against
// an entity and comparing entities for $orderby. Independent of the mailbox: entities are seen
// through the FilterAccess interface, so the parser and evaluator are tested with plain values.
//
// Errors carry Graph's status, code and message:
//   - an unknown property anywhere            → 400 RequestBroker--ParseUri
//     "Could not find a property named 'x' on type 'microsoft.graph.message'."
//   - a $filter that does not parse           → 400 BadRequest "Invalid filter clause: ..."
//   - a known property Exchange cannot filter → 400 ErrorInvalidUrlQueryFilter
//     "The query filter contains one or more invalid nodes."
//   - $orderby on properties that are not the first ones of $filter, in the same order
//                                              → 400 InefficientFilter (graph-facts B2)
//   - $top outside 1..1000, $skip negative    → 400 BadRequest

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mailtrixy::emulator::odata {

using TimePoint = std::chrono::system_clock::time_point;

struct QueryError {
  int status = 400;
  std::string code;
  std::string message;
};

// The last one is what $expand=singleValueExtendedProperties($filter=...) filters.
enum class EntityType { message, mail_folder, single_value_extended_property };

std::string_view type_name(EntityType type);  // "microsoft.graph.message"

// ---------------------------------------------------------------------------------------------
// The query string

std::string percent_decode(std::string_view text, bool plus_is_space);
// Percent-encodes everything but unreserved characters (RFC 3986), for nextLink query values.
std::string percent_encode(std::string_view text);

struct QueryParameter {
  std::string name;   // decoded, as sent ("$select", "%24select" → "$select")
  std::string value;  // decoded
};

struct QueryString {
  std::vector<QueryParameter> parameters;
  // The value of a system query option ("$top"; matched case-insensitively, also without the
  // '$' as OData 4.01 allows) or of a custom one ("includeHiddenFolders"), or nullopt.
  std::optional<std::string_view> get(std::string_view name) const;
};

QueryString parse_query_string(std::string_view raw);

// ---------------------------------------------------------------------------------------------
// Values and properties

struct Value {
  enum class Kind { null, boolean, number, string, datetime };
  Kind kind = Kind::null;
  bool boolean = false;
  double number = 0;
  std::string text;
  TimePoint time{};

  static Value null() { return {}; }
  static Value of(bool b) {
    Value v;
    v.kind = Kind::boolean;
    v.boolean = b;
    return v;
  }
  static Value of(double n) {
    Value v;
    v.kind = Kind::number;
    v.number = n;
    return v;
  }
  static Value of(std::string s) {
    Value v;
    v.kind = Kind::string;
    v.text = std::move(s);
    return v;
  }
  static Value of(TimePoint t) {
    Value v;
    v.kind = Kind::datetime;
    v.time = t;
    return v;
  }
};

// "2024-01-01T00:00:00Z", with optional fractions and offsets, or a bare date "2024-01-01".
std::optional<TimePoint> parse_iso_datetime(std::string_view text);
// "2024-01-01T00:00:00Z", Graph's output form.
std::string format_iso_datetime(TimePoint when);

// One element of a collection seen inside a lambda: relative path → value ("" for a category
// string itself; "emailAddress/address" of a recipient; "id" and "value" of an extended property).
using Element = std::vector<std::pair<std::string, Value>>;

// How the evaluator sees an entity.
class FilterAccess {
 public:
  virtual ~FilterAccess() = default;
  // A scalar property by its canonical path ("isRead", "from/emailAddress/address").
  virtual Value scalar(std::string_view path) const = 0;
  // The elements of a collection property ("categories", "toRecipients",
  // "singleValueExtendedProperties").
  virtual std::vector<Element> collection(std::string_view path) const = 0;
};

// ---------------------------------------------------------------------------------------------
// $filter

enum class CompareOp { eq, ne, gt, ge, lt, le };

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Operand {
  std::string path;  // canonical; inside a lambda relative to the element ("" = element)
  bool in_lambda = false;
  bool cast_to_number = false;  // cast(x, Edm.Int32) and friends
};

struct Expr {
  enum class Kind { all_of, any_of_terms, negation, comparison, lambda_any, lambda_all, function, truth };
  Kind kind = Kind::truth;
  std::vector<ExprPtr> children;  // and/or operands; not: one; lambdas: the predicate
  Operand operand;                // comparison, function, truth (a boolean property)
  CompareOp op = CompareOp::eq;
  Value literal;
  std::string function;    // contains | startswith | endswith
  std::string collection;  // lambdas
};

struct Filter {
  ExprPtr root;
  // Top-level properties in the order they first appear; the InefficientFilter rule reads it.
  std::vector<std::string> property_order;
};

// Parses a $filter for `type`. False with `error` set when it is not acceptable.
bool parse_filter(std::string_view text, EntityType type, Filter& filter, QueryError& error);
bool evaluate(const Filter& filter, const FilterAccess& entity);

// ---------------------------------------------------------------------------------------------
// $orderby

struct OrderKey {
  std::string path;
  bool descending = false;
};

bool parse_orderby(std::string_view text, EntityType type, std::vector<OrderKey>& keys, QueryError& error);
// InefficientFilter: every $orderby property must be among the first $filter properties, in order.
bool check_orderby_against_filter(const std::vector<OrderKey>& keys, const Filter* filter, QueryError& error);
// -1, 0, 1 comparing two entities by `keys`.
int compare_for_order(const std::vector<OrderKey>& keys, const FilterAccess& a, const FilterAccess& b);
int compare_values(const Value& a, const Value& b);

// ---------------------------------------------------------------------------------------------
// $select

// Properties of an entity type in the order Graph writes them.
const std::vector<std::string_view>& property_names(EntityType type);
// Default properties (everything but internetMessageHeaders and uniqueBody for messages).
bool is_default_property(EntityType type, std::string_view canonical_name);

struct Selection {
  bool explicit_list = false;           // $select was given
  std::vector<std::string> properties;  // canonical names, in the order given (no duplicates)
  bool includes(std::string_view canonical_name) const;
};

bool parse_select(std::string_view text, EntityType type, Selection& selection, QueryError& error);

// ---------------------------------------------------------------------------------------------
// $expand (singleValueExtendedProperties only, which is what mail clients use)

struct Expansion {
  bool single_value_properties = false;
  bool all_single_value_properties = false;   // no $filter inside
  std::vector<std::string> single_value_ids;  // normalised
  bool multi_value_properties = false;
  bool attachments = false;
};

bool parse_expand(std::string_view text, EntityType type, Expansion& expansion, QueryError& error);

// ---------------------------------------------------------------------------------------------
// $top, $skip

bool parse_top(std::string_view text, int& top, QueryError& error);  // 1..1000
bool parse_skip(std::string_view text, long long& skip, QueryError& error);

// ---------------------------------------------------------------------------------------------
// $search: a KQL-lite term list ("word", "\"exact phrase\"", "subject:word", "from:addr").

struct SearchTerm {
  std::string field;  // "" (subject, from, body), "subject", "from", "to", "body", "participants"
  std::string text;   // lower case
};

bool parse_search(std::string_view text, std::vector<SearchTerm>& terms, QueryError& error);

}  // namespace mailtrixy::emulator::odata
