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
  /// Returns false and sets `error` for anything else: invalid JSON, invalid UTF-8, an array,
  /// text after the object, nesting deeper than simdjson's limit.
  bool Parse(std::string_view text, JsonFields* fields, std::string* error);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace quarry::ingest
