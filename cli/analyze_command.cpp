// `quarry analyze PATH... -o report.html`: ingest, detect, score and report in one command.
#include <filesystem>
#include <iostream>
#include <optional>

#include "cli/command.h"

namespace quarry::cli {
namespace {

struct AnalyzeFlags {
  std::vector<std::string> paths;
  std::string output;
  std::string db;
  std::vector<std::string> detection_dirs;
  std::vector<std::string> macro_dirs;
  std::optional<std::string> password;
};

int Run(const AnalyzeFlags& flags) {
  std::string db = flags.db;
  if (db.empty()) {  // report.html -> report.db beside it
    db = std::filesystem::path(flags.output).replace_extension(".db").string();
  }
  std::cerr << "quarry analyze: case " << db << "\n";
  int ingested = IngestPaths(db, flags.paths, flags.password);
  if (ingested == kExitUsage) return ingested;
  if (!std::filesystem::exists(db)) return kExitFailure;  // nothing could be written
  std::cout << "\n";
  int detected = DetectAll(db, flags.detection_dirs, flags.macro_dirs);
  if (detected == kExitUsage) return detected;
  std::cout << "\n";
  int reported = WriteReport(db, flags.output);
  if (reported != kExitOk) return reported;
  std::cout << "Report: " << flags.output << "\nCase database: " << db << "\n";
  // A file that could not be read, or a detection that could not run, still fails the batch.
  return ingested != kExitOk || detected != kExitOk ? kExitFailure : kExitOk;
}

}  // namespace

Command AnalyzeCommand() {
  auto flags = std::make_shared<AnalyzeFlags>();
  Command command;
  command.name = "analyze";
  command.summary = "Ingest, detect, score and write the HTML report in one command";
  command.examples =
      "Examples:\n"
      "  quarry analyze triage/ -o case-report.html\n"
      "  quarry analyze HOST-A/ HOST-B/ falcon-fdr/ -o report.html --db case.db \\\n"
      "                 --detections security_content/detections/endpoint \\\n"
      "                 --macros security_content/macros\n"
      "\n"
      "The same as quarry ingest, quarry detect and quarry report one after the other. Without\n"
      "--db the case is the report's name with .db. Running it again on the same inputs loads\n"
      "nothing twice and replaces the detections' results, so the case and report are the same\n"
      "apart from the times they were made.\n"
      "Exit status: 0 done, 1 a file could not be read, a detection could not run or the report\n"
      "could not be written (the rest still ran), 2 usage error.\n";
  command.add = [flags](CLI::App* app) {
    app->add_option("paths", flags->paths, "Files, folders and archives to read")->required();
    app->add_option("--password", flags->password,
                    "Password for encrypted archive entries (malware samples: 'infected')");
    app->add_option("-o,--output", flags->output, "HTML report to write")->required();
    app->add_option("--db", flags->db, "Case database (default: the report's name with .db)");
    app->add_option("--detections", flags->detection_dirs,
                    "Folder of ESCU detection YAML files (repeatable)");
    app->add_option("--macros", flags->macro_dirs, "Folder of ESCU macro YAML files (repeatable)");
  };
  command.run = [flags] { return Run(*flags); };
  return command;
}

}  // namespace quarry::cli
