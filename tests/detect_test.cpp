// Detections end to end: YAML and macros, the at.exe detection on the three-source fixture,
// filters, re-runs, schedule replay, risk events and incidents, and the CLI around them.
#include "query/detect.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>

#include "query/detection.h"
#include "tests/test_util.h"

namespace quarry::testing {
namespace {

constexpr const char* kAtId = "4be54858-432f-11ec-8209-3e22fbd008af";
const std::string kFixture =
    SourcePath("fixtures/detections/scheduled_task_creation_on_remote_endpoint_using_at");

std::string WithoutCr(const std::string& text) {
  std::string out;
  for (char c : text)
    if (c != '\r') out.push_back(c);
  return out;
}

TEST(DetectionYamlTest, V4ObservablesBecomeRiskAndThreatObjects) {
  Result<query::Detection> detection = query::ParseDetectionYaml(R"(
name: Example
id: 11111111-2222-3333-4444-555555555555
type: Anomaly
search: '| tstats count from datamodel=Endpoint.Processes by Processes.dest'
tags:
  impact: 70
  confidence: 50
  risk_score: 99
  mitre_attack_id: [T1053.002]
  message: Host $dest$ ran $process_name$
  observable:
  - {name: dest, type: Endpoint, role: [Victim]}
  - {name: user, type: User, role: [Victim]}
  - {name: process_name, type: Process Name, role: [Attacker]}
)",
                                                                 "test.yml", "example");
  ASSERT_TRUE(detection.ok()) << detection.status().message();
  ASSERT_EQ(detection->risk_objects.size(), 2u);
  EXPECT_EQ(detection->risk_objects[0].type, "system");
  EXPECT_EQ(detection->risk_objects[1].type, "user");
  EXPECT_EQ(detection->risk_objects[0].score, 35);  // 70 x 50 / 100, not tags.risk_score
  ASSERT_EQ(detection->threat_objects.size(), 1u);
  EXPECT_EQ(detection->threat_objects[0].type, "process_name");
  EXPECT_EQ(detection->FilterMacroName(), "example_filter");
  EXPECT_FALSE(detection->RaisesNotables());
  EXPECT_TRUE(detection->AddsRisk());
  EXPECT_EQ(detection->Severity(), "low");
}

TEST(DetectionYamlTest, RbaBlockWinsAndNonDetectionsAreRefused) {
  Result<query::Detection> detection = query::ParseDetectionYaml(R"(
name: New style
id: x
type: TTP
search: '| tstats count from datamodel=Endpoint.Processes'
rba:
  message: On $dest$
  risk_objects: [{field: dest, type: system, score: 64}]
  threat_objects: [{field: process, type: process}]
)",
                                                                 "n.yml", "n");
  ASSERT_TRUE(detection.ok());
  EXPECT_EQ(detection->risk_message, "On $dest$");
  EXPECT_EQ(detection->risk_objects[0].score, 64);
  EXPECT_EQ(detection->Severity(), "high");
  EXPECT_FALSE(query::ParseDetectionYaml("name: story\nid: y\n", "s.yml", "s").ok());
  EXPECT_FALSE(query::ParseDetectionYaml("search: [unclosed", "b.yml", "b").ok());
}

TEST(MacroTest, ExpandsArgumentsRecursivelyAndDefaultsFilters) {
  query::MacroLibrary macros;
  macros.Add({"inner", {"f"}, "convert ctime($f$)", "t"});
  macros.Add({"outer", {"a", "b"}, "`inner($a$)` | table $a$ $b$", "t"});
  std::vector<std::string> defaulted;
  Result<std::string> text = macros.Expand("x | `outer(first, second)` | `x_filter`", &defaulted);
  ASSERT_TRUE(text.ok()) << text.status().message();
  EXPECT_EQ(*text, "x | convert ctime(first) | table first second | search *");
  EXPECT_EQ(defaulted, std::vector<std::string>{"x_filter"});
  EXPECT_EQ(macros.Expand("eval q=\"`not a macro`\"").value(), "eval q=\"`not a macro`\"");
  Result<std::string> missing = macros.Expand("`nope(1)`");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("macro `nope(1)` is not defined"), std::string::npos);
  macros.Add({"loop", {}, "`loop`", "t"});
  EXPECT_FALSE(macros.Expand("`loop`").ok());
}

