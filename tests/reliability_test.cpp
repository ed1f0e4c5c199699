// Reliability: the evidence stays as ingest wrote it, a killed ingest or a full disk re-runs to
// the same case, readers work while ingest writes, detect --dry-run writes nothing and counts
// what detect writes, verify notices changed inputs, and ingest notices an input that changes
// while it is read.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <set>
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

// The case at `db` passes SQLite's integrity check.
void ExpectIntegrityOk(const std::string& db, const std::string& when) {
  auto case_db = OpenCase(db, schema::OpenMode::kReadOnly);
  ASSERT_TRUE(case_db) << when;
  EXPECT_EQ(QueryJsonl(case_db.get(), "PRAGMA integrity_check"), "{\"integrity_check\": \"ok\"}\n")
      << when;
}

// Runs `args` (an ingest into `db`) again, undisturbed: it must finish, leave the evidence of an
// uninterrupted run (`expected`, an EvidenceDigest) and a sound file.
void ExpectRerunCompletes(const std::vector<std::string>& args, const std::string& db,
                          const std::string& expected, const std::string& after) {
  RunResult rerun = RunQuarry(args);
  ASSERT_EQ(rerun.exit_code, 0) << "re-run after " << after << ": " << rerun.err;
  EXPECT_EQ(EvidenceDigest(db), expected) << after;
  ExpectIntegrityOk(db, after);
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
      {"schema"},
      {"detect", "--db", db, "--dry-run"},
      {"detect", "--db", db, "--dry-run", "--only", "4be54858-432f-11ec-8209-3e22fbd008af",
       "--format", "csv"}};
  auto check_readers = [&](const std::string& expected) {
    for (const auto& args : readers) {
      RunResult run = RunQuarry(args);
      if (args[0] == "detect") {
        EXPECT_EQ(run.exit_code, 0) << run.err;
      }
      EXPECT_EQ(ingest::Sha256OfFile(db).value(), expected) << args[0] << " " << args.back();
      EXPECT_FALSE(std::filesystem::exists(db + "-wal")) << args[0];
      EXPECT_FALSE(std::filesystem::exists(db + "-journal")) << args[0];
    }
  };
  check_readers(before);
  const std::string evidence = EvidenceDigest(db);
  ASSERT_EQ(RunQuarry({"detect", "--db", db}).exit_code, 0);
  EXPECT_EQ(EvidenceDigest(db), evidence);
  // Again on a case that holds results, which a dry run would replace.
  check_readers(ingest::Sha256OfFile(db).value());
}

// The rows of quarry's aligned table output (header, a rule of dashes, rows, then a blank
// line), each cut into its columns at the rule's gaps and trimmed.
std::vector<std::vector<std::string>> TableRows(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  std::vector<std::vector<std::string>> rows;
  if (lines.size() < 2 || lines[1].find("--") != 0) return rows;
  std::vector<std::size_t> starts = {0};
  for (std::size_t at = lines[1].find("  -"); at != std::string::npos;
       at = lines[1].find("  -", at + 1))
    starts.push_back(at + 2);
  for (std::size_t i = 2; i < lines.size() && !lines[i].empty(); ++i) {
    std::vector<std::string> cells;
    for (std::size_t c = 0; c < starts.size(); ++c) {
      std::size_t end = c + 1 < starts.size() ? starts[c + 1] : std::string::npos;
      std::string cell =
          starts[c] < lines[i].size()
              ? lines[i].substr(starts[c],
                                end == std::string::npos ? std::string::npos : end - starts[c])
              : std::string();
      cell.erase(cell.find_last_not_of(' ') + 1);
      cells.push_back(cell);
    }
    rows.push_back(cells);
  }
  return rows;
}

