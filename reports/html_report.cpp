// The HTML report, written from the case's tables and views. Sections are HTML written here
// (escaped); the notables table is drawn in the page from a JSON island by report.js.
#include "reports/html_report.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <set>
#include <vector>

#include "query/detect.h"
#include "query/evidence.h"
#include "query/text_escape.h"
#include "schema/embedded_file.h"
#include "schema/time_util.h"
#include "schema/version.h"

namespace quarry::reports {
namespace assets {
extern const schema::EmbeddedFile kEmbeddedFiles[];
extern const int kEmbeddedFileCount;
}  // namespace assets

namespace {

using schema::CaseDb;
using schema::Statement;
using schema::ValueType;

std::string_view Asset(std::string_view name) {
  for (int i = 0; i < assets::kEmbeddedFileCount; ++i)
    if (assets::kEmbeddedFiles[i].name == name) return assets::kEmbeddedFiles[i].text;
  return {};
}

// Rows of a query as optional text, with text parameters bound in order.
struct Rows {
  std::vector<std::string> columns;
  std::vector<std::vector<std::optional<std::string>>> rows;

  std::string Get(std::size_t row, std::string_view column) const {
    for (std::size_t c = 0; c < columns.size(); ++c)
      if (columns[c] == column) return rows[row][c].value_or("");
    return "";
  }
  bool IsNull(std::size_t row, std::string_view column) const {
    for (std::size_t c = 0; c < columns.size(); ++c)
      if (columns[c] == column) return !rows[row][c].has_value();
    return true;
  }
};

Result<Rows> Fetch(CaseDb* db, std::string_view sql, const std::vector<std::string>& params = {}) {
  Result<Statement> stmt = db->Prepare(sql);
  if (!stmt.ok()) return stmt.status();
  for (std::size_t i = 0; i < params.size(); ++i)
    stmt->BindTextCopy(static_cast<int>(i) + 1, params[i]);
  Rows rows;
  for (int c = 0; c < stmt->ColumnCount(); ++c) rows.columns.emplace_back(stmt->ColumnName(c));
  while (true) {
    Result<bool> step = stmt->Step();
    if (!step.ok()) return step.status();
    if (!*step) break;
    std::vector<std::optional<std::string>> row;
    for (int c = 0; c < stmt->ColumnCount(); ++c) {
      if (stmt->ColumnType(c) == ValueType::kNull) {
        row.emplace_back();
      } else {
        row.emplace_back(std::string(stmt->ColumnText(c)));
      }
    }
    rows.rows.push_back(std::move(row));
  }
  return rows;
}

std::string Json(std::string_view text) {
  std::string out;
  query::AppendJsonString(text, &out);
  return out;
}

std::string JsonOrNull(const Rows& rows, std::size_t row, std::string_view column) {
  return rows.IsNull(row, column) ? "null" : Json(rows.Get(row, column));
}

std::string NumberOrNull(const Rows& rows, std::size_t row, std::string_view column) {
  if (rows.IsNull(row, column)) return "null";
  std::string text = rows.Get(row, column);
  bool numeric = !text.empty() && text.find_first_not_of("-0123456789.") == std::string::npos;
  return numeric ? text : Json(text);
}

// Long log strings are cut so that one hostile record cannot make the report huge; the case
// keeps them whole. Cuts fall on UTF-8 character boundaries.
constexpr std::size_t kMaxRawBytes = 16 * 1024;
constexpr std::size_t kMaxTextBytes = 4 * 1024;

std::string Clip(std::string text, std::size_t max_bytes, std::size_t total = 0) {
  total = std::max(total, text.size());
  if (total <= max_bytes) return text;
  if (text.size() <= max_bytes) max_bytes = text.size();
  std::size_t cut = max_bytes;
  while (cut > 0 && cut < text.size() && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80)
    --cut;
  text.resize(cut);
  return text + " ... [cut: " + std::to_string(total) + " bytes in all; the case holds them all]";
}

std::string ClippedJson(const Rows& rows, std::size_t row, std::string_view column,
                        std::size_t max_bytes) {
  return rows.IsNull(row, column) ? "null" : Json(Clip(rows.Get(row, column), max_bytes));
}

// Cuts every string value of a JSON text (Quarry's own, well formed) to about `max_bytes`.
std::string ClipJsonStrings(std::string_view json, std::size_t max_bytes) {
  std::string out;
  out.reserve(std::min(json.size(), max_bytes * 64));
  for (std::size_t i = 0; i < json.size();) {
    if (json[i] != '"') {
      out.push_back(json[i++]);
      continue;
    }
    std::size_t end = i + 1;  // past the closing quote
    while (end < json.size() && json[end] != '"') end += json[end] == '\\' ? 2 : 1;
    end = std::min(end + 1, json.size());
    std::string_view literal = json.substr(i, end - i);
    if (literal.size() <= max_bytes + 2) {
      out.append(literal);
    } else {
      std::size_t cut = max_bytes;
      // Not inside an escape (\uXXXX at most 6 bytes back) or a UTF-8 sequence.
      for (std::size_t back = 1; back <= 6 && back < cut; ++back) {
        if (literal[cut - back] == '\\') {
          std::size_t run = 0;
          while (back + run < cut && literal[cut - back - run] == '\\') ++run;
          if (run % 2 == 1) cut -= back;
          break;
        }
      }
      while (cut > 1 && (static_cast<unsigned char>(literal[cut]) & 0xC0) == 0x80) --cut;
      out.append(literal.substr(0, cut));
      out += " ... [cut: " + std::to_string(literal.size() - 2) + " bytes in all]\"";
    }
    i = end;
  }
  return out;
}

std::string Sha256Base64(std::string_view text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(text.data(), text.size(), digest, &length, EVP_sha256(), nullptr);
  unsigned char encoded[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1];
  int size = EVP_EncodeBlock(encoded, digest, static_cast<int>(length));
  return std::string(reinterpret_cast<const char*>(encoded), static_cast<std::size_t>(size));
}

std::string Td(std::string_view text, std::string_view cls = "") {
  std::string out = cls.empty() ? "<td>" : "<td class=\"" + std::string(cls) + "\">";
  return out + HtmlEscape(text) + "</td>";
}

std::string Th(std::string_view text, std::string_view cls = "") {
  std::string out = cls.empty() ? "<th>" : "<th class=\"" + std::string(cls) + "\">";
  return out + HtmlEscape(text) + "</th>";
}

// "2026-06-02T10:04:59.123456Z" from microseconds, or "" for a missing time.
std::string IsoOrEmpty(const std::string& time_us) {
  if (time_us.empty()) return "";
  return schema::FormatIsoUtc(std::stoll(time_us));
}

// ---- sections ----

Status Summary(CaseDb* db, const ReportOptions& options, std::string* html) {
  Result<Rows> span = Fetch(db,
                            "SELECT count(*) AS events, min(time_us) AS first, max(time_us) AS "
                            "last, count(DISTINCT dest) AS hosts FROM process_events");
  if (!span.ok()) return span.status();
  Result<Rows> files =
      Fetch(db,
            "SELECT path, sha256, size_bytes, format, encoding, status, reason, events_loaded, "
            "events_skipped, records_rejected, warnings, ingested_at FROM input_files "
            "ORDER BY file_id");
  if (!files.ok()) return files.status();
  Result<Rows> sources =
      Fetch(db,
            "SELECT data_source, sourcetype, count(*) AS events, min(time_us) AS first, "
            "max(time_us) AS last FROM process_events GROUP BY data_source, sourcetype "
            "ORDER BY data_source");
  if (!sources.ok()) return sources.status();
  Result<Rows> hosts = Fetch(
      db,
      "SELECT dest, count(*) AS events, min(time_us) AS first, max(time_us) AS last "
      "FROM process_events GROUP BY dest COLLATE NOCASE ORDER BY events DESC, dest LIMIT 200");
  if (!hosts.ok()) return hosts.status();
  Result<Rows> warnings =
      Fetch(db,
            "SELECT f.path, w.line, w.byte_offset, w.record_id, w.severity, w.reason, "
            "(SELECT count(*) FROM ingest_warnings) AS total FROM ingest_warnings AS w "
            "JOIN input_files AS f USING (file_id) ORDER BY w.warning_id LIMIT 500");
  if (!warnings.ok()) return warnings.status();
  Result<Rows> runs = Fetch(db,
                            "SELECT count(*) AS detections, max(started_at) AS started, "
                            "group_concat(DISTINCT mode) AS modes FROM detection_runs");
  if (!runs.ok()) return runs.status();

  std::string& h = *html;
  h += "<section id=\"summary\"><h2>Case summary</h2>\n<dl class=\"facts\">";
  auto fact = [&](std::string_view name, std::string_view value) {
    h += "<dt>" + HtmlEscape(name) + "</dt><dd>" + HtmlEscape(value) + "</dd>";
  };
  fact("Process events", span->Get(0, "events"));
  fact("Hosts", span->Get(0, "hosts"));
  fact("Time span", IsoOrEmpty(span->Get(0, "first")) + " .. " + IsoOrEmpty(span->Get(0, "last")));
  fact("Files read", std::to_string(files->rows.size()));
  fact("Detections run",
       runs->Get(0, "detections") +
           (runs->Get(0, "started").empty() ? "" : " (last run " + runs->Get(0, "started") + ")"));
  fact("Report generated", options.generated_at + " by Quarry " + std::string(kQuarryVersion));
  fact("Case database", db->path());
  h += "</dl>\n<h3>Events by source</h3><table><thead><tr>" + Th("data source") + Th("sourcetype") +
       Th("events", "num") + Th("first") + Th("last") + "</tr></thead><tbody>";
  for (std::size_t r = 0; r < sources->rows.size(); ++r) {
    h += "<tr>" + Td(sources->Get(r, "data_source")) + Td(sources->Get(r, "sourcetype")) +
         Td(sources->Get(r, "events"), "num") + Td(IsoOrEmpty(sources->Get(r, "first"))) +
         Td(IsoOrEmpty(sources->Get(r, "last"))) + "</tr>";
  }
  h += "</tbody></table>\n<h3>Hosts</h3>";
  if (span->Get(0, "hosts") != std::to_string(hosts->rows.size())) {
    h += "<p class=\"muted\">The " + std::to_string(hosts->rows.size()) + " busiest of " +
         HtmlEscape(span->Get(0, "hosts")) + " hosts.</p>";
  }
  h += "<table><thead><tr>" + Th("host (dest)") + Th("events", "num") + Th("first") + Th("last") +
       "</tr></thead><tbody>";
  for (std::size_t r = 0; r < hosts->rows.size(); ++r) {
    h += "<tr>" + Td(hosts->Get(r, "dest")) + Td(hosts->Get(r, "events"), "num") +
         Td(IsoOrEmpty(hosts->Get(r, "first"))) + Td(IsoOrEmpty(hosts->Get(r, "last"))) + "</tr>";
  }
  h += "</tbody></table>\n<h3>Files</h3><table id=\"files-table\"><thead><tr>" + Th("path") +
       Th("sha256") + Th("bytes", "num") + Th("format") + Th("outcome") + Th("events", "num") +
       Th("skipped", "num") + Th("rejected", "num") + Th("warnings", "num") +
       "</tr></thead><tbody>";
  for (std::size_t r = 0; r < files->rows.size(); ++r) {
    std::string outcome = files->Get(r, "status");
    if (!files->Get(r, "reason").empty()) outcome += ": " + files->Get(r, "reason");
    std::string format = files->Get(r, "format");
    if (!files->Get(r, "encoding").empty()) format += " (" + files->Get(r, "encoding") + ")";
    h += "<tr>" + Td(files->Get(r, "path"), "cmd") + Td(files->Get(r, "sha256"), "cmd") +
         Td(files->Get(r, "size_bytes"), "num") + Td(format) + Td(outcome) +
         Td(files->Get(r, "events_loaded"), "num") + Td(files->Get(r, "events_skipped"), "num") +
         Td(files->Get(r, "records_rejected"), "num") + Td(files->Get(r, "warnings"), "num") +
         "</tr>";
  }
  h += "</tbody></table>\n<h3>Rejected records and field warnings</h3>";
  if (warnings->rows.empty()) {
    h += "<p class=\"muted\">None: every record read was loaded whole.</p>";
  } else {
    h += "<p class=\"muted\">" + HtmlEscape(warnings->Get(0, "total")) +
         " in all (the first 500 are listed; table ingest_warnings holds them all).</p>";
    h += "<table><thead><tr>" + Th("file") + Th("line", "num") + Th("byte offset", "num") +
         Th("record id", "num") + Th("kind") + Th("reason") + "</tr></thead><tbody>";
    for (std::size_t r = 0; r < warnings->rows.size(); ++r) {
      h += "<tr>" + Td(warnings->Get(r, "path"), "cmd") + Td(warnings->Get(r, "line"), "num") +
           Td(warnings->Get(r, "byte_offset"), "num") + Td(warnings->Get(r, "record_id"), "num") +
           Td(warnings->Get(r, "severity")) + Td(warnings->Get(r, "reason")) + "</tr>";
    }
    h += "</tbody></table>";
  }
  h += "</section>\n";
  return Status::Ok();
}

// The distinct names in concatenated JSON arrays of strings ("[\"Execution\"][\"Execution\"]"),
// sorted and joined by ", ". The arrays are Quarry's own (risk_events.mitre_tactics).
std::string TacticNames(const std::string& arrays) {
  std::set<std::string> names;
  for (std::size_t open = arrays.find('"'); open != std::string::npos;) {
    std::size_t close = arrays.find('"', open + 1);
    if (close == std::string::npos) break;
    names.insert(arrays.substr(open + 1, close - open - 1));
    open = arrays.find('"', close + 1);
  }
  std::string out;
  for (const std::string& name : names) out += (out.empty() ? "" : ", ") + name;
  return out;
}

Status Risk(CaseDb* db, std::string* html) {
  Result<Rows> objects =
      Fetch(db,
            "SELECT o.risk_object, o.risk_object_type, o.risk_score_sum, o.risk_events, "
            "o.first_time, o.last_time, "
            "(SELECT group_concat(source, '; ') FROM (SELECT DISTINCT source FROM risk_events AS r "
            "  WHERE r.risk_object = o.risk_object AND r.risk_object_type = o.risk_object_type "
            "  ORDER BY source)) AS detections, "
            "(SELECT group_concat(mitre_tactics, '') FROM (SELECT DISTINCT mitre_tactics FROM "
            "  risk_events AS r WHERE r.risk_object = o.risk_object AND "
            "  r.risk_object_type = o.risk_object_type)) AS tactics, "
            "(SELECT group_concat(rule || ' (' || severity || ')', '; ') FROM risk_incidents AS i "
            "  WHERE i.risk_object = o.risk_object AND i.risk_object_type = o.risk_object_type) "
            "  AS incidents "
            "FROM risk_by_object AS o ORDER BY o.risk_score_sum DESC, o.risk_object");
  if (!objects.ok()) return objects.status();
  std::string& h = *html;
  h += "<section id=\"risk\"><h2>Risk by entity</h2>\n";
  if (objects->rows.empty()) {
    h += "<p class=\"muted\">No risk events: no detection that adds risk found anything "
         "(or quarry detect has not run).</p></section>\n";
    return Status::Ok();
  }
  h += "<p class=\"muted\">Risk summed per risk object as Splunk ES does (each detection's score "
       "per result), with the default risk incident rules each object meets.</p>";
  h += "<table id=\"risk-table\"><thead><tr>" + Th("risk object") + Th("type") + Th("risk", "num") +
       Th("events", "num") + Th("detections") + Th("ATT&CK tactics") + Th("first") + Th("last") +
       Th("incident rules met") + "</tr></thead><tbody>";
  for (std::size_t r = 0; r < objects->rows.size(); ++r) {
    h += "<tr>" + Td(objects->Get(r, "risk_object")) + Td(objects->Get(r, "risk_object_type")) +
         Td(objects->Get(r, "risk_score_sum"), "num") + Td(objects->Get(r, "risk_events"), "num") +
         Td(objects->Get(r, "detections")) + Td(TacticNames(objects->Get(r, "tactics"))) +
         Td(objects->Get(r, "first_time")) + Td(objects->Get(r, "last_time")) +
         Td(objects->Get(r, "incidents")) + "</tr>";
  }
  h += "</tbody></table></section>\n";
  return Status::Ok();
}

// The stored events behind a result (query/evidence.h), with their files and sightings.
Result<Rows> EvidenceEvents(CaseDb* db, const Rows& fields, std::size_t limit, bool* bounded) {
  std::vector<std::string> params;
  std::string condition = query::EvidenceCondition(
      [&](std::string_view key) -> std::optional<std::string> {
        if (fields.IsNull(0, key)) return std::nullopt;  // multivalue fields come as NULL
        return fields.Get(0, key);
      },
      &params, bounded);
  if (condition.empty()) return Rows{};  // nothing to match on
  std::string sql =
      "SELECT e.event_id, e.time_us, e.dest, e.user, e.process, e.process_name, e.process_id, "
      "e.process_guid, e.parent_process_id, e.parent_process_guid, e.parent_process_name, "
      "e.sourcetype, e.record_id, e.record_line, e.record_offset, f.path, f.sha256, "
      "substr(CAST(quarry_raw(e.raw) AS BLOB), 1, 20000) AS raw, "
      "length(CAST(quarry_raw(e.raw) AS BLOB)) AS raw_bytes, "
      // Which sources saw the process, and the other files the same event was read from.
      "(SELECT seen_by FROM process_sightings AS s WHERE s.event_id = e.event_id) AS seen_by, "
      "(SELECT group_concat(p, '; ') FROM (SELECT c.record_offset, g.path AS p FROM event_copies "
      "  AS c JOIN input_files AS g USING (file_id) WHERE c.event_id = e.event_id ORDER BY "
      "  c.copy_id LIMIT 5)) AS copies, "
      "(SELECT count(*) FROM event_copies AS c WHERE c.event_id = e.event_id) AS copy_count "
      "FROM process_events AS e JOIN input_files AS f USING (file_id) WHERE " +
      condition + " ORDER BY e.time_us, e.event_id LIMIT " + std::to_string(limit);
  return Fetch(db, sql, params);
}

std::string ProcessJson(const Rows& rows, std::size_t r) {
  return "{\"time\": " + Json(IsoOrEmpty(rows.Get(r, "time_us"))) +
         ", \"process_name\": " + JsonOrNull(rows, r, "process_name") +
         ", \"process_id\": " + NumberOrNull(rows, r, "process_id") +
         ", \"process\": " + JsonOrNull(rows, r, "process") + "}";
}

// The process links of one host, read once: who has which GUID and PID, and whose parent is
// which, so that parent chains and children cost no table scans per notable.
class HostLinks {
 public:
  struct Entry {
    std::int64_t time_us;
    std::int64_t event_id;
  };

