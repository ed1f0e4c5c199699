// Implementation of the spl_* SQL functions (SQLite C API, PCRE2).
#include "query/sql_functions.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <sqlite3.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <set>
#include <string>
#include <vector>

namespace quarry::query {
namespace {

std::string_view TextArg(sqlite3_value* value) {
  const auto* text = reinterpret_cast<const char*>(sqlite3_value_text(value));
  return text == nullptr
             ? std::string_view()
             : std::string_view(text, static_cast<std::size_t>(sqlite3_value_bytes(value)));
}

void ResultText(sqlite3_context* context, std::string_view text) {
  sqlite3_result_text64(context, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
}

char FoldAscii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// ---- aggregates ------------------------------------------------------------------------------

struct ValuesState {
  std::set<std::string>* values;
};

void ValuesStep(sqlite3_context* context, int, sqlite3_value** argv) {
  auto* state = static_cast<ValuesState*>(sqlite3_aggregate_context(context, sizeof(ValuesState)));
  if (state == nullptr) return sqlite3_result_error_nomem(context);
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL) return;
  if (state->values == nullptr) state->values = new std::set<std::string>();
  std::string_view text = TextArg(argv[0]);
  // A multivalue input contributes each of its values.
  std::size_t start = 0;
  while (true) {
    std::size_t end = text.find(kMultivalueSeparator, start);
    state->values->emplace(text.substr(start, end - start));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
}

void ValuesFinal(sqlite3_context* context) {
  auto* state = static_cast<ValuesState*>(sqlite3_aggregate_context(context, 0));
  if (state == nullptr || state->values == nullptr) return sqlite3_result_null(context);
  std::string joined;
  for (const std::string& value : *state->values) {
    if (!joined.empty()) joined.push_back(kMultivalueSeparator);
    joined += value;
  }
  delete state->values;
  state->values = nullptr;
  ResultText(context, joined);
}

struct PickState {
  sqlite3_value* value;
  double time;
  bool set;
};

template <bool kLatest>
void PickStep(sqlite3_context* context, int, sqlite3_value** argv) {
  auto* state = static_cast<PickState*>(sqlite3_aggregate_context(context, sizeof(PickState)));
  if (state == nullptr) return sqlite3_result_error_nomem(context);
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL || sqlite3_value_type(argv[1]) == SQLITE_NULL)
    return;
  double time = sqlite3_value_double(argv[1]);
  if (state->set && (kLatest ? time <= state->time : time >= state->time)) return;  // ties: first
  sqlite3_value* copy = sqlite3_value_dup(argv[0]);
  if (copy == nullptr) return sqlite3_result_error_nomem(context);
  sqlite3_value_free(state->value);
  state->value = copy;
  state->time = time;
  state->set = true;
}

void PickFinal(sqlite3_context* context) {
  auto* state = static_cast<PickState*>(sqlite3_aggregate_context(context, 0));
  if (state == nullptr || !state->set) return sqlite3_result_null(context);
  sqlite3_result_value(context, state->value);
  sqlite3_value_free(state->value);
  state->value = nullptr;
}

// ---- scalar functions ------------------------------------------------------------------------

void MvMatch(sqlite3_context* context, int, sqlite3_value** argv) {
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL) return sqlite3_result_int(context, 0);
  std::string_view text = TextArg(argv[0]);
  std::string_view pattern = TextArg(argv[1]);
  std::size_t start = 0;
  while (true) {
    std::size_t end = text.find(kMultivalueSeparator, start);
    if (WildcardMatch(text.substr(start, end - start), pattern))
      return sqlite3_result_int(context, 1);
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  sqlite3_result_int(context, 0);
}

void MvCount(sqlite3_context* context, int, sqlite3_value** argv) {
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL) return sqlite3_result_null(context);
  std::string_view text = TextArg(argv[0]);
  sqlite3_result_int64(context, 1 + std::count(text.begin(), text.end(), kMultivalueSeparator));
}

// mvindex(x, start[, end]): values start..end (inclusive, 0-based, negative from the end).
void MvIndex(sqlite3_context* context, int argc, sqlite3_value** argv) {
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL) return sqlite3_result_null(context);
  std::string_view text = TextArg(argv[0]);
  std::vector<std::string_view> values;
  std::size_t start = 0;
  while (true) {
    std::size_t end = text.find(kMultivalueSeparator, start);
    values.push_back(text.substr(start, end - start));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  auto count = static_cast<std::int64_t>(values.size());
  auto index = [&](sqlite3_value* value) {
    std::int64_t i = sqlite3_value_int64(value);
    return i < 0 ? i + count : i;
  };
  std::int64_t first = index(argv[1]);
  std::int64_t last = argc > 2 ? index(argv[2]) : first;
  if (first < 0 || first >= count || last < first) return sqlite3_result_null(context);
  last = std::min(last, count - 1);
  std::string out;
  for (std::int64_t i = first; i <= last; ++i) {
    if (i > first) out.push_back(kMultivalueSeparator);
    out.append(values[static_cast<std::size_t>(i)]);
  }
  ResultText(context, out);
}

void FreeCode(void* code) { pcre2_code_free(static_cast<pcre2_code*>(code)); }

// Compiles a PCRE pattern as SPL's regex, rex and match() take it; the error names the pattern.
Result<pcre2_code*> CompilePattern(std::string_view pattern) {
  int error = 0;
  PCRE2_SIZE offset = 0;
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                   PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &error, &offset, nullptr);
  if (code != nullptr) return code;
  PCRE2_UCHAR message[256];
  pcre2_get_error_message(error, message, sizeof message);
  return Status(StatusCode::kInvalidArgument, "invalid regular expression \"" +
                                                  std::string(pattern) +
                                                  "\": " + reinterpret_cast<const char*>(message));
}

