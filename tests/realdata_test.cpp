// The shared public data (../shared/realdata) where it proves a claim: every Sysmon EID 1 event
// exported from the public EVTX samples loads, with known events mapped as the sources say.
#include <gtest/gtest.h>

#include <filesystem>

#include "ingest/ingest.h"
#include "query/detect.h"
#include "query/detection.h"
#include "tests/test_util.h"

namespace quarry::testing {
namespace {

class RealDataTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // CI lays ../shared beside the clone; without it these tests must fail, not pass quietly.
    ASSERT_TRUE(std::filesystem::exists(SharedPath("realdata/README.md")))
        << "the shared data is missing: expected " << SharedPath("realdata");
    db_ = OpenCase(dir_.File("case.db"), schema::OpenMode::kReadWrite);
  }
  void Ingest(const std::string& relative) {
    auto summary = ingest::Ingest(db_.get(), {SharedPath(relative)}, {}, nullptr);
    ASSERT_TRUE(summary.ok()) << summary.status().message();
  }
  TempDir dir_;
  std::unique_ptr<schema::CaseDb> db_;
};

TEST_F(RealDataTest, AllSysmonEid1EventsLoadWithoutWarnings) {
  Ingest("realdata/xml-from-evtx/sysmon_eid1.xml");
  // 2,102 events; 2 are the same event copied into two sample files (same host, record id and
  // time: index.tsv names both files), loaded once.
  EXPECT_EQ(QueryInt(db_.get(), "SELECT count(*) FROM process_events"), 2100);
  EXPECT_EQ(QueryInt(db_.get(), "SELECT count(*) FROM event_copies"), 2);
  EXPECT_EQ(QueryInt(db_.get(), "SELECT count(*) FROM ingest_warnings"), 0);
  EXPECT_EQ(QueryInt(db_.get(), "SELECT events_skipped + records_rejected FROM input_files"), 0);
  // Every row has the fields the at.exe detection groups by.
  EXPECT_EQ(QueryInt(db_.get(),
                     "SELECT count(*) FROM processes WHERE dest IS NULL OR "
                     "process_name IS NULL OR process_id IS NULL OR "
                     "parent_process_id IS NULL"),
            0);
}

TEST_F(RealDataTest, PingEventFromOmerbenamramSysmonEvtxMapsAsExpected) {
  Ingest("realdata/xml-from-evtx/sysmon_eid1.xml");
  EXPECT_EQ(QueryJsonl(db_.get(),
                       "SELECT process_name, process_id, parent_process_id, user, dest, process, "
                       "process_integrity_level FROM processes WHERE process_id = 9112"),
            "{\"process_name\": \"PING.EXE\", \"process_id\": 9112, \"parent_process_id\": 8392, "
            "\"user\": \"NT AUTHORITY\\\\SYSTEM\", \"dest\": \"DESKTOP-2KGM189\", \"process\": "
            "\"ping  -n 6 127.0.0.1 \", \"process_integrity_level\": \"system\"}\n");
}

TEST_F(RealDataTest, MixedSysmonAndSecurityStreamLoadsOnlyProcessCreations) {
  Ingest("realdata/xml-from-evtx/all_sysmon_and_security_events.xml");
  // 15,180 events: 2,102 Sysmon EID 1 and 1,366 Security 4688 become rows, less the 2 + 60
  // that sample files share (loaded once); the rest are skipped.
  EXPECT_EQ(QueryInt(db_.get(), "SELECT events_loaded FROM input_files"), 2102 + 1366 - 62);
  EXPECT_EQ(QueryInt(db_.get(), "SELECT events_duplicate FROM input_files"), 62);
  EXPECT_EQ(QueryInt(db_.get(), "SELECT events_skipped FROM input_files"), 15180 - 2102 - 1366);
  EXPECT_EQ(QueryInt(db_.get(), "SELECT records_rejected FROM input_files"), 0);
  EXPECT_EQ(QueryInt(db_.get(), "SELECT count(*) FROM process_events WHERE event_code = 4688"),
            1366 - 60);
}

