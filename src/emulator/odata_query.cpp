#include "odata_query.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <ctime>

#include "mailbox_state.hpp"

namespace mailtrixy::emulator::odata {
namespace {

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

QueryError make(int status, std::string code, std::string message) {
  return QueryError{status, std::move(code), std::move(message)};
}

QueryError unknown_property(std::string_view name, EntityType type) {
  return make(400, "RequestBroker--ParseUri",
              "Could not find a property named '" + std::string(name) + "' on type '" +
                  std::string(type_name(type)) + "'.");
}

QueryError invalid_clause(std::string_view detail) {
  return make(400, "BadRequest", "Invalid filter clause: " + std::string(detail));
}

QueryError invalid_nodes() {
  return make(400, "ErrorInvalidUrlQueryFilter", "The query filter contains one or more invalid nodes.");
}

// ---------------------------------------------------------------------------------------------
// Property tables

enum class PropType {
  boolean,
  datetime,
  string,
  enumeration,
  number,
  complex,  // body, from, flag, ...: only sub-paths are scalar
  strings,  // collection of strings (categories)
  recipients,
  extended,
  unfilterable,
};

struct Property {
  std::string_view name;
  PropType type;
  bool selectable = true;
  bool default_selected = true;
};

const std::vector<Property>& message_properties() {
  static const std::vector<Property> kProperties = {
      {"id", PropType::string},
      {"createdDateTime", PropType::datetime},
      {"lastModifiedDateTime", PropType::datetime},
      {"changeKey", PropType::string},
      {"categories", PropType::strings},
      {"receivedDateTime", PropType::datetime},
      {"sentDateTime", PropType::datetime},
      {"hasAttachments", PropType::boolean},
      {"internetMessageId", PropType::string},
      {"subject", PropType::string},
      {"bodyPreview", PropType::string},
      {"importance", PropType::enumeration},
      {"parentFolderId", PropType::string},
      {"conversationId", PropType::string},
      {"conversationIndex", PropType::unfilterable},
      {"isDeliveryReceiptRequested", PropType::boolean},
      {"isReadReceiptRequested", PropType::boolean},
      {"isRead", PropType::boolean},
      {"isDraft", PropType::boolean},
      {"webLink", PropType::unfilterable},
      {"inferenceClassification", PropType::enumeration},
      {"body", PropType::complex},
      {"sender", PropType::complex},
      {"from", PropType::complex},
      {"toRecipients", PropType::recipients},
      {"ccRecipients", PropType::recipients},
      {"bccRecipients", PropType::recipients},
      {"replyTo", PropType::recipients},
      {"flag", PropType::complex},
      {"internetMessageHeaders", PropType::unfilterable, true, false},
      {"uniqueBody", PropType::complex, true, false},
      {"singleValueExtendedProperties", PropType::extended, false, false},
      {"multiValueExtendedProperties", PropType::unfilterable, false, false},
      {"attachments", PropType::unfilterable, false, false},
      {"extensions", PropType::unfilterable, false, false},
  };
  return kProperties;
}

const std::vector<Property>& folder_properties() {
  static const std::vector<Property> kProperties = {
      {"id", PropType::string},
      {"displayName", PropType::string},
      {"parentFolderId", PropType::string},
      {"childFolderCount", PropType::number},
      {"unreadItemCount", PropType::number},
      {"totalItemCount", PropType::number},
      {"sizeInBytes", PropType::number},
      {"isHidden", PropType::boolean},
      {"childFolders", PropType::unfilterable, false, false},
      {"messages", PropType::unfilterable, false, false},
      {"singleValueExtendedProperties", PropType::extended, false, false},
      {"multiValueExtendedProperties", PropType::unfilterable, false, false},
  };
  return kProperties;
}

const std::vector<Property>& extended_properties() {
  static const std::vector<Property> kProperties = {{"id", PropType::string}, {"value", PropType::string}};
  return kProperties;
}

const std::vector<Property>& properties_of(EntityType type) {
  switch (type) {
    case EntityType::message: return message_properties();
    case EntityType::mail_folder: return folder_properties();
    case EntityType::single_value_extended_property: return extended_properties();
  }
  return message_properties();
}

const Property* find_property(EntityType type, std::string_view name) {
  for (const auto& property : properties_of(type)) {
    if (iequals(property.name, name)) return &property;
  }
  return nullptr;
}

// Scalar sub-paths of complex message properties.
struct SubPath {
  std::string_view path;
  PropType type;
};
constexpr std::array<SubPath, 8> kMessageSubPaths = {{
    {"from/emailAddress/address", PropType::string},
    {"from/emailAddress/name", PropType::string},
    {"sender/emailAddress/address", PropType::string},
    {"sender/emailAddress/name", PropType::string},
    {"flag/flagStatus", PropType::enumeration},
    {"body/contentType", PropType::unfilterable},
    {"body/content", PropType::unfilterable},
    {"uniqueBody/content", PropType::unfilterable},
}};

std::string_view type_word(PropType type) {
  switch (type) {
    case PropType::boolean: return "Edm.Boolean";
    case PropType::datetime: return "Edm.DateTimeOffset";
    case PropType::number: return "Edm.Int32";
    case PropType::enumeration: return "Edm.Enum";
    default: return "Edm.String";
  }
}

std::string_view value_type_word(const Value& value) {
  switch (value.kind) {
    case Value::Kind::boolean: return "Edm.Boolean";
    case Value::Kind::datetime: return "Edm.DateTimeOffset";
    case Value::Kind::number: return "Edm.Int32";
    case Value::Kind::null: return "<null>";
    case Value::Kind::string: return "Edm.String";
  }
  return "Edm.String";
}

// ---------------------------------------------------------------------------------------------
// Tokenizer

struct Token {
  enum class Kind { end, identifier, string, number, datetime, open, close, comma, colon };
  Kind kind = Kind::end;
  std::string text;  // identifier as written, string unescaped, number/datetime as written
  std::size_t position = 0;
};

bool tokenize(std::string_view text, std::vector<Token>& tokens, QueryError& error) {
  std::size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      ++i;
      continue;
    }
    Token token;
    token.position = i;
    if (c == '(' || c == ')' || c == ',' || c == ':') {
      token.kind = c == '('   ? Token::Kind::open
                   : c == ')' ? Token::Kind::close
                   : c == ',' ? Token::Kind::comma
                              : Token::Kind::colon;
      token.text = std::string(1, c);
      ++i;
    } else if (c == '\'') {
      token.kind = Token::Kind::string;
      ++i;
      bool closed = false;
      while (i < text.size()) {
        if (text[i] == '\'') {
          if (i + 1 < text.size() && text[i + 1] == '\'') {
            token.text += '\'';
            i += 2;
            continue;
          }
          closed = true;
          ++i;
          break;
        }
        token.text += text[i++];
      }
      if (!closed) {
        error =
            invalid_clause("Unterminated string literal at position " + std::to_string(token.position) + ".");
        return false;
      }
    } else if (std::isdigit(static_cast<unsigned char>(c)) ||
               (c == '-' && i + 1 < text.size() && std::isdigit(static_cast<unsigned char>(text[i + 1])))) {
      std::size_t j = i + 1;
      while (j < text.size() && (std::isalnum(static_cast<unsigned char>(text[j])) || text[j] == '.' ||
                                 text[j] == ':' || text[j] == '-' || text[j] == '+')) {
        ++j;
      }
      token.text = std::string(text.substr(i, j - i));
      const bool looks_like_date = token.text.size() >= 10 && token.text[4] == '-' && token.text[7] == '-';
      token.kind = looks_like_date ? Token::Kind::datetime : Token::Kind::number;
      if (!looks_like_date) {
        // A plain number stops at the first character that is not part of it.
        std::size_t k = (c == '-') ? 1 : 0;
        while (k < token.text.size() &&
               (std::isdigit(static_cast<unsigned char>(token.text[k])) || token.text[k] == '.' ||
                ((token.text[k] == 'e' || token.text[k] == 'E') && k > 0))) {
          ++k;
        }
        token.text.resize(k);
        j = i + k;
      }
      i = j;
    } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == '$' || c == '@') {
      std::size_t j = i + 1;
      while (j < text.size() && (std::isalnum(static_cast<unsigned char>(text[j])) || text[j] == '_' ||
                                 text[j] == '/' || text[j] == '.' || text[j] == '@')) {
        ++j;
      }
      token.kind = Token::Kind::identifier;
      token.text = std::string(text.substr(i, j - i));
      i = j;
    } else {
      error = invalid_clause("Syntax error at position " + std::to_string(i) + " in '" + std::string(text) +
                             "'.");
      return false;
    }
    tokens.push_back(std::move(token));
  }
  tokens.push_back(Token{Token::Kind::end, "", text.size()});
  return true;
}