// The compiled pattern of argument `index`, cached by SQLite for as long as the argument is the
// same constant; nullptr after reporting an error.
pcre2_code* PatternArg(sqlite3_context* context, sqlite3_value** argv, int index) {
  if (auto* cached = static_cast<pcre2_code*>(sqlite3_get_auxdata(context, index))) return cached;
  Result<pcre2_code*> code = CompilePattern(TextArg(argv[index]));
  if (!code.ok()) {
    sqlite3_result_error(context, code.status().message().c_str(), -1);
    return nullptr;
  }
  sqlite3_set_auxdata(context, index, *code, FreeCode);
  // SQLite may free it at once when it cannot cache; fetch it back to know.
  auto* kept = static_cast<pcre2_code*>(sqlite3_get_auxdata(context, index));
  if (kept == nullptr) sqlite3_result_error(context, "regular expression could not be kept", -1);
  return kept;
}

void Regex(sqlite3_context* context, int, sqlite3_value** argv) {
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL) return sqlite3_result_null(context);
  pcre2_code* code = PatternArg(context, argv, 1);
  if (code == nullptr) return;
  std::string_view text = TextArg(argv[0]);
  pcre2_match_data* match = pcre2_match_data_create_from_pattern(code, nullptr);
  if (match == nullptr) return sqlite3_result_error_nomem(context);
  int rc = pcre2_match(code, reinterpret_cast<PCRE2_SPTR>(text.data()), text.size(), 0, 0, match,
                       nullptr);
  pcre2_match_data_free(match);
  if (rc < 0 && rc != PCRE2_ERROR_NOMATCH) {
    return sqlite3_result_error(context, "regular expression match failed", -1);
  }
  sqlite3_result_int(context, rc >= 0 ? 1 : 0);
}

