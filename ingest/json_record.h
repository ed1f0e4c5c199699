// One JSON object (one line of a JSON-lines file) as name/value pairs, parsed with simdjson.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace quarry::ingest {

/// The top-level members of a JSON object. Strings are unescaped; numbers, true and false are
/// their JSON text; nested objects and arrays are their raw JSON text; null members are left
/// out. Views are valid until the next parse.
struct JsonFields {
  std::vector<std::pair<std::string_view, std::string_view>> members;
  /// What the parser had to change to read the line, for a field warning: bytes that are not
  /// UTF-8 and NUL characters in strings read as U+FFFD, numbers too large for 64 bits read as
  /// their text. Empty when nothing was; the raw line keeps what was written.
  std::string repairs;

  /// The value of the first member called `name`, or nothing.
  std::optional<std::string_view> Find(std::string_view name) const {
    for (const auto& [key, value] : members) {
      if (key == name) return value;
    }
    return std::nullopt;
  }
};

/// Parses JSON objects one at a time, reusing its buffers.
class JsonObjectParser {
 public:
  JsonObjectParser();
  ~JsonObjectParser();

  /// Parses `text`, which must be exactly one JSON object (surrounding white space allowed).
  /// Returns false and sets `error` for anything else: invalid JSON, an array, text after the
  /// object, nesting deeper than simdjson's limit (1024). Bytes that are not UTF-8, NUL
  /// characters in strings and numbers too large for 64 bits do not lose the line: they are
  /// read as U+FFFD or as text and listed in `fields->repairs`.
  bool Parse(std::string_view text, JsonFields* fields, std::string* error);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace quarry::ingest