std::optional<CompareOp> comparison_operator(std::string_view word) {
  if (iequals(word, "eq")) return CompareOp::eq;
  if (iequals(word, "ne")) return CompareOp::ne;
  if (iequals(word, "gt")) return CompareOp::gt;
  if (iequals(word, "ge")) return CompareOp::ge;
  if (iequals(word, "lt")) return CompareOp::lt;
  if (iequals(word, "le")) return CompareOp::le;
  return std::nullopt;
}

std::string_view operator_kind_name(CompareOp op) {
  switch (op) {
    case CompareOp::eq: return "Equal";
    case CompareOp::ne: return "NotEqual";
    case CompareOp::gt: return "GreaterThan";
    case CompareOp::ge: return "GreaterThanOrEqual";
    case CompareOp::lt: return "LessThan";
    case CompareOp::le: return "LessThanOrEqual";
  }
  return "Equal";
}

// ---------------------------------------------------------------------------------------------
// Parser

class Parser {
 public:
  Parser(std::string_view text, std::vector<Token> tokens, EntityType type, Filter& filter)
      : text_(text), tokens_(std::move(tokens)), type_(type), filter_(filter) {}

  bool parse(QueryError& error) {
    ExprPtr root = parse_or(error);
    if (!root) return false;
    if (peek().kind != Token::Kind::end) {
      error = invalid_clause("Syntax error at position " + std::to_string(peek().position) + " in '" +
                             std::string(text_) + "'.");
      return false;
    }
    filter_.root = std::move(root);
    return true;
  }

 private:
  struct Lambda {
    std::string variable;
    PropType element_type;
  };

  const Token& peek(std::size_t ahead = 0) const {
    return tokens_[std::min(position_ + ahead, tokens_.size() - 1)];
  }
  const Token& next() {
    const Token& token = peek();
    if (position_ < tokens_.size() - 1) ++position_;
    return token;
  }
  bool is_word(const Token& token, std::string_view word) const {
    return token.kind == Token::Kind::identifier && iequals(token.text, word);
  }

  QueryError syntax_error() const {
    if (peek().kind == Token::Kind::end) {
      return invalid_clause("Expression expected at position " + std::to_string(peek().position) + " in '" +
                            std::string(text_) + "'.");
    }
    return invalid_clause("Syntax error at position " + std::to_string(peek().position) + " in '" +
                          std::string(text_) + "'.");
  }