void Rex(sqlite3_context* context, int, sqlite3_value** argv) {
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL) return sqlite3_result_null(context);
  pcre2_code* code = PatternArg(context, argv, 1);
  if (code == nullptr) return;
  std::string_view text = TextArg(argv[0]);
  std::string group(TextArg(argv[2]));
  pcre2_match_data* match = pcre2_match_data_create_from_pattern(code, nullptr);
  if (match == nullptr) return sqlite3_result_error_nomem(context);
  int rc = pcre2_match(code, reinterpret_cast<PCRE2_SPTR>(text.data()), text.size(), 0, 0, match,
                       nullptr);
  if (rc < 0) {
    pcre2_match_data_free(match);
    if (rc == PCRE2_ERROR_NOMATCH) return sqlite3_result_null(context);
    return sqlite3_result_error(context, "regular expression match failed", -1);
  }
  PCRE2_SIZE length = 0;
  int found =
      pcre2_substring_length_byname(match, reinterpret_cast<PCRE2_SPTR>(group.c_str()), &length);
  if (found != 0) {
    pcre2_match_data_free(match);
    return sqlite3_result_null(context);
  }
  std::vector<PCRE2_UCHAR> buffer(length + 1);
  PCRE2_SIZE size = buffer.size();
  pcre2_substring_copy_byname(match, reinterpret_cast<PCRE2_SPTR>(group.c_str()), buffer.data(),
                              &size);
  pcre2_match_data_free(match);
  ResultText(context, std::string_view(reinterpret_cast<const char*>(buffer.data()), size));
}

void Replace(sqlite3_context* context, int, sqlite3_value** argv) {
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL) return sqlite3_result_null(context);
  pcre2_code* code = PatternArg(context, argv, 1);
  if (code == nullptr) return;
  std::string_view text = TextArg(argv[0]);
  // Splunk writes group references as \1; PCRE2's extended substitution takes $1.
  std::string replacement;
  for (char c : TextArg(argv[2])) {
    if (c == '$')
      replacement += "$$";
    else
      replacement.push_back(c);
  }
  for (std::size_t i = 0; i + 1 < replacement.size(); ++i) {
    if (replacement[i] == '\\' && replacement[i + 1] >= '0' && replacement[i + 1] <= '9')
      replacement[i] = '$';
  }
  std::vector<PCRE2_UCHAR> out(text.size() * 2 + replacement.size() + 64);
  while (true) {
    PCRE2_SIZE length = out.size();
    int rc = pcre2_substitute(code, reinterpret_cast<PCRE2_SPTR>(text.data()), text.size(), 0,
                              PCRE2_SUBSTITUTE_GLOBAL | PCRE2_SUBSTITUTE_OVERFLOW_LENGTH, nullptr,
                              nullptr, reinterpret_cast<PCRE2_SPTR>(replacement.data()),
                              replacement.size(), out.data(), &length);
    if (rc == PCRE2_ERROR_NOMEMORY) {
      out.resize(length + 1);
      continue;
    }
    if (rc < 0) return sqlite3_result_error(context, "regular expression replace failed", -1);
    return ResultText(context, std::string_view(reinterpret_cast<const char*>(out.data()), length));
  }
}

void Ctime(sqlite3_context* context, int, sqlite3_value** argv) {
  int type = sqlite3_value_numeric_type(argv[0]);
  if (type != SQLITE_INTEGER && type != SQLITE_FLOAT) return sqlite3_result_value(context, argv[0]);
  double seconds = sqlite3_value_double(argv[0]);
  if (!std::isfinite(seconds) || std::fabs(seconds) > 253402300799.0) {
    return sqlite3_result_value(context, argv[0]);
  }
  auto time_us = static_cast<std::int64_t>(std::floor(seconds * 1e6 + 0.5));
  Result<std::string> text = FormatSplunkTime(time_us, TextArg(argv[1]));
  if (!text.ok()) return sqlite3_result_error(context, text.status().message().c_str(), -1);
  ResultText(context, *text);
}

constexpr const char* kMonths[] = {"January",   "February", "March",    "April",
                                   "May",       "June",     "July",     "August",
                                   "September", "October",  "November", "December"};
constexpr const char* kDays[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                 "Thursday", "Friday", "Saturday"};

void AppendNumber(long value, int width, std::string* out) {
  std::string digits = std::to_string(value);
  if (static_cast<int>(digits.size()) < width) out->append(width - digits.size(), '0');
  *out += digits;
}

