// Detection runner, notables, risk events and Splunk ES's default risk incident rules.
#include "query/detect.h"

#include <sqlite3.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <utility>

#include "query/evidence.h"
#include "query/sql_functions.h"
#include "query/text_escape.h"
#include "query/time_range.h"
#include "schema/embedded_file.h"
#include "schema/time_util.h"
#include "schema/version.h"

namespace quarry::query {
namespace attack_data {
extern const schema::EmbeddedFile kEmbeddedFiles[];
extern const int kEmbeddedFileCount;
}  // namespace attack_data

namespace {

using schema::CaseDb;
using schema::Statement;
using schema::ValueType;

constexpr std::int64_t kMinTime = std::numeric_limits<std::int64_t>::min();
constexpr std::int64_t kMaxTime = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kHourUs = 3600LL * 1000000;

std::string_view EmbeddedText(std::string_view name) {
  for (int i = 0; i < attack_data::kEmbeddedFileCount; ++i)
    if (attack_data::kEmbeddedFiles[i].name == name) return attack_data::kEmbeddedFiles[i].text;
  return {};
}

// Tab-separated lines of an embedded table, comments skipped.
std::vector<std::vector<std::string>> TsvRows(std::string_view text) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream in{std::string(text)};
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> cells;
    std::size_t start = 0;
    while (true) {
      std::size_t tab = line.find('\t', start);
      cells.push_back(line.substr(start, tab - start));
      if (tab == std::string::npos) break;
      start = tab + 1;
    }
    rows.push_back(std::move(cells));
  }
  return rows;
}

std::string JsonArray(const std::vector<std::string>& values) {
  std::string out = "[";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i) out += ", ";
    AppendJsonString(values[i], &out);
  }
  return out + "]";
}

void AppendJsonValue(const SqlValue& value, std::string* out) {
  if (std::holds_alternative<std::monostate>(value)) {
    *out += "null";
  } else if (const auto* integer = std::get_if<std::int64_t>(&value)) {
    *out += std::to_string(*integer);
  } else if (const auto* real = std::get_if<double>(&value)) {
    *out += std::isfinite(*real) ? ValueText(value) : "null";
  } else {
    AppendJsonString(std::get<std::string>(value), out);
  }
}

std::vector<std::string> CellValues(const SqlValue* cell);

// The row as a JSON object; a multivalue field is an array of its values.
std::string RowJson(const ResultTable& table, const std::vector<SqlValue>& row) {
  std::string out = "{";
  for (std::size_t c = 0; c < table.columns.size(); ++c) {
    if (c) out += ", ";
    AppendJsonString(table.columns[c], &out);
    out += ": ";
    if (c < table.multivalue.size() && table.multivalue[c] &&
        std::holds_alternative<std::string>(row[c])) {
      out += JsonArray(CellValues(&row[c]));
    } else {
      AppendJsonValue(row[c], &out);
    }
  }
  return out + "}";
}

const SqlValue* Cell(const ResultTable& table, const std::vector<SqlValue>& row,
                     std::string_view column) {
  for (std::size_t c = 0; c < table.columns.size(); ++c)
    if (table.columns[c] == column) return &row[c];
  return nullptr;
}

