// Compiling an ESCU search (macros already expanded) to one SQLite query over the case
// database: tstats over Endpoint.Processes, then search/where/eval/rename/convert/fields/table/
// regex/dedup stages as common table expressions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "schema/status.h"

namespace quarry::query {

/// A value bound to the compiled SQL (never pasted into it).
using SqlValue = std::variant<std::monostate, std::int64_t, double, std::string>;

/// Parameter numbers every compiled query uses: the time window (microseconds since 1970 UTC,
/// earliest inclusive, latest exclusive) and "now" for eval's now().
inline constexpr int kEarliestParam = 1;
inline constexpr int kLatestParam = 2;
inline constexpr int kNowParam = 3;

struct CompiledSearch {
  std::string sql;                       ///< one SELECT; ?1..?3 as above, then `params` from ?4
  std::vector<SqlValue> params;          ///< values for ?4, ?5, ...
  std::vector<std::string> columns;      ///< result fields in the search's order
  std::vector<bool> multivalue;          ///< per column: values joined by kMultivalueSeparator
  std::vector<std::string> key_columns;  ///< the tstats by-fields as the result names them
  std::vector<std::string> notes;        ///< things a user should know (unknown fields, ...)
};

/// Compiles an expanded search. With `windowed`, the tstats stage also keeps only events with
/// ?1 <= time < ?2; without, it reads the whole case (and the planner is free to pick the best
/// index). Anything outside the supported subset is kInvalidArgument with a message naming the
/// command and construct.
Result<CompiledSearch> CompileSplSearch(std::string_view search, bool windowed);

/// The stored Endpoint.Processes fields (CIM names) a case holds, and the CIM fields it leaves
/// empty (they compile to NULL).
const std::vector<std::string>& StoredProcessFields();
const std::vector<std::string>& UnstoredCimProcessFields();

}  // namespace quarry::query
