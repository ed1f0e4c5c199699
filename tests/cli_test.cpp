// End-to-end: the quarry executable on fixtures/, as a user runs it.
#include <gtest/gtest.h>

#include <filesystem>

#include "ingest/input_file.h"
#include "tests/test_util.h"

namespace quarry::testing {
namespace {

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(CliTest, HelpListsCommandsAndShowsExamples) {
  RunResult all = RunQuarry({"help"});
  EXPECT_EQ(all.exit_code, 0);
  EXPECT_TRUE(Contains(all.out, "ingest")) << all.out;
  EXPECT_TRUE(Contains(all.out, "query")) << all.out;
  RunResult ingest = RunQuarry({"help", "ingest"});
  EXPECT_EQ(ingest.exit_code, 0);
  EXPECT_TRUE(Contains(ingest.out, "Examples:")) << ingest.out;
  EXPECT_TRUE(Contains(ingest.out, "--db")) << ingest.out;
  RunResult query = RunQuarry({"query", "--help"});
  EXPECT_EQ(query.exit_code, 0);
  EXPECT_TRUE(Contains(query.out, "--format")) << query.out;
}

TEST(CliTest, AReaderThatGoesAwayDoesNotStopTheBatch) {
  // All output into `head -c 1`, which exits after one byte: every later write fails. The batch
  // must still finish, CrowdStrike users resolved through the userinfo file read last.
  TempDir dir;
  std::string command = "'" + std::string(QUARRY_BINARY) + "' ingest --db '" + dir.File("case.db") +
                        "' '" + SourcePath("fixtures/cross_source") +
                        "' 2>&1 | head -c 1 > /dev/null";
  ASSERT_EQ(std::system(command.c_str()), 0);
  auto db = OpenCase(dir.File("case.db"), schema::OpenMode::kReadOnly);
  EXPECT_EQ(QueryInt(db.get(), "SELECT count(*) FROM input_files WHERE status = 'loaded'"), 5);
  EXPECT_EQ(QueryInt(db.get(),
                     "SELECT count(*) FROM processes WHERE sourcetype LIKE "
                     "'crowdstrike%' AND user LIKE 'S-1-5-21-%'"),
            0);
}

TEST(CliTest, UsageErrorsExitWithTwo) {
  EXPECT_EQ(RunQuarry({}).exit_code, 2);
  EXPECT_EQ(RunQuarry({"frobnicate"}).exit_code, 2);
  EXPECT_EQ(RunQuarry({"help", "frobnicate"}).exit_code, 2);
  EXPECT_EQ(RunQuarry({"ingest", SourcePath("fixtures/demo")}).exit_code, 2);  // no --db
  TempDir dir;
  RunResult bad_format =
      RunQuarry({"query", "--db", dir.File("x.db"), "--format", "xml", "SELECT 1"});
  EXPECT_EQ(bad_format.exit_code, 2);
  EXPECT_TRUE(Contains(bad_format.err, "--format")) << bad_format.err;
}

TEST(CliTest, IngestTheDemoPackageThenQueryIt) {
  TempDir dir;
  std::string db = dir.File("case.db");
  RunResult ingest = RunQuarry({"ingest", "--db", db, SourcePath("fixtures/demo")});
  ASSERT_EQ(ingest.exit_code, 0) << ingest.err;
  EXPECT_TRUE(Contains(ingest.out, "7 files: 6 loaded, 1 skipped")) << ingest.out;
  EXPECT_TRUE(Contains(ingest.out, "Sysmon EventID 1: 15 events loaded from 2 files"))
      << ingest.out;
  EXPECT_TRUE(Contains(ingest.out, "Windows Event Log Security 4688: 3 events loaded from 1 file"))
      << ingest.out;
  EXPECT_TRUE(Contains(ingest.out, "CrowdStrike ProcessRollup2: 4 events loaded from 1 file"))
      << ingest.out;
  EXPECT_TRUE(Contains(ingest.err, "collection_notes.txt: skipped")) << ingest.err;

  RunResult remote_at = RunQuarry(
      {"query", "--db", db, "--format", "csv",
       "SELECT dest, user, process_name, process FROM processes WHERE (process_name = 'at.exe' OR "
       "original_file_name = 'at.exe') AND instr(process, '\\\\') > 0 ORDER BY _time"});
  ASSERT_EQ(remote_at.exit_code, 0) << remote_at.err;
  EXPECT_EQ(remote_at.out,
            "dest,user,process_name,process\r\n"
            "WKS-FIN-07.corp.example,CORP\\m.okafor,at.exe,\"at \\\\fs01.corp.example 09:20 "
            "\"\"C:\\t.exe -k\"\"\"\r\n"
            "WKS-HR-02,CORP\\r.singh,at.exe,\"\"\"C:\\Windows\\system32\\at.exe\"\" "
            "\\\\fs01.corp.example 10:05 \"\"C:\\t.exe -k\"\"\"\r\n");

  // A second run adds nothing and says so.
  RunResult again = RunQuarry({"ingest", "--db", db, SourcePath("fixtures/demo")});
  EXPECT_EQ(again.exit_code, 0);
  EXPECT_TRUE(Contains(again.out, "7 already in the case")) << again.out;
  RunResult count =
      RunQuarry({"query", "--db", db, "--format", "jsonl", "SELECT count(*) AS n FROM processes"});
  EXPECT_EQ(count.out, "{\"n\": 22}\n");
}

TEST(CliTest, QueryReadsSqlFromStdinAndFromAFile) {
  TempDir dir;
  std::string db = dir.File("case.db");
  ASSERT_EQ(RunQuarry({"ingest", "--db", db, SourcePath("fixtures/demo")}).exit_code, 0);
  RunResult from_stdin = RunQuarry({"query", "--db", db, "--format", "jsonl", "-"},
                                   "SELECT count(DISTINCT dest) AS hosts FROM processes;");
  EXPECT_EQ(from_stdin.out, "{\"hosts\": 3}\n") << from_stdin.err;
  WriteFile(dir.File("hunt.sql"),
            "SELECT process_name FROM processes WHERE process_name = 'RUNDLL32.exe';");
  RunResult from_file = RunQuarry({"query", "--db", db, "--format", "jsonl", dir.File("hunt.sql")});
  EXPECT_EQ(from_file.out, "{\"process_name\": \"rundll32.exe\"}\n") << from_file.err;
}

TEST(CliTest, QueryBindsParametersFromTheCommandLine) {
  TempDir dir;
  std::string db = dir.File("case.db");
  ASSERT_EQ(RunQuarry({"ingest", "--db", db, SourcePath("fixtures/demo")}).exit_code, 0);
  RunResult bound =
      RunQuarry({"query", "--db", db, "--format", "jsonl", "--param", "host=WKS-HR-02",
                 "SELECT count(*) AS n FROM processes WHERE dest = :host"});
  EXPECT_EQ(bound.exit_code, 0) << bound.err;
  EXPECT_EQ(bound.out, "{\"n\": 4}\n");
  RunResult hostile =
      RunQuarry({"query", "--db", db, "--format", "jsonl", "--param", "host=' OR 1=1 --",
                 "SELECT count(*) AS n FROM processes WHERE dest = :host"});
  EXPECT_EQ(hostile.out, "{\"n\": 0}\n");
  EXPECT_EQ(RunQuarry({"query", "--db", db, "--param", "novalue", "SELECT 1"}).exit_code, 2);
  EXPECT_EQ(RunQuarry({"query", "--db", db, "SELECT :missing"}).exit_code, 1);
}

TEST(CliTest, QueryNeverChangesTheCase) {
  TempDir dir;
  std::string db = dir.File("case.db");
  ASSERT_EQ(RunQuarry({"ingest", "--db", db, SourcePath("fixtures/demo")}).exit_code, 0);
  std::string before = ingest::Sha256OfFile(db).value();
  for (const char* sql :
       {"DELETE FROM process_events", "UPDATE input_files SET path = 'x'",
        "PRAGMA query_only = 0; DELETE FROM process_events", "CREATE TABLE notes (x)"}) {
    RunResult write = RunQuarry({"query", "--db", db, sql});
    EXPECT_EQ(write.exit_code, 1) << sql;
    EXPECT_TRUE(Contains(write.err, "error")) << write.err;
  }
  EXPECT_EQ(RunQuarry({"query", "--db", db, "SELECT * FROM processes"}).exit_code, 0);
  EXPECT_EQ(ingest::Sha256OfFile(db).value(), before);
}

TEST(CliTest, MissingInputsFailTheRunButTheRestLoads) {
  TempDir dir;
  std::string db = dir.File("case.db");
  RunResult run = RunQuarry({"ingest", "--db", db, dir.File("nope.xml"),
                             SourcePath("fixtures/ingest/sysmon_evtrender_lines.xml")});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_TRUE(Contains(run.err, "nope.xml: failed (no such file or folder)")) << run.err;
  RunResult count =
      RunQuarry({"query", "--db", db, "--format", "csv", "SELECT count(*) AS n FROM processes"});
  EXPECT_EQ(count.out, "n\r\n3\r\n");
}

TEST(CliTest, QueryOnAMissingOrForeignDatabaseFails) {
  TempDir dir;
  RunResult missing = RunQuarry({"query", "--db", dir.File("none.db"), "SELECT 1"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_TRUE(Contains(missing.err, "no case database")) << missing.err;
  EXPECT_FALSE(std::filesystem::exists(dir.File("none.db")));
  WriteFile(dir.File("text.db"),
            "hello, I am a text file and no database at all, not even close\n");
  RunResult foreign =
      RunQuarry({"ingest", "--db", dir.File("text.db"), SourcePath("fixtures/demo")});
  EXPECT_EQ(foreign.exit_code, 1);
  EXPECT_TRUE(Contains(foreign.err, "not a Quarry case database")) << foreign.err;
}

}  // namespace
}  // namespace quarry::testing
