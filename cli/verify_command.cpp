// `quarry verify --db CASE [PATH...]`: are the inputs still the bytes the case was built from?
// Each file's SHA-256 was recorded before it was read; verify hashes the files again.
#include <iostream>
#include <map>

#include "cli/command.h"
#include "ingest/input_file.h"
#include "query/adhoc_query.h"
#include "schema/case_db.h"

namespace quarry::cli {
namespace {

struct VerifyFlags {
  std::string db;
  std::vector<std::string> paths;
};

int Run(const VerifyFlags& flags) {
  Result<std::unique_ptr<schema::CaseDb>> db =
      schema::CaseDb::Open(flags.db, schema::OpenMode::kReadOnly);
  if (!db.ok()) return ReportError(db.status());
  Result<schema::Statement> stmt =
      (*db)->Prepare("SELECT path, sha256 FROM input_files ORDER BY file_id");
  if (!stmt.ok()) return ReportError(stmt.status());
  std::map<std::string, std::string> recorded;  // sha256 -> first path
  std::vector<std::pair<std::string, std::string>> files;
  while (true) {
    Result<bool> row = stmt->Step();
    if (!row.ok()) return ReportError(row.status());
    if (!*row) break;
    files.emplace_back(stmt->ColumnText(0), stmt->ColumnText(1));
    recorded.emplace(files.back().second, files.back().first);
  }
  std::vector<std::string> columns = {"path", "outcome", "sha256"};
  std::vector<std::vector<query::SqlValue>> rows;
  int bad = 0;
  auto check = [&](const std::string& path, const std::string* expected) {
    Result<std::string> sha = ingest::Sha256OfFile(path);
    std::string outcome;
    if (!sha.ok()) {
      outcome = "unreadable: " + sha.status().message();
    } else if (expected != nullptr) {
      outcome = *sha == *expected ? "ok" : "CHANGED (recorded " + *expected + ")";
    } else {
      auto it = recorded.find(*sha);
      outcome = it != recorded.end() ? "ok (recorded as " + it->second + ")" : "NOT IN THE CASE";
    }
    if (outcome.rfind("ok", 0) != 0) ++bad;
    rows.push_back({path, outcome, sha.ok() ? *sha : std::string()});
  };
  if (flags.paths.empty()) {
    for (const auto& [path, sha] : files) check(path, &sha);
  } else {
    for (const std::string& path : flags.paths) check(path, nullptr);
  }
  Status printed = query::PrintTable(columns, rows, query::OutputFormat::kTable, std::cout);
  if (!printed.ok()) return ReportError(printed);
  std::cout << "\n" << rows.size() << " files checked, " << bad << " not as recorded.\n";
  return bad == 0 ? kExitOk : kExitFailure;
}

}  // namespace

Command VerifyCommand() {
  auto flags = std::make_shared<VerifyFlags>();
  Command command;
  command.name = "verify";
  command.summary = "Check that input files still have the SHA-256 the case recorded";
  command.examples =
      "Examples:\n"
      "  quarry verify --db case.db                 # every file the case lists, at its path\n"
      "  quarry verify --db case.db copy/Security.xml  # is this file one the case was built "
      "from?\n"
      "\n"
      "Ingest records each file's SHA-256 before reading it. verify hashes the files again: with\n"
      "no PATH, every recorded file at its recorded path; with PATHs, whether each one's hash is\n"
      "in the case. The case is opened read-only.\n"
      "Exit status: 0 all as recorded, 1 a file changed, is missing or is not in the case,\n"
      "2 usage error.\n";
  command.add = [flags](CLI::App* app) {
    app->add_option("--db", flags->db, "Case database")->required();
    app->add_option("paths", flags->paths, "Files to check instead of the recorded ones");
  };
  command.run = [flags] { return Run(*flags); };
  return command;
}

}  // namespace quarry::cli
