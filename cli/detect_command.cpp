// `quarry detect --db CASE`: run the built-in and the user's ESCU detections over a case and
// record notables, risk events and risk incidents in it.
//
// Usage:
//   quarry detect --db case.db
//   quarry detect --db case.db --detections security_content/detections/endpoint
//                 --macros security_content/macros
//   quarry detect --db case.db --only 4be54858-432f-11ec-8209-3e22fbd008af --format csv
//   quarry detect --db case.db --dry-run
#include <iostream>

#include "cli/command.h"
#include "query/adhoc_query.h"
#include "query/detect.h"
#include "schema/case_db.h"
#include "schema/time_util.h"

namespace quarry::cli {
namespace {

struct DetectFlags {
  std::string db;
  std::vector<std::string> detection_dirs;
  std::vector<std::string> macro_dirs;
  std::vector<std::string> only;
  std::string earliest;
  std::string latest;
  std::string now;
  bool replay_schedule = false;
  bool dry_run = false;
  std::string format;
};

// The per-detection table and totals. A dry run also gives each detection's notables and says
// what a real run would write instead of what was written.
void PrintSummary(const query::DetectReport& report, bool dry_run, std::ostream& out) {
  std::vector<std::string> columns = {"detection",      "type",        "status",  "results",
                                      "filter_removed", "risk_events", "searches"};
  if (dry_run) {
    columns = {"detection", "type",        "status",         "results",
               "notables",  "risk_events", "filter_removed", "searches"};
  }
  std::vector<std::vector<query::SqlValue>> rows;
  std::int64_t failed = 0, results = 0, notables = 0, risk_events = 0;
  for (const query::DetectionOutcome& outcome : report.outcomes) {
    auto count = static_cast<std::int64_t>(outcome.results.rows.size());
    std::string status = outcome.ok ? std::string("ok") : "error: " + outcome.error;
    if (dry_run) {
      rows.push_back({outcome.detection->name, outcome.detection->type, status, count,
                      outcome.raises_notables ? count : 0, outcome.risk_events,
                      outcome.filter_removed, outcome.searches});
    } else {
      rows.push_back({outcome.detection->name, outcome.detection->type, status, count,
                      outcome.filter_removed, outcome.risk_events, outcome.searches});
    }
    failed += outcome.ok ? 0 : 1;
    results += count;
    risk_events += outcome.risk_events;
    if (outcome.raises_notables) notables += count;
  }
  Status printed = query::PrintTable(columns, rows, query::OutputFormat::kTable, out);
  (void)printed;
  if (dry_run) {
    out << "\nDry run: nothing was written. " << report.outcomes.size() << " detections run";
    if (failed) out << " (" << failed << " could not run)";
    out << "; detect would write " << report.outcomes.size() << " detection runs, " << results
        << " results (" << notables << " notables) and " << risk_events
        << " risk events, replacing these detections' earlier results, and recompute the risk "
           "incidents.\n";
  } else {
    out << "\n" << report.outcomes.size() << " detections run";
    if (failed) out << " (" << failed << " could not run)";
    out << "; " << results << " results, " << notables << " notables; " << report.risk_incidents
        << " risk incidents.\n";
  }
  out << "Time: " << (report.earliest_us ? schema::FormatIsoUtc(*report.earliest_us) : "start")
      << " .. " << (report.latest_us ? schema::FormatIsoUtc(*report.latest_us) : "end")
      << " (now = " << schema::FormatIsoUtc(report.now_us) << ")\n";
  for (const query::DetectionOutcome& outcome : report.outcomes) {
    for (const std::string& note : outcome.notes)
      out << "note: " << outcome.detection->name << ": " << note << "\n";
  }
}

int Run(const DetectFlags& flags) {
  std::optional<query::OutputFormat> format;
  if (!flags.format.empty()) {
    format = query::ParseOutputFormat(flags.format);
    if (!format) {
      std::cerr << "quarry detect: error: --format must be table, csv, json or jsonl\n";
      return kExitUsage;
    }
    if (flags.only.size() != 1) {
      std::cerr << "quarry detect: error: --format prints one detection's rows; give one --only\n";
      return kExitUsage;
    }
  }
  Result<query::Catalog> catalog = query::LoadCatalog(flags.detection_dirs, flags.macro_dirs);
  if (!catalog.ok()) return ReportError(catalog.status());
  for (const query::CatalogProblem& problem : catalog->problems)
    std::cerr << "quarry detect: skipped " << problem.path << ": " << problem.reason << "\n";
  // A dry run opens the case read-only: it cannot write, whatever the searches are.
  Result<std::unique_ptr<schema::CaseDb>> db = schema::CaseDb::Open(
      flags.db, flags.dry_run ? schema::OpenMode::kReadOnly : schema::OpenMode::kResults);
  if (!db.ok()) return ReportError(db.status());
  query::DetectOptions options;
  options.dry_run = flags.dry_run;
  options.only = flags.only;
  if (!flags.earliest.empty()) options.earliest = flags.earliest;
  if (!flags.latest.empty()) options.latest = flags.latest;
  if (!flags.now.empty()) options.now = flags.now;
  options.replay_schedule = flags.replay_schedule;
  // A dry run reads the case in one snapshot, so that every detection sees the same files while
  // an ingest goes on. A real run writes in its own transaction (query/detect.cpp).
  if (flags.dry_run) {
    if (Status begun = (*db)->BeginRead(); !begun.ok()) return ReportError(begun);
  }
  Result<query::DetectReport> report = query::RunDetections(db->get(), *catalog, options);
  if (flags.dry_run && report.ok()) {
    if (Status ended = (*db)->EndRead(); !ended.ok()) return ReportError(ended);
  }
  if (!report.ok()) {
    if (report.status().code() == StatusCode::kInvalidArgument ||
        report.status().code() == StatusCode::kNotFound) {
      std::cerr << "quarry detect: error: " << report.status().message() << "\n";
      return kExitUsage;
    }
    return ReportError(report.status());
  }
  bool all_ok = true;
  for (const query::DetectionOutcome& outcome : report->outcomes) all_ok = all_ok && outcome.ok;
  if (flags.only.size() == 1) {
    const query::DetectionOutcome& outcome = report->outcomes.front();
    if (!outcome.ok) {
      std::cerr << "quarry detect: error: " << outcome.detection->name << ": " << outcome.error
                << "\n";
      return kExitFailure;
    }
    Status printed = query::PrintTable(outcome.results.columns, query::DisplayRows(outcome.results),
                                       format.value_or(query::OutputFormat::kTable), std::cout);
    std::cout.flush();
    if (!printed.ok()) return ReportError(printed);
    PrintSummary(*report, flags.dry_run, std::cerr);
  } else {
    PrintSummary(*report, flags.dry_run, std::cout);
  }
  if (!std::cout)
    return ReportError(Status(StatusCode::kIoError, "cannot write to standard output"));
  return all_ok ? kExitOk : kExitFailure;
}

}  // namespace

int DetectAll(const std::string& db, const std::vector<std::string>& detection_dirs,
              const std::vector<std::string>& macro_dirs) {
  DetectFlags flags;
  flags.db = db;
  flags.detection_dirs = detection_dirs;
  flags.macro_dirs = macro_dirs;
  return Run(flags);
}

Command DetectCommand() {
  auto flags = std::make_shared<DetectFlags>();
  Command command;
  command.name = "detect";
  command.summary = "Run ESCU detections on a case; record notables, risk events and incidents";
  command.examples =
      "Examples:\n"
      "  quarry detect --db case.db\n"
      "  quarry detect --db case.db --detections security_content/detections/endpoint \\\n"
      "                --macros security_content/macros\n"
      "  quarry detect --db case.db --only 4be54858-432f-11ec-8209-3e22fbd008af --format csv\n"
      "  quarry detect --db case.db --earliest -24h --latest now\n"
      "  quarry detect --db case.db --earliest 2026-06-02T00:00:00Z --latest 2026-06-03\n"
      "  quarry detect --db case.db --replay-schedule\n"
      "  quarry detect --db case.db --dry-run\n"
      "\n"
      "Without --detections only Quarry's built-in detections run. A detection's filter macro\n"
      "(<file name>_filter) is read from --macros; without one it is `search *`. Times are\n"
      "ISO-8601 or Splunk relative times (-70m@m, -7d@d, @h, now) against --now, which is the\n"
      "newest event in the case unless given. --replay-schedule runs each detection's cron\n"
      "windows over the whole case, as Splunk would have. Re-running replaces the detections'\n"
      "earlier results. Results: tables detection_runs, detection_results, notables,\n"
      "risk_events, risk_incidents and view risk_by_object (docs/schema.md).\n"
      "With one --only the detection's rows go to standard output (--format table, csv, json\n"
      "or jsonl) and the summary to standard error.\n"
      "--dry-run opens the case read-only and runs the same searches, but writes nothing: the\n"
      "summary gives, per detection, the results, notables and risk events a real run would\n"
      "write (risk incidents are not computed). The case file stays byte for byte the same.\n"
      "Exit status: 0 done, 1 a detection could not run or the case could not be written,\n"
      "2 usage error.\n";
  command.add = [flags](CLI::App* app) {
    app->add_option("--db", flags->db, "Case database (written by quarry ingest)")->required();
    app->add_option("--detections", flags->detection_dirs,
                    "Folder of ESCU detection YAML files (repeatable)");
    app->add_option("--macros", flags->macro_dirs, "Folder of ESCU macro YAML files (repeatable)");
    app->add_option("--only", flags->only, "Run only this detection: id, name or file name");
    app->add_option("--earliest", flags->earliest, "Start of the time range (inclusive)");
    app->add_option("--latest", flags->latest, "End of the time range (exclusive)");
    app->add_option("--now", flags->now, "What relative times count from");
    app->add_flag("--replay-schedule", flags->replay_schedule,
                  "Run each detection's scheduled windows over the case's time span");
    app->add_option("--format", flags->format, "With one --only: table, csv, json or jsonl");
    app->add_flag("--dry-run", flags->dry_run,
                  "Run the searches on the case opened read-only; print what would be written");
  };
  command.run = [flags] { return Run(*flags); };
  return command;
}

}  // namespace quarry::cli