  ExprPtr parse_or(QueryError& error) {
    ExprPtr left = parse_and(error);
    if (!left) return nullptr;
    if (!is_word(peek(), "or")) return left;
    auto node = std::make_unique<Expr>();
    node->kind = Expr::Kind::any_of_terms;
    node->children.push_back(std::move(left));
    while (is_word(peek(), "or")) {
      next();
      ExprPtr right = parse_and(error);
      if (!right) return nullptr;
      node->children.push_back(std::move(right));
    }
    return node;
  }

  ExprPtr parse_and(QueryError& error) {
    ExprPtr left = parse_unary(error);
    if (!left) return nullptr;
    if (!is_word(peek(), "and")) return left;
    auto node = std::make_unique<Expr>();
    node->kind = Expr::Kind::all_of;
    node->children.push_back(std::move(left));
    while (is_word(peek(), "and")) {
      next();
      ExprPtr right = parse_unary(error);
      if (!right) return nullptr;
      node->children.push_back(std::move(right));
    }
    return node;
  }

  ExprPtr parse_unary(QueryError& error) {
    // Parentheses and "not" nest; a hostile filter must not exhaust the stack.
    if (++depth_ > kMaxNesting) {
      error = invalid_clause("The expression is nested more than " + std::to_string(kMaxNesting) +
                             " levels deep.");
      return nullptr;
    }
    struct Leave {
      int& depth;
      ~Leave() { --depth; }
    } leave{depth_};
    if (is_word(peek(), "not")) {
      next();
      ExprPtr inner = parse_unary(error);
      if (!inner) return nullptr;
      auto node = std::make_unique<Expr>();
      node->kind = Expr::Kind::negation;
      node->children.push_back(std::move(inner));
      return node;
    }
    return parse_primary(error);
  }

  ExprPtr parse_primary(QueryError& error) {
    if (peek().kind == Token::Kind::open) {
      next();
      ExprPtr inner = parse_or(error);
      if (!inner) return nullptr;
      if (peek().kind != Token::Kind::close) {
        error = syntax_error();
        return nullptr;
      }
      next();
      return inner;
    }
    if (peek().kind != Token::Kind::identifier) {
      error = syntax_error();
      return nullptr;
    }
    const Token& word = peek();
    if (peek(1).kind == Token::Kind::open) {
      const std::string name = word.text;
      const std::size_t slash = name.rfind('/');
      const std::string_view last =
          slash == std::string::npos ? std::string_view(name) : std::string_view(name).substr(slash + 1);
      if (slash != std::string::npos && (iequals(last, "any") || iequals(last, "all"))) {
        return parse_lambda(name.substr(0, slash), iequals(last, "all"), error);
      }
      if (iequals(name, "contains") || iequals(name, "startswith") || iequals(name, "endswith")) {
        return parse_string_function(error);
      }
      if (!iequals(name, "cast")) {
        error = invalid_clause("Unknown function '" + name + "' at position " +
                               std::to_string(word.position) + ".");
        return nullptr;
      }
    }
    Operand operand;
    PropType operand_type{};
    if (!parse_operand(operand, operand_type, error)) return nullptr;
    const auto op = peek().kind == Token::Kind::identifier ? comparison_operator(peek().text) : std::nullopt;
    if (!op) {
      if (operand_type == PropType::boolean && !operand.cast_to_number) {
        auto node = std::make_unique<Expr>();
        node->kind = Expr::Kind::truth;
        node->operand = std::move(operand);
        return node;
      }
      error = syntax_error();
      return nullptr;
    }
    next();
    Value literal;
    if (!parse_literal(literal, error)) return nullptr;
    if (!check_types(operand, operand_type, *op, literal, error)) return nullptr;
    auto node = std::make_unique<Expr>();
    node->kind = Expr::Kind::comparison;
    node->operand = std::move(operand);
    node->op = *op;
    node->literal = std::move(literal);
    return node;
  }

  bool check_types(const Operand& operand, PropType type, CompareOp op, Value& literal, QueryError& error) {
    if (literal.kind == Value::Kind::null) return true;
    PropType effective = operand.cast_to_number ? PropType::number : type;
    bool ok = false;
    switch (effective) {
      case PropType::boolean: ok = literal.kind == Value::Kind::boolean; break;
      case PropType::datetime: ok = literal.kind == Value::Kind::datetime; break;
      case PropType::number: ok = literal.kind == Value::Kind::number; break;
      case PropType::string:
      case PropType::enumeration: ok = literal.kind == Value::Kind::string; break;
      default: ok = false;
    }
    if (!ok) {
      error = invalid_clause("A binary operator with incompatible types was detected. Found operand types '" +
                             std::string(type_word(effective)) + "' and '" +
                             std::string(value_type_word(literal)) + "' for operator kind '" +
                             std::string(operator_kind_name(op)) + "'.");
      return false;
    }
    // Extended-property ids are compared in their normalised form.
    const bool is_extended_id =
        (lambda_ && lambda_->element_type == PropType::extended && operand.path == "id") ||
        (type_ == EntityType::single_value_extended_property && operand.path == "id");
    if (is_extended_id) {
      const auto normalized = mail::normalize_extended_property_id(literal.text);
      if (!normalized) {
        error = make(400, "ErrorInvalidExtendedPropertyId",
                     "The extended property id '" + literal.text +
                         "' is not valid; use '{type} 0x{tag}', '{type} {guid} Name {name}' or '{type} "
                         "{guid} Id 0x{id}'.");
        return false;
      }
      literal.text = *normalized;
    }
    return true;
  }

