// Injection: quotes, `;`, `--`, `<` and `"` in host names, users, command lines, file names,
// detection ids and every command-line option. Each value is stored and shown exactly (HTML
// escaping it), reaches SQL only as a bound value, and nothing else in the case changes.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "ingest/input_file.h"
#include "reports/html_report.h"
#include "tests/test_util.h"

namespace quarry::testing {
namespace {

const std::string kHost = "x'); DROP TABLE process_events; --";
const std::string kUser = "CORP\\o'brien\"; DELETE FROM input_files; -- <b>";
const std::string kCommand =
    "at \\\\x 10:00 \"'; DROP TABLE detection_runs; --<script>alert(1)</script>\"";
const std::string kFdrHost = "fdr\"; DROP TABLE crowdstrike_events; --'";
const std::string kDetectionId = "evil'); DROP TABLE detection_runs; --\"<b>";
const std::string kDetectionName =
    "Evil \"name\" '; DELETE FROM notables; -- <script>alert(2)</script>";

std::string XmlText(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '<') {
      out += "&lt;";
    } else if (c == '&') {
      out += "&amp;";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string JsonString(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out + "\"";
}

// A Sysmon at.exe event (the built-in detection finds it) with the hostile values.
std::string SysmonEvent() {
  return "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System>"
         "<Provider Name='Microsoft-Windows-Sysmon'/><EventID>1</EventID><Version>5</Version>"
         "<TimeCreated SystemTime='2026-06-03T08:00:00.1043120Z'/><EventRecordID>7</EventRecordID>"
         "<Channel>Microsoft-Windows-Sysmon/Operational</Channel><Computer>" +
         XmlText(kHost) +
         "</Computer></System><EventData><Data Name='UtcTime'>2026-06-03 08:00:00.100</Data>"
         "<Data Name='ProcessGuid'>{3c0d9a11-5e20-4f61-a0b2-1d7e00000102}</Data>"
         "<Data Name='ProcessId'>3104</Data><Data Name='Image'>C:\\Windows\\System32\\at.exe"
         "</Data><Data Name='OriginalFileName'>AT.EXE</Data><Data Name='CommandLine'>" +
         XmlText(kCommand) + "</Data><Data Name='User'>" + XmlText(kUser) +
         "</Data><Data Name='ParentProcessId'>3000</Data><Data Name='ParentImage'>"
         "C:\\Windows\\System32\\cmd.exe</Data></EventData></Event>\n";
}

std::string FdrEvent() {
  return "{\"event_simpleName\": \"ProcessRollup2\", \"id\": \"fdr-1\", \"aid\": "
         "\"0a1b2c3d4e5f60718293a4b5c6d7e8f9\", \"ComputerName\": " +
         JsonString(kFdrHost) + ", \"UserName\": " + JsonString(kUser) +
         ", \"CommandLine\": " + JsonString(kCommand) +
         ", \"ImageFileName\": \"\\\\Device\\\\HarddiskVolume3\\\\Windows\\\\System32\\\\at.exe\", "
         "\"RawProcessId\": \"4100\", \"TargetProcessId\": \"1001\", \"ProcessStartTime\": "
         "\"1780473601.000\", \"timestamp\": \"1780473601200\"}\n";
}

// A TTP detection whose id and name are hostile and whose search compares dest with kHost.
std::string DetectionYaml() {
  std::string quoted_id = "'";
  for (char c : kDetectionId) quoted_id += c == '\'' ? std::string("''") : std::string(1, c);
  quoted_id += "'";
  std::string quoted_name = "'";
  for (char c : kDetectionName) quoted_name += c == '\'' ? std::string("''") : std::string(1, c);
  quoted_name += "'";
  return "name: " + quoted_name + "\nid: " + quoted_id +
         "\nversion: 1\ntype: TTP\ndescription: hostile text\n"
         "search: |-\n  | tstats count min(_time) as firstTime from datamodel=Endpoint.Processes "
         "where Processes.dest=\"x'); DROP TABLE process_events; --\" by Processes.dest "
         "Processes.user | `drop_dm_object_name(Processes)`\n"
         "tags:\n  confidence: 80\n  impact: 80\n  message: Hostile $dest$ by $user$\n"
         "  mitre_attack_id:\n  - T1053\n  observable:\n  - name: dest\n    type: Endpoint\n"
         "    role:\n    - Victim\n  - name: user\n    type: User\n    role:\n    - Victim\n"
         "  security_domain: endpoint\n";
}

std::string Schema(const std::string& db_path) {
  auto db = OpenCase(db_path, schema::OpenMode::kReadOnly);
  return db ? QueryJsonl(db.get(),
                         "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY "
                         "type, name")
            : std::string();
}

// Reads one text column of the first row of `sql`, `value` bound as ?1.
std::string ReadText(const std::string& db_path, const std::string& sql, const std::string& value) {
  auto db = OpenCase(db_path, schema::OpenMode::kReadOnly);
  if (!db) return "<no case>";
  Result<schema::Statement> statement = db->Prepare(sql);
  if (!statement.ok()) return "<" + statement.status().message() + ">";
  statement->BindText(1, std::string_view(value));
  Result<bool> row = statement->Step();
  if (!row.ok() || !*row) return "<no row>";
  return std::string(statement->ColumnText(0));
}

TEST(InjectionTest, HostileValuesAndPathsAreStoredAndShownExactlyAndChangeNothingElse) {
  TempDir dir;
  // Folders and files whose names hold every character that matters to SQL, HTML and shells.
  const std::string inputs = dir.File("in\"dir';--<x>");
  const std::string output = dir.File("case'; DROP TABLE x; --\"<y>");
  std::filesystem::create_directories(inputs);
  std::filesystem::create_directories(output);
  const std::string xml_path = inputs + "/evil'; DROP TABLE input_files; --<i>\".xml";
  const std::string fdr_path = inputs + "/fdr\"; --';.jsonl";
  WriteFile(xml_path, SysmonEvent());
  WriteFile(fdr_path, FdrEvent());
  const std::string db = output + "/ca'se\";--<z>.db";
  const std::string report = output + "/rep'ort\";--<z>.html";

  RunResult ingest = RunQuarry({"ingest", "--db", db, inputs});
  ASSERT_EQ(ingest.exit_code, 0) << ingest.err;
  // The same tables, views, indexes and triggers as any case.
  const std::string clean_db = dir.File("clean.db");
  ASSERT_EQ(RunQuarry({"ingest", "--db", clean_db, SourcePath("fixtures/demo/FS01")}).exit_code, 0);
  EXPECT_EQ(Schema(db), Schema(clean_db));

  // Stored exactly.
  EXPECT_EQ(ReadText(db, "SELECT user FROM process_events WHERE dest = ?1", kHost), kUser);
  EXPECT_EQ(ReadText(db, "SELECT process FROM process_events WHERE dest = ?1", kHost), kCommand);
  EXPECT_EQ(ReadText(db, "SELECT process FROM processes WHERE dest = ?1", kFdrHost), kCommand);
  EXPECT_EQ(ReadText(db, "SELECT path FROM input_files WHERE path = ?1", xml_path), xml_path);
  EXPECT_EQ(ReadText(db, "SELECT path FROM input_files WHERE path = ?1", fdr_path), fdr_path);

  // Hostile option values: parameters are values, bad times and ids are usage errors.
  RunResult by_param = RunQuarry({"query", "--db", db, "--format", "jsonl", "--param",
                                  "host=" + kHost, "--param", "echo='; DROP TABLE x; --",
                                  "SELECT count(*) AS n, :echo AS echo FROM processes WHERE "
                                  "dest = :host"});
  EXPECT_EQ(by_param.exit_code, 0) << by_param.err;
  EXPECT_EQ(by_param.out, "{\"n\": 1, \"echo\": \"'; DROP TABLE x; --\"}\n");
  const std::string ingested = ingest::Sha256OfFile(db).value();
  for (const std::vector<std::string>& usage :
       {std::vector<std::string>{"detect", "--db", db, "--earliest", "'; DROP TABLE x; --"},
        {"detect", "--db", db, "--latest", "now\"; --"},
        {"detect", "--db", db, "--now", "2026-06-03'); --"},
        {"detect", "--db", db, "--only", "x' OR '1'='1"},
        {"detect", "--db", db, "--dry-run", "--only", "x\"; DELETE FROM notables; --"}}) {
    RunResult run = RunQuarry(usage);
    EXPECT_EQ(run.exit_code, 2) << usage[3] << ": " << run.err;
    EXPECT_EQ(ingest::Sha256OfFile(db).value(), ingested) << usage[3];
  }

  // Detections: the built-in one finds both at.exe events; the hostile one finds kHost.
  std::filesystem::create_directories(dir.File("detections"));
  WriteFile(dir.File("detections/hostile.yml"), DetectionYaml());
  RunResult detect = RunQuarry({"detect", "--db", db, "--detections", dir.File("detections")});
  EXPECT_EQ(detect.exit_code, 0) << detect.out << detect.err;
  RunResult only = RunQuarry({"detect", "--db", db, "--detections", dir.File("detections"),
                              "--only", kDetectionId, "--format", "csv"});
  EXPECT_EQ(only.exit_code, 0) << only.err;
  EXPECT_NE(only.out.find("\r\nx'); DROP TABLE process_events; --,"), std::string::npos)
      << only.out;
  EXPECT_EQ(ReadText(db, "SELECT detection_name FROM detection_runs WHERE detection_id = ?1",
                     kDetectionId),
            kDetectionName);
  EXPECT_EQ(
      ReadText(db, "SELECT user FROM detection_results WHERE detection_id = ?1", kDetectionId),
      kUser);
  EXPECT_EQ(ReadText(db,
                     "SELECT risk_message FROM risk_events WHERE detection_id = ?1 AND "
                     "risk_object_type = 'system'",
                     kDetectionId),
            "Hostile " + kHost + " by " + kUser);
  // The value is bound, never part of the SQL that ran.
  std::string compiled =
      ReadText(db, "SELECT compiled_sql FROM detection_runs WHERE detection_id = ?1", kDetectionId);
  EXPECT_EQ(compiled.find("DROP TABLE"), std::string::npos) << compiled;
  for (const std::string& host : {kHost, kFdrHost}) {
    EXPECT_EQ(ReadText(db,
                       "SELECT count(*) FROM notables WHERE detection_id = "
                       "'4be54858-432f-11ec-8209-3e22fbd008af' AND dest = ?1",
                       host),
              "1")
        << host;
  }
  RunResult show = RunQuarry(
      {"detections", "show", kDetectionId, "--detections", dir.File("detections"), "--sql"});
  EXPECT_EQ(show.exit_code, 0) << show.err;
  EXPECT_NE(show.out.find(kDetectionName), std::string::npos) << show.out;

  // The report, written to a hostile path, shows every value as text.
  RunResult written = RunQuarry({"report", "--db", db, "-o", report});
  ASSERT_EQ(written.exit_code, 0) << written.err;
  const std::string html = ReadFile(report);
  for (const std::string& value : {kHost, kUser, kFdrHost, xml_path, kDetectionName})
    EXPECT_NE(html.find(reports::HtmlEscape(value)), std::string::npos) << value;
  // Command lines are in the evidence, the JSON the report's script reads as text.
  EXPECT_NE(html.find(reports::ScriptSafeJson(JsonString(kCommand))), std::string::npos);
  EXPECT_EQ(html.find("<script>alert("), std::string::npos);
  EXPECT_EQ(html.find("<b>"), std::string::npos);
  std::size_t scripts = 0;
  for (std::size_t at = html.find("<script"); at != std::string::npos;
       at = html.find("<script", at + 1))
    ++scripts;
  EXPECT_EQ(scripts, 2u);  // the JSON island and the report's own script

  // Readers left the case alone; the evidence and the schema are as ingest left them.
  const std::string detected = ingest::Sha256OfFile(db).value();
  EXPECT_EQ(RunQuarry({"verify", "--db", db}).exit_code, 0);
  EXPECT_EQ(RunQuarry({"verify", "--db", db, xml_path, fdr_path}).exit_code, 0);
  EXPECT_EQ(ingest::Sha256OfFile(db).value(), detected);
  EXPECT_EQ(Schema(db), Schema(clean_db));
  auto case_db = OpenCase(db, schema::OpenMode::kReadOnly);
  ASSERT_TRUE(case_db);
  EXPECT_EQ(QueryInt(case_db.get(), "SELECT count(*) FROM process_events"), 2);
  EXPECT_EQ(QueryInt(case_db.get(), "SELECT count(*) FROM input_files WHERE status = 'loaded'"), 2);
  EXPECT_EQ(QueryJsonl(case_db.get(), "PRAGMA integrity_check"), "{\"integrity_check\": \"ok\"}\n");
}

}  // namespace
}  // namespace quarry::testing
