// Running detections over a case: compile, search (whole case, a range, or the replayed
// schedule), apply the filter macro, and record notables, risk events and risk incidents.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "query/detection.h"
#include "query/spl_compiler.h"
#include "schema/case_db.h"
#include "schema/status.h"

namespace quarry::query {

/// Rows a search returned, columns in the search's order.
struct ResultTable {
  std::vector<std::string> columns;
  std::vector<bool> multivalue;  ///< per column, as CompiledSearch::multivalue
  std::vector<std::vector<SqlValue>> rows;
};

/// A detection ready to run: its search expanded and compiled with and without its filter.
struct CompiledDetection {
  std::string expanded_search;
  CompiledSearch filtered;         ///< whole case
  CompiledSearch unfiltered;       ///< whole case, filter macro as `search *`
  CompiledSearch filtered_window;  ///< ?1 <= time < ?2
  CompiledSearch unfiltered_window;
  std::string filter_origin;       ///< the filter macro's file, or "default" (`search *`)
  std::vector<std::string> notes;  ///< unknown fields, risk message tokens, ATT&CK ids
};

Result<CompiledDetection> CompileDetection(const Detection& detection, const MacroLibrary& macros);

/// Runs a compiled search; `earliest_us`/`latest_us` bind the window of a windowed search.
Result<ResultTable> RunSearch(schema::CaseDb* db, const CompiledSearch& search,
                              std::int64_t earliest_us, std::int64_t latest_us,
                              std::int64_t now_us);

/// What to run and over which time.
struct DetectOptions {
  std::vector<std::string> only;        ///< ids (or names, file stems); empty: all
  std::optional<std::string> earliest;  ///< ISO-8601 or Splunk relative time
  std::optional<std::string> latest;
  std::optional<std::string> now;  ///< default: the newest event in the case
  bool replay_schedule = false;
  /// Search and count what would be written, write nothing: no transaction, no result rows, no
  /// risk incidents (DetectReport::risk_incidents stays 0). `db` may be opened kReadOnly.
  bool dry_run = false;
};

/// One detection's run, as `quarry detect` reports it.
struct DetectionOutcome {
  const Detection* detection = nullptr;
  bool ok = false;
  std::string error;
  ResultTable results;  ///< after the filter, de-duplicated across windows
  std::int64_t before_filter = 0;
  std::int64_t filter_removed = 0;
  std::int64_t searches = 0;
  std::int64_t risk_events = 0;  ///< written, or with dry_run those that would be
  bool raises_notables = false;
  std::vector<std::string> notes;
};

/// Everything one `quarry detect` did.
struct DetectReport {
  std::vector<DetectionOutcome> outcomes;
  std::int64_t now_us = 0;
  std::optional<std::int64_t> earliest_us;
  std::optional<std::int64_t> latest_us;
  std::int64_t risk_incidents = 0;
};

/// Runs the selected detections of `catalog` on `db` (opened with OpenMode::kResults) and
/// replaces their earlier results in it. A detection that fails to compile or run is an outcome
/// with ok=false and the others still run; bad options (a time that does not parse, an --only
/// id that is not in the catalog) are errors before anything runs. With options.dry_run the
/// same searches run and the outcomes count what would be written, but nothing is.
Result<DetectReport> RunDetections(schema::CaseDb* db, const Catalog& catalog,
                                   const DetectOptions& options);

/// Replaces `risk_incidents` with Splunk ES's two default risk incident rules applied to every
/// risk event of the case; returns how many incidents there are.
Result<std::int64_t> RecomputeRiskIncidents(schema::CaseDb* db);

/// Fills each `$field$` of `message` from the row; a token naming no column of the row is
/// replaced by nothing and added to `unknown` (once).
std::string FillRiskMessage(std::string_view message, const std::vector<std::string>& columns,
                            const std::vector<SqlValue>& row, std::vector<std::string>* unknown);

/// ATT&CK tactics of a technique (sub-techniques have their parent's): {id, name} pairs in
/// matrix order; empty for an id the embedded table does not know.
std::vector<std::pair<std::string, std::string>> AttackTactics(std::string_view technique_id);

/// The rows for people: multivalue fields show one value per line, as Splunk's CSV export does.
std::vector<std::vector<SqlValue>> DisplayRows(const ResultTable& table);

/// Binds a compiled search's value at `index` (NULL for std::monostate; text is copied).
void BindValue(schema::Statement* stmt, int index, const SqlValue& value);

/// A SqlValue as Splunk would print it ("" for NULL).
std::string ValueText(const SqlValue& value);

}  // namespace quarry::query