TEST_F(RealDataTest, AllSecurity4688EventsLoadWithoutWarnings) {
  Ingest("realdata/xml-from-evtx/security_4688.xml");
  // 1,366 events; 60 were copied between two sample files (see index.tsv), loaded once.
  EXPECT_EQ(QueryInt(db_.get(), "SELECT count(*) FROM process_events"), 1366 - 60);
  EXPECT_EQ(QueryInt(db_.get(), "SELECT count(*) FROM event_copies"), 60);
  EXPECT_EQ(QueryInt(db_.get(), "SELECT count(*) FROM ingest_warnings"), 0);
  EXPECT_EQ(QueryInt(db_.get(),
                     "SELECT count(*) FROM processes WHERE dest IS NULL OR user IS NULL "
                     "OR process_name IS NULL OR process_id IS NULL OR parent_process_id IS NULL"),
            0);
  // The real 4688 of at.exe (hayabusa-sample-evtx, FIELD-MAPPINGS.md §3.1): hex pids, Subject user.
  EXPECT_EQ(QueryJsonl(db_.get(),
                       "SELECT dest, user, process_id, parent_process_id, process, "
                       "parent_process_name, process_integrity_level FROM processes "
                       "WHERE process_name = 'at.exe' AND dest = 'fs01.offsec.lan'"),
            "{\"dest\": \"fs01.offsec.lan\", \"user\": \"OFFSEC\\\\admmig\", \"process_id\": 5580, "
            "\"parent_process_id\": 2008, \"process\": \"at  13:20 /interactive cmd\", "
            "\"parent_process_name\": \"cmd.exe\", \"process_integrity_level\": \"high\"}\n");
}

TEST_F(RealDataTest, SplunkExampleEventsOfAllThreeSourcesLoad) {
  Ingest("realdata/security_content/data_sources/example_log_sysmon_eid1.xml");
  Ingest("realdata/security_content/data_sources/example_log_security_4688.xml");
  Ingest("realdata/security_content/data_sources/example_log_crowdstrike_processrollup2.json");
  EXPECT_EQ(QueryJsonl(db_.get(),
                       "SELECT data_source, count(*) AS n FROM process_events "
                       "GROUP BY data_source ORDER BY data_source"),
            "{\"data_source\": \"CrowdStrike ProcessRollup2\", \"n\": 1}\n"
            "{\"data_source\": \"Sysmon EventID 1\", \"n\": 1}\n"
            "{\"data_source\": \"Windows Event Log Security 4688\", \"n\": 1}\n");
  EXPECT_EQ(QueryInt(db_.get(), "SELECT count(*) FROM ingest_warnings"), 0);
  // Splunk's forwarder resolved the SIDs; the user still reads as Windows names it.
  EXPECT_EQ(
      QueryJsonl(db_.get(),
                 "SELECT user, user_id, process_id, parent_process_id, "
                 "process_integrity_level FROM processes WHERE source = 'XmlWinEventLog:Security'"),
      "{\"user\": \"NT AUTHORITY\\\\SYSTEM\", \"user_id\": \"S-1-5-18\", \"process_id\": 3972, "
      "\"parent_process_id\": 2860, \"process_integrity_level\": \"system\"}\n");
}

TEST_F(RealDataTest, CrowdStrikeProcessRollup2OfEveryPlatformLoads) {
  Ingest("realdata/crowdstrike/panther-analysis/processrollup2_windows_events.jsonl");
  Ingest("realdata/crowdstrike/panther-analysis/processrollup2_other_platforms.jsonl");
  // 38 Windows events: 35 load; 3 are test stubs with no time at all (no ProcessStartTime, no
  // timestamp, no aid) and are rejected with a warning each. 15 macOS events all load. The test
  // data reuses FDR ids: 8 events are exact copies of others (same sensor, id, process, time
  // and command line), loaded once with the copy in event_copies; 36 share an id with an
  // event of other content, and are loaded as events of their own with a warning each.
  EXPECT_EQ(QueryJsonl(db_.get(),
                       "SELECT events_loaded, events_duplicate, records_rejected, warnings FROM "
                       "input_files ORDER BY file_id"),
            "{\"events_loaded\": 33, \"events_duplicate\": 2, \"records_rejected\": 3, "
            "\"warnings\": 29}\n"
            "{\"events_loaded\": 9, \"events_duplicate\": 6, \"records_rejected\": 0, "
            "\"warnings\": 7}\n");
  // Rows and copies together: every event read.
  const std::string all =
      "(SELECT e.* FROM process_events AS e UNION ALL SELECT e.* FROM event_copies AS c JOIN "
      "process_events AS e USING (event_id))";
  // macOS keeps its paths and is never mistaken for Windows.
  EXPECT_EQ(QueryInt(db_.get(), "SELECT count(*) FROM " + all + " WHERE process_path LIKE '/%'"),
            15);
  EXPECT_EQ(
      QueryInt(db_.get(), "SELECT count(*) FROM " + all + " WHERE process_path LIKE '\\Device\\%'"),
      34);
  // Five local at.exe runs (three distinct), none with a \\host argument.
  EXPECT_EQ(QueryInt(db_.get(), "SELECT count(*) FROM " + all + " WHERE process_name = 'at.exe'"),
            5);
  EXPECT_EQ(QueryInt(db_.get(),
                     "SELECT count(*) FROM processes WHERE process_name = 'at.exe' "
                     "AND instr(process, '\\\\') > 0"),
            0);
}