  bool parse_literal(Value& value, QueryError& error) {
    const Token& token = next();
    switch (token.kind) {
      case Token::Kind::string: value = Value::of(token.text); return true;
      case Token::Kind::number: {
        double number = 0;
        const auto result = std::from_chars(token.text.data(), token.text.data() + token.text.size(), number);
        if (result.ec != std::errc{}) break;
        value = Value::of(number);
        return true;
      }
      case Token::Kind::datetime: {
        const auto time = parse_iso_datetime(token.text);
        if (!time) {
          error = invalid_clause("The DateTimeOffset text '" + token.text +
                                 "' should be in format 'yyyy-mm-ddThh:mm:ss('.'s+)?(zzzzzz)?' and each "
                                 "field value is within valid range.");
          return false;
        }
        value = Value::of(*time);
        return true;
      }
      case Token::Kind::identifier:
        if (iequals(token.text, "true") || iequals(token.text, "false")) {
          value = Value::of(iequals(token.text, "true"));
          return true;
        }
        if (iequals(token.text, "null")) {
          value = Value::null();
          return true;
        }
        break;
      default: break;
    }
    error = invalid_clause("Syntax error at position " + std::to_string(token.position) + " in '" +
                           std::string(text_) + "'.");
    return false;
  }

  // A property path, or cast(path, Edm.Int32).
  bool parse_operand(Operand& operand, PropType& type, QueryError& error) {
    if (is_word(peek(), "cast") && peek(1).kind == Token::Kind::open) {
      next();
      next();
      if (!parse_operand(operand, type, error)) return false;
      if (peek().kind != Token::Kind::comma) {
        error = syntax_error();
        return false;
      }
      next();
      const Token target = next();
      const std::string target_type = target.text;
      if (target.kind != Token::Kind::identifier && target.kind != Token::Kind::string) {
        error = syntax_error();
        return false;
      }
      if (peek().kind != Token::Kind::close) {
        error = syntax_error();
        return false;
      }
      next();
      static constexpr std::array<std::string_view, 5> kNumeric = {"Edm.Int32", "Edm.Int64", "Edm.Int16",
                                                                   "Edm.Double", "Edm.Decimal"};
      if (std::none_of(kNumeric.begin(), kNumeric.end(),
                       [&](std::string_view t) { return iequals(t, target_type); })) {
        if (iequals(target_type, "Edm.String")) return true;
        error = invalid_nodes();
        return false;
      }
      operand.cast_to_number = true;
      return true;
    }
    const Token& token = next();
    if (token.kind != Token::Kind::identifier) {
      error = invalid_clause("Syntax error at position " + std::to_string(token.position) + " in '" +
                             std::string(text_) + "'.");
      return false;
    }
    return resolve_path(token.text, operand, type, error);
  }

  bool resolve_path(std::string_view written, Operand& operand, PropType& type, QueryError& error) {
    if (lambda_) {
      const std::string_view variable = lambda_->variable;
      if (written == variable ||
          (written.size() > variable.size() && written.substr(0, variable.size()) == variable &&
           written[variable.size()] == '/')) {
        const std::string_view rest =
            written.size() > variable.size() ? written.substr(variable.size() + 1) : "";
        operand.in_lambda = true;
        switch (lambda_->element_type) {
          case PropType::strings:
            if (!rest.empty()) break;
            operand.path = "";
            type = PropType::string;
            return true;
          case PropType::recipients:
            if (iequals(rest, "emailAddress/address"))
              operand.path = "emailAddress/address";
            else if (iequals(rest, "emailAddress/name"))
              operand.path = "emailAddress/name";
            else
              break;
            type = PropType::string;
            return true;
          case PropType::extended:
            if (iequals(rest, "id"))
              operand.path = "id";
            else if (iequals(rest, "value"))
              operand.path = "value";
            else
              break;
            type = PropType::string;
            return true;
          default: break;
        }
        error = unknown_property(rest.empty() ? written : rest, type_);
        return false;
      }
    }
    const std::size_t slash = written.find('/');
    const std::string_view head = written.substr(0, slash);
    const Property* property = find_property(type_, head);
    if (!property) {
      error = unknown_property(head, type_);
      return false;
    }
    if (slash == std::string_view::npos) {
      operand.path = std::string(property->name);
      type = property->type;
      if (type == PropType::unfilterable || type == PropType::complex || type == PropType::strings ||
          type == PropType::recipients || type == PropType::extended) {
        error = invalid_nodes();
        return false;
      }
      note_property(operand.path);
      return true;
    }
    if (type_ == EntityType::message) {
      for (const auto& sub : kMessageSubPaths) {
        if (iequals(sub.path, written)) {
          if (sub.type == PropType::unfilterable) {
            error = invalid_nodes();
            return false;
          }
          operand.path = std::string(sub.path);
          type = sub.type;
          note_property(operand.path);
          return true;
        }
      }
    }
    const std::string_view rest = written.substr(slash + 1);
    error = unknown_property(rest.substr(0, rest.find('/')), type_);
    return false;
  }

  void note_property(const std::string& path) {
    if (lambda_) return;
    if (std::find(filter_.property_order.begin(), filter_.property_order.end(), path) ==
        filter_.property_order.end()) {
      filter_.property_order.push_back(path);
    }
  }

