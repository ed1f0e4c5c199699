// quarry analyze end to end on the demo package, quarry schema, and the analyst views.
#include <gtest/gtest.h>

#include "tests/test_util.h"

namespace quarry::testing {
namespace {

TEST(AnalyzeTest, OneCommandIngestsDetectsAndReportsAndRerunsChangeNothing) {
  TempDir dir;
  const std::string report = dir.File("demo-report.html");
  for (int run = 0; run < 2; ++run) {
    RunResult result = RunQuarry({"analyze", SourcePath("fixtures/demo"), "-o", report});
    ASSERT_EQ(result.exit_code, 0) << result.err;
    EXPECT_NE(result.out.find("Report: " + report), std::string::npos) << result.out;
  }
  auto db = OpenCase(dir.File("demo-report.db"), schema::OpenMode::kReadOnly);
  EXPECT_EQ(QueryInt(db.get(), "SELECT count(*) FROM process_events"), 22);
  EXPECT_EQ(QueryInt(db.get(), "SELECT count(*) FROM notables"), 2);
  EXPECT_EQ(QueryInt(db.get(), "SELECT count(*) FROM risk_events"), 2);
  EXPECT_EQ(QueryInt(db.get(), "SELECT count(*) FROM input_files WHERE status = 'loaded'"),
            QueryInt(db.get(),
                     "SELECT count(DISTINCT sha256) FROM input_files WHERE status = "
                     "'loaded'"));
  std::string html = ReadFile(report);
  EXPECT_NE(html.find("<section id=\"notables\">"), std::string::npos);
  EXPECT_NE(html.find("WKS-HR-02"), std::string::npos);
}

TEST(AnalyzeTest, MissingInputIsReportedAndTheRestStillRuns) {
  TempDir dir;
  RunResult result = RunQuarry({"analyze", SourcePath("fixtures/demo/FS01"),
                                dir.File("no-such-folder"), "-o", dir.File("r.html")});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_FALSE(ReadFile(dir.File("r.html")).empty());
}

TEST(SchemaCommandTest, PrintsTablesViewsAndMeanings) {
  RunResult result = RunQuarry({"schema"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  for (const char* expected : {"TABLE process_events", "CIM: full command line", "VIEW processes",
                               "VIEW process_tree", "VIEW command_line_stack", "VIEW first_seen",
                               "TABLE risk_events", "impact x confidence / 100"}) {
    EXPECT_NE(result.out.find(expected), std::string::npos) << expected;
  }
  // process_evidence was dropped and created again by migration 6: described once, as it is now.
  std::size_t first = result.out.find("VIEW process_evidence\n");
  ASSERT_NE(first, std::string::npos);
  EXPECT_EQ(result.out.find("VIEW process_evidence\n", first + 1), std::string::npos);
  EXPECT_NE(result.out.find("the raw record as text", first), std::string::npos);
}

class AnalystViewsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RunResult ingest =
        RunQuarry({"ingest", "--db", dir_.File("case.db"), SourcePath("fixtures/demo")});
    ASSERT_EQ(ingest.exit_code, 0) << ingest.err;
    db_ = OpenCase(dir_.File("case.db"), schema::OpenMode::kReadOnly);
  }
  TempDir dir_;
  std::unique_ptr<schema::CaseDb> db_;
};

TEST_F(AnalystViewsTest, ProcessTreeLinksByGuidAndByPid) {
  // Sysmon on WKS-FIN-07: cmd.exe (from WINWORD) starts at.exe, linked through the GUIDs.
  EXPECT_EQ(QueryJsonl(db_.get(),
                       "SELECT c.process_name, p.process_name AS parent, c.linked_by FROM "
                       "process_tree AS c JOIN process_events AS p ON p.event_id = "
                       "c.parent_event_id WHERE c.dest = 'WKS-FIN-07.corp.example' AND "
                       "c.process_name = 'at.exe' LIMIT 1"),
            "{\"process_name\": \"at.exe\", \"parent\": \"cmd.exe\", \"linked_by\": \"guid\"}\n");
  // Security 4688 on FS01 has no GUIDs: reg.exe -> t.exe -> taskeng.exe through PIDs.
  EXPECT_EQ(QueryJsonl(db_.get(),
                       "SELECT c.process_name, p.process_name AS parent, g.process_name AS "
                       "grandparent FROM process_tree AS c JOIN process_tree AS p ON p.event_id "
                       "= c.parent_event_id JOIN process_events AS g ON g.event_id = "
                       "p.parent_event_id JOIN process_events AS e ON e.event_id = c.event_id "
                       "WHERE c.process_name = 'reg.exe' AND e.sourcetype = 'XmlWinEventLog' "
                       "AND c.linked_by = 'pid' LIMIT 1"),
            "{\"process_name\": \"reg.exe\", \"parent\": \"t.exe\", \"grandparent\": "
            "\"taskeng.exe\"}\n");
}

TEST_F(AnalystViewsTest, TimelineStacksAndFirstSeen) {
  EXPECT_EQ(QueryInt(db_.get(), "SELECT count(*) FROM timeline"), 22);
  EXPECT_EQ(QueryInt(db_.get(),
                     "SELECT count(*) FROM (SELECT _time, lag(_time) OVER () AS prev "
                     "FROM timeline) WHERE prev > _time"),
            0);
  EXPECT_EQ(QueryJsonl(db_.get(),
                       "SELECT events, hosts FROM command_line_stack WHERE process = "
                       "'C:\\Windows\\Explorer.EXE'"),
            "{\"events\": 2, \"hosts\": 2}\n");
  EXPECT_EQ(QueryInt(db_.get(), "SELECT sum(events) FROM command_line_stack_by_host"), 22);
  EXPECT_EQ(QueryJsonl(db_.get(),
                       "SELECT first_host, events FROM first_seen WHERE executable = "
                       "'C:\\Windows\\System32\\at.exe'"),
            "{\"first_host\": \"WKS-FIN-07.corp.example\", \"events\": 2}\n");
}

}  // namespace
}  // namespace quarry::testing