TEST(RiskMessageTest, FillsTokensAndReportsUnknownOnes) {
  std::vector<std::string> unknown;
  std::string message = query::FillRiskMessage(
      "Task created on $dest$ by $user$ via $nope$ ($dest$)", {"dest", "user"},
      {std::string("WKS-1"), std::string("a\x1e"
                                         "b")},
      &unknown);
  EXPECT_EQ(message, "Task created on WKS-1 by a,b via  (WKS-1)");
  EXPECT_EQ(unknown, std::vector<std::string>{"nope"});
}

TEST(AttackTableTest, TechniquesMapToTacticsInMatrixOrder) {
  auto tactics = query::AttackTactics("T1053.002");
  ASSERT_EQ(tactics.size(), 3u);
  EXPECT_EQ(tactics[0], std::make_pair(std::string("TA0002"), std::string("Execution")));
  EXPECT_EQ(tactics[1].first, "TA0003");
  EXPECT_EQ(tactics[2].first, "TA0004");
  EXPECT_TRUE(query::AttackTactics("T9999").empty());
}

TEST(MacroTest, RunawayExpansionIsRefused) {
  query::MacroLibrary macros;
  for (int i = 0; i < 30; ++i) {
    macros.Add({"m" + std::to_string(i),
                {},
                "`m" + std::to_string(i + 1) + "` `m" + std::to_string(i + 1) + "`",
                "t"});
  }
  macros.Add({"m30", {}, "x", "t"});
  Result<std::string> text = macros.Expand("`m0`");
  ASSERT_FALSE(text.ok());
  EXPECT_NE(text.status().message().find("grows past"), std::string::npos);
}

// Risk events written straight into a case, to test the incident rules alone.
class RiskIncidentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    { OpenCase(dir_.File("case.db"), schema::OpenMode::kReadWrite); }
    db_ = OpenCase(dir_.File("case.db"), schema::OpenMode::kResults);
    ASSERT_TRUE(db_->Exec("INSERT INTO detection_runs (run_id, detection_id, detection_name, "
                          "detection_type, origin, mitre_attack_ids, analytic_stories, "
                          "filter_macro, filter_origin, mode, searches, results_before_filter, "
                          "results, filter_removed, status, notes, started_at, quarry_version) "
                          "VALUES (1, 'd', 'd', 'TTP', 'o', '[]', '[]', 'f', 'default', 'range', "
                          "1, 0, 0, 0, 'ok', '[]', 't', 'v'); INSERT INTO detection_results "
                          "(result_id, run_id, detection_id, result_number, fields, result_time) "
                          "VALUES (1, 1, 'd', 1, '{}', 't')")
                    .ok());
  }
  void Risk(double hours, const char* object, int score, const char* source, const char* tactics) {
    auto stmt = db_->Prepare(
        "INSERT INTO risk_events (result_id, run_id, detection_id, source, _time, time_us, "
        "risk_object, risk_object_type, risk_score, risk_message, threat_objects, "
        "mitre_technique_ids, mitre_tactic_ids, mitre_tactics, analytic_stories) VALUES (1, 1, "
        "'d', ?1, 't', ?2, ?3, 'system', ?4, 'm', '[]', '[]', ?5, '[]', '[]')");
    ASSERT_TRUE(stmt.ok());
    stmt->BindTextCopy(1, source);
    stmt->BindInt(2, static_cast<std::int64_t>(hours * 3600) * 1000000);
    stmt->BindTextCopy(3, object);
    stmt->BindInt(4, score);
    stmt->BindTextCopy(5, tactics);
    ASSERT_TRUE(stmt->Run().ok());
  }
  TempDir dir_;
  std::unique_ptr<schema::CaseDb> db_;
};

