// `quarry detections list|show|test`: the detection catalog, one detection in full with its
// compiled SQL, and a detection run on its own test data.
//
// Usage:
//   quarry detections list [--detections DIR] [--macros DIR]
//   quarry detections show ID [--sql]
//   quarry detections test ID [--data FILE]...
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <iostream>

#include "cli/command.h"
#include "ingest/ingest.h"
#include "query/adhoc_query.h"
#include "query/detect.h"
#include "schema/case_db.h"

namespace quarry::cli {
namespace {

namespace fs = std::filesystem;

struct DetectionsFlags {
  std::vector<std::string> detection_dirs;
  std::vector<std::string> macro_dirs;
  std::string id;
  bool sql = false;
  std::vector<std::string> data;
  CLI::App* list = nullptr;
  CLI::App* show = nullptr;
  CLI::App* test = nullptr;
};

std::string Join(const std::vector<std::string>& values, std::string_view separator = ", ") {
  std::string out;
  for (const std::string& value : values)
    out += (out.empty() ? "" : std::string(separator)) + value;
  return out;
}

int List(const query::Catalog& catalog) {
  std::vector<std::string> columns = {"id", "name", "type", "version", "compiles", "origin"};
  std::vector<std::vector<query::SqlValue>> rows;
  int compiled = 0;
  for (const query::Detection& detection : catalog.detections) {
    Result<query::CompiledDetection> result = query::CompileDetection(detection, catalog.macros);
    compiled += result.ok() ? 1 : 0;
    rows.push_back(
        {detection.id, detection.name, detection.type, static_cast<std::int64_t>(detection.version),
         result.ok() ? std::string("yes") : "no: " + result.status().message(), detection.origin});
  }
  Status printed = query::PrintTable(columns, rows, query::OutputFormat::kTable, std::cout);
  if (!printed.ok()) return ReportError(printed);
  std::cout << "\n" << catalog.detections.size() << " detections, " << compiled << " compile.\n";
  return kExitOk;
}

int Show(const query::Catalog& catalog, const DetectionsFlags& flags) {
  const query::Detection* detection = catalog.Find(flags.id);
  if (detection == nullptr) {
    std::cerr << "quarry detections show: error: no detection " << flags.id << "\n";
    return kExitUsage;
  }
  const query::Detection& d = *detection;
  std::cout << "name:            " << d.name << "\n"
            << "id:              " << d.id << "\n"
            << "version:         " << d.version << " (" << d.date << ")\n"
            << "type:            " << d.type << (d.RaisesNotables() ? " (raises notables)" : "")
            << "\n"
            << "status:          " << d.status << "\n"
            << "origin:          " << d.origin << "\n"
            << "data sources:    " << Join(d.data_sources) << "\n";
  std::cout << "ATT&CK:          ";
  for (std::size_t i = 0; i < d.mitre_attack_ids.size(); ++i) {
    std::vector<std::string> tactics;
    for (const auto& [tactic_id, name] : query::AttackTactics(d.mitre_attack_ids[i]))
      tactics.push_back(tactic_id + " " + name);
    std::cout << (i ? "; " : "") << d.mitre_attack_ids[i] << " (" << Join(tactics) << ")";
  }
  std::cout << "\nrisk objects:    ";
  for (std::size_t i = 0; i < d.risk_objects.size(); ++i)
    std::cout << (i ? ", " : "") << d.risk_objects[i].field << " (" << d.risk_objects[i].type
              << ", score " << d.risk_objects[i].score << ")";
  std::cout << "\nthreat objects:  ";
  for (std::size_t i = 0; i < d.threat_objects.size(); ++i)
    std::cout << (i ? ", " : "") << d.threat_objects[i].field << " (" << d.threat_objects[i].type
              << ")";
  std::cout << "\nseverity:        " << d.Severity() << "\n"
            << "risk message:    " << d.risk_message << "\n"
            << "schedule:        " << d.schedule.cron << ", " << d.schedule.earliest << " to "
            << d.schedule.latest << "\n"
            << "filter macro:    " << d.FilterMacroName();
  Result<query::CompiledDetection> compiled = query::CompileDetection(d, catalog.macros);
  if (compiled.ok()) std::cout << " (" << compiled->filter_origin << ")";
  std::cout << "\n\ndescription:\n  " << d.description << "\n\nsearch:\n  " << d.search << "\n";
  if (!compiled.ok()) {
    std::cout << "\ncompiles: no: " << compiled.status().message() << "\n";
    return flags.sql ? kExitFailure : kExitOk;
  }
  for (const std::string& note : compiled->notes) std::cout << "note: " << note << "\n";
  if (flags.sql) {
    std::cout << "\ncompiled SQL (whole case; ?1..?3 are the time window and now):\n"
              << compiled->filtered.sql << "\n\nbound values:\n";
    for (std::size_t i = 0; i < compiled->filtered.params.size(); ++i) {
      std::cout << "  ?" << i + 1 + query::kNowParam << " = "
                << query::ValueText(compiled->filtered.params[i]) << "\n";
    }
  }
  return kExitOk;
}

// Where a detection's test data is: a built-in file written out, a local file, or nothing.
Result<std::vector<std::string>> TestData(const query::Detection& detection,
                                          const std::vector<std::string>& given,
                                          const fs::path& workdir) {
  if (!given.empty()) return given;
  std::vector<std::string> paths;
  for (const std::string& location : detection.test_data) {
    if (location.rfind("builtin:", 0) == 0) {
      std::string name = location.substr(8);
      std::optional<std::string_view> text = query::BuiltinTestData(name);
      if (!text) return Status(StatusCode::kNotFound, "no built-in test data " + name);
      fs::path path = workdir / name;
      std::ofstream out(path, std::ios::binary);
      out << *text;
      if (!out) return Status(StatusCode::kIoError, "cannot write " + path.string());
      paths.push_back(path.string());
      continue;
    }
    fs::path path = location;
    if (path.is_relative() && detection.origin.rfind("built-in:", 0) != 0)
      path = fs::path(detection.origin).parent_path() / path;
    std::error_code error;
    if (fs::is_regular_file(path, error)) {
      paths.push_back(path.string());
      continue;
    }
    return Status(StatusCode::kNotFound,
                  "test data " + location +
                      " is not on this machine (Quarry downloads nothing); fetch it and pass "
                      "--data FILE");
  }
  if (paths.empty()) return Status(StatusCode::kNotFound, "the detection names no test data");
  return paths;
}

int Test(const query::Catalog& catalog, const DetectionsFlags& flags) {
  const query::Detection* detection = catalog.Find(flags.id);
  if (detection == nullptr) {
    std::cerr << "quarry detections test: error: no detection " << flags.id << "\n";
    return kExitUsage;
  }
  std::string pattern = (fs::temp_directory_path() / "quarry-test-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) {
    return ReportError(Status(StatusCode::kIoError, "cannot create a temporary folder"));
  }
  fs::path workdir = pattern;
  struct Cleanup {
    fs::path dir;
    ~Cleanup() {
      std::error_code ignored;
      fs::remove_all(dir, ignored);
    }
  } cleanup{workdir};
  Result<std::vector<std::string>> data = TestData(*detection, flags.data, workdir);
  if (!data.ok()) return ReportError(data.status());
  std::string case_path = (workdir / "test-case.db").string();
  {
    Result<std::unique_ptr<schema::CaseDb>> db =
        schema::CaseDb::Open(case_path, schema::OpenMode::kReadWrite);
    if (!db.ok()) return ReportError(db.status());
    Result<ingest::IngestSummary> summary =
        ingest::Ingest(db->get(), *data, ingest::IngestOptions{}, nullptr);
    if (!summary.ok()) return ReportError(summary.status());
  }
  Result<std::unique_ptr<schema::CaseDb>> db =
      schema::CaseDb::Open(case_path, schema::OpenMode::kResults);
  if (!db.ok()) return ReportError(db.status());
  query::DetectOptions options;
  options.only = {detection->id};
  Result<query::DetectReport> report = query::RunDetections(db->get(), catalog, options);
  if (!report.ok()) return ReportError(report.status());
  const query::DetectionOutcome& outcome = report->outcomes.front();
  std::cout << detection->name << "\ntest data: " << Join(*data) << "\n\n";
  if (!outcome.ok) {
    std::cout << "FAIL: the detection could not run: " << outcome.error << "\n";
    return kExitFailure;
  }
  Status printed = query::PrintTable(outcome.results.columns, query::DisplayRows(outcome.results),
                                     query::OutputFormat::kTable, std::cout);
  if (!printed.ok()) return ReportError(printed);
  std::size_t count = outcome.results.rows.size();
  std::cout << "\n"
            << (count > 0 ? "PASS" : "FAIL") << ": " << count
            << " result(s); ESCU's true positive test passes when there is at least one.\n";
  return count > 0 ? kExitOk : kExitFailure;
}

int Run(const DetectionsFlags& flags) {
  Result<query::Catalog> catalog = query::LoadCatalog(flags.detection_dirs, flags.macro_dirs);
  if (!catalog.ok()) return ReportError(catalog.status());
  for (const query::CatalogProblem& problem : catalog->problems)
    std::cerr << "quarry detections: skipped " << problem.path << ": " << problem.reason << "\n";
  if (flags.list->parsed()) return List(*catalog);
  if (flags.show->parsed()) return Show(*catalog, flags);
  if (flags.test->parsed()) return Test(*catalog, flags);
  return kExitUsage;
}

}  // namespace

Command DetectionsCommand() {
  auto flags = std::make_shared<DetectionsFlags>();
  Command command;
  command.name = "detections";
  command.summary = "List detections, show one (with --sql its compiled SQL), or test one";
  command.examples =
      "Examples:\n"
      "  quarry detections list\n"
      "  quarry detections list --detections security_content/detections/endpoint \\\n"
      "                         --macros security_content/macros\n"
      "  quarry detections show 4be54858-432f-11ec-8209-3e22fbd008af --sql\n"
      "  quarry detections test scheduled_task_creation_on_remote_endpoint_using_at\n"
      "  quarry detections test ID --data windows-sysmon.log\n"
      "\n"
      "A detection is named by its id, its name or its file name without .yml. `test` ingests\n"
      "the detection's test data (built-in, a local file it names, or --data) into a temporary\n"
      "case and runs it: PASS when it finds at least one result, as ESCU's tests do.\n"
      "Exit status: 0 done (test: PASS), 1 failed (test: FAIL), 2 usage error.\n";
  command.add = [flags](CLI::App* app) {
    app->require_subcommand(1);
    auto common = [flags](CLI::App* sub) {
      sub->add_option("--detections", flags->detection_dirs,
                      "Folder of ESCU detection YAML files (repeatable)");
      sub->add_option("--macros", flags->macro_dirs,
                      "Folder of ESCU macro YAML files (repeatable)");
    };
    flags->list = app->add_subcommand("list", "List the detections and whether each compiles");
    common(flags->list);
    flags->show = app->add_subcommand("show", "Show one detection");
    common(flags->show);
    flags->show->add_option("id", flags->id, "Detection id, name or file name")->required();
    flags->show->add_flag("--sql", flags->sql, "Print the compiled SQL and its bound values");
    flags->test = app->add_subcommand("test", "Run one detection on its test data");
    common(flags->test);
    flags->test->add_option("id", flags->id, "Detection id, name or file name")->required();
    flags->test->add_option("--data", flags->data, "Test data file to use instead (repeatable)");
  };
  command.run = [flags] { return Run(*flags); };
  return command;
}

}  // namespace quarry::cli