// eval's like(): `%` any run, `_` one character, case-sensitive (Splunk's eval compares exactly).
bool LikeMatch(std::string_view text, std::string_view pattern) {
  auto char_length = [&](std::size_t i) {
    auto c = static_cast<unsigned char>(text[i]);
    std::size_t n = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    return std::min(n, text.size() - i);
  };
  std::size_t t = 0, p = 0, star = std::string_view::npos, resume = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '%') {
      star = p++;
      resume = t;
    } else if (p < pattern.size() && pattern[p] == '_') {
      ++p;
      t += char_length(t);
    } else if (p < pattern.size() && pattern[p] == text[t]) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      resume += char_length(resume);
      t = resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '%') ++p;
  return p == pattern.size();
}

void Like(sqlite3_context* context, int, sqlite3_value** argv) {
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL || sqlite3_value_type(argv[1]) == SQLITE_NULL)
    return sqlite3_result_null(context);
  sqlite3_result_int(context, LikeMatch(TextArg(argv[0]), TextArg(argv[1])) ? 1 : 0);
}

}  // namespace

bool WildcardMatch(std::string_view text, std::string_view pattern) {
  // Greedy matching with backtracking to the last star: linear in practice, no recursion.
  std::size_t t = 0, p = 0, star = std::string_view::npos, resume = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = t;
    } else if (p < pattern.size() && FoldAscii(pattern[p]) == FoldAscii(text[t])) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

Result<std::string> FormatSplunkTime(std::int64_t time_us, std::string_view format) {
  std::int64_t seconds = time_us >= 0 ? time_us / 1000000 : -((-time_us + 999999) / 1000000);
  std::int64_t micros = time_us - seconds * 1000000;
  auto t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  if (gmtime_r(&t, &tm) == nullptr) {
    return Status(StatusCode::kInvalidArgument, "time out of range");
  }
  std::string out;
  for (std::size_t i = 0; i < format.size(); ++i) {
    if (format[i] != '%' || i + 1 == format.size()) {
      out.push_back(format[i]);
      continue;
    }
    char c = format[++i];
    switch (c) {
      case 'Y':
        AppendNumber(tm.tm_year + 1900L, 4, &out);
        break;
      case 'y':
        AppendNumber((tm.tm_year + 1900L) % 100, 2, &out);
        break;
      case 'm':
        AppendNumber(tm.tm_mon + 1, 2, &out);
        break;
      case 'd':
        AppendNumber(tm.tm_mday, 2, &out);
        break;
      case 'e': {
        std::string day = std::to_string(tm.tm_mday);
        out += (day.size() < 2 ? " " : "") + day;
        break;
      }
      case 'j':
        AppendNumber(tm.tm_yday + 1, 3, &out);
        break;
      case 'H':
        AppendNumber(tm.tm_hour, 2, &out);
        break;
      case 'I':
        AppendNumber(tm.tm_hour % 12 == 0 ? 12 : tm.tm_hour % 12, 2, &out);
        break;
      case 'p':
        out += tm.tm_hour < 12 ? "AM" : "PM";
        break;
      case 'M':
        AppendNumber(tm.tm_min, 2, &out);
        break;
      case 'S':
        AppendNumber(tm.tm_sec, 2, &out);
        break;
      case 'b':
        out += std::string(kMonths[tm.tm_mon]).substr(0, 3);
        break;
      case 'B':
        out += kMonths[tm.tm_mon];
        break;
      case 'a':
        out += std::string(kDays[tm.tm_wday]).substr(0, 3);
        break;
      case 'A':
        out += kDays[tm.tm_wday];
        break;
      case 'T': {
        Result<std::string> part = FormatSplunkTime(time_us, "%H:%M:%S");
        out += *part;
        break;
      }
      case 'F': {
        Result<std::string> part = FormatSplunkTime(time_us, "%Y-%m-%d");
        out += *part;
        break;
      }
      case 'z':
        out += "+0000";
        break;
      case 'Z':
        out += "UTC";
        break;
      case '%':
        out.push_back('%');
        break;
      case '3':
      case '6':
      case 'N': {
        int digits = c == 'N' ? 9 : c - '0';
        if (c != 'N') {
          if (i + 1 >= format.size() || format[i + 1] != 'N') {
            return Status(StatusCode::kInvalidArgument,
                          "time format conversion %" + std::string(1, c) + " is not supported");
          }
          ++i;
        }
        std::string fraction;
        AppendNumber(static_cast<long>(micros), 6, &fraction);
        fraction += "000";
        out += fraction.substr(0, static_cast<std::size_t>(digits));
        break;
      }
      default:
        return Status(StatusCode::kInvalidArgument,
                      "time format conversion %" + std::string(1, c) + " is not supported");
    }
  }
  return out;
}

