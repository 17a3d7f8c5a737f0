#pragma once
// HTML for the server-rendered pages, built so that text from users and from Microsoft can only
// ever appear escaped.
//
// Two kinds of string meet here:
//   - plain text (std::string / std::string_view): anything at all, including what a browser,
//     a user or Microsoft sent us. It is escaped every time it is put into markup.
//   - Html: markup this module built from its own literals and from escaped text. Only Html is
//     inserted as is. Html::trusted() is the one way to make it from a raw string and is meant
//     for string literals in this module's page code (easy to spot in review).
//
// render() fills a template's {{name}} placeholders. A placeholder bound to text is escaped, one
// bound to Html is inserted. A placeholder without a value, a value without a placeholder, or an
// unterminated "{{" is a programming error (std::logic_error), caught by the page tests, never a
// page with a hole in it.

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace mailtrixy::web {

class Html {
 public:
  Html() = default;
  // `markup` must come from this module's own literals (or other Html): it is not escaped.
  static Html trusted(std::string markup) { return Html(std::move(markup)); }

  const std::string& str() const { return markup_; }
  bool empty() const { return markup_.empty(); }

  Html& operator+=(const Html& more) {
    markup_ += more.markup_;
    return *this;
  }
  friend Html operator+(Html a, const Html& b) { return a += b; }

 private:
  explicit Html(std::string markup) : markup_(std::move(markup)) {}
  std::string markup_;
};

// Escapes & < > " ' so the result is safe as element content and inside a quoted attribute.
std::string escape(std::string_view text);

// The escaped text as Html.
Html text(std::string_view plain);

// One placeholder's value: text (escaped on insertion) or Html (inserted as is).
struct Slot {
  std::string_view name;
  std::variant<std::string, Html> value;

  Slot(std::string_view n, std::string_view plain) : name(n), value(std::string(plain)) {}
  Slot(std::string_view n, const std::string& plain) : name(n), value(plain) {}
  Slot(std::string_view n, const char* plain) : name(n), value(std::string(plain)) {}
  Slot(std::string_view n, Html markup) : name(n), value(std::move(markup)) {}
};

// Fills every {{name}} in `templ` (names: letters, digits, '_'). A name may appear several
// times. See the header comment for what is an error.
Html render(std::string_view templ, std::initializer_list<Slot> slots);

}  // namespace mailtrixy::web