  ExprPtr parse_lambda(const std::string& collection_written, bool all, QueryError& error) {
    const std::size_t start = peek().position;
    next();  // the identifier
    next();  // '('
    if (lambda_) {
      error = invalid_nodes();
      return nullptr;
    }
    const Property* property = find_property(type_, collection_written);
    if (!property) {
      error = unknown_property(collection_written, type_);
      return nullptr;
    }
    if (property->type != PropType::strings && property->type != PropType::recipients &&
        property->type != PropType::extended) {
      error = invalid_clause("The Any/All query expression at position " + std::to_string(start) +
                             " must be applied to a collection.");
      return nullptr;
    }
    auto node = std::make_unique<Expr>();
    node->kind = all ? Expr::Kind::lambda_all : Expr::Kind::lambda_any;
    node->collection = std::string(property->name);
    note_property(node->collection);
    if (peek().kind == Token::Kind::close) {  // any(): the collection is not empty
      next();
      if (all) {
        error = syntax_error();
        return nullptr;
      }
      return node;
    }
    if (peek().kind != Token::Kind::identifier || peek(1).kind != Token::Kind::colon) {
      error = syntax_error();
      return nullptr;
    }
    lambda_ = Lambda{next().text, property->type};
    next();  // ':'
    ExprPtr predicate = parse_or(error);
    lambda_.reset();
    if (!predicate) return nullptr;
    if (peek().kind != Token::Kind::close) {
      error = syntax_error();
      return nullptr;
    }
    next();
    node->children.push_back(std::move(predicate));
    return node;
  }

  ExprPtr parse_string_function(QueryError& error) {
    auto node = std::make_unique<Expr>();
    node->kind = Expr::Kind::function;
    std::string name = next().text;
    for (char& c : name) c = lower(c);
    node->function = name;
    next();  // '('
    PropType type{};
    if (!parse_operand(node->operand, type, error)) return nullptr;
    if (type != PropType::string && type != PropType::enumeration) {
      error = invalid_nodes();
      return nullptr;
    }
    if (peek().kind != Token::Kind::comma) {
      error = syntax_error();
      return nullptr;
    }
    next();
    if (peek().kind != Token::Kind::string) {
      error = syntax_error();
      return nullptr;
    }
    node->literal = Value::of(next().text);
    if (peek().kind != Token::Kind::close) {
      error = syntax_error();
      return nullptr;
    }
    next();
    return node;
  }

  std::string_view text_;
  std::vector<Token> tokens_;
  std::size_t position_ = 0;
  EntityType type_;
  Filter& filter_;
  std::optional<Lambda> lambda_;
  int depth_ = 0;
  static constexpr int kMaxNesting = 100;
};

// ---------------------------------------------------------------------------------------------
// Evaluation

std::string lower_string(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = lower(c);
  return out;
}

std::optional<int> compare_nullable(const Value& a, const Value& b) {
  if (a.kind == Value::Kind::null || b.kind == Value::Kind::null) {
    if (a.kind == b.kind) return 0;
    return std::nullopt;
  }
  Value left = a;
  Value right = b;
  // A string compared with a date: read the string as a date.
  if (left.kind == Value::Kind::string && right.kind == Value::Kind::datetime) {
    const auto t = parse_iso_datetime(left.text);
    if (!t) return std::nullopt;
    left = Value::of(*t);
  }
  if (right.kind == Value::Kind::string && left.kind == Value::Kind::datetime) {
    const auto t = parse_iso_datetime(right.text);
    if (!t) return std::nullopt;
    right = Value::of(*t);
  }
  if (left.kind == Value::Kind::string && right.kind == Value::Kind::number) {
    double n = 0;
    const auto r = std::from_chars(left.text.data(), left.text.data() + left.text.size(), n);
    if (r.ec != std::errc{}) return std::nullopt;
    left = Value::of(n);
  }
  if (left.kind != right.kind) return std::nullopt;
  switch (left.kind) {
    case Value::Kind::boolean: return static_cast<int>(left.boolean) - static_cast<int>(right.boolean);
    case Value::Kind::number: return left.number < right.number ? -1 : left.number > right.number ? 1 : 0;
    case Value::Kind::datetime: return left.time < right.time ? -1 : left.time > right.time ? 1 : 0;
    case Value::Kind::string: {
      const int c = lower_string(left.text).compare(lower_string(right.text));
      return c < 0 ? -1 : c > 0 ? 1 : 0;
    }
    case Value::Kind::null: return 0;
  }
  return std::nullopt;
}

bool apply(CompareOp op, std::optional<int> order) {
  if (!order) return op == CompareOp::ne;
  switch (op) {
    case CompareOp::eq: return *order == 0;
    case CompareOp::ne: return *order != 0;
    case CompareOp::gt: return *order > 0;
    case CompareOp::ge: return *order >= 0;
    case CompareOp::lt: return *order < 0;
    case CompareOp::le: return *order <= 0;
  }
  return false;
}

Value element_value(const Element& element, std::string_view path) {
  for (const auto& [key, value] : element) {
    if (key == path) return value;
  }
  return Value::null();
}

Value operand_value(const Operand& operand, const FilterAccess& entity, const Element* element) {
  Value value =
      operand.in_lambda && element ? element_value(*element, operand.path) : entity.scalar(operand.path);
  if (operand.cast_to_number && value.kind == Value::Kind::string) {
    double n = 0;
    const auto r = std::from_chars(value.text.data(), value.text.data() + value.text.size(), n);
    value = r.ec == std::errc{} ? Value::of(n) : Value::null();
  }
  return value;
}