  static Result<HostLinks> Load(CaseDb* db, const std::string& dest) {
    Result<Statement> stmt = db->Prepare(
        "SELECT event_id, time_us, process_guid, parent_process_guid, process_id, "
        "parent_process_id FROM process_events WHERE dest = ?1 ORDER BY time_us, event_id");
    if (!stmt.ok()) return stmt.status();
    stmt->BindTextCopy(1, dest);
    HostLinks links;
    while (true) {
      Result<bool> row = stmt->Step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      Entry entry{stmt->ColumnInt(1), stmt->ColumnInt(0)};
      auto text = [&](int column) { return std::string(stmt->ColumnText(column)); };
      auto key = [&](char kind, int column) {
        return stmt->ColumnType(column) == ValueType::kNull ? std::string() : kind + text(column);
      };
      // Keys: "g<guid>" for GUIDs (lower-cased: GUIDs compare ignoring case), "p<pid>" for PIDs.
      std::string guid = key('g', 2), parent_guid = key('g', 3);
      for (std::string* k : {&guid, &parent_guid})
        for (char& c : *k) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      std::string pid = key('p', 4), parent_pid = key('p', 5);
      if (!guid.empty()) links.by_self_[guid].push_back(entry);
      if (!pid.empty()) links.by_self_[pid].push_back(entry);
      if (!parent_guid.empty())
        links.by_parent_[parent_guid].push_back(entry);
      else if (!parent_pid.empty())
        links.by_parent_[parent_pid].push_back(entry);
    }
    return links;
  }

