// JSON object parsing with simdjson's DOM API, which validates the whole line (UTF-8,
// structure, nothing after the object) before any member is read.
#include "ingest/json_record.h"

#include <simdjson.h>

#include <cerrno>
#include <cstdlib>
#include <deque>
#include <limits>

#include "ingest/normalize_util.h"

namespace quarry::ingest {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD in UTF-8

// Copies `text` to `out` with U+FFFD for each byte that is not part of UTF-8.
void ReplaceInvalidUtf8(std::string_view text, std::string* out) {
  out->clear();
  for (std::size_t at = 0; at < text.size();) {
    std::size_t length = Utf8SequenceLength(text, at);
    if (length == 0) {
      out->append(kReplacement);
      ++at;
    } else {
      out->append(text.substr(at, length));
      at += length;
    }
  }
}

// True for a JSON number (RFC 8259 syntax) that simdjson cannot hold: an integer beyond
// int64/uint64, or a number whose double is infinite.
bool IsNumberOutOfRange(std::string_view token) {
  std::size_t pos = token.starts_with('-') ? 1 : 0;
  auto digits = [&] {
    std::size_t start = pos;
    while (pos < token.size() && token[pos] >= '0' && token[pos] <= '9') ++pos;
    return pos - start;
  };
  std::size_t int_digits = digits();
  if (int_digits == 0 || (int_digits > 1 && token[pos - int_digits] == '0')) return false;
  bool integer = true;
  if (pos < token.size() && token[pos] == '.') {
    ++pos;
    if (digits() == 0) return false;
    integer = false;
  }
  if (pos < token.size() && (token[pos] == 'e' || token[pos] == 'E')) {
    ++pos;
    if (pos < token.size() && (token[pos] == '+' || token[pos] == '-')) ++pos;
    if (digits() == 0) return false;
    integer = false;
  }
  if (pos != token.size()) return false;  // not a JSON number: leave it to simdjson's error
  std::string text(token);
  errno = 0;
  if (integer) {
    if (token.starts_with('-')) {
      (void)std::strtoll(text.c_str(), nullptr, 10);
    } else {
      (void)std::strtoull(text.c_str(), nullptr, 10);
    }
    return errno == ERANGE;
  }
  double value = std::strtod(text.c_str(), nullptr);
  return value == std::numeric_limits<double>::infinity() ||
         value == -std::numeric_limits<double>::infinity();
}

// Copies `text` to `out` with each number that IsNumberOutOfRange made a string; false when
// there is none.
bool QuoteOutOfRangeNumbers(std::string_view text, std::string* out) {
  out->clear();
  bool quoted = false;
  bool in_string = false;
  for (std::size_t at = 0; at < text.size();) {
    char c = text[at];
    if (in_string) {
      out->push_back(c);
      if (c == '\\' && at + 1 < text.size()) {
        out->push_back(text[at + 1]);
        at += 2;
        continue;
      }
      in_string = c != '"';
      ++at;
      continue;
    }
    if (c == '"') in_string = true;
    if (c != '-' && (c < '0' || c > '9')) {
      out->push_back(c);
      ++at;
      continue;
    }
    std::size_t end = at;
    while (end < text.size() &&
           std::string_view("+-.eE0123456789").find(text[end]) != std::string_view::npos)
      ++end;
    std::string_view token = text.substr(at, end - at);
    if (IsNumberOutOfRange(token)) {
      out->push_back('"');
      out->append(token);
      out->push_back('"');
      quoted = true;
    } else {
      out->append(token);
    }
    at = end;
  }
  return quoted;
}

void AddRepair(std::string_view what, std::string* repairs) {
  if (repairs->find(what) != std::string::npos) return;
  if (!repairs->empty()) *repairs += "; ";
  *repairs += what;
}

}  // namespace

struct JsonObjectParser::Impl {
  simdjson::dom::parser parser;
  std::string padded;                // the text with simdjson's required padding after it
  std::string repaired;              // the text after a repair, before padding
  std::deque<std::string> rendered;  // text of non-string members (views point here)
};

JsonObjectParser::JsonObjectParser() : impl_(std::make_unique<Impl>()) {}
JsonObjectParser::~JsonObjectParser() = default;

bool JsonObjectParser::Parse(std::string_view text, JsonFields* fields, std::string* error) {
  fields->members.clear();
  fields->repairs.clear();
  impl_->rendered.clear();
  std::string& padded = impl_->padded;
  padded.assign(text);
  std::size_t size = text.size();

  simdjson::dom::element root;
  // A line that fails for bytes that are not UTF-8 or for a number simdjson cannot hold is
  // repaired and parsed again, at most once for each: one such value must not hide the event.
  bool utf8_repaired = false, numbers_repaired = false;
  while (true) {
    padded.resize(size + simdjson::SIMDJSON_PADDING, ' ');
    simdjson::error_code code = impl_->parser.parse(padded.data(), size, false).get(root);
    if (code == simdjson::SUCCESS) break;
    std::string_view current(padded.data(), size);
    if (code == simdjson::UTF8_ERROR && !utf8_repaired) {
      utf8_repaired = true;
      ReplaceInvalidUtf8(current, &impl_->repaired);
      AddRepair("bytes that are not UTF-8 read as U+FFFD", &fields->repairs);
    } else if (code == simdjson::NUMBER_ERROR && !numbers_repaired &&
               QuoteOutOfRangeNumbers(current, &impl_->repaired)) {
      numbers_repaired = true;
      AddRepair("numbers too large for 64 bits read as text", &fields->repairs);
    } else {
      *error = std::string("not valid JSON: ") + simdjson::error_message(code);
      fields->repairs.clear();
      return false;
    }
    padded.assign(impl_->repaired);
    size = padded.size();
  }
  simdjson::dom::object object;
  if (root.get(object) != simdjson::SUCCESS) {
    *error = "not a JSON object";
    fields->repairs.clear();
    return false;
  }
  for (simdjson::dom::key_value_pair member : object) {
    switch (member.value.type()) {
      case simdjson::dom::element_type::NULL_VALUE:
        continue;  // absent, like a placeholder elsewhere
      case simdjson::dom::element_type::STRING: {
        std::string_view value(member.value);
        if (value.find('\0') == std::string_view::npos) {
          fields->members.emplace_back(member.key, value);
          break;
        }
        // A NUL ("\u0000") would end the value for SQLite's text functions (LIKE, instr):
        // read it as U+FFFD so that no detection misses what follows it.
        std::string& copy = impl_->rendered.emplace_back();
        for (char c : value) {
          if (c == '\0') {
            copy.append(kReplacement);
          } else {
            copy.push_back(c);
          }
        }
        fields->members.emplace_back(member.key, copy);
        AddRepair("NUL characters in strings read as U+FFFD", &fields->repairs);
        break;
      }
      default:  // numbers, booleans, nested objects and arrays: their JSON text
        impl_->rendered.push_back(simdjson::minify(member.value));
        fields->members.emplace_back(member.key, impl_->rendered.back());
    }
  }
  if (!fields->repairs.empty()) fields->repairs += " (the raw record keeps what was written)";
  return true;
}

}  // namespace quarry::ingest