bool eval(const Expr& expr, const FilterAccess& entity, const Element* element) {
  switch (expr.kind) {
    case Expr::Kind::all_of:
      return std::all_of(expr.children.begin(), expr.children.end(),
                         [&](const ExprPtr& child) { return eval(*child, entity, element); });
    case Expr::Kind::any_of_terms:
      return std::any_of(expr.children.begin(), expr.children.end(),
                         [&](const ExprPtr& child) { return eval(*child, entity, element); });
    case Expr::Kind::negation: return !eval(*expr.children.front(), entity, element);
    case Expr::Kind::truth: {
      const Value v = operand_value(expr.operand, entity, element);
      return v.kind == Value::Kind::boolean && v.boolean;
    }
    case Expr::Kind::comparison:
      return apply(expr.op, compare_nullable(operand_value(expr.operand, entity, element), expr.literal));
    case Expr::Kind::function: {
      const Value v = operand_value(expr.operand, entity, element);
      if (v.kind != Value::Kind::string) return false;
      const std::string haystack = lower_string(v.text);
      const std::string needle = lower_string(expr.literal.text);
      if (expr.function == "contains") return haystack.find(needle) != std::string::npos;
      if (expr.function == "startswith") return haystack.rfind(needle, 0) == 0;
      return haystack.size() >= needle.size() &&
             haystack.compare(haystack.size() - needle.size(), needle.size(), needle) == 0;
    }
    case Expr::Kind::lambda_any:
    case Expr::Kind::lambda_all: {
      const std::vector<Element> elements = entity.collection(expr.collection);
      if (expr.children.empty()) return !elements.empty();
      const auto matches = [&](const Element& e) { return eval(*expr.children.front(), entity, &e); };
      return expr.kind == Expr::Kind::lambda_any ? std::any_of(elements.begin(), elements.end(), matches)
                                                 : std::all_of(elements.begin(), elements.end(), matches);
    }
  }
  return false;
}

long long days_from_civil(long long y, unsigned m, unsigned d) {
  y -= m <= 2;
  const long long era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<long long>(doe) - 719468;
}

bool read_digits(std::string_view text, std::size_t at, std::size_t count, int& out) {
  if (at + count > text.size()) return false;
  out = 0;
  for (std::size_t i = 0; i < count; ++i) {
    const char c = text[at + i];
    if (c < '0' || c > '9') return false;
    out = out * 10 + (c - '0');
  }
  return true;
}

}  // namespace

// =============================================================================================

std::string_view type_name(EntityType type) {
  switch (type) {
    case EntityType::message: return "microsoft.graph.message";
    case EntityType::mail_folder: return "microsoft.graph.mailFolder";
    case EntityType::single_value_extended_property:
      return "microsoft.graph.singleValueLegacyExtendedProperty";
  }
  return "microsoft.graph.message";
}

std::string percent_decode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  const auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && hex(text[i + 1]) >= 0 && hex(text[i + 2]) >= 0) {
      out += static_cast<char>(hex(text[i + 1]) * 16 + hex(text[i + 2]));
      i += 2;
    } else if (text[i] == '+' && plus_is_space) {
      out += ' ';
    } else {
      out += text[i];
    }
  }
  return out;
}

std::string percent_encode(std::string_view text) {
  static constexpr std::string_view kHex = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size() * 2);
  for (char c : text) {
    const auto b = static_cast<unsigned char>(c);
    if (std::isalnum(b) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += c;
    } else {
      out += '%';
      out += kHex[b >> 4];
      out += kHex[b & 15];
    }
  }
  return out;
}

QueryString parse_query_string(std::string_view raw) {
  QueryString query;
  while (!raw.empty()) {
    const std::size_t amp = raw.find('&');
    const std::string_view pair = raw.substr(0, amp);
    raw = amp == std::string_view::npos ? std::string_view{} : raw.substr(amp + 1);
    if (pair.empty()) continue;
    const std::size_t eq = pair.find('=');
    QueryParameter parameter;
    parameter.name = percent_decode(pair.substr(0, eq), true);
    parameter.value =
        eq == std::string_view::npos ? std::string() : percent_decode(pair.substr(eq + 1), true);
    query.parameters.push_back(std::move(parameter));
  }
  return query;
}

std::optional<std::string_view> QueryString::get(std::string_view name) const {
  for (const auto& parameter : parameters) {
    if (iequals(parameter.name, name)) return std::string_view(parameter.value);
  }
  return std::nullopt;
}

std::optional<TimePoint> parse_iso_datetime(std::string_view text) {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!read_digits(text, 0, 4, year) || text.size() < 10 || text[4] != '-' ||
      !read_digits(text, 5, 2, month) || text[7] != '-' || !read_digits(text, 8, 2, day)) {
    return std::nullopt;
  }
  std::size_t i = 10;
  int offset_minutes = 0;
  if (i < text.size()) {
    if (text[i] != 'T' && text[i] != 't' && text[i] != ' ') return std::nullopt;
    if (!read_digits(text, i + 1, 2, hour) || i + 3 >= text.size() || text[i + 3] != ':' ||
        !read_digits(text, i + 4, 2, minute)) {
      return std::nullopt;
    }
    i += 6;
    if (i < text.size() && text[i] == ':') {
      if (!read_digits(text, i + 1, 2, second)) return std::nullopt;
      i += 3;
    }
    if (i < text.size() && text[i] == '.') {
      ++i;
      while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
    }
    if (i < text.size()) {
      if (text[i] == 'Z' || text[i] == 'z') {
        ++i;
      } else if (text[i] == '+' || text[i] == '-') {
        int oh = 0, om = 0;
        if (!read_digits(text, i + 1, 2, oh)) return std::nullopt;
        std::size_t j = i + 3;
        if (j < text.size() && text[j] == ':') ++j;
        if (!read_digits(text, j, 2, om)) return std::nullopt;
        offset_minutes = (oh * 60 + om) * (text[i] == '-' ? -1 : 1);
        i = j + 2;
      }
    }
    if (i != text.size()) return std::nullopt;
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60)
    return std::nullopt;
  const long long days = days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  const long long seconds = days * 86400 + hour * 3600 + minute * 60 + std::min(second, 59) -
                            static_cast<long long>(offset_minutes) * 60;
  return TimePoint(std::chrono::seconds(seconds));
}

std::string format_iso_datetime(TimePoint when) {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::floor<std::chrono::seconds>(when));
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buffer[96];
  std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buffer;
}