Result<std::vector<std::string>> RegexGroupNames(std::string_view pattern) {
  Result<pcre2_code*> compiled = CompilePattern(pattern);
  if (!compiled.ok()) return compiled.status();
  pcre2_code* code = *compiled;
  std::uint32_t count = 0;
  std::uint32_t entry_size = 0;
  PCRE2_SPTR table = nullptr;
  pcre2_pattern_info(code, PCRE2_INFO_NAMECOUNT, &count);
  pcre2_pattern_info(code, PCRE2_INFO_NAMEENTRYSIZE, &entry_size);
  pcre2_pattern_info(code, PCRE2_INFO_NAMETABLE, &table);
  std::vector<std::pair<int, std::string>> groups;
  for (std::uint32_t i = 0; i < count; ++i) {
    PCRE2_SPTR entry = table + i * entry_size;
    int number = (entry[0] << 8) | entry[1];
    groups.emplace_back(number, reinterpret_cast<const char*>(entry + 2));
  }
  pcre2_code_free(code);
  std::sort(groups.begin(), groups.end());
  std::vector<std::string> names;
  for (auto& group : groups) names.push_back(std::move(group.second));
  return names;
}

Status RegisterSplFunctions(schema::CaseDb* db) {
  sqlite3* handle = db->handle();
  const int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC;
  int rc = SQLITE_OK;
  auto check = [&](int result) {
    if (rc == SQLITE_OK) rc = result;
  };
  check(sqlite3_create_function(handle, "spl_values", 1, flags, nullptr, nullptr, ValuesStep,
                                ValuesFinal));
  check(sqlite3_create_function(handle, "spl_earliest", 2, flags, nullptr, nullptr, PickStep<false>,
                                PickFinal));
  check(sqlite3_create_function(handle, "spl_latest", 2, flags, nullptr, nullptr, PickStep<true>,
                                PickFinal));
  check(sqlite3_create_function(handle, "spl_mv_match", 2, flags, nullptr, MvMatch, nullptr,
                                nullptr));
  check(
      sqlite3_create_function(handle, "spl_mvcount", 1, flags, nullptr, MvCount, nullptr, nullptr));
  check(sqlite3_create_function(handle, "spl_regex", 2, flags, nullptr, Regex, nullptr, nullptr));
  check(
      sqlite3_create_function(handle, "spl_replace", 3, flags, nullptr, Replace, nullptr, nullptr));
  check(sqlite3_create_function(handle, "spl_mvindex", -1, flags, nullptr, MvIndex, nullptr,
                                nullptr));
  check(sqlite3_create_function(handle, "spl_like", 2, flags, nullptr, Like, nullptr, nullptr));
  check(sqlite3_create_function(handle, "spl_rex", 3, flags, nullptr, Rex, nullptr, nullptr));
  check(sqlite3_create_function(handle, "spl_ctime", 2, flags, nullptr, Ctime, nullptr, nullptr));
  if (rc != SQLITE_OK) {
    return Status(StatusCode::kInternal,
                  std::string("cannot register SQL functions: ") + sqlite3_errstr(rc));
  }
  return Status::Ok();
}

}  // namespace quarry::query
