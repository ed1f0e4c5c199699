// Value rules shared by the normalizers.
#include "ingest/normalize_util.h"

#include <charconv>

#include "schema/time_util.h"

namespace quarry::ingest {

std::optional<std::string> ValueOrNull(std::optional<std::string_view> value) {
  if (!value || value->empty() || *value == "-" ||
      *value == "{00000000-0000-0000-0000-000000000000}") {
    return std::nullopt;
  }
  return std::string(*value);
}

std::optional<std::string> Basename(const std::optional<std::string>& path) {
  if (!path) return std::nullopt;
  std::size_t sep = path->find_last_of("\\/");
  std::string name = sep == std::string::npos ? *path : path->substr(sep + 1);
  if (name.empty()) return std::nullopt;
  return name;
}

std::optional<std::string> ProcessNameFromCommandLine(const std::optional<std::string>& command) {
  if (!command) return std::nullopt;
  std::string_view text = *command;
  std::size_t begin = text.find_first_not_of(" \t");
  if (begin == std::string_view::npos) return std::nullopt;
  text.remove_prefix(begin);
  std::string_view token;
  if (text.front() == '"') {
    std::size_t close = text.find('"', 1);
    token = text.substr(1, close == std::string_view::npos ? std::string_view::npos : close - 1);
  } else {
    token = text.substr(0, text.find_first_of(" \t"));
  }
  return Basename(std::string(token));
}

std::optional<std::int64_t> ParseInt(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  int base = 10;
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    base = 16;
    text.remove_prefix(2);
  }
  if (text.empty() || text.front() == '-' || text.front() == '+') return std::nullopt;
  std::int64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
  if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<std::int64_t> ParseWindowsTime(std::string_view text, std::string* why) {
  std::optional<std::int64_t> time = schema::ParseUtcTimestamp(text);
  if (time && *time < kEarliestWindowsTimeUs) {
    if (why != nullptr) *why = "before 1601-01-01, the earliest time Windows records";
    return std::nullopt;
  }
  return time;  // ParseUtcTimestamp reads four-digit years only: never past 9999
}

namespace {

struct NamedSid {
  std::string_view sid;
  std::string_view name;
};

// The service accounts whose 4688 Subject/Target names differ from how Windows (and Sysmon's
// User, and userinfo) names them: a process created by SYSTEM has the machine account HOST$ as
// 4688 Subject, CrowdStrike gives only the SID.
constexpr NamedSid kWellKnownAccounts[] = {
    {"S-1-5-18", "NT AUTHORITY\\SYSTEM"},
    {"S-1-5-19", "NT AUTHORITY\\LOCAL SERVICE"},
    {"S-1-5-20", "NT AUTHORITY\\NETWORK SERVICE"},
};

}  // namespace

std::optional<std::string_view> WellKnownAccountName(std::string_view sid) {
  for (const NamedSid& known : kWellKnownAccounts) {
    if (sid == known.sid) return known.name;
  }
  return std::nullopt;
}

std::optional<std::string_view> WellKnownAccountSid(std::string_view name) {
  for (const NamedSid& known : kWellKnownAccounts) {
    if (EqualsIgnoreCase(name, known.name)) return known.sid;
  }
  return std::nullopt;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i] >= 'A' && a[i] <= 'Z' ? static_cast<char>(a[i] - 'A' + 'a') : a[i];
    char y = b[i] >= 'A' && b[i] <= 'Z' ? static_cast<char>(b[i] - 'A' + 'a') : b[i];
    if (x != y) return false;
  }
  return true;
}

std::string AsciiLower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::size_t Utf8SequenceLength(std::string_view text, std::size_t at) {
  auto byte = [&](std::size_t i) {
    return at + i < text.size() ? static_cast<unsigned char>(text[at + i]) : 0u;
  };
  auto continuation = [&](std::size_t i) { return (byte(i) & 0xC0) == 0x80; };
  unsigned lead = byte(0);
  if (at >= text.size()) return 0;
  if (lead < 0x80) return 1;
  if (lead >= 0xC2 && lead <= 0xDF) return continuation(1) ? 2 : 0;
  if (lead >= 0xE0 && lead <= 0xEF) {
    unsigned second = byte(1);
    if (lead == 0xE0 && second < 0xA0) return 0;  // overlong
    if (lead == 0xED && second > 0x9F) return 0;  // surrogate
    return continuation(1) && continuation(2) ? 3 : 0;
  }
  if (lead >= 0xF0 && lead <= 0xF4) {
    unsigned second = byte(1);
    if (lead == 0xF0 && second < 0x90) return 0;  // overlong
    if (lead == 0xF4 && second > 0x8F) return 0;  // past U+10FFFF
    return continuation(1) && continuation(2) && continuation(3) ? 4 : 0;
  }
  return 0;
}

void AppendUtf8(std::uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

std::optional<std::int64_t> ParseEventInteger(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  std::int64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

}  // namespace quarry::ingest
