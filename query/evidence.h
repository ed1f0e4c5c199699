// Which stored events lie behind a detection result: the rule the report's evidence and
// detect's risk accounting share.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace quarry::query {

/// A result row's value for a field name; nothing when the row has no such field, or when the
/// value is a multivalue list or Splunk's fillnull text, neither of which names one event.
using ResultField = std::function<std::optional<std::string>(std::string_view field)>;

/// The fields of a result row that are matched against process_events (equal values).
const std::vector<std::string_view>& EvidenceKeyFields();

/// The condition that selects a result's events from `process_events AS e`: its key fields
/// equal (integers as integers, so indexes serve) and its time within firstTime..lastTime (or
/// the day of a `_time` bin). Appends the values to bind, in order, to `params` (`?N` numbered
/// after those already there). Empty when the row names neither a key nor a time. `*bounded` says
/// whether the time is bounded.
std::string EvidenceCondition(const ResultField& field, std::vector<std::string>* params,
                              bool* bounded);

}  // namespace quarry::query
