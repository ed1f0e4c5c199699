// Ad hoc SQL over a case database, printed as a table, CSV, JSON or JSON lines.
#pragma once

#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "query/spl_compiler.h"
#include "schema/case_db.h"
#include "schema/status.h"

namespace quarry::query {

/// How result rows are printed.
enum class OutputFormat {
  kTable,  ///< aligned columns for people; control characters shown as \n, \t, \xHH
  kCsv,    ///< RFC 4180, header row first, values as stored
  kJson,   ///< one JSON array of objects per statement that returns rows
  kJsonl,  ///< one JSON object per line
};

/// "table", "csv", "json" or "jsonl"; nothing for anything else.
std::optional<OutputFormat> ParseOutputFormat(std::string_view name);

/// Values for named SQL parameters, by name without the prefix: {"host", "WKS-07"} binds
/// `:host`, `@host` and `$host`.
using QueryParams = std::map<std::string, std::string, std::less<>>;

/// Runs each statement of `sql` in turn and prints the rows of those that return rows. Named
/// parameters are bound as text from `params` (never pasted into the SQL); a parameter without
/// a value, or a positional `?`, is kInvalidArgument. A statement that would change the database
/// is refused (kReadOnly) before it runs, so the case is never written; a syntax error is
/// kInvalidArgument naming SQLite's message. Output of the statements before a failing one has
/// been written.
Status RunAdHocQuery(schema::CaseDb* db, std::string_view sql, OutputFormat format,
                     std::ostream& out, const QueryParams& params = {});

/// Prints rows held in memory (a detection's results) in `format`, as RunAdHocQuery would.
Status PrintTable(const std::vector<std::string>& columns,
                  const std::vector<std::vector<SqlValue>>& rows, OutputFormat format,
                  std::ostream& out);

}  // namespace quarry::query
