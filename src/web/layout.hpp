#pragma once
// The frame every page shares (header, navigation, footer), the stylesheet and the icons. Pages
// only produce their <main> content; see html.hpp for how text is escaped.

#include <string>
#include <string_view>

#include "mailtrixy/web/html.hpp"

namespace mailtrixy::web {

enum class Section { accounts, admin, none };

struct PageFrame {
  std::string title;  // <title> and nothing else (the page's own <h1> is in body)
  Section section = Section::none;
  bool admin_signed_in = false;  // shows "Sign out" for the admin
  std::string csrf_token;        // for the admin sign-out form; may be empty when not signed in
  std::string version;
  Html body;
};

// A complete HTML document.
std::string render_page(const PageFrame& frame);

// Served at /static/app.css and /static/favicon.svg; both are compiled in, so the pages work
// without any file next to the binary.
std::string_view app_css();
std::string_view favicon_svg();

// The Microsoft four-square logo (inline SVG, decorative: aria-hidden).
Html microsoft_logo(int size);

// A hidden CSRF field for POST forms.
Html csrf_field(std::string_view token);

}  // namespace mailtrixy::web
