// JSON object parsing with simdjson's DOM API, which validates the whole line (UTF-8,
// structure, nothing after the object) before any member is read.
#include "ingest/json_record.h"

#include <simdjson.h>

#include <deque>

namespace quarry::ingest {

struct JsonObjectParser::Impl {
  simdjson::dom::parser parser;
  std::string padded;                // the text with simdjson's required padding after it
  std::deque<std::string> rendered;  // text of non-string members (views point here)
};

JsonObjectParser::JsonObjectParser() : impl_(std::make_unique<Impl>()) {}
JsonObjectParser::~JsonObjectParser() = default;

bool JsonObjectParser::Parse(std::string_view text, JsonFields* fields, std::string* error) {
  fields->members.clear();
  impl_->rendered.clear();
  std::string& padded = impl_->padded;
  padded.assign(text);
  padded.resize(text.size() + simdjson::SIMDJSON_PADDING, ' ');

  simdjson::dom::element root;
  if (auto code = impl_->parser.parse(padded.data(), text.size(), false).get(root)) {
    *error = std::string("not valid JSON: ") + simdjson::error_message(code);
    return false;
  }
  simdjson::dom::object object;
  if (root.get(object) != simdjson::SUCCESS) {
    *error = "not a JSON object";
    return false;
  }
  for (simdjson::dom::key_value_pair member : object) {
    switch (member.value.type()) {
      case simdjson::dom::element_type::NULL_VALUE:
        continue;  // absent, like a placeholder elsewhere
      case simdjson::dom::element_type::STRING:
        fields->members.emplace_back(member.key, std::string_view(member.value));
        break;
      default:  // numbers, booleans, nested objects and arrays: their JSON text
        impl_->rendered.push_back(simdjson::minify(member.value));
        fields->members.emplace_back(member.key, impl_->rendered.back());
    }
  }
  return true;
}

}  // namespace quarry::ingest
