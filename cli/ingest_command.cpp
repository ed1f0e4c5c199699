// `quarry ingest --db CASE PATH...`: load process-creation events into a case database.
//
// Usage:
//   quarry ingest --db case.db triage/HOST-A triage/sysmon-export.xml
// Files are recognised by content, folders are walked recursively, and a file already in the
// case (same SHA-256) is not read again. Progress goes to stderr; the summary to stdout.
#include <iostream>
#include <map>
#include <optional>

#include "cli/command.h"
#include "ingest/ingest.h"
#include "schema/case_db.h"

namespace quarry::cli {
namespace {

struct IngestFlags {
  std::string db;
  std::vector<std::string> paths;
  std::optional<std::string> password;
  std::string raw = "zstd";
};

class StderrProgress : public ingest::IngestObserver {
 public:
  void FileFinished(const ingest::FileReport& report) override {
    std::cerr << "quarry ingest: " << report.path << ": "
              << ingest::FileOutcomeName(report.outcome);
    if (report.outcome == ingest::FileOutcome::kLoaded) {
      std::cerr << " (" << report.format << "), " << report.counts.events_loaded
                << " process events, ";
      if (report.counts.lookups_loaded > 0) {
        std::cerr << report.counts.lookups_loaded << " CrowdStrike lookup records, ";
      }
      if (report.counts.events_duplicate > 0) {
        std::cerr << report.counts.events_duplicate << " already in the case from other files, ";
      }
      std::cerr << report.counts.events_skipped << " other records skipped, "
                << report.counts.records_rejected << " records rejected, " << report.counts.warnings
                << " warnings";
    } else {
      std::cerr << " (" << report.reason << ")";
    }
    std::cerr << "\n";
  }
};

int Run(const IngestFlags& flags) {
  Result<std::unique_ptr<schema::CaseDb>> db =
      schema::CaseDb::Open(flags.db, schema::OpenMode::kReadWrite);
  if (!db.ok()) {  // say which case: creating or upgrading it can fail too (a full disk)
    return ReportError(
        Status(db.status().code(), "case " + flags.db + ": " + db.status().message()));
  }
  StderrProgress progress;
  ingest::IngestOptions options;
  options.password = flags.password;
  options.raw = flags.raw == "plain" ? ingest::RawStorage::kPlain : ingest::RawStorage::kZstd;
  Result<ingest::IngestSummary> summary =
      ingest::Ingest(db->get(), flags.paths, options, &progress);
  if (!summary.ok()) return ReportError(summary.status());
  // Move the last writes from the -wal file into the case now, where a failure can be said
  // (a full disk at this point would otherwise leave the case needing its -wal file).
  if (Status flushed = (*db)->Exec("PRAGMA wal_checkpoint(TRUNCATE)"); !flushed.ok()) {
    return ReportError(Status(StatusCode::kIoError,
                              "the loaded files are in " + flags.db +
                                  "-wal but could not be written into the case (disk full?); "
                                  "keep both files together, or free space and run again: " +
                                  flushed.message()));
  }

  std::map<ingest::FileOutcome, int> outcomes;
  std::map<std::string, std::pair<int, std::int64_t>> sources;  // files, events
  ingest::FileCounts total;
  for (const ingest::FileReport& file : summary->files) {
    ++outcomes[file.outcome];
    total.events_loaded += file.counts.events_loaded;
    total.events_skipped += file.counts.events_skipped;
    total.records_rejected += file.counts.records_rejected;
    total.warnings += file.counts.warnings;
    total.lookups_loaded += file.counts.lookups_loaded;
    total.events_duplicate += file.counts.events_duplicate;
    for (const auto& [source, events] : file.loaded_by_source) {
      ++sources[source].first;
      sources[source].second += events;
    }
  }
  std::cout << "case " << flags.db << ": " << summary->files.size()
            << " files: " << outcomes[ingest::FileOutcome::kLoaded] << " loaded, "
            << outcomes[ingest::FileOutcome::kSkipped] << " skipped, "
            << outcomes[ingest::FileOutcome::kDuplicate] << " already in the case, "
            << outcomes[ingest::FileOutcome::kFailed] << " failed\n";
  for (const auto& [source, counts] : sources) {
    std::cout << "  " << source << ": " << counts.second << " events loaded from " << counts.first
              << (counts.first == 1 ? " file\n" : " files\n");
  }
  if (total.lookups_loaded > 0) {
    std::cout << "  CrowdStrike aidmaster/userinfo lookup records: " << total.lookups_loaded
              << "\n";
  }
  std::cout << "  events loaded: " << total.events_loaded
            << "; other events skipped: " << total.events_skipped
            << "; records rejected: " << total.records_rejected << "; warnings: " << total.warnings
            << (total.warnings ? " (SELECT * FROM ingest_warnings)" : "") << "\n";
  if (total.events_duplicate > 0) {
    std::cout << "  events already in the case from other files: " << total.events_duplicate
              << " (not loaded again; SELECT * FROM event_copies)\n";
  }
  if (summary->rows_linked > 0) {
    std::cout << "  rows linked to another source's row of the same process: "
              << summary->rows_linked << " (SELECT * FROM process_sightings)\n";
  }
  std::cout.flush();
  if (!std::cout)
    return ReportError(Status(StatusCode::kIoError, "cannot write the summary to standard output"));
  return outcomes[ingest::FileOutcome::kFailed] > 0 ? kExitFailure : kExitOk;
}

}  // namespace

int IngestPaths(const std::string& db, const std::vector<std::string>& paths,
                const std::optional<std::string>& password) {
  IngestFlags flags;
  flags.db = db;
  flags.paths = paths;
  flags.password = password;
  return Run(flags);
}

Command IngestCommand() {
  auto flags = std::make_shared<IngestFlags>();
  Command command;
  command.name = "ingest";
  command.summary = "Load process-creation events from files and folders into a case database";
  command.examples =
      "Examples:\n"
      "  quarry ingest --db case.db triage/               # every file below triage/, by content\n"
      "  quarry ingest --db case.db Sysmon.xml Security.xml\n"
      "  quarry ingest --db case.db triage.zip           # zip, 7z, tar, tar.gz, .gz; nested too\n"
      "  quarry ingest --db case.db triage/               # again: files already in the case are "
      "not re-read\n"
      "\n"
      "Reads Sysmon Event ID 1 and Security 4688 from event XML (one event per line, wevtutil\n"
      "output, or Event Viewer's saved XML; UTF-8 or UTF-16) and from NXLog JSON lines, and\n"
      "CrowdStrike Falcon ProcessRollup2 from FDR JSON lines, with the FDR aidmaster and userinfo\n"
      "files naming hosts and users (in any order). Other events are counted as skipped; damaged\n"
      "records are kept in the ingest_warnings table and the rest of the file loads.\n"
      "Archives are read member by member without extracting to disk; members are named\n"
      "archive!path. An event already in the case from another file (same host, channel,\n"
      "record id and time) is not loaded again. Rows of Sysmon and Security for one process are\n"
      "linked (view process_sightings).\n"
      "Raw records are stored as zstd frames with a dictionary per data source (read them with\n"
      "quarry_raw(raw) in quarry query, or the process_evidence view); --raw plain stores text\n"
      "that any SQLite client reads, at about twice the case size.\n"
      "Exit status: 0 done (warnings allowed), 1 a file or the case could not be read or written,\n"
      "2 usage error.\n";
  command.add = [flags](CLI::App* app) {
    app->add_option("--db", flags->db, "Case database to create or add to")->required();
    app->add_option("paths", flags->paths, "Files, folders and archives to read")->required();
    app->add_option("--password", flags->password,
                    "Password for encrypted archive entries (malware samples: 'infected')");
    app->add_option("--raw", flags->raw, "How raw records are stored: zstd (default) or plain")
        ->check(CLI::IsMember({"zstd", "plain"}));
  };
  command.run = [flags] { return Run(*flags); };
  return command;
}

}  // namespace quarry::cli