// The values of a (possibly multivalue) cell; none for NULL or "".
std::vector<std::string> CellValues(const SqlValue* cell) {
  std::vector<std::string> values;
  if (cell == nullptr || std::holds_alternative<std::monostate>(*cell)) return values;
  std::string text = ValueText(*cell);
  std::size_t start = 0;
  while (true) {
    std::size_t end = text.find(kMultivalueSeparator, start);
    std::string value = text.substr(start, end - start);
    if (!value.empty()) values.push_back(std::move(value));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return values;
}

// When a result happened: its _time, else lastTime, else firstTime (epoch seconds or the
// ctime text ESCU writes), else `fallback`.
std::int64_t ResultTime(const ResultTable& table, const std::vector<SqlValue>& row,
                        std::int64_t fallback) {
  for (std::string_view column : {"_time", "lastTime", "firstTime"}) {
    const SqlValue* cell = Cell(table, row, column);
    if (cell == nullptr) continue;
    if (const auto* integer = std::get_if<std::int64_t>(cell)) return *integer * 1000000;
    if (const auto* real = std::get_if<double>(cell)) {
      if (std::isfinite(*real) && std::fabs(*real) < 2.5e11)
        return static_cast<std::int64_t>(std::floor(*real * 1e6 + 0.5));
    }
    if (const auto* text = std::get_if<std::string>(cell)) {
      if (auto parsed = schema::ParseUtcTimestamp(*text)) return *parsed;
    }
  }
  return fallback;
}

std::string RowKey(const ResultTable& table, const std::vector<SqlValue>& row,
                   const std::vector<std::string>& key_columns) {
  std::string key;
  bool all_present = !key_columns.empty();
  for (const std::string& column : key_columns)
    if (Cell(table, row, column) == nullptr) all_present = false;
  if (all_present) {
    for (const std::string& column : key_columns) {
      AppendJsonValue(*Cell(table, row, column), &key);
      key.push_back('\x1f');
    }
    return key;
  }
  for (const SqlValue& value : row) {
    AppendJsonValue(value, &key);
    key.push_back('\x1f');
  }
  return key;
}

struct TacticInfo {
  std::string id;
  std::string name;
  std::size_t order;
};

const std::map<std::string, TacticInfo>& TacticsByShortname() {
  static const std::map<std::string, TacticInfo> tactics = [] {
    std::map<std::string, TacticInfo> out;
    std::size_t order = 0;
    for (const auto& row : TsvRows(EmbeddedText("tactics.tsv")))
      if (row.size() >= 3) out[row[1]] = TacticInfo{row[0], row[2], order++};
    return out;
  }();
  return tactics;
}

const std::map<std::string, std::vector<std::string>>& TechniqueTactics() {
  static const std::map<std::string, std::vector<std::string>> techniques = [] {
    std::map<std::string, std::vector<std::string>> out;
    for (const auto& row : TsvRows(EmbeddedText("techniques.tsv"))) {
      if (row.size() < 2) continue;
      std::vector<std::string> shortnames;
      std::size_t start = 0;
      while (true) {
        std::size_t comma = row[1].find(',', start);
        shortnames.push_back(row[1].substr(start, comma - start));
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
      out[row[0]] = std::move(shortnames);
    }
    return out;
  }();
  return techniques;
}

struct RunWindow {
  std::int64_t earliest_us;
  std::int64_t latest_us;
  std::optional<std::int64_t> run_us;  // schedule replay only
};

struct KeptRow {
  std::vector<SqlValue> row;
  const RunWindow* window;
  bool adds_risk = true;  // false: its processes were scored by an earlier result (MarkRiskOnce)
};

Result<std::int64_t> QueryOptionalInt(CaseDb* db, std::string_view sql, bool* is_null) {
  Result<Statement> stmt = db->Prepare(sql);
  if (!stmt.ok()) return stmt.status();
  Result<bool> row = stmt->Step();
  if (!row.ok()) return row.status();
  *is_null = !*row || stmt->ColumnType(0) == ValueType::kNull;
  return *is_null ? 0 : stmt->ColumnInt(0);
}

Result<bool> WindowHasEvents(CaseDb* db, std::int64_t earliest_us, std::int64_t latest_us) {
  Result<Statement> stmt =
      db->Prepare("SELECT 1 FROM process_events WHERE time_us >= ?1 AND time_us < ?2 LIMIT 1");
  if (!stmt.ok()) return stmt.status();
  stmt->BindInt(1, earliest_us);
  stmt->BindInt(2, latest_us);
  return stmt->Step();
}

std::string IsoOrNull(std::optional<std::int64_t> time_us) {
  return time_us ? schema::FormatIsoUtc(*time_us) : std::string();
}

// Runs one detection over its windows; fills `outcome` and returns the kept rows.
// Counts the rows of one window that a window overlapping an earlier one already raised (the
// same key: the tstats by-fields, or the whole row); `last_seen` maps a key to the end of the
// last window that returned it. Rows of one window are never merged with each other.
class OverlapFilter {
 public:
  bool IsRepeat(const std::string& key, const RunWindow& window) const {
    auto it = last_seen_.find(key);
    return it != last_seen_.end() && window.earliest_us < it->second;
  }
  void Remember(const std::string& key, const RunWindow& window) {
    last_seen_[key] = window.latest_us;
  }

 private:
  std::map<std::string, std::int64_t> last_seen_;
};

Status SearchDetection(CaseDb* db, const CompiledDetection& compiled,
                       const std::vector<RunWindow>& windows, bool windowed, std::int64_t now_us,
                       DetectionOutcome* outcome, std::vector<KeptRow>* kept) {
  const CompiledSearch& filtered = windowed ? compiled.filtered_window : compiled.filtered;
  const CompiledSearch& unfiltered = windowed ? compiled.unfiltered_window : compiled.unfiltered;
  OverlapFilter seen, seen_unfiltered;
  outcome->results.columns = filtered.columns;
  outcome->results.multivalue = filtered.multivalue;
  std::int64_t before_filter = 0;
  for (const RunWindow& window : windows) {
    if (windowed) {
      Result<bool> any = WindowHasEvents(db, window.earliest_us, window.latest_us);
      if (!any.ok()) return any.status();
      if (!*any) continue;
    }
    ++outcome->searches;
    Result<ResultTable> rows =
        RunSearch(db, filtered, window.earliest_us, window.latest_us, now_us);
    if (!rows.ok()) return rows.status();
    Result<ResultTable> all =
        RunSearch(db, unfiltered, window.earliest_us, window.latest_us, now_us);
    if (!all.ok()) return all.status();
    std::vector<std::string> keys;
    for (const auto& row : all->rows) {
      keys.push_back(RowKey(*all, row, unfiltered.key_columns));
      if (!seen_unfiltered.IsRepeat(keys.back(), window)) ++before_filter;
    }
    for (const std::string& key : keys) seen_unfiltered.Remember(key, window);
    keys.clear();
    for (auto& row : rows->rows) {
      keys.push_back(RowKey(*rows, row, filtered.key_columns));
      if (seen.IsRepeat(keys.back(), window)) continue;
      kept->push_back(KeptRow{row, &window});
      outcome->results.rows.push_back(std::move(row));
    }
    for (const std::string& key : keys) seen.Remember(key, window);
  }
  outcome->before_filter = before_filter;
  outcome->filter_removed = std::max<std::int64_t>(
      0, outcome->before_filter - static_cast<std::int64_t>(outcome->results.rows.size()));
  return Status::Ok();
}

Status DeleteResults(CaseDb* db, const std::string& detection_id) {
  for (std::string_view sql : {"DELETE FROM risk_events WHERE detection_id = ?1",
                               "DELETE FROM detection_results WHERE detection_id = ?1",
                               "DELETE FROM detection_runs WHERE detection_id = ?1"}) {
    Result<Statement> stmt = db->Prepare(sql);
    if (!stmt.ok()) return stmt.status();
    stmt->BindTextCopy(1, detection_id);
    QUARRY_RETURN_IF_ERROR(stmt->Run());
  }
  return Status::Ok();
}

struct RunRecord {
  std::string mode;
  std::optional<std::int64_t> earliest_us;
  std::optional<std::int64_t> latest_us;
  std::string started_at;
};

Status WriteOutcome(CaseDb* db, const Detection& detection, const CompiledDetection* compiled,
                    const RunRecord& record, const std::vector<KeptRow>& kept,
                    std::int64_t fallback_time_us, DetectionOutcome* outcome) {
  QUARRY_RETURN_IF_ERROR(DeleteResults(db, detection.id));
  Result<Statement> run = db->Prepare(
      "INSERT INTO detection_runs (detection_id, detection_name, detection_version, "
      "detection_type, origin, description, security_domain, severity, mitre_attack_ids, "
      "analytic_stories, filter_macro, filter_origin, mode, earliest, latest, searches, "
      "results_before_filter, results, filter_removed, status, error, notes, compiled_sql, "
      "started_at, quarry_version, known_false_positives) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
      "?9, ?10, ?11, ?12, "
      "?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26)");
  if (!run.ok()) return run.status();
  run->BindTextCopy(1, detection.id);
  run->BindTextCopy(2, detection.name);
  run->BindInt(3, detection.version);
  run->BindTextCopy(4, detection.type);
  run->BindTextCopy(5, detection.origin);
  run->BindTextCopy(6, detection.description);
  run->BindTextCopy(7, detection.security_domain);
  run->BindTextCopy(8, detection.Severity());
  std::string mitre = JsonArray(detection.mitre_attack_ids);
  std::string stories = JsonArray(detection.analytic_stories);
  run->BindTextCopy(9, mitre);
  run->BindTextCopy(10, stories);
  std::string filter_name = detection.FilterMacroName();
  run->BindTextCopy(11, filter_name);
  run->BindTextCopy(12, compiled ? compiled->filter_origin : std::string("default"));
  run->BindTextCopy(13, record.mode);
  std::string earliest = IsoOrNull(record.earliest_us);
  std::string latest = IsoOrNull(record.latest_us);
  if (record.earliest_us)
    run->BindTextCopy(14, earliest);
  else
    run->BindNull(14);
  if (record.latest_us)
    run->BindTextCopy(15, latest);
  else
    run->BindNull(15);
  run->BindInt(16, outcome->searches);
  run->BindInt(17, outcome->before_filter);
  run->BindInt(18, static_cast<std::int64_t>(outcome->results.rows.size()));
  run->BindInt(19, outcome->filter_removed);
  run->BindTextCopy(20, outcome->ok ? "ok" : "error");
  if (outcome->ok)
    run->BindNull(21);
  else
    run->BindTextCopy(21, outcome->error);
  std::string notes = JsonArray(outcome->notes);
  run->BindTextCopy(22, notes);
  if (compiled)
    run->BindTextCopy(23, compiled->filtered.sql);
  else
    run->BindNull(23);
  run->BindTextCopy(24, record.started_at);
  run->BindTextCopy(25, kQuarryVersion);
  run->BindTextCopy(26, detection.known_false_positives);
  QUARRY_RETURN_IF_ERROR(run->Run());
  const std::int64_t run_id = db->LastInsertRowId();
  if (!outcome->ok) return Status::Ok();

  Result<Statement> result = db->Prepare(
      "INSERT INTO detection_results (run_id, detection_id, result_number, fields, dest, user, "
      "result_time, window_earliest, window_latest, run_time) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
  if (!result.ok()) return result.status();
  Result<Statement> risk = db->Prepare(
      "INSERT INTO risk_events (result_id, run_id, detection_id, source, _time, time_us, "
      "risk_object, risk_object_type, risk_score, risk_message, threat_objects, "
      "mitre_technique_ids, mitre_tactic_ids, mitre_tactics, analytic_stories) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)");
  if (!risk.ok()) return risk.status();

  // Tactics of the detection's techniques, in matrix order.
  std::vector<TacticInfo> tactics;
  for (const std::string& technique : detection.mitre_attack_ids) {
    for (const auto& tactic : AttackTactics(technique)) {
      bool have = std::any_of(tactics.begin(), tactics.end(),
                              [&](const TacticInfo& t) { return t.id == tactic.first; });
      if (!have)
        tactics.push_back(TacticInfo{tactic.first, tactic.second, TacticsByShortname().size()});
    }
  }
  std::vector<std::string> tactic_ids, tactic_names;
  for (const TacticInfo& tactic : tactics) {
    tactic_ids.push_back(tactic.id);
    tactic_names.push_back(tactic.name);
  }
  std::string tactic_ids_json = JsonArray(tactic_ids);
  std::string tactic_names_json = JsonArray(tactic_names);

  std::vector<std::string> unknown_tokens;
  const ResultTable& table = outcome->results;
  for (std::size_t i = 0; i < kept.size(); ++i) {
    const std::vector<SqlValue>& row = kept[i].row;
    const RunWindow& window = *kept[i].window;
    std::int64_t fallback = window.run_us ? *window.run_us : fallback_time_us;
    std::int64_t time_us = ResultTime(table, row, fallback);
    std::string time_iso = schema::FormatIsoUtc(time_us);
    result->Reset();
    result->BindInt(1, run_id);
    result->BindTextCopy(2, detection.id);
    result->BindInt(3, static_cast<std::int64_t>(i + 1));
    std::string fields = RowJson(table, row);
    result->BindTextCopy(4, fields);
    std::vector<std::string> dest = CellValues(Cell(table, row, "dest"));
    std::vector<std::string> user = CellValues(Cell(table, row, "user"));
    std::string dest_text =
        ValueText(Cell(table, row, "dest") ? *Cell(table, row, "dest") : SqlValue{});
    std::string user_text =
        ValueText(Cell(table, row, "user") ? *Cell(table, row, "user") : SqlValue{});
    if (dest.empty())
      result->BindNull(5);
    else
      result->BindTextCopy(5, dest_text);
    if (user.empty())
      result->BindNull(6);
    else
      result->BindTextCopy(6, user_text);
    result->BindTextCopy(7, time_iso);
    if (window.run_us) {  // schedule replay: the window that raised it
      std::string window_earliest = schema::FormatIsoUtc(window.earliest_us);
      std::string window_latest = schema::FormatIsoUtc(window.latest_us);
      std::string run_time = schema::FormatIsoUtc(*window.run_us);
      result->BindTextCopy(8, window_earliest);
      result->BindTextCopy(9, window_latest);
      result->BindTextCopy(10, run_time);
    } else {
      result->BindNull(8);
      result->BindNull(9);
      result->BindNull(10);
    }
    QUARRY_RETURN_IF_ERROR(result->Run());
    const std::int64_t result_id = db->LastInsertRowId();
    if (!detection.AddsRisk() || !kept[i].adds_risk) continue;

    std::string message =
        FillRiskMessage(detection.risk_message, table.columns, row, &unknown_tokens);
    std::string threats = "[";
    for (const ThreatObject& threat : detection.threat_objects) {
      for (const std::string& value : CellValues(Cell(table, row, threat.field))) {
        if (threats.size() > 1) threats += ", ";
        threats += "{\"threat_object\": ";
        AppendJsonString(value, &threats);
        threats += ", \"threat_object_type\": ";
        AppendJsonString(threat.type, &threats);
        threats += "}";
      }
    }
    threats += "]";
    for (const RiskObject& object : detection.risk_objects) {
      for (const std::string& value : CellValues(Cell(table, row, object.field))) {
        risk->Reset();
        risk->BindInt(1, result_id);
        risk->BindInt(2, run_id);
        risk->BindTextCopy(3, detection.id);
        risk->BindTextCopy(4, detection.name);
        risk->BindTextCopy(5, time_iso);
        risk->BindInt(6, time_us);
        risk->BindTextCopy(7, value);
        risk->BindTextCopy(8, object.type);
        risk->BindInt(9, object.score);
        risk->BindTextCopy(10, message);
        risk->BindTextCopy(11, threats);
        risk->BindTextCopy(12, mitre);
        risk->BindTextCopy(13, tactic_ids_json);
        risk->BindTextCopy(14, tactic_names_json);
        risk->BindTextCopy(15, stories);
        QUARRY_RETURN_IF_ERROR(risk->Run());
        ++outcome->risk_events;
      }
    }
  }
  for (const std::string& token : unknown_tokens) {
    outcome->notes.push_back("risk message token $" + token +
                             "$ names no field of the results; it was left empty");
  }
  if (!unknown_tokens.empty()) {
    Result<Statement> update =
        db->Prepare("UPDATE detection_runs SET notes = ?1 WHERE run_id = ?2");
    if (!update.ok()) return update.status();
    std::string all_notes = JsonArray(outcome->notes);
    update->BindTextCopy(1, all_notes);
    update->BindInt(2, run_id);
    QUARRY_RETURN_IF_ERROR(update->Run());
  }
  return Status::Ok();
}

// Risk once per process. Sysmon and Security log every process start, and a detection whose
// grouping keeps their rows apart (process_guid exists in Sysmon's only) returns one result per
// source for one process. A result whose events are all processes that an earlier result of
// the same run already scored, for the same risk objects, adds no risk; it stays a result. The
// events come from the rule the report's evidence uses (query/evidence.h), the processes from
// process_links. Notes how many results were passed over.
Status MarkRiskOnce(CaseDb* db, const Detection& detection, const ResultTable& table,
                    std::vector<KeptRow>* kept, std::vector<std::string>* notes) {
  if (!detection.AddsRisk()) return Status::Ok();
  std::map<std::string, std::set<std::int64_t>> scored;  // risk objects -> processes scored
  std::int64_t passed_over = 0;
  for (KeptRow& kept_row : *kept) {
    std::vector<std::string> params;
    bool bounded = false;
    std::string condition = EvidenceCondition(
        [&](std::string_view field) -> std::optional<std::string> {
          std::vector<std::string> values = CellValues(Cell(table, kept_row.row, field));
          if (values.size() != 1) return std::nullopt;
          return values[0];
        },
        &params, &bounded);
    if (condition.empty()) continue;
    Result<Statement> stmt = db->Prepare(
        "SELECT DISTINCT COALESCE(l.process_key, e.event_id) FROM process_events AS e "
        "LEFT JOIN process_links AS l USING (event_id) WHERE " +
        condition + " LIMIT 1000");
    if (!stmt.ok()) return stmt.status();
    for (std::size_t p = 0; p < params.size(); ++p)
      stmt->BindTextCopy(static_cast<int>(p) + 1, params[p]);
    std::set<std::int64_t> processes;
    while (true) {
      Result<bool> step = stmt->Step();
      if (!step.ok()) return step.status();
      if (!*step) break;
      processes.insert(stmt->ColumnInt(0));
    }
    if (processes.empty()) continue;  // no stored event to tell by
    std::string objects;
    for (const RiskObject& object : detection.risk_objects) {
      for (const std::string& value : CellValues(Cell(table, kept_row.row, object.field)))
        objects += object.type + '\x1f' + value + '\x1e';
    }
    std::set<std::int64_t>& seen = scored[objects];
    kept_row.adds_risk =
        !std::includes(seen.begin(), seen.end(), processes.begin(), processes.end());
    if (!kept_row.adds_risk) ++passed_over;
    seen.insert(processes.begin(), processes.end());
  }
  if (passed_over > 0) {
    notes->push_back(std::to_string(passed_over) +
                     " results are processes an earlier result already scored (rows of two "
                     "sources for one process, view process_sightings): they add no risk");
  }
  return Status::Ok();
}

// The risk events WriteOutcome would add for `kept` (one per value of each risk object field of
// each result), counted without writing: what `detect --dry-run` reports.
std::int64_t CountRiskEvents(const Detection& detection, const ResultTable& table,
                             const std::vector<KeptRow>& kept) {
  if (!detection.AddsRisk()) return 0;
  std::int64_t count = 0;
  for (const KeptRow& kept_row : kept) {
    if (!kept_row.adds_risk) continue;
    for (const RiskObject& object : detection.risk_objects)
      count +=
          static_cast<std::int64_t>(CellValues(Cell(table, kept_row.row, object.field)).size());
  }
  return count;
}

std::string IncidentSeverity(std::int64_t score) {
  if (score >= 500) return "critical";
  if (score >= 250) return "high";
  return "medium";
}

struct RiskRow {
  std::int64_t time_us;
  std::int64_t score;
  std::string source;
  std::vector<std::string> tactics;
};

// The risk events of one object inside (end - span, end], kept up to date as `end` moves on.
struct SlidingRisk {
  explicit SlidingRisk(std::int64_t span) : span_us(span) {}

  // Takes in the events before index `stop` and lets go of those at or before end - span.
  void Advance(const std::vector<RiskRow>& rows, std::size_t stop, std::int64_t end_us) {
    for (; added < stop; ++added) Count(rows[added], +1);
    while (first < added && rows[first].time_us <= end_us - span_us) Count(rows[first++], -1);
  }

  void Count(const RiskRow& row, int delta) {
    sum += delta * row.score;
    auto bump = [delta](std::map<std::string, int>* counts, const std::string& key) {
      if ((*counts)[key] += delta; (*counts)[key] == 0) counts->erase(key);
    };
    for (const std::string& tactic : row.tactics) bump(&tactics, tactic);
    bump(&sources, row.source);
  }

  std::int64_t span_us;
  std::size_t first = 0;
  std::size_t added = 0;
  std::int64_t sum = 0;
  std::map<std::string, int> tactics;  // tactic id -> events holding it
  std::map<std::string, int> sources;  // detection -> events
};

}  // namespace

void BindValue(schema::Statement* stmt, int index, const SqlValue& value) {
  if (const auto* integer = std::get_if<std::int64_t>(&value)) {
    stmt->BindInt(index, *integer);
  } else if (const auto* real = std::get_if<double>(&value)) {
    stmt->BindDouble(index, *real);
  } else if (const auto* text = std::get_if<std::string>(&value)) {
    stmt->BindTextCopy(index, *text);
  } else {
    stmt->BindNull(index);
  }
}

Result<std::int64_t> RecomputeRiskIncidents(CaseDb* db) {
  QUARRY_RETURN_IF_ERROR(db->Exec("DELETE FROM risk_incidents"));
  Result<Statement> read = db->Prepare(
      "SELECT risk_object, risk_object_type, time_us, risk_score, source, mitre_tactic_ids "
      "FROM risk_events ORDER BY risk_object COLLATE NOCASE, risk_object_type, time_us, "
      "risk_event_id");
  if (!read.ok()) return read.status();
  std::map<std::pair<std::string, std::string>, std::vector<RiskRow>> by_object;
  std::map<std::pair<std::string, std::string>, std::string> display;
  while (true) {
    Result<bool> row = read->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    std::string object(read->ColumnText(0));
    std::string lowered = object;
    for (char& c : lowered) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    auto key = std::make_pair(lowered, std::string(read->ColumnText(1)));
    display.emplace(key, object);
    RiskRow risk{read->ColumnInt(2), read->ColumnInt(3), std::string(read->ColumnText(4)), {}};
    std::string tactics(read->ColumnText(5));  // JSON array of "TA00xx" ids
    for (std::size_t at = tactics.find("\"TA"); at != std::string::npos;
         at = tactics.find("\"TA", at + 1)) {
      std::size_t end = tactics.find('"', at + 1);
      risk.tactics.push_back(tactics.substr(at + 1, end - at - 1));
    }
    by_object[key].push_back(std::move(risk));
  }
  Result<Statement> insert = db->Prepare(
      "INSERT INTO risk_incidents (rule, risk_object, risk_object_type, window_start, "
      "window_end, risk_score_sum, tactics, sources, severity) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
  if (!insert.ok()) return insert.status();
  std::int64_t incidents = 0;
  auto write = [&](std::string_view rule, const std::pair<std::string, std::string>& key,
                   std::int64_t end_us, std::int64_t span_us, std::int64_t sum,
                   std::int64_t tactics, std::int64_t sources) -> Status {
    insert->Reset();
    insert->BindTextCopy(1, rule);
    insert->BindTextCopy(2, display[key]);
    insert->BindTextCopy(3, key.second);
    insert->BindTextCopy(4, schema::FormatIsoUtc(end_us - span_us));
    insert->BindTextCopy(5, schema::FormatIsoUtc(end_us));
    insert->BindInt(6, sum);
    insert->BindInt(7, tactics);
    insert->BindInt(8, sources);
    insert->BindTextCopy(9, IncidentSeverity(sum));
    ++incidents;
    return insert->Run();
  };
  for (const auto& [key, rows] : by_object) {
    // Windows (end - span, end] end at each risk event time; two sliding windows over the
    // time-ordered events keep sums and per-tactic and per-source counts, so this is
    // O(n log n) per object.
    SlidingRisk day(24 * kHourUs), week(7 * 24 * kHourUs);
    std::int64_t best_sum = -1, best_end = 0, best_tactics = 0, best_sources = 0;
    std::int64_t best_t_count = -1, t_end = 0, t_sum = 0, t_sources = 0;
    for (std::size_t i = 0; i < rows.size();) {
      std::size_t next = i;
      while (next < rows.size() && rows[next].time_us == rows[i].time_us) ++next;
      const std::int64_t end_us = rows[i].time_us;
      day.Advance(rows, next, end_us);
      week.Advance(rows, next, end_us);
      if (day.sum > 100 && day.sum > best_sum) {
        best_sum = day.sum;
        best_end = end_us;
        best_tactics = static_cast<std::int64_t>(day.tactics.size());
        best_sources = static_cast<std::int64_t>(day.sources.size());
      }
      auto week_tactics = static_cast<std::int64_t>(week.tactics.size());
      if (week_tactics >= 3 && week.sources.size() >= 4 && week_tactics > best_t_count) {
        best_t_count = week_tactics;
        t_end = end_us;
        t_sum = week.sum;
        t_sources = static_cast<std::int64_t>(week.sources.size());
      }
      i = next;
    }
    if (best_sum > 100) {
      QUARRY_RETURN_IF_ERROR(write("Risk Threshold Exceeded For Object Over 24 Hour Period", key,
                                   best_end, 24 * kHourUs, best_sum, best_tactics, best_sources));
    }
    if (best_t_count >= 3) {
      QUARRY_RETURN_IF_ERROR(
          write("ATT&CK Tactic Threshold Exceeded For Object Over Previous 7 Days", key, t_end,
                7 * 24 * kHourUs, t_sum, best_t_count, t_sources));
    }
  }
  return incidents;
}

std::string ValueText(const SqlValue& value) {
  if (const auto* integer = std::get_if<std::int64_t>(&value)) return std::to_string(*integer);
  if (const auto* real = std::get_if<double>(&value)) {
    char buffer[40];
    std::snprintf(buffer, sizeof buffer, "%.17g", *real);
    // Prefer the shortest text that reads back the same, as people write numbers.
    for (int precision = 1; precision <= 17; ++precision) {
      char shorter[40];
      std::snprintf(shorter, sizeof shorter, "%.*g", precision, *real);
      if (std::strtod(shorter, nullptr) == *real) return shorter;
    }
    return buffer;
  }
  if (const auto* text = std::get_if<std::string>(&value)) return *text;
  return "";
}

std::vector<std::vector<SqlValue>> DisplayRows(const ResultTable& table) {
  std::vector<std::vector<SqlValue>> rows = table.rows;
  for (auto& row : rows) {
    for (std::size_t c = 0; c < row.size() && c < table.multivalue.size(); ++c) {
      auto* text = std::get_if<std::string>(&row[c]);
      if (table.multivalue[c] && text != nullptr)
        std::replace(text->begin(), text->end(), kMultivalueSeparator, '\n');
    }
  }
  return rows;
}

std::string FillRiskMessage(std::string_view message, const std::vector<std::string>& columns,
                            const std::vector<SqlValue>& row, std::vector<std::string>* unknown) {
  std::string out;
  std::size_t pos = 0;
  while (pos < message.size()) {
    std::size_t open = message.find('$', pos);
    if (open == std::string_view::npos) break;
    std::size_t close = message.find('$', open + 1);
    if (close == std::string_view::npos) break;
    out.append(message.substr(pos, open - pos));
    std::string token(message.substr(open + 1, close - open - 1));
    auto it = std::find(columns.begin(), columns.end(), token);
    if (it != columns.end()) {
      std::string value = ValueText(row[static_cast<std::size_t>(it - columns.begin())]);
      std::replace(value.begin(), value.end(), kMultivalueSeparator, ',');
      out += value;
    } else if (unknown != nullptr &&
               std::find(unknown->begin(), unknown->end(), token) == unknown->end()) {
      unknown->push_back(token);
    }
    pos = close + 1;
  }
  out.append(message.substr(pos));
  return out;
}

std::vector<std::pair<std::string, std::string>> AttackTactics(std::string_view technique_id) {
  const auto& techniques = TechniqueTactics();
  auto it = techniques.find(std::string(technique_id));
  if (it == techniques.end()) return {};
  std::vector<const TacticInfo*> tactics;
  for (const std::string& shortname : it->second) {
    auto tactic = TacticsByShortname().find(shortname);
    if (tactic != TacticsByShortname().end()) tactics.push_back(&tactic->second);
  }
  std::sort(tactics.begin(), tactics.end(),
            [](const TacticInfo* a, const TacticInfo* b) { return a->order < b->order; });
  std::vector<std::pair<std::string, std::string>> out;
  for (const TacticInfo* tactic : tactics) out.emplace_back(tactic->id, tactic->name);
  return out;
}

Result<CompiledDetection> CompileDetection(const Detection& detection, const MacroLibrary& macros) {
  CompiledDetection compiled;
  std::string filter_call(1, '`');  // built step by step: GCC 12 -O3 -Wrestrict misfires
  filter_call += detection.FilterMacroName();
  filter_call += '`';
  std::vector<std::string> defaulted;
  Result<std::string> expanded = macros.Expand(detection.search, &defaulted);
  if (!expanded.ok()) return expanded.status();
  compiled.expanded_search = *expanded;
  std::string unfiltered_text = detection.search;
  std::size_t at = unfiltered_text.find(filter_call);
  if (at != std::string::npos) unfiltered_text.replace(at, filter_call.size(), "search *");
  Result<std::string> unfiltered_expanded = macros.Expand(unfiltered_text);
  if (!unfiltered_expanded.ok()) return unfiltered_expanded.status();
  const Macro* filter = macros.Find(detection.FilterMacroName(), 0);
  compiled.filter_origin = filter != nullptr ? filter->origin : "default";
  struct Target {
    const std::string* text;
    bool windowed;
    CompiledSearch* out;
  } targets[] = {{&*expanded, false, &compiled.filtered},
                 {&*unfiltered_expanded, false, &compiled.unfiltered},
                 {&*expanded, true, &compiled.filtered_window},
                 {&*unfiltered_expanded, true, &compiled.unfiltered_window}};
  for (const Target& target : targets) {
    Result<CompiledSearch> search = CompileSplSearch(*target.text, target.windowed);
    if (!search.ok()) return search.status();
    *target.out = std::move(*search);
  }
  compiled.notes = compiled.filtered.notes;
  std::vector<std::string> unknown;
  FillRiskMessage(detection.risk_message, compiled.filtered.columns,
                  std::vector<SqlValue>(compiled.filtered.columns.size()), &unknown);
  for (const std::string& token : unknown) {
    compiled.notes.push_back("risk message token $" + token +
                             "$ names no field of the results; it will be left empty");
  }
  for (const std::string& technique : detection.mitre_attack_ids) {
    if (AttackTactics(technique).empty())
      compiled.notes.push_back("ATT&CK id " + technique + " is not in ATT&CK Enterprise v18.1");
  }
  return compiled;
}

Result<ResultTable> RunSearch(CaseDb* db, const CompiledSearch& search, std::int64_t earliest_us,
                              std::int64_t latest_us, std::int64_t now_us) {
  Result<Statement> stmt = db->Prepare(search.sql);
  if (!stmt.ok()) return stmt.status();
  int parameters = stmt->ParameterCount();
  if (parameters >= kEarliestParam) stmt->BindInt(kEarliestParam, earliest_us);
  if (parameters >= kLatestParam) stmt->BindInt(kLatestParam, latest_us);
  if (parameters >= kNowParam) stmt->BindInt(kNowParam, now_us);
  for (std::size_t i = 0; i < search.params.size(); ++i)
    BindValue(&*stmt, static_cast<int>(i) + kNowParam + 1, search.params[i]);
  ResultTable table;
  table.columns = search.columns;
  table.multivalue = search.multivalue;
  while (true) {
    Result<bool> row = stmt->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    std::vector<SqlValue> values;
    for (int c = 0; c < stmt->ColumnCount(); ++c) {
      switch (stmt->ColumnType(c)) {
        case ValueType::kNull:
          values.emplace_back();
          break;
        case ValueType::kInteger:
          values.emplace_back(stmt->ColumnInt(c));
          break;
        case ValueType::kReal:
          values.emplace_back(stmt->ColumnDouble(c));
          break;
        default:
          values.emplace_back(std::string(stmt->ColumnText(c)));
      }
    }
    table.rows.push_back(std::move(values));
  }
  return table;
}

Result<DetectReport> RunDetections(CaseDb* db, const Catalog& catalog,
                                   const DetectOptions& options) {
  QUARRY_RETURN_IF_ERROR(RegisterSplFunctions(db));
  DetectReport report;
  std::vector<const Detection*> selected;
  if (options.only.empty()) {
    for (const Detection& detection : catalog.detections) selected.push_back(&detection);
  } else {
    for (const std::string& key : options.only) {
      const Detection* detection = catalog.Find(key);
      if (detection == nullptr)
        return Status(StatusCode::kNotFound, "no detection " + key + " in the catalog");
      selected.push_back(detection);
    }
  }
  bool empty = false;
  Result<std::int64_t> newest =
      QueryOptionalInt(db, "SELECT max(time_us) FROM process_events", &empty);
  if (!newest.ok()) return newest.status();
  Result<std::int64_t> oldest =
      QueryOptionalInt(db, "SELECT min(time_us) FROM process_events", &empty);
  if (!oldest.ok()) return oldest.status();
  report.now_us = empty ? 0 : *newest;
  if (options.now) {
    Result<std::int64_t> now = ResolveTime(*options.now, report.now_us);
    if (!now.ok()) return Status(StatusCode::kInvalidArgument, "--now: " + now.status().message());
    report.now_us = *now;
  }
  if (options.earliest) {
    Result<std::int64_t> earliest = ResolveTime(*options.earliest, report.now_us);
    if (!earliest.ok())
      return Status(StatusCode::kInvalidArgument, "--earliest: " + earliest.status().message());
    report.earliest_us = *earliest;
  }
  if (options.latest) {
    Result<std::int64_t> latest = ResolveTime(*options.latest, report.now_us);
    if (!latest.ok())
      return Status(StatusCode::kInvalidArgument, "--latest: " + latest.status().message());
    report.latest_us = *latest;
  }
  if (options.replay_schedule && (options.earliest || options.latest)) {
    return Status(StatusCode::kInvalidArgument,
                  "--replay-schedule covers the case's whole time span; it does not combine "
                  "with --earliest/--latest");
  }
  const bool windowed = options.replay_schedule || report.earliest_us || report.latest_us;
  RunRecord record{options.replay_schedule ? "schedule" : "range", report.earliest_us,
                   report.latest_us, schema::NowIsoUtc()};

  const bool write = !options.dry_run;
  if (write) QUARRY_RETURN_IF_ERROR(db->Exec("BEGIN IMMEDIATE"));
  auto fail = [&](Status status) {
    if (write) (void)db->Exec("ROLLBACK");
    return status;
  };
  for (const Detection* detection : selected) {
    DetectionOutcome outcome;
    outcome.detection = detection;
    outcome.raises_notables = detection->RaisesNotables();
    std::vector<KeptRow> kept;
    std::vector<RunWindow> windows;
    Result<CompiledDetection> compiled = CompileDetection(*detection, catalog.macros);
    if (!compiled.ok()) {
      outcome.error = compiled.status().message();
    } else {
      outcome.notes = compiled->notes;
      if (options.replay_schedule) {
        if (!empty) {
          Result<std::vector<ScheduledWindow>> replay =
              ReplayWindows(detection->schedule.cron, detection->schedule.earliest,
                            detection->schedule.latest, *oldest, *newest);
          if (!replay.ok()) {
            outcome.error = "schedule: " + replay.status().message();
          } else {
            for (const ScheduledWindow& window : *replay)
              windows.push_back(RunWindow{window.earliest_us, window.latest_us, window.run_us});
          }
        }
      } else {
        windows.push_back(RunWindow{report.earliest_us.value_or(kMinTime),
                                    report.latest_us.value_or(kMaxTime), std::nullopt});
      }
      if (outcome.error.empty()) {
        Status searched =
            SearchDetection(db, *compiled, windows, windowed, report.now_us, &outcome, &kept);
        if (!searched.ok()) outcome.error = searched.message();
        // A failure that made SQLite roll back the whole transaction (disk full, I/O, memory)
        // ends the run: later writes would otherwise be committed one by one.
        if (write && !searched.ok() && sqlite3_get_autocommit(db->handle()) != 0) {
          return fail(Status(StatusCode::kIoError, detection->name + ": " + searched.message()));
        }
      }
    }
    outcome.ok = outcome.error.empty();
    if (!outcome.ok) {
      outcome.results.rows.clear();
      kept.clear();
    }
    Status marked = MarkRiskOnce(db, *detection, outcome.results, &kept, &outcome.notes);
    if (!marked.ok()) return fail(marked);
    if (!write) {
      outcome.risk_events = CountRiskEvents(*detection, outcome.results, kept);
      report.outcomes.push_back(std::move(outcome));
      continue;
    }
    Status written = WriteOutcome(db, *detection, compiled.ok() ? &*compiled : nullptr, record,
                                  kept, report.now_us, &outcome);
    if (!written.ok()) return fail(written);
    report.outcomes.push_back(std::move(outcome));
  }
  if (!write) return report;
  Result<std::int64_t> incidents = RecomputeRiskIncidents(db);
  if (!incidents.ok()) return fail(incidents.status());
  report.risk_incidents = *incidents;
  QUARRY_RETURN_IF_ERROR(db->Exec("COMMIT"));
  return report;
}

}  // namespace quarry::query
