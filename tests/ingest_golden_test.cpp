// Golden tests: each file in fixtures/ingest/ is ingested alone into a fresh case, and the rows,
// warnings and file record must equal fixtures/ingest/expected/<file>.jsonl. To regenerate after
// an intended change: QUARRY_UPDATE_GOLDEN=1 ./build/tests/quarry_tests, then review the diff.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "ingest/ingest.h"
#include "tests/test_util.h"

namespace quarry::testing {
namespace {
namespace fs = std::filesystem;

// Everything except what varies between runs and machines (paths, times, the version).
constexpr const char* kDumpSql = R"sql(
SELECT 'file' AS kind, sha256, size_bytes, format, encoding, status, reason, events_loaded,
       events_skipped, records_rejected, warnings, lookups_loaded FROM input_files;
SELECT 'event' AS kind, _time, dest, user, user_id, process, process_name, process_path,
       process_id, process_guid, process_hash, process_integrity_level, process_current_directory,
       original_file_name, parent_process, parent_process_name, parent_process_path,
       parent_process_id, parent_process_guid, parent_user, vendor_product, action, sourcetype,
       source
FROM processes ORDER BY event_id;
SELECT 'provenance' AS kind, data_source, event_code, record_id, log_time_us, record_offset,
       record_line, length(CAST(raw AS BLOB)) AS raw_bytes
FROM process_events ORDER BY event_id;
SELECT 'warning' AS kind, byte_offset, line, record_id, severity, reason, excerpt
FROM ingest_warnings ORDER BY warning_id;
SELECT 'crowdstrike_event' AS kind, event_id, aid, computer_name, user_name, user_sid,
       fdr_event_id, process_guid, process_id, parent_guid, resolved_dest, resolved_user,
       resolved_parent_process_id
FROM crowdstrike_events ORDER BY event_id;
SELECT 'crowdstrike_host' AS kind, aid, computer_name, machine_domain, ou, site_name, platform,
       os_version, seen_time_us, record_offset, length(raw) AS raw_bytes
FROM crowdstrike_hosts ORDER BY host_record_id;
SELECT 'crowdstrike_user' AS kind, user_sid, user, user_name, account_type, last_logged_on_host,
       seen_time_us, record_offset, length(raw) AS raw_bytes
FROM crowdstrike_users ORDER BY user_record_id;
)sql";

std::vector<std::string> FixtureFiles() {
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(SourcePath("fixtures/ingest"))) {
    if (entry.is_regular_file()) files.push_back(entry.path().filename().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string Dump(const std::string& fixture) {
  TempDir dir;
  auto db = OpenCase(dir.File("case.db"), schema::OpenMode::kReadWrite);
  Result<ingest::IngestSummary> summary =
      ingest::Ingest(db.get(), {SourcePath("fixtures/ingest/" + fixture)}, {}, nullptr);
  EXPECT_TRUE(summary.ok()) << summary.status().message();
  return QueryJsonl(db.get(), kDumpSql);
}

class GoldenTest : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenTest, MatchesExpectedRows) {
  std::string fixture = GetParam();
  std::string expected_path = SourcePath("fixtures/ingest/expected/" + fixture + ".jsonl");
  std::string actual = Dump(fixture);
  if (std::getenv("QUARRY_UPDATE_GOLDEN") != nullptr) {
    WriteFile(expected_path, actual);
    GTEST_SKIP() << "regenerated " << expected_path;
  }
  ASSERT_TRUE(fs::exists(expected_path))
      << "no golden file for " << fixture << "; run with QUARRY_UPDATE_GOLDEN=1 and review it";
  EXPECT_EQ(actual, ReadFile(expected_path));
}

INSTANTIATE_TEST_SUITE_P(Fixtures, GoldenTest, ::testing::ValuesIn(FixtureFiles()),
                         [](const ::testing::TestParamInfo<std::string>& param) {
                           std::string name = param.param;
                           for (char& c : name) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return name;
                         });

TEST(IngestTest, RawRecordIsExactlyTheBytesAtItsOffset) {
  for (std::string fixture : {"sysmon_evtrender_lines.xml", "sysmon_wevtutil_concatenated.xml",
                              "sysmon_event_viewer_saved.xml", "sysmon_damaged.xml"}) {
    TempDir dir;
    auto db = OpenCase(dir.File("case.db"), schema::OpenMode::kReadWrite);
    std::string path = SourcePath("fixtures/ingest/" + fixture);
    ASSERT_TRUE(ingest::Ingest(db.get(), {path}, {}, nullptr).ok());
    std::string bytes = ReadFile(path);
    Result<schema::Statement> rows =
        db->Prepare("SELECT record_offset, quarry_raw(raw) FROM process_events");
    ASSERT_TRUE(rows.ok());
    int count = 0;
    while (rows->Step().value()) {
      auto offset = static_cast<std::size_t>(rows->ColumnInt(0));
      std::string_view raw = rows->ColumnText(1);
      EXPECT_EQ(bytes.substr(offset, raw.size()), raw) << fixture << " at " << offset;
      ++count;
    }
    EXPECT_GT(count, 0) << fixture;
  }
}

TEST(IngestTest, TheSameFileTwiceAddsNothingTheSecondTime) {
  TempDir dir;
  auto db = OpenCase(dir.File("case.db"), schema::OpenMode::kReadWrite);
  std::string fixture = SourcePath("fixtures/ingest/sysmon_evtrender_lines.xml");
  fs::copy_file(fixture, dir.File("copy-elsewhere.xml"));
  auto first = ingest::Ingest(db.get(), {fixture}, {}, nullptr);
  ASSERT_TRUE(first.ok());
  std::int64_t events = QueryInt(db.get(), "SELECT count(*) FROM process_events");
  EXPECT_EQ(events, 3);
  auto second = ingest::Ingest(db.get(), {fixture, dir.File("copy-elsewhere.xml")}, {}, nullptr);
  ASSERT_TRUE(second.ok());
  ASSERT_EQ(second->files.size(), 2u);
  for (const ingest::FileReport& report : second->files) {
    EXPECT_EQ(report.outcome, ingest::FileOutcome::kDuplicate);
    EXPECT_NE(report.reason.find("already in the case"), std::string::npos);
  }
  EXPECT_EQ(QueryInt(db.get(), "SELECT count(*) FROM process_events"), events);
  EXPECT_EQ(QueryInt(db.get(), "SELECT count(*) FROM input_files"), 1);
}

TEST(IngestTest, FoldersAreWalkedAndBadFilesDoNotStopTheBatch) {
  TempDir dir;
  fs::create_directories(dir.File("pkg/a/b"));
  fs::copy_file(SourcePath("fixtures/ingest/sysmon_evtrender_lines.xml"),
                dir.File("pkg/a/b/x.log"));
  fs::copy_file(SourcePath("fixtures/ingest/sysmon_damaged.xml"), dir.File("pkg/a/damaged"));
  WriteFile(dir.File("pkg/readme.md"), "# notes\n");
  auto db = OpenCase(dir.File("case.db"), schema::OpenMode::kReadWrite);
  auto summary = ingest::Ingest(db.get(), {dir.File("pkg"), dir.File("missing.xml")}, {}, nullptr);
  ASSERT_TRUE(summary.ok());
  std::map<std::string, ingest::FileOutcome> outcomes;
  for (const auto& report : summary->files) {
    outcomes[fs::path(report.path).filename().string()] = report.outcome;
  }
  EXPECT_EQ(outcomes["missing.xml"], ingest::FileOutcome::kFailed);
  EXPECT_EQ(outcomes["x.log"], ingest::FileOutcome::kLoaded);  // by content, not by name
  EXPECT_EQ(outcomes["damaged"], ingest::FileOutcome::kLoaded);
  EXPECT_EQ(outcomes["readme.md"], ingest::FileOutcome::kSkipped);
  EXPECT_EQ(QueryInt(db.get(), "SELECT count(*) FROM process_events"), 3 + 4);
  EXPECT_EQ(QueryInt(db.get(), "SELECT count(*) FROM input_files WHERE status = 'skipped'"), 1);
}

TEST(IngestTest, TheCaseDatabaseInsideTheInputFolderIsNotIngested) {
  TempDir dir;
  fs::copy_file(SourcePath("fixtures/ingest/sysmon_evtrender_lines.xml"), dir.File("events.xml"));
  auto db = OpenCase(dir.File("case.db"), schema::OpenMode::kReadWrite);
  auto summary = ingest::Ingest(db.get(), {dir.path()}, {}, nullptr);
  ASSERT_TRUE(summary.ok());
  ASSERT_EQ(summary->files.size(), 1u);
  EXPECT_EQ(fs::path(summary->files[0].path).filename(), "events.xml");
}

}  // namespace
}  // namespace quarry::testing