  // The latest process with `key` at or before `time_us` (within a week), other than `self`.
  std::optional<std::int64_t> Parent(const std::string& key, std::int64_t time_us,
                                     std::int64_t self) const {
    auto it = by_self_.find(key);
    if (it == by_self_.end()) return std::nullopt;
    for (auto e = it->second.rbegin(); e != it->second.rend(); ++e) {
      if (e->time_us > time_us || e->event_id == self) continue;
      if (e->time_us < time_us - 7 * 86400LL * 1000000) break;
      return e->event_id;
    }
    return std::nullopt;
  }

  // Processes whose parent is `key`, started in the day from `time_us`.
  std::vector<std::int64_t> Children(const std::string& key, std::int64_t time_us) const {
    std::vector<std::int64_t> out;
    auto it = by_parent_.find(key);
    if (it == by_parent_.end()) return out;
    for (const Entry& e : it->second) {
      if (e.time_us >= time_us && e.time_us < time_us + 86400LL * 1000000)
        out.push_back(e.event_id);
      if (out.size() == 20) break;
    }
    return out;
  }

 private:
  std::map<std::string, std::vector<Entry>> by_self_;
  std::map<std::string, std::vector<Entry>> by_parent_;
};

// Parents (up to five, nearest first, shown oldest first) and children of an event on its host.
// Parents are looked for in the week before, children in the day after, each process once.
Result<std::string> ContextJson(CaseDb* db, const Rows& event,
                                std::map<std::string, HostLinks>* hosts) {
  std::string dest = event.Get(0, "dest");
  auto cached = hosts->find(dest);
  if (cached == hosts->end()) {
    Result<HostLinks> loaded = HostLinks::Load(db, dest);
    if (!loaded.ok()) return loaded.status();
    cached = hosts->emplace(dest, std::move(*loaded)).first;
  }
  const HostLinks& links = cached->second;
  auto lowered = [](std::string text) {
    for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
  };
  auto describe = [&](std::int64_t event_id) -> Result<Rows> {
    return Fetch(db,
                 "SELECT event_id, time_us, process_name, process_id, substr(process, 1, 1024) "
                 "AS process, parent_process_id, process_guid, parent_process_guid FROM "
                 "process_events WHERE event_id = CAST(?1 AS INTEGER)",
                 {std::to_string(event_id)});
  };
  auto parent_key = [&](const Rows& row) {
    if (!row.IsNull(0, "parent_process_guid"))
      return "g" + lowered(row.Get(0, "parent_process_guid"));
    if (!row.IsNull(0, "parent_process_id")) return "p" + row.Get(0, "parent_process_id");
    return std::string();
  };
  std::vector<std::string> parents;
  std::set<std::int64_t> seen = {std::stoll(event.Get(0, "event_id"))};
  Rows current = event;
  for (int depth = 0; depth < 5; ++depth) {
    std::string key = parent_key(current);
    if (key.empty()) break;
    std::optional<std::int64_t> parent = links.Parent(key, std::stoll(current.Get(0, "time_us")),
                                                      std::stoll(current.Get(0, "event_id")));
    if (!parent || !seen.insert(*parent).second) break;
    Result<Rows> row = describe(*parent);
    if (!row.ok()) return row.status();
    if (row->rows.empty()) break;
    parents.push_back(ProcessJson(*row, 0));
    current = std::move(*row);
  }
  std::reverse(parents.begin(), parents.end());
  std::string self_key =
      !event.IsNull(0, "process_guid")
          ? "g" + lowered(event.Get(0, "process_guid"))
          : (event.IsNull(0, "process_id") ? "" : "p" + event.Get(0, "process_id"));
  std::string out = "{\"parents\": [";
  for (std::size_t i = 0; i < parents.size(); ++i) out += (i ? ", " : "") + parents[i];
  out += "], \"children\": [";
  bool first_child = true;
  for (std::int64_t child : self_key.empty()
                                ? std::vector<std::int64_t>{}
                                : links.Children(self_key, std::stoll(event.Get(0, "time_us")))) {
    if (!seen.insert(child).second) continue;
    Result<Rows> row = describe(child);
    if (!row.ok()) return row.status();
    if (row->rows.empty()) continue;
    out += (first_child ? "" : ", ") + ProcessJson(*row, 0);
    first_child = false;
  }
  return out + "]}";
}

Result<std::string> NotablesJson(CaseDb* db, const ReportOptions& options, std::size_t* total) {
  Result<Rows> notables =
      Fetch(db,
            "SELECT n.notable_id, n.rule_title, n.severity, n.dest, n.user, n.fields, "
            "n.result_time, json_extract(n.fields, '$.process') AS process, "
            "json_extract(n.fields, '$.parent_process_name') AS parent, "
            "json_extract(n.fields, '$.count') AS count, "
            "json_extract(n.fields, '$.firstTime') AS first, "
            "json_extract(n.fields, '$.lastTime') AS last, "
            "r.score FROM notables AS n LEFT JOIN (SELECT result_id, sum(risk_score) AS score "
            "FROM risk_events GROUP BY result_id) AS r ON r.result_id = n.notable_id "
            "ORDER BY r.score DESC, n.result_time, n.notable_id");
  if (!notables.ok()) return notables.status();
  *total = notables->rows.size();
  std::map<std::string, HostLinks> host_links;  // per dest, loaded when first needed
  std::string out = "[";
  for (std::size_t r = 0; r < notables->rows.size(); ++r) {
    std::string fields_json = notables->Get(r, "fields");
    out += r ? ",\n" : "\n";
    out += "{\"id\": " + notables->Get(r, "notable_id") +
           ", \"rule\": " + JsonOrNull(*notables, r, "rule_title") +
           ", \"severity\": " + JsonOrNull(*notables, r, "severity") +
           ", \"dest\": " + JsonOrNull(*notables, r, "dest") +
           ", \"user\": " + JsonOrNull(*notables, r, "user") +
           ", \"process\": " + ClippedJson(*notables, r, "process", kMaxTextBytes) +
           ", \"parent\": " + ClippedJson(*notables, r, "parent", kMaxTextBytes) +
           ", \"count\": " + NumberOrNull(*notables, r, "count") + ", \"first\": " +
           (notables->IsNull(r, "first") ? Json(notables->Get(r, "result_time"))
                                         : JsonOrNull(*notables, r, "first")) +
           ", \"last\": " +
           (notables->IsNull(r, "last") ? Json(notables->Get(r, "result_time"))
                                        : JsonOrNull(*notables, r, "last")) +
           ", \"score\": " + NumberOrNull(*notables, r, "score") +
           ", \"fields\": " + ClipJsonStrings(fields_json, kMaxTextBytes);
    if (r < options.evidence_notables) {
      // The row's fields as columns, to match stored events on.
      // The row's fields as columns to match stored events on; a multivalue field as NULL.
      std::string extract = "SELECT ?2 AS result_time";
      for (std::string_view key :
           {"dest", "user", "process_name", "process", "process_id", "parent_process_id",
            "parent_process_name", "process_guid", "original_file_name", "process_path",
            "parent_process", "parent_process_guid", "firstTime", "lastTime", "_time"}) {
        std::string path = "'$.\"" + std::string(key) + "\"'";
        extract += ", CASE WHEN json_type(?1, " + path + ") = 'array' THEN NULL ELSE " +
                   "json_extract(?1, " + path + ") END AS \"" + std::string(key) + "\"";
      }
      Result<Rows> fields = Fetch(db, extract, {fields_json, notables->Get(r, "result_time")});
      if (!fields.ok()) return fields.status();
      bool bounded = false;
      Result<Rows> events = EvidenceEvents(db, *fields, options.events_per_notable, &bounded);
      if (!events.ok()) return events.status();
      out += std::string(", \"evidenceUnbounded\": ") + (bounded ? "false" : "true");
      out += ", \"evidence\": [";
      for (std::size_t e = 0; e < events->rows.size(); ++e) {
        out += e ? ", " : "";
        out += "{\"time\": " + Json(IsoOrEmpty(events->Get(e, "time_us"))) +
               ", \"dest\": " + JsonOrNull(*events, e, "dest") +
               ", \"user\": " + JsonOrNull(*events, e, "user") +
               ", \"process\": " + ClippedJson(*events, e, "process", kMaxTextBytes) +
               ", \"process_name\": " + JsonOrNull(*events, e, "process_name") +
               ", \"process_id\": " + NumberOrNull(*events, e, "process_id") +
               ", \"parent_process_id\": " + NumberOrNull(*events, e, "parent_process_id") +
               ", \"parent_process_name\": " + JsonOrNull(*events, e, "parent_process_name") +
               ", \"sourcetype\": " + JsonOrNull(*events, e, "sourcetype") +
               ", \"seen_by\": " + JsonOrNull(*events, e, "seen_by") +
               ", \"copies\": " + JsonOrNull(*events, e, "copies") +
               ", \"copy_count\": " + NumberOrNull(*events, e, "copy_count") +
               ", \"record_id\": " + NumberOrNull(*events, e, "record_id") +
               ", \"line\": " + NumberOrNull(*events, e, "record_line") +
               ", \"offset\": " + NumberOrNull(*events, e, "record_offset") +
               ", \"file\": " + JsonOrNull(*events, e, "path") +
               ", \"sha256\": " + JsonOrNull(*events, e, "sha256") + ", \"raw\": " +
               Json(Clip(events->Get(e, "raw"), kMaxRawBytes,
                         static_cast<std::size_t>(std::stoll(events->Get(e, "raw_bytes")))));
        if (e == 0 && r < options.context_notables) {
          Rows one;
          one.columns = events->columns;
          one.rows.push_back(events->rows[e]);
          Result<std::string> context = ContextJson(db, one, &host_links);
          if (!context.ok()) return context.status();
          out += ", \"context\": " + *context;
        }
        out += "}";
      }
      out += "]";
    } else {
      out += ", \"evidence\": null";
    }
    out += "}";
  }
  return out + "\n]";
}

Status Timeline(CaseDb* db, std::string* html) {
  Result<Rows> span = Fetch(db,
                            "SELECT min(time_us) AS first, max(time_us) AS last FROM "
                            "process_events");
  if (!span.ok()) return span.status();
  std::string& h = *html;
  h += "<section id=\"timeline\"><h2>Timeline</h2>\n";
  if (span->IsNull(0, "first")) {
    h += "<p class=\"muted\">No events.</p></section>\n";
    return Status::Ok();
  }
  const std::int64_t first = std::stoll(span->Get(0, "first"));
  const std::int64_t last = std::max<std::int64_t>(std::stoll(span->Get(0, "last")), first + 1);
  constexpr int kBins = 160;
  const double bin_us = static_cast<double>(last - first) / kBins;
  // Hosts with notables first, then the busiest; 25 at most.
  Result<Rows> hosts = Fetch(
      db,
      "SELECT e.dest AS dest, e.events, coalesce(n.notables, 0) AS notables FROM "
      "(SELECT dest, count(*) AS events FROM process_events GROUP BY dest COLLATE NOCASE) AS e "
      "LEFT JOIN (SELECT dest, count(*) AS notables FROM notables GROUP BY dest COLLATE NOCASE) "
      "AS n ON n.dest = e.dest COLLATE NOCASE ORDER BY notables DESC, events DESC, e.dest "
      "LIMIT 25");
  if (!hosts.ok()) return hosts.status();
  const int label_width = 190, plot_width = 800, row_height = 30;
  const int height = row_height * static_cast<int>(hosts->rows.size()) + 30;
  h += "<p class=\"muted\">Process events per host over the case (bars: events in each of " +
       std::to_string(kBins) + " equal slices of " + HtmlEscape(schema::FormatIsoUtc(first)) +
       " .. " + HtmlEscape(schema::FormatIsoUtc(last)) +
       "); red marks: notables at their time.</p>\n";
  h += "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" width=\"100%\" viewBox=\"0 0 " +
       std::to_string(label_width + plot_width + 10) + " " + std::to_string(height) + "\">\n";
  for (std::size_t r = 0; r < hosts->rows.size(); ++r) {
    const int y = static_cast<int>(r) * row_height + 5;
    std::string dest = hosts->Get(r, "dest");
    h += "<text x=\"0\" y=\"" + std::to_string(y + 18) + "\">" + HtmlEscape(dest.substr(0, 30)) +
         "<title>" + HtmlEscape(dest) + "</title></text>";
    h += "<line x1=\"" + std::to_string(label_width) + "\" x2=\"" +
         std::to_string(label_width + plot_width) + "\" y1=\"" + std::to_string(y + 24) +
         "\" y2=\"" + std::to_string(y + 24) + "\" stroke=\"#d5dbe1\"/>";
    Result<Rows> bins =
        Fetch(db,
              "SELECT CAST((time_us - CAST(?2 AS INTEGER)) / CAST(?3 AS REAL) AS INTEGER) AS bin, "
              "count(*) AS n FROM process_events WHERE dest = ?1 GROUP BY bin",
              {dest, std::to_string(first), std::to_string(bin_us)});
    if (!bins.ok()) return bins.status();
    for (std::size_t b = 0; b < bins->rows.size(); ++b) {
      int bin = std::min(std::stoi(bins->Get(b, "bin")), kBins - 1);
      double n = std::stod(bins->Get(b, "n"));
      int bar = std::max(2, static_cast<int>(std::lround(4 * std::log2(1 + n))));
      bar = std::min(bar, 22);
      h += "<rect x=\"" + std::to_string(label_width + bin * plot_width / kBins) + "\" y=\"" +
           std::to_string(y + 24 - bar) + "\" width=\"" + std::to_string(plot_width / kBins) +
           "\" height=\"" + std::to_string(bar) + "\" fill=\"#5b6673\"><title>" +
           HtmlEscape(bins->Get(b, "n")) + " events</title></rect>";
    }
    Result<Rows> marks =
        Fetch(db,
              "SELECT rule_title, result_time FROM notables WHERE dest = ?1 ORDER BY result_time "
              "LIMIT 500",
              {dest});
    if (!marks.ok()) return marks.status();
    for (std::size_t m = 0; m < marks->rows.size(); ++m) {
      std::optional<std::int64_t> time = schema::ParseUtcTimestamp(marks->Get(m, "result_time"));
      if (!time) continue;
      double x = label_width + plot_width * static_cast<double>(*time - first) /
                                   static_cast<double>(last - first);
      x = std::clamp(x, static_cast<double>(label_width),
                     static_cast<double>(label_width + plot_width));
      h += "<circle cx=\"" + std::to_string(static_cast<int>(x)) + "\" cy=\"" +
           std::to_string(y + 12) + "\" r=\"5\" fill=\"#8a1c1c\"><title>" +
           HtmlEscape(marks->Get(m, "result_time") + " " + marks->Get(m, "rule_title")) +
           "</title></circle>";
    }
    h += "\n";
  }
  h += "</svg></section>\n";
  return Status::Ok();
}

Status Attack(CaseDb* db, std::string* html) {
  Result<Rows> runs = Fetch(db,
                            "SELECT detection_name, mitre_attack_ids, results FROM detection_runs "
                            "WHERE results > 0 ORDER BY detection_name");
  if (!runs.ok()) return runs.status();
  // technique -> (results, detections); the id arrays are Quarry's own JSON of plain ids.
  std::map<std::string, std::pair<long long, std::string>> seen;
  for (std::size_t r = 0; r < runs->rows.size(); ++r) {
    const std::string ids = runs->Get(r, "mitre_attack_ids");
    for (std::size_t open = ids.find('"'); open != std::string::npos;) {
      std::size_t close = ids.find('"', open + 1);
      if (close == std::string::npos) break;
      auto& entry = seen[ids.substr(open + 1, close - open - 1)];
      entry.first += std::stoll(runs->Get(r, "results"));
      entry.second += (entry.second.empty() ? "" : "; ") + runs->Get(r, "detection_name");
      open = ids.find('"', close + 1);
    }
  }
  Rows table;
  table.columns = {"technique", "results", "detections"};
  for (const auto& [id, entry] : seen)
    table.rows.push_back({id, std::to_string(entry.first), entry.second});
  const Rows* techniques = &table;
  std::string& h = *html;
  h += "<section id=\"attack\"><h2>ATT&amp;CK</h2>\n";
  if (techniques->rows.empty()) {
    h += "<p class=\"muted\">No detection with ATT&amp;CK techniques found anything.</p>";
    h += "</section>\n";
    return Status::Ok();
  }
  std::map<std::string, std::vector<std::size_t>> by_tactic;  // "TA0002 Execution" -> rows
  for (std::size_t r = 0; r < techniques->rows.size(); ++r) {
    auto tactics = query::AttackTactics(techniques->Get(r, "technique"));
    if (tactics.empty()) by_tactic["(not in ATT&CK v18.1)"].push_back(r);
    for (const auto& [id, name] : tactics) by_tactic[id + " " + name].push_back(r);
  }
  h += "<table id=\"attack-table\"><thead><tr>" + Th("tactic") + Th("technique") +
       Th("results", "num") + Th("detections") + "</tr></thead><tbody>";
  for (const auto& [tactic, rows] : by_tactic) {
    for (std::size_t r : rows) {
      h += "<tr>" + Td(tactic) + Td(techniques->Get(r, "technique")) +
           Td(techniques->Get(r, "results"), "num") + Td(techniques->Get(r, "detections")) +
           "</tr>";
    }
  }
  h += "</tbody></table><p class=\"muted\">MITRE ATT&amp;CK&reg; Enterprise v18.1. &copy; 2025 "
       "The MITRE Corporation. This work is reproduced and distributed with the permission of "
       "The MITRE Corporation.</p></section>\n";
  return Status::Ok();
}

Status Detections(CaseDb* db, std::string* html) {
  Result<Rows> runs =
      Fetch(db,
            "SELECT detection_name, detection_id, detection_version, detection_type, origin, "
            "description, known_false_positives, filter_macro, filter_origin, mode, earliest, "
            "latest, searches, results_before_filter, results, filter_removed, status, error, "
            "notes, started_at FROM detection_runs ORDER BY results DESC, detection_name");
  if (!runs.ok()) return runs.status();
  std::string& h = *html;
  h += "<section id=\"detections\"><h2>Detections run</h2>\n";
  if (runs->rows.empty()) {
    h += "<p class=\"muted\">None yet: run quarry detect.</p></section>\n";
    return Status::Ok();
  }
  h += "<table id=\"detections-table\"><thead><tr>" + Th("detection") + Th("type") + Th("status") +
       Th("results", "num") + Th("filter removed", "num") + Th("filter") + Th("time") +
       "</tr></thead><tbody>";
  for (std::size_t r = 0; r < runs->rows.size(); ++r) {
    std::string time = runs->Get(r, "mode") == "schedule" ? "schedule replay, " : "";
    time += (runs->Get(r, "earliest").empty() ? "start" : runs->Get(r, "earliest")) + " .. " +
            (runs->Get(r, "latest").empty() ? "end" : runs->Get(r, "latest"));
    std::string status = runs->Get(r, "status");
    if (!runs->Get(r, "error").empty()) status += ": " + runs->Get(r, "error");
    h += "<tr>" + Td(runs->Get(r, "detection_name")) + Td(runs->Get(r, "detection_type")) +
         Td(status) + Td(runs->Get(r, "results"), "num") +
         Td(runs->Get(r, "filter_removed"), "num") +
         Td(runs->Get(r, "filter_macro") + " (" + runs->Get(r, "filter_origin") + ")") + Td(time) +
         "</tr>";
  }
  h += "</tbody></table>\n";
  for (std::size_t r = 0; r < runs->rows.size(); ++r) {
    if (runs->Get(r, "results") == "0") continue;
    h += "<h3>" + HtmlEscape(runs->Get(r, "detection_name")) + "</h3><dl class=\"facts\">";
    auto fact = [&](std::string_view name, std::string_view column) {
      std::string value = runs->Get(r, column);
      if (!value.empty())
        h += "<dt>" + HtmlEscape(name) + "</dt><dd>" + HtmlEscape(value) + "</dd>";
    };
    fact("id", "detection_id");
    fact("version", "detection_version");
    fact("from", "origin");
    fact("description", "description");
    fact("known false positives", "known_false_positives");
    fact("results before the filter", "results_before_filter");
    fact("searches run", "searches");
    fact("notes", "notes");
    h += "</dl>";
  }
  h += "</section>\n";
  return Status::Ok();
}

}  // namespace

std::string HtmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

std::string ScriptSafeJson(std::string_view json) {
  std::string out;
  out.reserve(json.size());
  for (std::size_t i = 0; i < json.size(); ++i) {
    char c = json[i];
    if (c == '<') {
      out += "\\u003c";
    } else if (c == '>') {
      out += "\\u003e";
    } else if (c == '&') {
      out += "\\u0026";
    } else if (c == '\xE2' && i + 2 < json.size() && json[i + 1] == '\x80' &&
               (json[i + 2] == '\xA8' || json[i + 2] == '\xA9')) {
      out += json[i + 2] == '\xA8' ? "\\u2028" : "\\u2029";
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

Status WriteHtmlReport(CaseDb* db, const ReportOptions& given, std::ostream& out) {
  ReportOptions options = given;
  if (options.generated_at.empty()) options.generated_at = schema::NowIsoUtc();
  std::string body;
  QUARRY_RETURN_IF_ERROR(Summary(db, options, &body));
  QUARRY_RETURN_IF_ERROR(Risk(db, &body));
  std::size_t total = 0;
  Result<std::string> notables = NotablesJson(db, options, &total);
  if (!notables.ok()) return notables.status();
  std::string notables_section =
      "<section id=\"notables\"><h2>Notables</h2>\n<p class=\"muted\">One row per result of a "
      "detection that raises notables, highest risk first. Click a column to sort; open "
      "evidence for the stored events, the raw records and the process around them.</p>\n"
      "<div class=\"controls\"><input id=\"notables-filter\" type=\"search\" "
      "placeholder=\"Filter notables\" aria-label=\"Filter notables\"> <span "
      "id=\"notables-count\"></span> <span id=\"notables-pager\"><button type=\"button\" "
      "class=\"page-prev\">previous</button> <button type=\"button\" "
      "class=\"page-next\">next</button></span></div>\n<table id=\"notables-table\"><thead><tr>"
      "<th data-key=\"rule\">rule</th><th data-key=\"dest\">dest</th><th "
      "data-key=\"user\">user</th><th data-key=\"process\">process</th><th "
      "data-key=\"parent\">parent</th><th data-key=\"count\" class=\"num\">count</th><th "
      "data-key=\"first\">first</th><th data-key=\"last\">last</th><th data-key=\"score\" "
      "class=\"num\">score</th><th></th></tr></thead><tbody></tbody></table>\n"
      "<noscript><p>The notables table needs JavaScript; the case's notables view holds the same "
      "rows.</p></noscript></section>\n";
  body += notables_section;
  QUARRY_RETURN_IF_ERROR(Timeline(db, &body));
  QUARRY_RETURN_IF_ERROR(Attack(db, &body));
  QUARRY_RETURN_IF_ERROR(Detections(db, &body));

  std::string data =
      "{\"notables\": " + *notables + ", \"evidenceNote\": " +
      Json("Evidence is included for the " + std::to_string(options.evidence_notables) +
           " highest-risk notables; query the case for this one: quarry query "
           "--db CASE \"SELECT fields FROM notables WHERE notable_id = N\"") +
      "}";
  std::string_view script = Asset("report.js");
  out << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      << "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      << "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
         "style-src 'unsafe-inline'; img-src data:; script-src 'sha256-"
      << Sha256Base64(script) << "'\">\n"
      << "<title>Quarry report: " << HtmlEscape(db->path()) << "</title>\n<style>\n"
      << Asset("report.css") << "</style>\n</head>\n<body>\n<header><h1>Quarry report</h1>\n"
      << "<p class=\"muted\">" << total << " notables. Generated "
      << HtmlEscape(options.generated_at) << " by Quarry " << kQuarryVersion << ".</p>\n"
      << "<nav><a href=\"#summary\">Summary</a><a href=\"#risk\">Risk</a><a "
         "href=\"#notables\">Notables</a><a href=\"#timeline\">Timeline</a><a "
         "href=\"#attack\">ATT&amp;CK</a><a href=\"#detections\">Detections</a></nav></header>\n"
      << "<main>\n"
      << body << "</main>\n"
      << "<script type=\"application/json\" id=\"quarry-data\">" << ScriptSafeJson(data)
      << "</script>\n<script>" << script << "</script>\n</body>\n</html>\n";
  if (!out) return Status(StatusCode::kIoError, "cannot write the report");
  return Status::Ok();
}

}  // namespace quarry::reports
