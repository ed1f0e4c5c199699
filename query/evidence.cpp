// The result -> events matching rule (query/evidence.h).
#include "query/evidence.h"

#include <cstdint>
#include <string>

#include "schema/time_util.h"

namespace quarry::query {

const std::vector<std::string_view>& EvidenceKeyFields() {
  static const std::vector<std::string_view> kKeys = {"dest",
                                                      "user",
                                                      "process_name",
                                                      "process",
                                                      "process_id",
                                                      "parent_process_id",
                                                      "parent_process_name",
                                                      "process_guid",
                                                      "original_file_name",
                                                      "process_path",
                                                      "parent_process",
                                                      "parent_process_guid"};
  return kKeys;
}

std::string EvidenceCondition(const ResultField& field, std::vector<std::string>* params,
                              bool* bounded) {
  std::string sql;
  const std::size_t before = params->size();
  for (std::string_view key : EvidenceKeyFields()) {
    std::optional<std::string> value = field(key);
    if (!value || value->empty() || *value == "null") continue;  // fillnull
    params->push_back(*value);
    // Integer columns compare as integers and text columns directly, so indexes serve.
    bool integer = key == "process_id" || key == "parent_process_id";
    sql += " AND e." + std::string(key) + " = " + (integer ? "CAST(?" : "?") +
           std::to_string(params->size()) + (integer ? " AS INTEGER)" : "");
  }
  std::optional<std::int64_t> first, last;
  if (std::optional<std::string> text = field("firstTime"))
    first = schema::ParseUtcTimestamp(*text);
  if (std::optional<std::string> text = field("lastTime")) last = schema::ParseUtcTimestamp(*text);
  if (!first && !last) {
    // A result binned by `_time span=...`: its events lie in the day from the bin's start.
    std::optional<std::string> time = field("_time");
    if (time && !time->empty() && time->find_first_not_of("0123456789.") == std::string::npos) {
      first = static_cast<std::int64_t>(std::stod(*time) * 1e6);
      last = *first + 86400LL * 1000000 - 1000000;
    }
  }
  *bounded = first || last;
  if (first) {
    params->push_back(std::to_string(*first));
    sql += " AND e.time_us >= CAST(?" + std::to_string(params->size()) + " AS INTEGER)";
  }
  if (last) {
    params->push_back(std::to_string(*last + 1000000));
    sql += " AND e.time_us < CAST(?" + std::to_string(params->size()) + " AS INTEGER)";
  }
  if (params->size() == before) return "";  // nothing to match on
  return sql.substr(5);                     // without the first " AND "
}

}  // namespace quarry::query
