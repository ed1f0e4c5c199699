// The shared public data (../shared/realdata) where it proves a claim: every Sysmon EID 1 event
// exported from the public EVTX samples loads, with known events mapped as the sources say.
#include <gtest/gtest.h>

#include <filesystem>

#include "ingest/ingest.h"
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
  EXPECT_EQ(QueryInt(db_.get(), "SELECT count(*) FROM process_events"), 2102);
  EXPECT_EQ(QueryInt(db_.get(), "SELECT count(*) FROM ingest_warnings"), 0);
  EXPECT_EQ(QueryInt(db_.get(), "SELECT events_skipped + records_rejected FROM input_files"), 0);
  // Every row has the fields the at.exe detection groups by.
  EXPECT_EQ(QueryInt(db_.get(), "SELECT count(*) FROM processes WHERE dest IS NULL OR "
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
  // 15,180 events: 2,102 Sysmon EID 1 become rows; the rest are counted as skipped.
  EXPECT_EQ(QueryInt(db_.get(), "SELECT events_loaded FROM input_files"), 2102);
  EXPECT_EQ(QueryInt(db_.get(), "SELECT events_skipped FROM input_files"), 15180 - 2102);
  EXPECT_EQ(QueryInt(db_.get(), "SELECT records_rejected FROM input_files"), 0);
}

TEST_F(RealDataTest, NoRealEventMatchesRemoteAtButLocalAtIsThere) {
  Ingest("realdata/xml-from-evtx/sysmon_eid1.xml");
  // realdata/README.md: the public data has local at.exe runs and no remote one.
  EXPECT_GT(QueryInt(db_.get(), "SELECT count(*) FROM processes WHERE process_name = 'at.exe' "
                                "OR original_file_name = 'at.exe'"),
            0);
  EXPECT_EQ(QueryInt(db_.get(), "SELECT count(*) FROM processes WHERE (process_name = 'at.exe' "
                                "OR original_file_name = 'at.exe') AND instr(process, '\\\\') > 0"),
            0);
}

}  // namespace
}  // namespace quarry::testing