TEST_F(RiskIncidentTest, ScoreOverOneHundredInTwentyFourHours) {
  Risk(0, "A", 54, "s1", "[]");
  Risk(24, "A", 54, "s1", "[]");  // exactly 24 h later: the first one is out of its window
  Risk(100, "B", 54, "s1", "[]");
  Risk(123.9, "b", 54, "s1", "[]");  // same object, other case: 108 within 24 h
  Risk(124, "B", 300, "s2", "[]");   // (100 h, 124 h]: 54 + 300 = 354 -> high
  ASSERT_EQ(query::RecomputeRiskIncidents(db_.get()).value(), 1);
  EXPECT_EQ(QueryJsonl(db_.get(),
                       "SELECT risk_object, window_start, window_end, risk_score_sum, "
                       "sources, severity FROM risk_incidents"),
            "{\"risk_object\": \"B\", \"window_start\": \"1970-01-05T04:00:00.000000Z\", "
            "\"window_end\": \"1970-01-06T04:00:00.000000Z\", \"risk_score_sum\": 354, "
            "\"sources\": 2, \"severity\": \"high\"}\n");
}

TEST_F(RiskIncidentTest, ThreeTacticsFromFourDetectionsInSevenDays) {
  Risk(0, "H", 10, "d1", "[\"TA0002\"]");
  Risk(50, "H", 10, "d2", "[\"TA0003\"]");
  Risk(100, "H", 10, "d3", "[\"TA0003\"]");
  Risk(160, "H", 10, "d4", "[\"TA0008\"]");  // 160 h: d1 (0 h) is still within 168 h
  Risk(400, "G", 10, "d1", "[\"TA0002\", \"TA0003\", \"TA0004\"]");  // 3 tactics, 1 source
  ASSERT_EQ(query::RecomputeRiskIncidents(db_.get()).value(), 1);
  EXPECT_EQ(QueryJsonl(db_.get(),
                       "SELECT rule, risk_object, tactics, sources, risk_score_sum "
                       "FROM risk_incidents"),
            "{\"rule\": \"ATT&CK Tactic Threshold Exceeded For Object Over Previous 7 Days\", "
            "\"risk_object\": \"H\", \"tactics\": 3, \"sources\": 4, \"risk_score_sum\": 40}\n");
}

TEST(BuiltinCatalogTest, AtExeDetectionAndItsMacrosAreBuiltIn) {
  Result<query::Catalog> catalog = query::LoadCatalog({}, {});
  ASSERT_TRUE(catalog.ok());
  const query::Detection* at = catalog->Find(kAtId);
  ASSERT_NE(at, nullptr);
  EXPECT_EQ(at->name, "Scheduled Task Creation on Remote Endpoint using At");
  ASSERT_EQ(at->risk_objects.size(), 1u);
  EXPECT_EQ(at->risk_objects[0].score, 54);
  EXPECT_EQ(at->Severity(), "medium");
  Result<query::CompiledDetection> compiled = query::CompileDetection(*at, catalog->macros);
  ASSERT_TRUE(compiled.ok()) << compiled.status().message();
  EXPECT_EQ(compiled->filter_origin, "default");
  EXPECT_TRUE(compiled->notes.empty());
  EXPECT_EQ(compiled->filtered.columns,
            (std::vector<std::string>{"dest", "user", "parent_process_name", "process_name",
                                      "process", "process_id", "parent_process_id", "count",
                                      "firstTime", "lastTime"}));
}

// ---- the quarry binary on the fixture ----

class DetectCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_path_ = dir_.File("case.db");
    RunResult ingest = RunQuarry({"ingest", "--db", db_path_, kFixture + "/sysmon.xml",
                                  kFixture + "/security.xml", kFixture + "/falcon"});
    ASSERT_EQ(ingest.exit_code, 0) << ingest.err;
  }
  std::int64_t Count(const std::string& sql) {
    auto db = OpenCase(db_path_, schema::OpenMode::kReadOnly);
    return QueryInt(db.get(), sql);
  }
  TempDir dir_;
  std::string db_path_;
};

