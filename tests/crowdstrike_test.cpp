// ingest/crowdstrike and the post-ingest resolution: ProcessRollup2 fields, FDR lookups, the
// parent's OS pid, and a result that does not depend on the order files arrive in.
#include "ingest/crowdstrike.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "ingest/ingest.h"
#include "tests/test_util.h"

namespace quarry::testing {
namespace {

using ingest::FdrRecordKind;
using ingest::JsonFields;
using ingest::JsonObjectParser;

struct Parsed {
  JsonObjectParser parser;
  JsonFields fields;
  explicit Parsed(const std::string& json) {
    std::string error;
    EXPECT_TRUE(parser.Parse(json, &fields, &error)) << error;
  }
};

const std::string kPr2 =
    R"({"event_simpleName":"ProcessRollup2","aid":"aa11","id":"u-1","timestamp":"1773479042101",)"
    R"("ProcessStartTime":"1773479042.006","ImageFileName":"\\Device\\HarddiskVolume3\\Windows\\System32\\at.exe",)"
    R"("CommandLine":"at.exe \\\\fs02 21:30 cmd","RawProcessId":"5300","TargetProcessId":"1003",)"
    R"("ParentProcessId":"1002","ParentBaseFileName":"cmd.exe","UserSid":"S-1-5-21-1-2-3-1141",)"
    R"("IntegrityLevel":"12288","SHA1HashData":"0000000000000000000000000000000000000000",)"
    R"("MD5HashData":"5d5f","SHA256HashData":"a3f1","event_platform":"Win"})";

TEST(CrowdStrikeTest, ClassifiesFdrRecords) {
  EXPECT_EQ(ingest::ClassifyFdrRecord(Parsed(kPr2).fields), FdrRecordKind::kProcessEvent);
  EXPECT_EQ(
      ingest::ClassifyFdrRecord(Parsed(R"({"event_simpleName":"SyntheticProcessRollup2"})").fields),
      FdrRecordKind::kProcessEvent);
  EXPECT_EQ(
      ingest::ClassifyFdrRecord(Parsed(R"({"event_simpleName":"DnsRequest","aid":"a"})").fields),
      FdrRecordKind::kOtherEvent);
  EXPECT_EQ(ingest::ClassifyFdrRecord(Parsed(R"({"aid":"a","ComputerName":"H"})").fields),
            FdrRecordKind::kAidMaster);
  EXPECT_EQ(
      ingest::ClassifyFdrRecord(Parsed(R"({"UserSid_readable":"S-1-5-18","User":"x"})").fields),
      FdrRecordKind::kUserInfo);
  EXPECT_EQ(ingest::ClassifyFdrRecord(Parsed(R"({"EventID":1})").fields), FdrRecordKind::kNotFdr);
}

TEST(CrowdStrikeTest, MapsEveryProcessRollup2Field) {
  Parsed p(kPr2);
  ingest::ProcessEvent row;
  std::vector<std::string> problems;
  ASSERT_TRUE(ingest::NormalizeProcessRollup2(p.fields, &row, &problems));
  EXPECT_TRUE(problems.empty());
  EXPECT_EQ(row.time_us, 1773479042006000);      // ProcessStartTime, seconds.millis
  EXPECT_EQ(row.log_time_us, 1773479042101000);  // timestamp, milliseconds
  EXPECT_EQ(row.process_path, "\\Device\\HarddiskVolume3\\Windows\\System32\\at.exe");  // kept
  EXPECT_EQ(row.process_name, "at.exe");
  EXPECT_EQ(row.process, "at.exe \\\\fs02 21:30 cmd");
  EXPECT_EQ(row.process_id, 5300);                 // RawProcessId, the OS pid
  EXPECT_EQ(row.process_guid, "1003");             // TargetProcessId
  EXPECT_EQ(row.parent_process_guid, "1002");      // ParentProcessId, a Falcon id
  EXPECT_EQ(row.parent_process_id, std::nullopt);  // never Falcon's id; resolved in the case
  EXPECT_EQ(row.parent_process_name, "cmd.exe");
  EXPECT_EQ(row.user_id, "S-1-5-21-1-2-3-1141");
  EXPECT_EQ(row.user, "S-1-5-21-1-2-3-1141");  // until userinfo names it
  EXPECT_EQ(row.dest, "aa11");                 // until aidmaster names it
  EXPECT_EQ(row.process_integrity_level, "high");
  EXPECT_EQ(row.process_hash, "MD5=5d5f,SHA256=a3f1");  // all-zero SHA1 left out
  EXPECT_EQ(row.vendor_product, "CrowdStrike Falcon");
  EXPECT_EQ(row.data_source, "CrowdStrike ProcessRollup2");
  EXPECT_EQ(row.sourcetype, "crowdstrike:events:sensor");
  EXPECT_EQ(row.event_code, std::nullopt);
  ASSERT_TRUE(row.crowdstrike.has_value());
  EXPECT_EQ(row.crowdstrike->aid, "aa11");
  EXPECT_EQ(row.crowdstrike->fdr_event_id, "u-1");
}

TEST(CrowdStrikeTest, TimeFallsBackToTimestampAndReadsMilliseconds) {
  std::vector<std::string> problems;
  ingest::ProcessEvent row;
  ASSERT_TRUE(ingest::NormalizeProcessRollup2(
      Parsed(
          R"({"event_simpleName":"ProcessRollup2","ProcessStartTime":"","timestamp":"1773523800450"})")
          .fields,
      &row, &problems));
  EXPECT_EQ(row.time_us, 1773523800450000);
  ASSERT_TRUE(ingest::NormalizeProcessRollup2(
      Parsed(R"({"event_simpleName":"ProcessRollup2","ProcessStartTime":"1773523800900"})").fields,
      &row, &problems));
  EXPECT_EQ(row.time_us, 1773523800900000);  // 13 digits: milliseconds
  EXPECT_TRUE(problems.empty());
  EXPECT_FALSE(ingest::NormalizeProcessRollup2(
      Parsed(R"({"event_simpleName":"ProcessRollup2","CommandLine":"whoami"})").fields, &row,
      &problems));
  ASSERT_EQ(problems.size(), 1u);
}

TEST(CrowdStrikeTest, MacEventsKeepPathsAndUseTheUid) {
  Parsed p(
      R"({"event_simpleName":"ProcessRollup2","ProcessStartTime":"1773523900.250","UID":"501",)"
      R"("ImageFileName":"/bin/zsh","CommandLine":"/bin/zsh -c id","event_platform":"Mac"})");
  ingest::ProcessEvent row;
  std::vector<std::string> problems;
  ASSERT_TRUE(ingest::NormalizeProcessRollup2(p.fields, &row, &problems));
  EXPECT_EQ(row.process_path, "/bin/zsh");
  EXPECT_EQ(row.process_name, "zsh");
  EXPECT_EQ(row.user_id, "501");
  EXPECT_EQ(row.user, std::nullopt);
}

// The rows every ordering must produce, as JSON lines.
std::string ResolvedRows(schema::CaseDb* db) {
  return QueryJsonl(db,
                    "SELECT dest, user, process_name, process_id, parent_process_id FROM processes "
                    "ORDER BY _time, process_id");
}

TEST(CrowdStrikeResolveTest, LookupsAndParentsDoNotDependOnFileOrder) {
  std::vector<std::string> files = {SourcePath("fixtures/ingest/crowdstrike_fdr_events.jsonl"),
                                    SourcePath("fixtures/ingest/crowdstrike_aidmaster.jsonl"),
                                    SourcePath("fixtures/ingest/crowdstrike_userinfo.jsonl")};
  std::vector<int> order = {0, 1, 2};
  std::string first;
  do {
    for (bool one_run : {true, false}) {
      TempDir dir;
      auto db = OpenCase(dir.File("case.db"), schema::OpenMode::kReadWrite);
      if (one_run) {
        std::vector<std::string> ordered;
        for (int i : order) ordered.push_back(files[static_cast<std::size_t>(i)]);
        ASSERT_TRUE(ingest::Ingest(db.get(), ordered, {}, nullptr).ok());
      } else {
        for (int i : order)
          ASSERT_TRUE(
              ingest::Ingest(db.get(), {files[static_cast<std::size_t>(i)]}, {}, nullptr).ok());
      }
      std::string rows = ResolvedRows(db.get());
      if (first.empty()) first = rows;
      EXPECT_EQ(rows, first) << "order " << order[0] << order[1] << order[2]
                             << (one_run ? " in one run" : " in three runs");
    }
  } while (std::next_permutation(order.begin(), order.end()));

  // And what they resolve to: the newest aidmaster name, the userinfo account, parents by pid
  // on the same sensor only.
  EXPECT_NE(
      first.find(
          R"({"dest": "WKS-HR-02", "user": "CORP\\r.singh", "process_name": "at.exe", "process_id": 5300, "parent_process_id": 5200})"),
      std::string::npos)
      << first;
  EXPECT_NE(
      first.find(
          R"({"dest": "FS02", "user": "NT AUTHORITY\\SYSTEM", "process_name": "cmd.exe", "process_id": 6600, "parent_process_id": null})"),
      std::string::npos)
      << first;  // parent Falcon id 1002 exists, but on another sensor
  EXPECT_NE(first.find(R"({"dest": "mac-design-04", "user": "l.chen", "process_name": "zsh")"),
            std::string::npos)
      << first;  // no aidmaster record: the event's own ComputerName and UserName
  EXPECT_EQ(first.find("WKS-HR-02-OLDNAME"), std::string::npos);
}

TEST(CrowdStrikeResolveTest, WithoutLookupsTheAidAndSidStand) {
  TempDir dir;
  auto db = OpenCase(dir.File("case.db"), schema::OpenMode::kReadWrite);
  ASSERT_TRUE(ingest::Ingest(db.get(), {SourcePath("fixtures/ingest/crowdstrike_fdr_events.jsonl")},
                             {}, nullptr)
                  .ok());
  EXPECT_EQ(QueryJsonl(db.get(), "SELECT dest, user FROM processes WHERE process_id = 5300"),
            "{\"dest\": \"0a1b2c3d4e5f60718293a4b5c6d7e8f9\", \"user\": "
            "\"S-1-5-21-2052111302-1214440339-682003330-1141\"}\n");
  // The parent's pid is known from the events alone.
  EXPECT_EQ(QueryInt(db.get(), "SELECT parent_process_id FROM processes WHERE process_id = 5300"),
            5200);
}

TEST(CrossSourceTest, OneProcessReadsTheSameInSysmonSecurityAndCrowdStrike) {
  TempDir dir;
  auto db = OpenCase(dir.File("case.db"), schema::OpenMode::kReadWrite);
  ASSERT_TRUE(ingest::Ingest(db.get(), {SourcePath("fixtures/cross_source")}, {}, nullptr).ok());
  std::string sql =
      "SELECT DISTINCT dest, user, process_name, process, process_id, parent_process_id FROM "
      "processes "
      "WHERE process_name = 'at.exe'";
  EXPECT_EQ(
      QueryJsonl(db.get(), sql),
      "{\"dest\": \"WKS-LAB-05\", \"user\": \"WKS-LAB-05\\\\alice\", \"process_name\": \"at.exe\", "
      "\"process\": \"at \\\\\\\\fs03 10:30 \\\"cmd /c C:\\\\Temp\\\\x.exe\\\"\", \"process_id\": "
      "6020, "
      "\"parent_process_id\": 5012}\n");
  EXPECT_EQ(QueryInt(db.get(),
                     "SELECT count(DISTINCT sourcetype || vendor_product) FROM processes "
                     "WHERE process_name = 'at.exe'"),
            3);
}

}  // namespace
}  // namespace quarry::testing
