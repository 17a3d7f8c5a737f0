#include <gtest/gtest.h>

#include <map>
#include <string>

#include "odata_query.hpp"

namespace mailtrixy::emulator::odata {
namespace {

// A message as a plain map of values, for the evaluator.
class FakeMessage : public FilterAccess {
 public:
  std::map<std::string, Value> scalars;
  std::map<std::string, std::vector<Element>> collections;

  Value scalar(std::string_view path) const override {
    const auto it = scalars.find(std::string(path));
    return it == scalars.end() ? Value::null() : it->second;
  }
  std::vector<Element> collection(std::string_view path) const override {
    const auto it = collections.find(std::string(path));
    return it == collections.end() ? std::vector<Element>{} : it->second;
  }
};

FakeMessage sample() {
  FakeMessage m;
  m.scalars["isRead"] = Value::of(false);
  m.scalars["subject"] = Value::of(std::string("Quarterly Report"));
  m.scalars["receivedDateTime"] = Value::of(*parse_iso_datetime("2024-03-01T10:00:00Z"));
  m.scalars["importance"] = Value::of(std::string("high"));
  m.scalars["flag/flagStatus"] = Value::of(std::string("flagged"));
  m.scalars["from/emailAddress/address"] = Value::of(std::string("Ann@Example.com"));
  m.collections["categories"] = {{{"", Value::of(std::string("Red category"))}}};
  m.collections["singleValueExtendedProperties"] = {
      {{"id", Value::of(std::string("Integer 0x1081"))}, {"value", Value::of(std::string("102"))}}};
  return m;
}

bool matches(std::string_view text, const FilterAccess& entity) {
  Filter filter;
  QueryError error;
  EXPECT_TRUE(parse_filter(text, EntityType::message, filter, error)) << text << ": " << error.message;
  return evaluate(filter, entity);
}

QueryError filter_error(std::string_view text) {
  Filter filter;
  QueryError error;
  EXPECT_FALSE(parse_filter(text, EntityType::message, filter, error)) << text;
  return error;
}

TEST(MailODataQuery, QueryStringDecodingAndLookup) {
  const QueryString q =
      parse_query_string("%24select=subject%2CisRead&$top=5&$filter=subject+eq+%27a+b%27&flag");
  EXPECT_EQ(*q.get("$select"), "subject,isRead");
  EXPECT_EQ(*q.get("$TOP"), "5");
  EXPECT_EQ(*q.get("$filter"), "subject eq 'a b'");
  EXPECT_EQ(*q.get("flag"), "");
  EXPECT_FALSE(q.get("$skip").has_value());
  EXPECT_EQ(percent_encode("a b/$'"), "a%20b%2F%24%27");
}

TEST(MailODataQuery, ComparisonsOnTheCommonProperties) {
  const FakeMessage m = sample();
  EXPECT_TRUE(matches("isRead eq false", m));
  EXPECT_FALSE(matches("isRead eq true", m));
  EXPECT_TRUE(matches("IsRead ne true", m));  // property names are case-insensitive
  EXPECT_TRUE(matches("receivedDateTime ge 2024-01-01T00:00:00Z", m));
  EXPECT_TRUE(matches("receivedDateTime lt 2024-03-01T10:00:01.5Z", m));
  EXPECT_TRUE(matches("receivedDateTime gt 2024-03-01", m));
  EXPECT_FALSE(matches("receivedDateTime gt 2024-03-01T12:00:00+01:00", m));
  EXPECT_TRUE(matches("subject eq 'quarterly report'", m));  // string comparisons ignore case
  EXPECT_TRUE(matches("importance eq 'high'", m));
  EXPECT_TRUE(matches("flag/flagStatus eq 'flagged'", m));
  EXPECT_TRUE(matches("from/emailAddress/address eq 'ann@example.com'", m));
  EXPECT_TRUE(matches("hasAttachments eq null", m));
  EXPECT_FALSE(matches("hasAttachments eq true", m));
}

TEST(MailODataQuery, LogicAndParentheses) {
  const FakeMessage m = sample();
  EXPECT_TRUE(matches("isRead eq false and importance eq 'high'", m));
  EXPECT_FALSE(matches("isRead eq true and importance eq 'high'", m));
  EXPECT_TRUE(matches("isRead eq true or importance eq 'high'", m));
  EXPECT_TRUE(matches("not (isRead eq true) and (subject eq 'x' or subject eq 'Quarterly Report')", m));
  EXPECT_TRUE(matches("not isRead", m));
  EXPECT_TRUE(matches("contains(subject,'report') and startswith(subject, 'quart')", m));
}

TEST(MailODataQuery, LambdasOverCategoriesAndExtendedProperties) {
  const FakeMessage m = sample();
  EXPECT_TRUE(matches("categories/any(c:c eq 'Red category')", m));
  EXPECT_FALSE(matches("categories/any(c:c eq 'Blue category')", m));
  EXPECT_TRUE(matches("categories/any()", m));
  // Ids are compared in Graph's normalised form, whatever form the filter uses.
  EXPECT_TRUE(matches(
      "singleValueExtendedProperties/Any(ep: ep/id eq 'Integer 0x1081' and cast(ep/value, Edm.Int32) eq 102)",
      m));
  EXPECT_TRUE(
      matches("singleValueExtendedProperties/any(ep: ep/id eq 'INTEGER 0x01081' and cast(ep/value, "
              "Edm.Int32) ge 100)",
              m));
  EXPECT_FALSE(matches(
      "singleValueExtendedProperties/Any(ep: ep/id eq 'Integer 0x1081' and cast(ep/value, Edm.Int32) eq 103)",
      m));
  EXPECT_FALSE(matches("singleValueExtendedProperties/Any(ep: ep/id eq 'Integer 0x1080')", m));
}

TEST(MailODataQuery, PropertyOrderFeedsTheInefficientFilterRule) {
  Filter filter;
  QueryError error;
  ASSERT_TRUE(parse_filter("receivedDateTime ge 2024-01-01T00:00:00Z and isRead eq false",
                           EntityType::message, filter, error));
  EXPECT_EQ(filter.property_order, (std::vector<std::string>{"receivedDateTime", "isRead"}));
  std::vector<OrderKey> keys;
  ASSERT_TRUE(parse_orderby("receivedDateTime desc", EntityType::message, keys, error));
  EXPECT_TRUE(check_orderby_against_filter(keys, &filter, error));
  ASSERT_TRUE(parse_orderby("isRead", EntityType::message, keys, error));
  EXPECT_FALSE(check_orderby_against_filter(keys, &filter, error));
  EXPECT_EQ(error.code, "InefficientFilter");
  EXPECT_EQ(error.message, "The restriction or sort order is too complex for this operation.");
  ASSERT_TRUE(parse_orderby("receivedDateTime desc,isRead asc", EntityType::message, keys, error));
  EXPECT_TRUE(check_orderby_against_filter(keys, &filter, error));
  EXPECT_TRUE(check_orderby_against_filter(keys, nullptr, error)) << "$orderby alone is fine";
}

TEST(MailODataQuery, FilterErrorsAreGraphs) {
  QueryError unknown = filter_error("isJunk eq true");
  EXPECT_EQ(unknown.code, "RequestBroker--ParseUri");
  EXPECT_EQ(unknown.message, "Could not find a property named 'isJunk' on type 'microsoft.graph.message'.");
  QueryError syntax = filter_error("isRead eq");
  EXPECT_EQ(syntax.code, "BadRequest");
  EXPECT_EQ(syntax.message.rfind("Invalid filter clause", 0), 0u);
  QueryError types = filter_error("isRead eq 'yes'");
  EXPECT_EQ(types.code, "BadRequest");
  EXPECT_NE(types.message.find("incompatible types"), std::string::npos);
  EXPECT_EQ(filter_error("receivedDateTime ge '2024-01-01'").code, "BadRequest");
  EXPECT_EQ(filter_error("body/content eq 'x'").code, "ErrorInvalidUrlQueryFilter");
  EXPECT_EQ(filter_error("toRecipients eq 'x'").code, "ErrorInvalidUrlQueryFilter");
  EXPECT_EQ(filter_error("frobnicate(subject)").code, "BadRequest");
  EXPECT_EQ(filter_error("subject eq 'unterminated").code, "BadRequest");
  EXPECT_EQ(filter_error("singleValueExtendedProperties/any(ep: ep/id eq 'Nonsense')").code,
            "ErrorInvalidExtendedPropertyId");
  EXPECT_EQ(filter_error("").code, "BadRequest");
  EXPECT_EQ(filter_error("(isRead eq true").code, "BadRequest");
  const std::string deep = std::string(100000, '(') + "isRead eq true" + std::string(100000, ')');
  EXPECT_NE(filter_error(deep).message.find("nested"), std::string::npos);
  std::string nots;
  for (int i = 0; i < 50000; ++i) nots += "not ";
  EXPECT_EQ(filter_error(nots + "isRead").code, "BadRequest");
  Filter shallow;
  QueryError error;
  EXPECT_TRUE(parse_filter(std::string(50, '(') + "isRead eq true" + std::string(50, ')'),
                           EntityType::message, shallow, error));
}

TEST(MailODataQuery, SelectValidatesAndCanonicalises) {
  Selection selection;
  QueryError error;
  ASSERT_TRUE(parse_select("Subject,isread,subject", EntityType::message, selection, error));
  EXPECT_EQ(selection.properties, (std::vector<std::string>{"subject", "isRead"}));
  EXPECT_FALSE(parse_select("subject,meetingMessageType", EntityType::message, selection, error));
  EXPECT_EQ(error.code, "RequestBroker--ParseUri");
  EXPECT_EQ(error.message,
            "Could not find a property named 'meetingMessageType' on type 'microsoft.graph.message'.");
  EXPECT_FALSE(parse_select("isRead", EntityType::mail_folder, selection, error));
  EXPECT_EQ(error.message, "Could not find a property named 'isRead' on type 'microsoft.graph.mailFolder'.");
  EXPECT_TRUE(is_default_property(EntityType::message, "body"));
  EXPECT_FALSE(is_default_property(EntityType::message, "internetMessageHeaders"));
}

TEST(MailODataQuery, TopAndSkipRanges) {
  int top = 0;
  long long skip = 0;
  QueryError error;
  EXPECT_TRUE(parse_top("1", top, error));
  EXPECT_TRUE(parse_top("1000", top, error));
  EXPECT_EQ(top, 1000);
  EXPECT_FALSE(parse_top("0", top, error));
  EXPECT_FALSE(parse_top("1001", top, error));
  EXPECT_FALSE(parse_top("ten", top, error));
  EXPECT_EQ(error.message,
            "Invalid value 'ten' for $top query option found. The $top query option requires a non-negative "
            "integer value.");
  EXPECT_TRUE(parse_skip("25651", skip, error));
  EXPECT_FALSE(parse_skip("-1", skip, error));
}

TEST(MailODataQuery, ExpandOfExtendedPropertiesNormalisesIds) {
  Expansion expansion;
  QueryError error;
  ASSERT_TRUE(
      parse_expand("singleValueExtendedProperties($filter=id eq 'Integer 0x0E07' or id eq 'LONG 0x0E08')",
                   EntityType::message, expansion, error))
      << error.message;
  EXPECT_TRUE(expansion.single_value_properties);
  EXPECT_EQ(expansion.single_value_ids, (std::vector<std::string>{"Integer 0xe07", "Long 0xe08"}));
  ASSERT_TRUE(parse_expand("singleValueExtendedProperties", EntityType::message, expansion, error));
  EXPECT_TRUE(expansion.all_single_value_properties);
  EXPECT_FALSE(parse_expand("singleValueExtendedProperties($filter=value eq '1')", EntityType::message,
                            expansion, error));
  EXPECT_FALSE(parse_expand("nonsense", EntityType::message, expansion, error));
  EXPECT_EQ(error.code, "RequestBroker--ParseUri");
}

TEST(MailODataQuery, OrderingComparesValuesWithNullsFirst) {
  FakeMessage a = sample();
  FakeMessage b = sample();
  b.scalars["subject"] = Value::of(std::string("apple"));
  std::vector<OrderKey> keys = {{"subject", false}};
  EXPECT_GT(compare_for_order(keys, a, b), 0);
  keys[0].descending = true;
  EXPECT_LT(compare_for_order(keys, a, b), 0);
  EXPECT_LT(compare_values(Value::null(), Value::of(std::string("x"))), 0);
  QueryError error;
  EXPECT_FALSE(parse_orderby("body", EntityType::message, keys, error));
  EXPECT_FALSE(parse_orderby("subject sideways", EntityType::message, keys, error));
}

TEST(MailODataQuery, SearchTerms) {
  std::vector<SearchTerm> terms;
  QueryError error;
  ASSERT_TRUE(parse_search("\"Pizza subject:Lunch\"", terms, error));
  ASSERT_EQ(terms.size(), 2u);
  EXPECT_EQ(terms[0].text, "pizza");
  EXPECT_EQ(terms[1].field, "subject");
  EXPECT_EQ(terms[1].text, "lunch");
  EXPECT_FALSE(parse_search("\"\"", terms, error));
  EXPECT_FALSE(parse_search("\"size:1..5\"", terms, error));
}

TEST(MailODataQuery, IsoDates) {
  EXPECT_EQ(format_iso_datetime(*parse_iso_datetime("2018-09-09T03:15:05Z")), "2018-09-09T03:15:05Z");
  EXPECT_EQ(format_iso_datetime(*parse_iso_datetime("2018-09-09T05:15:05.1234567+02:00")),
            "2018-09-09T03:15:05Z");
  EXPECT_FALSE(parse_iso_datetime("2018-13-01T00:00:00Z").has_value());
  EXPECT_FALSE(parse_iso_datetime("2018-09-09T03:15:05Zjunk").has_value());
}

}  // namespace
}  // namespace mailtrixy::emulator::odata
