#include "format.hpp"

#include <array>
#include <chrono>
#include <cstdio>

namespace mailtrixy::imap::detail {

std::string format_internal_date(mail::TimePoint time) {
  static constexpr std::array<const char*, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  auto day = std::chrono::floor<std::chrono::days>(time);
  std::chrono::year_month_day date{day};
  std::chrono::hh_mm_ss clock{time - day};
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%02u-%s-%04d %02d:%02d:%02d +0000", static_cast<unsigned>(date.day()),
                kMonths[(static_cast<unsigned>(date.month()) + 11) % 12], static_cast<int>(date.year()),
                static_cast<int>(clock.hours().count()), static_cast<int>(clock.minutes().count()),
                static_cast<int>(clock.seconds().count()));
  return buffer;
}

}  // namespace mailtrixy::imap::detail
