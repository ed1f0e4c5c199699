// `quarry query --db CASE SQL`: ad hoc, read-only SQL over a case database.
//
// Usage:
//   quarry query --db case.db "SELECT dest, count(*) FROM processes GROUP BY dest"
// SQL comes from the argument, from standard input when it is "-", or from a file ending in
// ".sql". The database is opened read-only: a statement that would write is refused.
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/command.h"
#include "query/adhoc_query.h"
#include "schema/case_db.h"

namespace quarry::cli {
namespace {

struct QueryFlags {
  std::string db;
  std::string sql;
  std::string format = "table";
  std::vector<std::string> params;  // NAME=VALUE
};

int Run(const QueryFlags& flags) {
  std::optional<query::OutputFormat> format = query::ParseOutputFormat(flags.format);
  if (!format) {
    std::cerr << "quarry query: error: --format must be table, csv, json or jsonl, not '"
              << flags.format << "'\n";
    return kExitUsage;
  }
  query::QueryParams params;
  for (const std::string& param : flags.params) {
    std::size_t equals = param.find('=');
    if (equals == 0 || equals == std::string::npos) {
      std::cerr << "quarry query: error: --param takes NAME=VALUE, not '" << param << "'\n";
      return kExitUsage;
    }
    params[param.substr(0, equals)] = param.substr(equals + 1);
  }
  std::string sql = flags.sql;
  if (sql == "-") {
    std::ostringstream text;
    text << std::cin.rdbuf();
    sql = text.str();
  } else if (sql.size() > 4 && sql.ends_with(".sql")) {
    std::ifstream file(sql, std::ios::binary);
    if (!file) {
      std::cerr << "quarry query: error: cannot read " << sql << "\n";
      return kExitFailure;
    }
    std::ostringstream text;
    text << file.rdbuf();
    sql = text.str();
  }
  Result<std::unique_ptr<schema::CaseDb>> db =
      schema::CaseDb::Open(flags.db, schema::OpenMode::kReadOnly);
  if (!db.ok()) return ReportError(db.status());
  Status status = query::RunAdHocQuery(db->get(), sql, *format, std::cout, params);
  std::cout.flush();
  if (!status.ok()) return ReportError(status);
  if (!std::cout)
    return ReportError(Status(StatusCode::kIoError, "cannot write the results to standard output"));
  return kExitOk;
}

}  // namespace

Command QueryCommand() {
  auto flags = std::make_shared<QueryFlags>();
  Command command;
  command.name = "query";
  command.summary = "Run read-only SQL on a case database (table, csv, json or jsonl output)";
  command.examples =
      "Examples:\n"
      "  quarry query --db case.db \"SELECT _time, dest, user, process FROM processes LIMIT 20\"\n"
      "  quarry query --db case.db --format csv \"SELECT * FROM processes\" > processes.csv\n"
      "  quarry query --db case.db --format json - < hunt.sql\n"
      "  quarry query --db case.db hunt.sql\n"
      "  quarry query --db case.db --param host=WKS-07 \"SELECT * FROM processes WHERE dest = "
      ":host\"\n"
      "\n"
      "Tables and views: processes (CIM Endpoint.Processes), process_evidence, timeline,\n"
      "process_tree, command_line_stack, first_seen, input_files, ingest_warnings, notables,\n"
      "risk_events, risk_by_object, risk_incidents; `quarry schema` lists them all and\n"
      "docs/schema.md has examples. The case is opened read-only.\n"
      "Exit status: 0 done, 1 the SQL failed or would write, 2 usage error.\n";
  command.add = [flags](CLI::App* app) {
    app->add_option("--db", flags->db, "Case database to read")->required();
    app->add_option("--format", flags->format, "table, csv, json or jsonl")->capture_default_str();
    app->add_option("--param", flags->params,
                    "NAME=VALUE for :NAME in the SQL, bound as a value (repeatable)");
    app->add_option("sql", flags->sql, "SQL text, '-' for standard input, or a .sql file")
        ->required();
  };
  command.run = [flags] { return Run(*flags); };
  return command;
}

}  // namespace quarry::cli
