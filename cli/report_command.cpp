// `quarry report --db CASE -o FILE.html`: the self-contained HTML report of a case.
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "cli/command.h"
#include "reports/html_report.h"
#include "schema/case_db.h"

namespace quarry::cli {
namespace {

struct ReportFlags {
  std::string db;
  std::string output;
  std::string generated_at;
  std::size_t evidence = 500;
};

int Run(const ReportFlags& flags) {
  Result<std::unique_ptr<schema::CaseDb>> db =
      schema::CaseDb::Open(flags.db, schema::OpenMode::kReadOnly);
  if (!db.ok()) return ReportError(db.status());
  // Written beside the target and renamed over it: a reader never sees half a report.
  std::string partial = flags.output + ".partial";
  {
    std::ofstream out(partial, std::ios::binary | std::ios::trunc);
    if (!out) return ReportError(Status(StatusCode::kIoError, "cannot write " + partial));
    reports::ReportOptions options;
    options.generated_at = flags.generated_at;
    options.evidence_notables = flags.evidence;
    // One snapshot for every section: a file that ingest commits while the report runs is
    // either in all of them or in none (docs/reliability.md).
    Status written = (*db)->BeginRead();
    try {
      if (written.ok()) written = reports::WriteHtmlReport(db->get(), options, out);
    } catch (const std::exception& e) {  // e.g. out of memory: never leave a partial file
      written = Status(StatusCode::kInternal, std::string("report failed: ") + e.what());
    }
    if (written.ok()) written = (*db)->EndRead();
    out.close();
    if (written.ok() && !out) written = Status(StatusCode::kIoError, "cannot write " + partial);
    if (!written.ok()) {
      std::remove(partial.c_str());
      return ReportError(written);
    }
  }
  std::error_code error;
  std::filesystem::rename(partial, flags.output, error);
  if (error) {
    std::remove(partial.c_str());
    return ReportError(
        Status(StatusCode::kIoError, "cannot write " + flags.output + ": " + error.message()));
  }
  std::cerr << "quarry report: wrote " << flags.output << "\n";
  return kExitOk;
}

}  // namespace

int WriteReport(const std::string& db, const std::string& output) {
  ReportFlags flags;
  flags.db = db;
  flags.output = output;
  return Run(flags);
}

Command ReportCommand() {
  auto flags = std::make_shared<ReportFlags>();
  Command command;
  command.name = "report";
  command.summary = "Write the self-contained HTML report of a case";
  command.examples =
      "Examples:\n"
      "  quarry report --db case.db -o case-report.html\n"
      "\n"
      "One HTML file that opens from disk with no network: case summary, risk by entity,\n"
      "notables with their evidence and process context, timeline, ATT&CK, detections run.\n"
      "Run quarry detect first for notables and risk. The case is opened read-only.\n"
      "Exit status: 0 written, 1 the case could not be read or the file written, 2 usage.\n";
  command.add = [flags](CLI::App* app) {
    app->add_option("--db", flags->db, "Case database to report on")->required();
    app->add_option("-o,--output", flags->output, "HTML file to write")->required();
    app->add_option("--generated-at", flags->generated_at,
                    "Time to print as the generation time (default: now)");
    app->add_option("--evidence", flags->evidence,
                    "Notables (highest risk first) whose events are included")
        ->capture_default_str();
  };
  command.run = [flags] { return Run(*flags); };
  return command;
}

}  // namespace quarry::cli
