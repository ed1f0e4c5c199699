// ingest/time_util: the timestamp renderings of Sysmon and Windows, and ISO formatting.
#include "schema/time_util.h"

#include <gtest/gtest.h>

namespace quarry::schema {
namespace {

TEST(TimeUtilTest, ParsesSysmonUtcTime) {
  EXPECT_EQ(ParseUtcTimestamp("2019-04-27 15:57:53.368"), 1556380673368000);
  EXPECT_EQ(ParseUtcTimestamp("1970-01-01 00:00:00.000"), 0);
}

TEST(TimeUtilTest, ParsesSystemTimeKeepingMicroseconds) {
  EXPECT_EQ(ParseUtcTimestamp("2019-04-27T15:57:53.368863200Z"), 1556380673368863);
  EXPECT_EQ(ParseUtcTimestamp("2019-04-27T15:57:53Z"), 1556380673000000);
  EXPECT_EQ(ParseUtcTimestamp("2019-04-27T15:57:53.5"), 1556380673500000);
}

TEST(TimeUtilTest, HandlesLeapDaysAndOldDates) {
  EXPECT_EQ(ParseUtcTimestamp("2024-02-29 00:00:00.000"), 1709164800000000);
  EXPECT_EQ(ParseUtcTimestamp("1601-01-01 00:00:00.000"), -11644473600000000);
}

TEST(TimeUtilTest, RejectsWhatIsNotATimestamp) {
  for (const char* bad : {"", "yesterday", "2019-04-27", "2019-13-01 00:00:00.000",
                          "2023-02-29 00:00:00.000", "2019-04-31 00:00:00", "2019-04-27 24:00:00",
                          "2019-04-27 15:57:53.", "2019-04-27 15:57:53.368+02:00",
                          "2019/04/27 15:57:53", "2019-04-27 15:57:53.368 trailing"}) {
    EXPECT_FALSE(ParseUtcTimestamp(bad).has_value()) << bad;
  }
}

TEST(TimeUtilTest, FormatsIsoUtc) {
  EXPECT_EQ(FormatIsoUtc(1556380673368863), "2019-04-27T15:57:53.368863Z");
  EXPECT_EQ(FormatIsoUtc(-1), "1969-12-31T23:59:59.999999Z");
  EXPECT_EQ(FormatIsoUtc(-11644473600000000), "1601-01-01T00:00:00.000000Z");
}

}  // namespace
}  // namespace quarry::schema
