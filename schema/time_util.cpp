// Timestamp parsing and formatting without the C library's local-time functions.
#include "schema/time_util.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

namespace quarry::schema {
namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
std::int64_t DaysFromCivil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool ReadDigits(std::string_view text, std::size_t pos, std::size_t count, int* value) {
  if (pos + count > text.size()) return false;
  int v = 0;
  for (std::size_t i = 0; i < count; ++i) {
    char c = text[pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *value = v;
  return true;
}

bool IsLeap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

}  // namespace

std::optional<std::int64_t> ParseUtcTimestamp(std::string_view text) {
  int year, month, day, hour, minute, second;
  if (!ReadDigits(text, 0, 4, &year) || text.size() < 19 || text[4] != '-' ||
      !ReadDigits(text, 5, 2, &month) || text[7] != '-' || !ReadDigits(text, 8, 2, &day) ||
      (text[10] != ' ' && text[10] != 'T') || !ReadDigits(text, 11, 2, &hour) || text[13] != ':' ||
      !ReadDigits(text, 14, 2, &minute) || text[16] != ':' || !ReadDigits(text, 17, 2, &second)) {
    return std::nullopt;
  }
  static constexpr int kDaysInMonth[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) {
    return std::nullopt;
  }
  int month_days = kDaysInMonth[month - 1] + (month == 2 && IsLeap(year) ? 1 : 0);
  if (day > month_days) return std::nullopt;
  std::size_t pos = 19;
  std::int64_t micros = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    std::size_t digits = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (digits < 6) micros = micros * 10 + (text[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0) return std::nullopt;
    for (std::size_t i = digits; i < 6; ++i) micros *= 10;
  }
  if (pos < text.size() && text[pos] == 'Z') ++pos;
  if (pos != text.size()) return std::nullopt;
  std::int64_t days = DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  std::int64_t seconds = days * 86400 + hour * 3600 + minute * 60 + second;
  return seconds * 1000000 + micros;
}

std::optional<std::int64_t> ParseEpochSeconds(std::string_view text) {
  std::size_t dot = text.find('.');
  std::string_view whole = text.substr(0, dot);
  // Seconds up to 11 digits (year 5138), milliseconds up to 14: no overflow in microseconds.
  if (whole.empty() || whole.size() > (dot == std::string_view::npos ? 14u : 11u))
    return std::nullopt;
  std::int64_t seconds = 0;
  for (char c : whole) {
    if (c < '0' || c > '9') return std::nullopt;
    seconds = seconds * 10 + (c - '0');
  }
  if (dot == std::string_view::npos) {
    if (whole.size() >= 12) return seconds * 1000;  // milliseconds
    return seconds * 1000000;
  }
  std::string_view fraction = text.substr(dot + 1);
  if (fraction.empty()) return std::nullopt;
  std::int64_t micros = 0;
  std::size_t digits = 0;
  for (char c : fraction) {
    if (c < '0' || c > '9') return std::nullopt;
    if (digits < 6) micros = micros * 10 + (c - '0');
    ++digits;
  }
  for (std::size_t i = digits; i < 6; ++i) micros *= 10;
  return seconds * 1000000 + micros;
}

std::optional<std::int64_t> ParseEpochMillis(std::string_view text) {
  if (text.empty() || text.size() > 14) return std::nullopt;  // year 5138: no overflow
  std::int64_t millis = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    millis = millis * 10 + (c - '0');
  }
  return millis * 1000;
}

std::string FormatIsoUtc(std::int64_t time_us) {
  // Outside years 0000..9999 the text would not be ISO-8601 (and the arithmetic could overflow):
  // such times print as the nearest end of that range.
  time_us = std::clamp<std::int64_t>(time_us, -62167219200000000, 253402300799999999);
  std::int64_t micros = ((time_us % 1000000) + 1000000) % 1000000;
  std::int64_t seconds = (time_us - micros) / 1000000;
  std::int64_t secs_of_day = ((seconds % 86400) + 86400) % 86400;
  std::int64_t days = (seconds - secs_of_day) / 86400;
  // civil_from_days (Howard Hinnant).
  days += 719468;
  const std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const auto doe = static_cast<unsigned>(days - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t y0 = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  const std::int64_t y = y0 + (m <= 2);
  char out[40];
  std::snprintf(out, sizeof out, "%04lld-%02u-%02uT%02lld:%02lld:%02lld.%06lldZ",
                static_cast<long long>(y), m, d, static_cast<long long>(secs_of_day / 3600),
                static_cast<long long>(secs_of_day / 60 % 60),
                static_cast<long long>(secs_of_day % 60), static_cast<long long>(micros));
  return out;
}

std::string NowIsoUtc() {
  auto now = std::chrono::system_clock::now();
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
  return FormatIsoUtc(us);
}

}  // namespace quarry::schema