TEST(ReliabilityTest, DetectDryRunWritesNothingAndCountsWhatDetectWrites) {
  // ESCU's 413 detections over the demo package and ESCU's own example logs: results, notables
  // and risk events from more than ten detections, and detections that fail to compile.
  TempDir dir;
  const std::string db = dir.File("case.db");
  ASSERT_EQ(RunQuarry({"ingest", "--db", db, SourcePath("fixtures/demo"),
                       SharedPath("realdata/security_content/data_sources"),
                       SourcePath("fixtures/detections")})
                .exit_code,
            0);
  std::filesystem::copy_file(db, dir.File("copy.db"));
  const std::string escu = SharedPath("realdata/security_content/escu");
  const std::vector<std::string> catalog = {"--detections", escu + "/detections", "--macros",
                                            escu + "/macros"};
  std::vector<std::string> dry_args = {"detect", "--db", db, "--dry-run"};
  dry_args.insert(dry_args.end(), catalog.begin(), catalog.end());
  std::vector<std::string> real_args = {"detect", "--db", dir.File("copy.db")};
  real_args.insert(real_args.end(), catalog.begin(), catalog.end());

  const std::string before = ingest::Sha256OfFile(db).value();
  RunResult dry = RunQuarry(dry_args);
  EXPECT_EQ(ingest::Sha256OfFile(db).value(), before);
  EXPECT_FALSE(std::filesystem::exists(db + "-wal"));
  RunResult real = RunQuarry(real_args);
  EXPECT_EQ(dry.exit_code, real.exit_code) << dry.err;

  // Per detection: status, results, notables, risk events, as printed and as written.
  std::map<std::string, std::string> printed;
  std::vector<std::vector<std::string>> rows = TableRows(dry.out);
  for (const auto& row : rows) {
    ASSERT_EQ(row.size(), 8u) << row[0];  // detection type status results notables risk ...
    std::string status = row[2].substr(0, row[2].find(':'));
    printed[row[0]] = status + " " + row[3] + " " + row[4] + " " + row[5];
  }
  std::map<std::string, std::string> written;
  auto copy = OpenCase(dir.File("copy.db"), schema::OpenMode::kReadOnly);
  ASSERT_TRUE(copy);
  auto statement = copy->Prepare(
      "SELECT detection_name, status, results, (SELECT count(*) FROM notables AS n WHERE "
      "n.run_id = d.run_id), (SELECT count(*) FROM risk_events AS r WHERE r.run_id = d.run_id) "
      "FROM detection_runs AS d");
  ASSERT_TRUE(statement.ok());
  while (true) {
    Result<bool> row = statement->Step();
    ASSERT_TRUE(row.ok());
    if (!*row) break;
    written[std::string(statement->ColumnText(0))] = std::string(statement->ColumnText(1)) + " " +
                                                     std::to_string(statement->ColumnInt(2)) + " " +
                                                     std::to_string(statement->ColumnInt(3)) + " " +
                                                     std::to_string(statement->ColumnInt(4));
  }
  EXPECT_EQ(printed, written);
  const std::int64_t results = QueryInt(copy.get(), "SELECT count(*) FROM detection_results");
  const std::int64_t notables = QueryInt(copy.get(), "SELECT count(*) FROM notables");
  const std::int64_t risk_events = QueryInt(copy.get(), "SELECT count(*) FROM risk_events");
  EXPECT_NE(
      dry.out.find("detect would write " + std::to_string(written.size()) + " detection runs, " +
                   std::to_string(results) + " results (" + std::to_string(notables) +
                   " notables) and " + std::to_string(risk_events) + " risk events"),
      std::string::npos)
      << dry.out.substr(dry.out.rfind("Dry run") == std::string::npos ? 0
                                                                      : dry.out.rfind("Dry run"));
  RecordProperty("detections", static_cast<int>(written.size()));
  RecordProperty("results", static_cast<int>(results));
  RecordProperty("notables", static_cast<int>(notables));
  RecordProperty("risk_events", static_cast<int>(risk_events));
  // The comparison means something only when there is much to count.
  EXPECT_GE(QueryInt(copy.get(), "SELECT count(*) FROM detection_runs WHERE results > 0"), 10);
  EXPECT_GE(notables, 10);
  EXPECT_GE(risk_events, 20);
  EXPECT_GE(QueryInt(copy.get(), "SELECT count(*) FROM detection_runs WHERE status = 'error'"), 1);
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

TEST(ReliabilityTest, AFileThatChangesBetweenItsHashAndItsReadIsNotRecorded) {
  // Ingest hashes a file, then reads it and hashes what it read; a difference means the file
  // changed in between and nothing of it is kept. Linux's /proc/sys/kernel/random/uuid is a
  // regular file that holds a new random UUID at every open: a file that changes between any
  // two reads, without a writer racing the test. boot_id, which does not change, is the
  // control. (Not an event file, so this is the path of a file that is not an event source;
  // an event file is compared the same way after decoding, WriteEventFile in ingest.cpp.)
  ASSERT_TRUE(std::filesystem::exists("/proc/sys/kernel/random/uuid")) << "needs Linux /proc";
  TempDir dir;
  const std::string db = dir.File("case.db");
  RunResult changing = RunQuarry({"ingest", "--db", db, "/proc/sys/kernel/random/uuid"});
  EXPECT_EQ(changing.exit_code, 1) << changing.err;
  EXPECT_NE(changing.err.find("/proc/sys/kernel/random/uuid: failed (the file changed while it "
                              "was read)"),
            std::string::npos)
      << changing.err;
  RunResult fixed = RunQuarry({"ingest", "--db", db, "/proc/sys/kernel/random/boot_id"});
  EXPECT_EQ(fixed.exit_code, 0) << fixed.err;
  auto case_db = OpenCase(db, schema::OpenMode::kReadOnly);
  ASSERT_TRUE(case_db);
  EXPECT_EQ(QueryJsonl(case_db.get(), "SELECT path, status FROM input_files"),
            "{\"path\": \"/proc/sys/kernel/random/boot_id\", \"status\": \"skipped\"}\n");
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
    ExpectRerunCompletes(args, db, expected, "a kill at " + std::to_string(delay_ms) + " ms");
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

// What the full-disk tests start from: 4 files of kFullDiskEventsPerFile events ingested once
// without a limit into whole.db, its evidence digest and size, and the arguments of that
// ingest (args[2] is the case, for the caller to point elsewhere).
constexpr int kFullDiskEventsPerFile = 4000;
struct FullDiskCase {
  std::vector<std::string> args;
  std::string expected;  // EvidenceDigest of the uninterrupted case
  std::int64_t whole_bytes = 0;
};

FullDiskCase IngestWithoutALimit(const TempDir& dir) {
  FullDiskCase full;
  std::vector<std::string> inputs = WriteInputs(dir, 4, kFullDiskEventsPerFile);
  full.args = {"ingest", "--db", dir.File("whole.db")};
  full.args.insert(full.args.end(), inputs.begin(), inputs.end());
  RunResult run = RunQuarry(full.args);
  EXPECT_EQ(run.exit_code, 0) << run.err;
  full.expected = EvidenceDigest(dir.File("whole.db"));
  full.whole_bytes = static_cast<std::int64_t>(std::filesystem::file_size(dir.File("whole.db")));
  return full;
}

TEST(ReliabilityTest, AFullDiskAtTheLastCheckpointIsReported) {
  // Room for the -wal but not for moving it into the case, and ingest must say that the case
  // needs the -wal rather than exit 0. The first three files are in the case already (an
  // earlier run, without a limit); the run with the limit loads the fourth into the -wal,
  // which is moved into the case only at the end (it is far below the 64 MiB of an automatic
  // move), and that move takes the case from about 3/4 of its whole size past 9/10.
  TempDir dir;
  FullDiskCase whole = IngestWithoutALimit(dir);
  ASSERT_FALSE(HasFailure()) << "the ingest without a limit failed";
  std::vector<std::string> args = whole.args;
  args[2] = dir.File("full.db");
  std::vector<std::string> first_three(args.begin(), args.end() - 1);
  RunResult earlier = RunQuarry(first_three);
  ASSERT_EQ(earlier.exit_code, 0) << earlier.err;
  ChildOptions small_disk;
  small_disk.max_file_bytes = whole.whole_bytes * 9 / 10;
  ChildResult full = RunQuarryChild(args, small_disk);
  EXPECT_EQ(full.exit_code, 1) << full.err;
  EXPECT_NE(full.err.find("-wal but could not be written into the case (disk full?)"),
            std::string::npos)
      << full.err;
  RunResult rerun = RunQuarry(args);
  ASSERT_EQ(rerun.exit_code, 0) << rerun.err;
  EXPECT_EQ(EvidenceDigest(dir.File("full.db")), whole.expected);
}

TEST(ReliabilityTest, AFullDiskFailsTheIngestCleanlyAndARerunCompletesIt) {
  // RLIMIT_FSIZE stands for a small disk: a write that would take a file of the case past it
  // fails (EFBIG, as ENOSPC on a full disk), without root or a mount.
  TempDir dir;
  const int kEventsPerFile = kFullDiskEventsPerFile;
  FullDiskCase whole = IngestWithoutALimit(dir);
  ASSERT_FALSE(HasFailure()) << "the ingest without a limit failed";
  std::vector<std::string> args = whole.args;
  const std::string& expected = whole.expected;
  const std::int64_t whole_bytes = whole.whole_bytes;
  int partly_loaded = 0;
  // The first file is the largest part of the case: it holds the raw records kept as text to
  // train the compression dictionary (docs/schema.md, "Raw records").
  for (std::int64_t limit : {std::max<std::int64_t>(whole_bytes / 64, 1 << 20), whole_bytes / 8,
                             whole_bytes * 3 / 10, whole_bytes * 6 / 10}) {
    const std::string db = dir.File("full-" + std::to_string(limit) + ".db");
    args[2] = db;
    ChildOptions small_disk;
    small_disk.max_file_bytes = limit;
    ChildResult full = RunQuarryChild(args, small_disk);
    EXPECT_EQ(full.exit_code, 1) << "limit " << limit << ": " << full.err;
    EXPECT_NE(full.err.find("error"), std::string::npos) << full.err;
    EXPECT_NE(full.err.find("disk"), std::string::npos) << full.err;
    // The cause: EFBIG here ("No space left on device" on a full disk), from the system call
    // that failed (sqlite3_system_errno) or, where SQLite lost it (a WAL commit), from the
    // case's file found at the limit. SQLite alone says only "disk I/O error".
    EXPECT_NE(full.err.find("(File too large"), std::string::npos) << full.err;
    EXPECT_NE(full.err.find("writing "), std::string::npos) << full.err;  // which file
    RecordProperty("message_at_" + std::to_string(limit) + "_bytes", full.err);
    {
      auto case_db = OpenCase(db, schema::OpenMode::kReadOnly);
      ASSERT_TRUE(case_db);
      EXPECT_EQ(QueryJsonl(case_db.get(), "PRAGMA integrity_check"),
                "{\"integrity_check\": \"ok\"}\n");
      // A file is listed as loaded only with all its events; no event outlives its file.
      EXPECT_EQ(QueryInt(case_db.get(),
                         "SELECT count(*) FROM input_files AS f WHERE status = 'loaded' AND "
                         "(events_loaded != " +
                             std::to_string(kEventsPerFile) +
                             " OR (SELECT count(*) FROM process_events AS e WHERE e.file_id = "
                             "f.file_id) != events_loaded)"),
                0);
      EXPECT_EQ(QueryInt(case_db.get(),
                         "SELECT count(*) FROM process_events WHERE file_id NOT IN (SELECT "
                         "file_id FROM input_files WHERE status = 'loaded')"),
                0);
      const std::int64_t loaded =
          QueryInt(case_db.get(), "SELECT count(*) FROM input_files WHERE status = 'loaded'");
      EXPECT_LT(loaded, 4) << "limit " << limit << " let every file load";
      if (loaded > 0) ++partly_loaded;
      RecordProperty("files_loaded_at_" + std::to_string(limit) + "_bytes",
                     static_cast<int>(loaded));
    }
    ExpectRerunCompletes(args, db, expected, "a full disk at " + std::to_string(limit) + " bytes");
  }
  EXPECT_GE(partly_loaded, 1) << "no limit let some files load before the disk was full";
}

// A disk that is full before the case is even created (or upgraded): the message names the
// case and the likely cause, and a run with space makes the case.
TEST(ReliabilityTest, AFullDiskWhileTheCaseIsCreatedNamesTheCase) {
  TempDir dir;
  const std::string db = dir.File("case.db");
  ChildOptions tiny_disk;
  tiny_disk.max_file_bytes = 64 * 1024;
  const std::string whole = dir.File("whole.db");
  ASSERT_EQ(RunQuarry({"ingest", "--db", whole, SourcePath("fixtures/demo/FS01")}).exit_code, 0);
  const std::vector<std::string> args = {"ingest", "--db", db, SourcePath("fixtures/demo/FS01")};
  ChildResult full = RunQuarryChild(args, tiny_disk);
  EXPECT_EQ(full.exit_code, 1) << full.err;
  EXPECT_NE(full.err.find("case " + db + ": "), std::string::npos) << full.err;
  EXPECT_NE(full.err.find("disk"), std::string::npos) << full.err;
  ExpectRerunCompletes(args, db, EvidenceDigest(whole), "a full disk while creating the case");
  auto case_db = OpenCase(db, schema::OpenMode::kReadOnly);
  ASSERT_TRUE(case_db);
  EXPECT_GT(QueryInt(case_db.get(), "SELECT count(*) FROM process_events"), 0);
}

// A report keeps one snapshot (CaseDb::BeginRead); on a case at rest that is a shared lock, and
// an ingest started meanwhile must wait for it, not fail with "database is locked" after the
// 10 s a reader waits.
TEST(ReliabilityTest, AnIngestWaitsForAReportsSnapshotInsteadOfFailing) {
  TempDir dir;
  const std::string db = dir.File("case.db");
  ASSERT_EQ(RunQuarry({"ingest", "--db", db, SourcePath("fixtures/demo/FS01")}).exit_code, 0);
  auto reader = OpenCase(db, schema::OpenMode::kReadOnly);
  ASSERT_TRUE(reader);
  ASSERT_TRUE(reader->BeginRead().ok());
  const std::int64_t before = QueryInt(reader.get(), "SELECT count(*) FROM process_events");
  RunResult ingest;
  auto started = std::chrono::steady_clock::now();
  std::thread writer([&] {
    ingest = RunQuarry({"ingest", "--db", db, SourcePath("fixtures/ingest")});
  });
  std::this_thread::sleep_for(std::chrono::seconds(12));
  // Still the snapshot taken before the ingest started.
  EXPECT_EQ(QueryInt(reader.get(), "SELECT count(*) FROM process_events"), before);
  ASSERT_TRUE(reader->EndRead().ok());
  reader.reset();
  writer.join();
  double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  EXPECT_EQ(ingest.exit_code, 0) << ingest.err;
  EXPECT_EQ(ingest.err.find("locked"), std::string::npos) << ingest.err;
  EXPECT_GE(waited, 12.0);
  auto after = OpenCase(db, schema::OpenMode::kReadOnly);
  ASSERT_TRUE(after);
  EXPECT_GT(QueryInt(after.get(), "SELECT count(*) FROM process_events"), before);
}

// The number in `html` after `before` (digits only), or -1.
std::int64_t NumberAfter(const std::string& html, const std::string& before, std::size_t from = 0) {
  std::size_t at = html.find(before, from);
  if (at == std::string::npos) return -1;
  at += before.size();
  std::size_t end = html.find_first_not_of("0123456789", at);
  if (end == at) return -1;
  return std::stoll(html.substr(at, end - at));
}

// The events column of the report's files table, summed over its rows.
std::int64_t FilesTableEvents(const std::string& html) {
  std::size_t table = html.find("id=\"files-table\"");
  std::size_t body = html.find("<tbody>", table);
  std::size_t end = html.find("</tbody>", body);
  if (table == std::string::npos || body == std::string::npos || end == std::string::npos)
    return -1;
  std::int64_t sum = 0;
  for (std::size_t row = html.find("<tr>", body); row != std::string::npos && row < end;
       row = html.find("<tr>", row + 1)) {
    // The numeric cells are bytes, events, skipped, rejected, warnings: events is the second.
    std::size_t first = html.find("<td class=\"num\">", row);
    std::int64_t events = NumberAfter(html, "<td class=\"num\">", first + 1);
    if (events < 0) return -1;
    sum += events;
  }
  return sum;
}

TEST(ReliabilityTest, ReportsAndQueriesWhileIngestWritesSeeOneStateAndNeverALock) {
  TempDir dir;
  const int kEventsPerFile = 4000;
  std::vector<std::string> inputs = WriteInputs(dir, 6, kEventsPerFile);
  const std::string db = dir.File("case.db");
  ASSERT_EQ(RunQuarry({"ingest", "--db", db, SourcePath("fixtures/demo/FS01")}).exit_code, 0);
  std::int64_t base = 0;
  {
    auto case_db = OpenCase(db, schema::OpenMode::kReadOnly);
    base = QueryInt(case_db.get(), "SELECT count(*) FROM process_events");
  }
  std::vector<std::string> args = {"ingest", "--db", db};
  args.insert(args.end(), inputs.begin(), inputs.end());
  pid_t pid = SpawnQuarry(args);
  ASSERT_GT(pid, 0);
  int reports = 0, queries = 0, status = 0;
  std::set<std::int64_t> seen;  // event counts the reports saw
  while (waitpid(pid, &status, WNOHANG) == 0) {
    RunResult report = RunQuarry({"report", "--db", db, "-o", dir.File("r.html")});
    EXPECT_EQ(report.exit_code, 0) << report.err;
    EXPECT_EQ(report.err.find("locked"), std::string::npos) << report.err;
    if (report.exit_code == 0) {
      std::string html = ReadFile(dir.File("r.html"));
      std::int64_t events = NumberAfter(html, "<dt>Process events</dt><dd>");
      // One state of the case: the summary's total is the files table's sum, and a whole number
      // of input files (each is one transaction) on top of the first one.
      EXPECT_EQ(events, FilesTableEvents(html));
      EXPECT_EQ((events - base) % kEventsPerFile, 0) << events;
      seen.insert(events);
      ++reports;
    }
    RunResult query = RunQuarry({"query", "--db", db, "--format", "csv",
                                 "SELECT (SELECT count(*) FROM process_events) - (SELECT "
                                 "total(events_loaded) FROM input_files) AS difference"});
    EXPECT_EQ(query.exit_code, 0) << query.err;
    EXPECT_EQ(query.err.find("locked"), std::string::npos) << query.err;
    EXPECT_EQ(query.out, "difference\r\n0\r\n");
    ++queries;
  }
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  RecordProperty("reports", reports);
  RecordProperty("queries", queries);
  RecordProperty("states_seen", static_cast<int>(seen.size()));
  EXPECT_GE(reports, 2) << "ingest ended before reports could overlap it";
  EXPECT_GE(seen.size(), 2u) << "every report saw the same state: no ingest overlapped";
}

}  // namespace
}  // namespace quarry::testing