bool parse_filter(std::string_view text, EntityType type, Filter& filter, QueryError& error) {
  filter = Filter{};
  if (trim(text).empty()) {
    error = invalid_clause("Expression expected at position 0 in ''.");
    return false;
  }
  std::vector<Token> tokens;
  if (!tokenize(text, tokens, error)) return false;
  Parser parser(text, std::move(tokens), type, filter);
  return parser.parse(error);
}

bool evaluate(const Filter& filter, const FilterAccess& entity) {
  return !filter.root || eval(*filter.root, entity, nullptr);
}

bool parse_orderby(std::string_view text, EntityType type, std::vector<OrderKey>& keys, QueryError& error) {
  keys.clear();
  while (!text.empty()) {
    const std::size_t comma = text.find(',');
    std::string_view item = trim(text.substr(0, comma));
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    OrderKey key;
    const std::size_t space = item.find(' ');
    std::string_view path = item.substr(0, space);
    if (space != std::string_view::npos) {
      const std::string_view direction = trim(item.substr(space + 1));
      if (iequals(direction, "desc"))
        key.descending = true;
      else if (!iequals(direction, "asc")) {
        error = make(400, "BadRequest",
                     "Syntax error: character '" + std::string(direction) +
                         "' is not valid in $orderby; use 'asc' or 'desc' after the property.");
        return false;
      }
    }
    if (path.empty()) {
      error = make(400, "BadRequest",
                   "The $orderby expression is empty; name a property such as receivedDateTime.");
      return false;
    }
    PropType property_type{};
    const std::size_t slash = path.find('/');
    const Property* property = find_property(type, path.substr(0, slash));
    if (!property) {
      error = unknown_property(path.substr(0, slash), type);
      return false;
    }
    if (slash == std::string_view::npos) {
      property_type = property->type;
      key.path = std::string(property->name);
    } else {
      bool found = false;
      if (type == EntityType::message) {
        for (const auto& sub : kMessageSubPaths) {
          if (iequals(sub.path, path)) {
            key.path = std::string(sub.path);
            property_type = sub.type;
            found = true;
          }
        }
      }
      if (!found) {
        const std::string_view rest = path.substr(slash + 1);
        error = unknown_property(rest.substr(0, rest.find('/')), type);
        return false;
      }
    }
    if (property_type == PropType::unfilterable || property_type == PropType::complex ||
        property_type == PropType::strings || property_type == PropType::recipients ||
        property_type == PropType::extended) {
      error = make(400, "ErrorInvalidProperty", "The property '" + key.path + "' does not support sorting.");
      return false;
    }
    keys.push_back(std::move(key));
  }
  return true;
}

bool check_orderby_against_filter(const std::vector<OrderKey>& keys, const Filter* filter,
                                  QueryError& error) {
  if (keys.empty() || !filter || !filter->root) return true;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (i >= filter->property_order.size() || filter->property_order[i] != keys[i].path) {
      error =
          make(400, "InefficientFilter", "The restriction or sort order is too complex for this operation.");
      return false;
    }
  }
  return true;
}

int compare_values(const Value& a, const Value& b) {
  // Total order for sorting: null first, then by value.
  if (a.kind == Value::Kind::null || b.kind == Value::Kind::null) {
    return (a.kind == Value::Kind::null ? 0 : 1) - (b.kind == Value::Kind::null ? 0 : 1);
  }
  return compare_nullable(a, b).value_or(0);
}

int compare_for_order(const std::vector<OrderKey>& keys, const FilterAccess& a, const FilterAccess& b) {
  for (const auto& key : keys) {
    int c = compare_values(a.scalar(key.path), b.scalar(key.path));
    if (key.descending) c = -c;
    if (c != 0) return c;
  }
  return 0;
}

const std::vector<std::string_view>& property_names(EntityType type) {
  static const auto make_names = [](EntityType t) {
    std::vector<std::string_view> names;
    for (const auto& property : properties_of(t)) {
      if (property.selectable) names.push_back(property.name);
    }
    return names;
  };
  static const std::vector<std::string_view> kMessage = make_names(EntityType::message);
  static const std::vector<std::string_view> kFolder = make_names(EntityType::mail_folder);
  static const std::vector<std::string_view> kExtended =
      make_names(EntityType::single_value_extended_property);
  switch (type) {
    case EntityType::message: return kMessage;
    case EntityType::mail_folder: return kFolder;
    case EntityType::single_value_extended_property: return kExtended;
  }
  return kMessage;
}

bool is_default_property(EntityType type, std::string_view canonical_name) {
  const Property* property = find_property(type, canonical_name);
  return property && property->selectable && property->default_selected;
}

bool Selection::includes(std::string_view canonical_name) const {
  return std::find(properties.begin(), properties.end(), canonical_name) != properties.end();
}

bool parse_select(std::string_view text, EntityType type, Selection& selection, QueryError& error) {
  selection = Selection{};
  selection.explicit_list = true;
  while (true) {
    const std::size_t comma = text.find(',');
    const std::string_view item = trim(text.substr(0, comma));
    if (item == "*") {
      for (std::string_view name : property_names(type)) {
        if (is_default_property(type, name) && !selection.includes(name))
          selection.properties.emplace_back(name);
      }
    } else if (!item.empty()) {
      const Property* property = find_property(type, item);
      if (!property || !property->selectable) {
        error = unknown_property(item, type);
        return false;
      }
      if (!selection.includes(property->name)) selection.properties.emplace_back(property->name);
    }
    if (comma == std::string_view::npos) break;
    text = text.substr(comma + 1);
  }
  return true;
}