TEST_F(RealDataTest, NxlogJsonSysmonEventsLoad) {
  Ingest("realdata/nxlog-json/T1053.005/attack_data.txt");
  // 9,005 events; the 329 Sysmon EID 1 become rows, the rest are skipped.
  EXPECT_EQ(QueryJsonl(db_.get(),
                       "SELECT events_loaded, events_skipped, records_rejected FROM input_files"),
            "{\"events_loaded\": 329, \"events_skipped\": 8676, \"records_rejected\": 0}\n");
  EXPECT_GT(
      QueryInt(
          db_.get(),
          "SELECT count(*) FROM processes WHERE process LIKE 'SCHTASKS  /Create /S localhost%'"),
      0);
  EXPECT_EQ(QueryInt(db_.get(),
                     "SELECT count(*) FROM processes WHERE process_id IS NULL OR dest IS NULL"),
            0);
}

TEST_F(RealDataTest, NoRealEventMatchesRemoteAtButLocalAtIsThere) {
  Ingest("realdata/xml-from-evtx/sysmon_eid1.xml");
  // realdata/README.md: the public data has local at.exe runs and no remote one.
  EXPECT_GT(QueryInt(db_.get(),
                     "SELECT count(*) FROM processes WHERE process_name = 'at.exe' "
                     "OR original_file_name = 'at.exe'"),
            0);
  EXPECT_EQ(QueryInt(db_.get(),
                     "SELECT count(*) FROM processes WHERE (process_name = 'at.exe' "
                     "OR original_file_name = 'at.exe') AND instr(process, '\\\\') > 0"),
            0);
}

TEST_F(RealDataTest, AtExeDetectionStaysQuietOnEveryRealSource) {
  // The near misses of realdata/README.md (local at.exe, `sc \\fs02`, `net use \\fs03vuln\c$`,
  // schtasks) in every source Quarry reads: the detection runs over them and finds nothing.
  for (const char* set : {"realdata/xml-from-evtx", "realdata/crowdstrike",
                          "realdata/security_content/data_sources", "realdata/nxlog-json"}) {
    Ingest(set);
  }
  ASSERT_GT(QueryInt(db_.get(), "SELECT count(*) FROM processes WHERE process_name = 'at.exe'"), 0);
  db_.reset();
  auto db = OpenCase(dir_.File("case.db"), schema::OpenMode::kResults);
  Result<query::Catalog> catalog = query::LoadCatalog({}, {});
  ASSERT_TRUE(catalog.ok());
  query::DetectOptions options;
  options.only = {"4be54858-432f-11ec-8209-3e22fbd008af"};
  Result<query::DetectReport> report = query::RunDetections(db.get(), *catalog, options);
  ASSERT_TRUE(report.ok()) << report.status().message();
  ASSERT_TRUE(report->outcomes[0].ok) << report->outcomes[0].error;
  EXPECT_EQ(report->outcomes[0].results.rows.size(), 0u);
  EXPECT_EQ(QueryInt(db.get(), "SELECT count(*) FROM notables"), 0);
}

}  // namespace
}  // namespace quarry::testing
