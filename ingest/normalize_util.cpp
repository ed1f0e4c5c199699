// Value rules shared by the normalizers.
#include "ingest/normalize_util.h"

#include <charconv>

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
  if (text.empty()) return std::nullopt;
  std::int64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
  if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return value;
}

std::string AsciiLower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace quarry::ingest