bool parse_expand(std::string_view text, EntityType type, Expansion& expansion, QueryError& error) {
  expansion = Expansion{};
  // Split at top-level commas.
  std::vector<std::string_view> items;
  int depth = 0;
  std::size_t start = 0;
  bool in_quote = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\'') in_quote = !in_quote;
    if (in_quote) continue;
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (c == ',' && depth == 0) {
      items.push_back(text.substr(start, i - start));
      start = i + 1;
    }
  }
  items.push_back(text.substr(start));
  for (std::string_view raw_item : items) {
    const std::string_view item = trim(raw_item);
    if (item.empty()) continue;
    const std::size_t open = item.find('(');
    const std::string_view name = trim(item.substr(0, open));
    std::string_view options;
    if (open != std::string_view::npos) {
      if (item.back() != ')') {
        error = make(400, "BadRequest",
                     "The $expand option '" + std::string(item) + "' has unbalanced parentheses.");
        return false;
      }
      options = item.substr(open + 1, item.size() - open - 2);
    }
    if (iequals(name, "singleValueExtendedProperties")) {
      expansion.single_value_properties = true;
      const std::string_view inner = trim(options);
      if (inner.empty()) {
        expansion.all_single_value_properties = true;
        continue;
      }
      if (inner.size() < 8 || !iequals(inner.substr(0, 8), "$filter=")) {
        error = make(400, "BadRequest",
                     "Only $filter is supported inside $expand=singleValueExtendedProperties(...), e.g. "
                     "($filter=id eq 'Integer 0x1081').");
        return false;
      }
      Filter filter;
      if (!parse_filter(inner.substr(8), EntityType::single_value_extended_property, filter, error))
        return false;
      // Accept "id eq 'a' or id eq 'b' ..." only: that is what Exchange supports here.
      std::vector<const Expr*> terms;
      if (filter.root->kind == Expr::Kind::any_of_terms) {
        for (const auto& child : filter.root->children) terms.push_back(child.get());
      } else {
        terms.push_back(filter.root.get());
      }
      for (const Expr* term : terms) {
        if (term->kind != Expr::Kind::comparison || term->op != CompareOp::eq || term->operand.path != "id" ||
            term->literal.kind != Value::Kind::string) {
          error = invalid_nodes();
          return false;
        }
        expansion.single_value_ids.push_back(term->literal.text);
      }
      continue;
    }
    if (iequals(name, "multiValueExtendedProperties")) {
      expansion.multi_value_properties = true;
      continue;
    }
    if (type == EntityType::message && iequals(name, "attachments")) {
      expansion.attachments = true;
      continue;
    }
    error = unknown_property(name, type);
    return false;
  }
  return true;
}

bool parse_top(std::string_view text, int& top, QueryError& error) {
  long long value = 0;
  const auto result = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || result.ec != std::errc{} || result.ptr != text.data() + text.size() || value < 0) {
    error = make(
        400, "BadRequest",
        "Invalid value '" + std::string(text) +
            "' for $top query option found. The $top query option requires a non-negative integer value.");
    return false;
  }
  if (value < 1 || value > 1000) {
    error =
        make(400, "BadRequest",
             "The value '" + std::string(text) + "' for $top is outside the supported range; use 1 to 1000.");
    return false;
  }
  top = static_cast<int>(value);
  return true;
}

bool parse_skip(std::string_view text, long long& skip, QueryError& error) {
  const auto result = std::from_chars(text.data(), text.data() + text.size(), skip);
  if (text.empty() || result.ec != std::errc{} || result.ptr != text.data() + text.size() || skip < 0) {
    error = make(
        400, "BadRequest",
        "Invalid value '" + std::string(text) +
            "' for $skip query option found. The $skip query option requires a non-negative integer value.");
    return false;
  }
  return true;
}

bool parse_search(std::string_view text, std::vector<SearchTerm>& terms, QueryError& error) {
  terms.clear();
  std::string_view rest = trim(text);
  // Graph wants the whole expression in double quotes: $search="pizza" or $search="subject:pizza".
  if (rest.size() >= 2 && rest.front() == '"' && rest.back() == '"') rest = rest.substr(1, rest.size() - 2);
  std::size_t i = 0;
  while (i < rest.size()) {
    while (i < rest.size() && rest[i] == ' ') ++i;
    if (i >= rest.size()) break;
    std::string word;
    while (i < rest.size() && rest[i] != ' ') {
      if (rest[i] == '\'' || rest[i] == '"') {
        const char quote = rest[i++];
        while (i < rest.size() && rest[i] != quote) word += rest[i++];
        if (i < rest.size()) ++i;
        continue;
      }
      word += rest[i++];
    }
    if (iequals(word, "AND")) continue;
    SearchTerm term;
    const std::size_t colon = word.find(':');
    if (colon != std::string::npos) {
      term.field = lower_string(word.substr(0, colon));
      static constexpr std::array<std::string_view, 8> kFields = {
          "subject", "from", "to", "cc", "body", "participants", "bcc", "recipients"};
      if (std::find(kFields.begin(), kFields.end(), term.field) == kFields.end()) {
        error = make(400, "BadRequest",
                     "The $search property '" + term.field +
                         "' is not supported by the emulator; use subject:, from:, to:, cc:, bcc:, body: or "
                         "a plain word.");
        return false;
      }
      term.text = lower_string(word.substr(colon + 1));
    } else {
      term.text = lower_string(word);
    }
    if (!term.text.empty()) terms.push_back(std::move(term));
  }
  if (terms.empty()) {
    error =
        make(400, "BadRequest", "The $search expression is empty; give a word or a phrase in double quotes.");
    return false;
  }
  return true;
}

}  // namespace mailtrixy::emulator::odata
