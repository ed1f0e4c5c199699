// Reliability: the evidence stays as ingest wrote it, a killed ingest re-runs to the same case,
// readers work while ingest writes, and verify notices changed inputs.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <sstream>
#include <thread>

#include "ingest/input_file.h"
#include "tests/test_util.h"

extern char** environ;

namespace quarry::testing {
namespace {

// Starts quarry with `args`, output discarded; returns its pid.
pid_t SpawnQuarry(const std::vector<std::string>& args) {
  std::vector<std::string> all = {QUARRY_BINARY};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& arg : all) argv.push_back(arg.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  return rc == 0 ? pid : -1;
}

// Everything ingest wrote that identifies the evidence, independent of row ids and times of
// ingest: files by hash, events by file and place, warnings, CrowdStrike lookups.
std::string EvidenceDigest(const std::string& db_path) {
  auto db = OpenCase(db_path, schema::OpenMode::kReadOnly);
  std::string digest;
  for (const char* sql :
       {"SELECT sha256, status, events_loaded, events_skipped, records_rejected, warnings FROM "
        "input_files ORDER BY sha256",
        "SELECT f.sha256, e.record_offset, e.time_us, e.dest, e.user, e.process, e.process_id, "
        "e.parent_process_id, e.raw FROM process_events AS e JOIN input_files AS f USING "
        "(file_id) ORDER BY f.sha256, e.record_offset",
        "SELECT f.sha256, w.byte_offset, w.reason FROM ingest_warnings AS w JOIN input_files AS f "
        "USING (file_id) ORDER BY f.sha256, w.byte_offset"}) {
    std::string rows = QueryJsonl(db.get(), sql);
    digest +=
        std::to_string(std::hash<std::string>{}(rows)) + ":" + std::to_string(rows.size()) + "\n";
  }
  return digest;
}

// Event XML files made from the fixture's Sysmon events, each record unique.
std::vector<std::string> WriteInputs(const TempDir& dir, int files, int events_per_file) {
  std::istringstream lines(ReadFile(SourcePath("fixtures/ingest/sysmon_evtrender_lines.xml")));
  std::vector<std::string> templates;
  for (std::string line; std::getline(lines, line);)
    if (line.find("<EventID>1</EventID>") != std::string::npos) templates.push_back(line);
  std::vector<std::string> paths;
  int record = 0;
  for (int f = 0; f < files; ++f) {
    std::string text;
    for (int i = 0; i < events_per_file; ++i) {
      std::string line = templates[static_cast<std::size_t>(i) % templates.size()];
      std::size_t at = line.find("<EventRecordID>");
      std::size_t end = line.find("</EventRecordID>", at);
      line.replace(at, end - at, "<EventRecordID>" + std::to_string(++record));
      text += line + "\n";
    }
    paths.push_back(dir.File("sysmon-" + std::to_string(f) + ".xml"));
    WriteFile(paths.back(), text);
  }
  return paths;
}

TEST(ReliabilityTest, ReadersLeaveTheCaseByteIdenticalAndDetectLeavesTheEvidence) {
  TempDir dir;
  const std::string db = dir.File("case.db");
  ASSERT_EQ(RunQuarry({"ingest", "--db", db, SourcePath("fixtures/demo")}).exit_code, 0);
  const std::string before = ingest::Sha256OfFile(db).value();
  const std::vector<std::vector<std::string>> readers = {
      {"query", "--db", db, "SELECT * FROM processes"},
      {"query", "--db", db, "SELECT count(*) FROM process_tree"},
      {"query", "--db", db, "DELETE FROM process_events"},  // refused
      {"report", "--db", db, "-o", dir.File("r.html")},
      {"verify", "--db", db},
      {"detections", "show", "4be54858-432f-11ec-8209-3e22fbd008af", "--sql"},
      {"schema"}};
  for (const auto& args : readers) {
    RunResult run = RunQuarry(args);
    EXPECT_EQ(ingest::Sha256OfFile(db).value(), before) << args[0] << " " << args.back();
    EXPECT_FALSE(std::filesystem::exists(db + "-wal")) << args[0];
  }
  const std::string evidence = EvidenceDigest(db);
  ASSERT_EQ(RunQuarry({"detect", "--db", db}).exit_code, 0);
  EXPECT_EQ(EvidenceDigest(db), evidence);
}

TEST(ReliabilityTest, VerifyNoticesChangedAndMissingInputs) {
  TempDir dir;
  std::filesystem::copy(SourcePath("fixtures/demo/FS01"), dir.File("in"));
  const std::string db = dir.File("case.db");
  ASSERT_EQ(RunQuarry({"ingest", "--db", db, dir.File("in")}).exit_code, 0);
  EXPECT_EQ(RunQuarry({"verify", "--db", db}).exit_code, 0);
  std::string text = ReadFile(dir.File("in/Security.xml"));
  text[text.size() / 2] ^= 1;
  WriteFile(dir.File("in/Security.xml"), text);
  std::filesystem::remove(dir.File("in/Sysmon-export.xml"));
  RunResult run = RunQuarry({"verify", "--db", db});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.out.find("CHANGED"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("unreadable"), std::string::npos) << run.out;
}

TEST(ReliabilityTest, IngestKilledAtAnyPointRerunsToTheSameCase) {
  TempDir dir;
  std::vector<std::string> inputs = WriteInputs(dir, 4, 4000);
  std::vector<std::string> args = {"ingest", "--db", dir.File("whole.db")};
  args.insert(args.end(), inputs.begin(), inputs.end());
  ASSERT_EQ(RunQuarry(args).exit_code, 0);
  const std::string expected = EvidenceDigest(dir.File("whole.db"));
  int interrupted = 0;
  for (int delay_ms : {30, 150, 400, 900}) {
    const std::string db = dir.File("killed-" + std::to_string(delay_ms) + ".db");
    args[2] = db;
    pid_t pid = SpawnQuarry(args);
    ASSERT_GT(pid, 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    if (WIFSIGNALED(status)) ++interrupted;
    ASSERT_EQ(RunQuarry(args).exit_code, 0) << "re-run after a kill at " << delay_ms << " ms";
    EXPECT_EQ(EvidenceDigest(db), expected) << "kill at " << delay_ms << " ms";
    auto case_db = OpenCase(db, schema::OpenMode::kReadOnly);
    EXPECT_EQ(QueryJsonl(case_db.get(), "PRAGMA integrity_check"),
              "{\"integrity_check\": \"ok\"}\n");
  }
  EXPECT_GE(interrupted, 2) << "the input is too small to kill ingest while it runs";
}

TEST(ReliabilityTest, QueriesWhileIngestWritesNeverSeeALock) {
  TempDir dir;
  std::vector<std::string> inputs = WriteInputs(dir, 4, 4000);
  const std::string db = dir.File("case.db");
  // The case exists (one small file) before the big ingest starts.
  ASSERT_EQ(RunQuarry({"ingest", "--db", db, SourcePath("fixtures/demo/FS01")}).exit_code, 0);
  std::vector<std::string> args = {"ingest", "--db", db};
  args.insert(args.end(), inputs.begin(), inputs.end());
  pid_t pid = SpawnQuarry(args);
  ASSERT_GT(pid, 0);
  int queries = 0, status = 0;
  while (waitpid(pid, &status, WNOHANG) == 0) {
    RunResult run = RunQuarry({"query", "--db", db, "SELECT count(*) FROM processes"});
    EXPECT_EQ(run.exit_code, 0) << run.err;
    EXPECT_EQ(run.err.find("locked"), std::string::npos) << run.err;
    ++queries;
  }
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_GE(queries, 2) << "ingest ended before readers could overlap it";
}

}  // namespace
}  // namespace quarry::testing