TEST_F(DetectCliTest, AtExeRowsAreWhatSplunkReturns) {
  RunResult run = RunQuarry({"detect", "--db", db_path_, "--only", kAtId, "--format", "csv"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(WithoutCr(run.out), WithoutCr(ReadFile(kFixture + "/expected.csv")));
  EXPECT_NE(run.err.find("8 results, 8 notables"), std::string::npos) << run.err;
}

TEST_F(DetectCliTest, NotablesRiskEventsAndIncidentsAreRecordedAndRerunsReplace) {
  for (int i = 0; i < 2; ++i) {
    RunResult run = RunQuarry({"detect", "--db", db_path_});
    ASSERT_EQ(run.exit_code, 0) << run.err;
  }
  EXPECT_EQ(Count("SELECT count(*) FROM detection_runs"), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM notables"), 8);
  EXPECT_EQ(Count("SELECT count(*) FROM risk_events"), 8);
  EXPECT_EQ(Count("SELECT count(*) FROM risk_events WHERE risk_score = 54 AND risk_object_type = "
                  "'system' AND mitre_tactic_ids = '[\"TA0002\", \"TA0003\", \"TA0004\"]'"),
            8);
  EXPECT_EQ(Count("SELECT count(*) FROM risk_events WHERE risk_object = 'WKS-HR-09' AND "
                  "risk_message = 'A Windows Scheduled Task was created on a remote endpoint "
                  "from WKS-HR-09'"),
            2);
  // wks-fin-14: 4 notables x 54 = 216 within 24 hours; WKS-HR-09: 2 x 54 = 108.
  EXPECT_EQ(Count("SELECT risk_score_sum FROM risk_by_object WHERE risk_object = "
                  "'wks-fin-14.corp.example'"),
            216);
  EXPECT_EQ(Count("SELECT count(*) FROM risk_incidents WHERE rule LIKE 'Risk Threshold%'"), 2);
  EXPECT_EQ(Count("SELECT risk_score_sum FROM risk_incidents WHERE risk_object = 'WKS-HR-09'"),
            108);
  // Detect never touches the evidence.
  EXPECT_EQ(Count("SELECT count(*) FROM process_events"), 26);
}

TEST_F(DetectCliTest, UserFilterMacroRemovesResultsAndTheRunCountsThem) {
  std::filesystem::create_directory(dir_.File("macros"));
  WriteFile(dir_.File("macros/filter.yml"),
            "name: scheduled_task_creation_on_remote_endpoint_using_at_filter\n"
            "definition: search dest!=wks-fin-14* user!=\"CORP\\\\rvance\"\n");
  RunResult run = RunQuarry({"detect", "--db", db_path_, "--macros", dir_.File("macros"), "--only",
                             kAtId, "--format", "jsonl"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(Count("SELECT results_before_filter FROM detection_runs"), 8);
  EXPECT_EQ(Count("SELECT results FROM detection_runs"), 3);
  EXPECT_EQ(Count("SELECT filter_removed FROM detection_runs"), 5);
  EXPECT_EQ(Count("SELECT count(*) FROM detection_runs WHERE filter_origin LIKE '%filter.yml'"), 1);
  EXPECT_EQ(run.out.find("wks-fin-14"), std::string::npos);
  EXPECT_EQ(run.out.find("rvance"), std::string::npos);
}

TEST_F(DetectCliTest, TimeRangesAndScheduleReplay) {
  // The newest event is 2026-06-02T19:30:00; -6h@h from it is 13:00.
  RunResult range = RunQuarry(
      {"detect", "--db", db_path_, "--only", kAtId, "--format", "csv", "--earliest", "-6h@h"});
  ASSERT_EQ(range.exit_code, 0) << range.err;
  EXPECT_EQ(std::count(range.out.begin(), range.out.end(), '\n'), 1 + 4) << range.out;
  RunResult bad = RunQuarry({"detect", "--db", db_path_, "--earliest", "yesterday"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("--earliest"), std::string::npos);

  RunResult replay = RunQuarry(
      {"detect", "--db", db_path_, "--only", kAtId, "--format", "csv", "--replay-schedule"});
  ASSERT_EQ(replay.exit_code, 0) << replay.err;
  // Hourly runs search [H-70m, H-10m): consecutive windows touch but do not overlap, so each
  // run raises its own notables, as Splunk would. The pid-7424 runs at 09:12:44 and 13:40:02
  // fall in the 10:00 and 14:00 runs: two notables with count 1 each. The Sysmon and 4688 copies
  // at 14:05:59/14:06:00 are both in the 15:00 run: one row with count 2.
  std::vector<std::string> rows;
  std::istringstream lines(WithoutCr(ReadFile(kFixture + "/expected.csv")));
  for (std::string line; std::getline(lines, line);) rows.push_back(line);
  ASSERT_EQ(rows.size(), 9u);
  const std::string twice = "7424,6160,2,2026-06-02T09:12:44,2026-06-02T13:40:02";
  ASSERT_NE(rows[6].find(twice), std::string::npos);
  std::string later = rows[6];
  rows[6].replace(rows[6].find(twice), twice.size(),
                  "7424,6160,1,2026-06-02T09:12:44,2026-06-02T09:12:44");
  later.replace(later.find(twice), twice.size(),
                "7424,6160,1,2026-06-02T13:40:02,2026-06-02T13:40:02");
  rows.push_back(later);  // index 9
  // In the order the runs raised them: 10:00, 11:00, 14:00, 15:00, 17:00, 20:00.
  std::string expected;
  for (int i : {0, 6, 7, 8, 1, 2, 9, 3, 5, 4}) expected += rows[static_cast<std::size_t>(i)] + "\n";
  EXPECT_EQ(WithoutCr(replay.out), expected);
  EXPECT_EQ(Count("SELECT count(*) FROM risk_events"), 9);
  EXPECT_EQ(Count("SELECT count(*) FROM detection_runs WHERE mode = 'schedule' AND searches = 7"),
            1);
  EXPECT_EQ(Count("SELECT count(*) FROM detection_results WHERE run_time = "
                  "'2026-06-02T10:00:00.000000Z' AND window_earliest = "
                  "'2026-06-02T08:50:00.000000Z' AND window_latest = "
                  "'2026-06-02T09:50:00.000000Z'"),
            3);
}

TEST_F(DetectCliTest, OverlappingScheduleWindowsRaiseEachResultOnce) {
  // The at.exe logic on a half-hourly schedule: every event lies in two overlapping windows.
  std::string yaml = ReadFile(SourcePath(
      "query/builtin/detections/scheduled_task_creation_on_remote_endpoint_using_at.yml"));
  yaml +=
      "deployment:\n  scheduling:\n    cron_schedule: '*/30 * * * *'\n"
      "    earliest_time: -70m@m\n    latest_time: -10m@m\n";
  std::filesystem::create_directory(dir_.File("detections"));
  WriteFile(dir_.File("detections/scheduled_task_creation_on_remote_endpoint_using_at.yml"), yaml);
  RunResult run = RunQuarry({"detect", "--db", db_path_, "--detections", dir_.File("detections"),
                             "--only", kAtId, "--format", "csv", "--replay-schedule"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  // 9 results as with hourly runs (the 09:12 and 13:40 windows do not overlap), each once.
  EXPECT_EQ(std::count(run.out.begin(), run.out.end(), '\n'), 1 + 9) << run.out;
  EXPECT_EQ(Count("SELECT count(*) FROM notables"), 9);
  EXPECT_EQ(Count("SELECT count(*) FROM detection_results WHERE result_number = 1 AND run_time = "
                  "'2026-06-02T09:30:00.000000Z'"),
            1);  // the first run that saw the 09:12:44 event
}

TEST(RiskOnceTest, ASysmonAndASecurityResultForOneProcessAddRiskOnce) {
  // The at.exe logic grouped by process_guid as well: Sysmon has the GUID, Security 4688 has
  // none (fillnull "null"), so one at.exe process gives one result per source.
  TempDir dir;
  std::string yaml = ReadFile(SourcePath(
      "query/builtin/detections/scheduled_task_creation_on_remote_endpoint_using_at.yml"));
  const std::string by = "by Processes.dest Processes.user";
  ASSERT_NE(yaml.find(by), std::string::npos);
  yaml.replace(yaml.find(by), by.size(), by + " Processes.process_guid");
  std::filesystem::create_directory(dir.File("detections"));
  WriteFile(dir.File("detections/at_by_guid.yml"), yaml);
  const std::string db = dir.File("c.db");
  RunResult ingest =
      RunQuarry({"ingest", "--db", db, SourcePath("fixtures/cross_source/sysmon.xml"),
                 SourcePath("fixtures/cross_source/security.xml")});
  ASSERT_EQ(ingest.exit_code, 0) << ingest.err;
  RunResult run =
      RunQuarry({"detect", "--db", db, "--detections", dir.File("detections"), "--only", kAtId});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  auto cdb = OpenCase(db, schema::OpenMode::kReadOnly);
  EXPECT_EQ(QueryInt(cdb.get(), "SELECT count(*) FROM notables"), 2);
  // One result's worth of risk (one risk event: the system), not one per result.
  EXPECT_EQ(QueryInt(cdb.get(), "SELECT count(*) FROM risk_events"), 1);
  EXPECT_EQ(QueryInt(cdb.get(), "SELECT count(DISTINCT result_id) FROM risk_events"), 1);
  EXPECT_EQ(QueryInt(cdb.get(),
                     "SELECT count(*) FROM detection_runs WHERE notes LIKE "
                     "'%1 results are processes an earlier result already scored%'"),
            1);
}

TEST(DetectionsCliTest, ListShowAndTestTheBuiltInDetection) {
  RunResult list = RunQuarry({"detections", "list"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_NE(list.out.find(kAtId), std::string::npos);
  EXPECT_NE(list.out.find("1 detections, 1 compile."), std::string::npos);
  RunResult show = RunQuarry({"detections", "show", kAtId, "--sql"});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_NE(show.out.find("T1053.002 (TA0002 Execution, TA0003 Persistence"), std::string::npos);
  EXPECT_NE(show.out.find("FROM process_events AS e"), std::string::npos);
  // The bound LIKE pattern: two literal backslashes, each escaped for LIKE.
  EXPECT_NE(show.out.find("?6 = %\\\\\\\\%"), std::string::npos) << show.out;
  RunResult test =
      RunQuarry({"detections", "test", "scheduled_task_creation_on_remote_endpoint_using_at"});
  EXPECT_EQ(test.exit_code, 0) << test.out << test.err;
  EXPECT_NE(test.out.find("PASS: 2 result(s)"), std::string::npos) << test.out;
  RunResult quiet = RunQuarry({"detections", "test", kAtId, "--data",
                               SourcePath("fixtures/ingest/sysmon_event_viewer_saved.xml")});
  EXPECT_EQ(quiet.exit_code, 1);
  EXPECT_NE(quiet.out.find("FAIL: 0 result(s)"), std::string::npos) << quiet.out;
  RunResult missing = RunQuarry({"detections", "show", "no-such-id"});
  EXPECT_EQ(missing.exit_code, 2);
}

TEST(DetectionsCliTest, EscuLibraryLoadsAndMostOfItCompiles) {
  const std::string escu = SharedPath("realdata/security_content/escu");
  RunResult list = RunQuarry(
      {"detections", "list", "--detections", escu + "/detections", "--macros", escu + "/macros"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  // 413 ESCU detections (their at.exe file replaces the built-in one of the same id).
  EXPECT_NE(list.out.find("413 detections, 361 compile."), std::string::npos)
      << list.out.substr(list.out.size() > 300 ? list.out.size() - 300 : 0);
}

}  // namespace
}  // namespace quarry::testing
