#include "mailtrixy/web/html.hpp"

#include <stdexcept>
#include <vector>

namespace mailtrixy::web {

std::string escape(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  for (const char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

Html text(std::string_view plain) {
  return Html::trusted(escape(plain));
}

Html render(std::string_view templ, std::initializer_list<Slot> slots) {
  std::vector<bool> used(slots.size(), false);
  std::string out;
  out.reserve(templ.size() + 256);
  std::size_t position = 0;
  while (position < templ.size()) {
    const std::size_t open = templ.find("{{", position);
    if (open == std::string_view::npos) {
      out.append(templ.substr(position));
      break;
    }
    out.append(templ.substr(position, open - position));
    const std::size_t close = templ.find("}}", open + 2);
    if (close == std::string_view::npos) {
      throw std::logic_error("template has an unterminated {{ at offset " + std::to_string(open));
    }
    const std::string_view name = templ.substr(open + 2, close - open - 2);
    std::size_t index = 0;
    bool found = false;
    for (const Slot& slot : slots) {
      if (slot.name == name) {
        if (const auto* plain = std::get_if<std::string>(&slot.value)) {
          out += escape(*plain);
        } else {
          out += std::get<Html>(slot.value).str();
        }
        used[index] = true;
        found = true;
        break;
      }
      ++index;
    }
    if (!found) throw std::logic_error("template placeholder {{" + std::string(name) + "}} has no value");
    position = close + 2;
  }
  std::size_t index = 0;
  for (const Slot& slot : slots) {
    if (!used[index++]) {
      throw std::logic_error("value for {{" + std::string(slot.name) +
                             "}} has no placeholder in the template");
    }
  }
  return Html::trusted(std::move(out));
}

}  // namespace mailtrixy::web
