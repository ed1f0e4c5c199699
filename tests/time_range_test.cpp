// query/time_range: Splunk time modifiers, ISO-8601 times, cron schedules and replay windows.
// Expected values were worked out by hand (weekdays: 2024-03-10 is a Sunday, 2024-03-13 a
// Wednesday, 2024-03-15 a Friday).
#include "query/time_range.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "schema/time_util.h"

namespace quarry::query {
namespace {

// "YYYY-MM-DD HH:MM:SS[.fraction]" as microseconds; fails the test on a typo.
std::int64_t Us(std::string_view text) {
  std::optional<std::int64_t> time = schema::ParseUtcTimestamp(text);
  EXPECT_TRUE(time.has_value()) << text;
  return time.value_or(0);
}

// FormatIsoUtc without a zero fraction: "2024-03-13T15:00:00Z".
std::string Iso(std::int64_t time_us) {
  std::string text = schema::FormatIsoUtc(time_us);
  if (text.size() > 8 && text.compare(text.size() - 8, 8, ".000000Z") == 0) {
    text.erase(text.size() - 8, 7);
  }
  return text;
}

// ResolveTime as text: the ISO time, or "error: <message>".
std::string Resolve(std::string_view spec, std::string_view now) {
  Result<std::int64_t> time = ResolveTime(spec, Us(now));
  if (!time.ok()) return "error: " + time.status().message();
  return Iso(*time);
}

bool IsError(std::string_view spec, std::string_view now = "2024-03-13 15:20:30") {
  Result<std::int64_t> time = ResolveTime(spec, Us(now));
  if (time.ok()) return false;
  EXPECT_EQ(time.status().code(), StatusCode::kInvalidArgument) << spec;
  EXPECT_NE(time.status().message().find(std::string(spec)), std::string::npos)
      << "the message should name the text: " << time.status().message();
  return true;
}

constexpr std::string_view kWednesday = "2024-03-13 15:20:30.250";

// ---- Absolute times ----

TEST(TimeRangeTest, ResolvesNow) {
  EXPECT_EQ(ResolveTime("now", 1710343230250000).value(), 1710343230250000);
  EXPECT_EQ(Resolve("now", kWednesday), "2024-03-13T15:20:30.250000Z");
}

TEST(TimeRangeTest, ResolvesEpochSeconds) {
  EXPECT_EQ(ResolveTime("0", 123).value(), 0);
  EXPECT_EQ(ResolveTime("1710498912", 0).value(), 1710498912000000);
  EXPECT_EQ(Resolve("1710498912", kWednesday), "2024-03-15T10:35:12Z");
  EXPECT_EQ(Resolve("000001", kWednesday), "1970-01-01T00:00:01Z");
  EXPECT_EQ(Resolve("253402300799", kWednesday), "9999-12-31T23:59:59Z");
  EXPECT_TRUE(IsError("253402300800"));
  EXPECT_TRUE(IsError("99999999999999999999999999"));
}

TEST(TimeRangeTest, ResolvesIsoForms) {
  EXPECT_EQ(ResolveTime("2024-03-15", 0).value(), 1710460800000000);
  EXPECT_EQ(Resolve("2024-03-15", kWednesday), "2024-03-15T00:00:00Z");
  EXPECT_EQ(Resolve("2024-03-15T10:35", kWednesday), "2024-03-15T10:35:00Z");
  EXPECT_EQ(Resolve("2024-03-15 10:35", kWednesday), "2024-03-15T10:35:00Z");
  EXPECT_EQ(Resolve("2024-03-15T10:35:12", kWednesday), "2024-03-15T10:35:12Z");
  EXPECT_EQ(Resolve("2024-03-15 10:35:12", kWednesday), "2024-03-15T10:35:12Z");
  EXPECT_EQ(Resolve("2024-03-15T10:35:12.5", kWednesday), "2024-03-15T10:35:12.500000Z");
  EXPECT_EQ(Resolve("2024-03-15T10:35:12.1234567", kWednesday), "2024-03-15T10:35:12.123456Z");
  EXPECT_EQ(Resolve("2024-03-15T10:35:12Z", kWednesday), "2024-03-15T10:35:12Z");
  EXPECT_EQ(Resolve("2024-03-15T10:35Z", kWednesday), "2024-03-15T10:35:00Z");
  EXPECT_EQ(Resolve("2024-02-29", kWednesday), "2024-02-29T00:00:00Z");
  EXPECT_EQ(Resolve("0000-01-01", kWednesday), "0000-01-01T00:00:00Z");
}

TEST(TimeRangeTest, IsoOffsetsConvertToUtc) {
  EXPECT_EQ(Resolve("2024-03-15T10:35:12+02:00", kWednesday), "2024-03-15T08:35:12Z");
  EXPECT_EQ(Resolve("2024-03-15T10:35:12-05:30", kWednesday), "2024-03-15T16:05:12Z");
  EXPECT_EQ(Resolve("2024-03-15T10:35:12-0530", kWednesday), "2024-03-15T16:05:12Z");
  EXPECT_EQ(Resolve("2024-03-15T10:35:12+0100", kWednesday), "2024-03-15T09:35:12Z");
  EXPECT_EQ(Resolve("2024-03-15T10:35:12+09", kWednesday), "2024-03-15T01:35:12Z");
  EXPECT_EQ(Resolve("2024-03-15 10:35+01:00", kWednesday), "2024-03-15T09:35:00Z");
  EXPECT_EQ(Resolve("2024-03-15T10:35:12.25+00:00", kWednesday), "2024-03-15T10:35:12.250000Z");
  // The offset can move the date, across a month and a year.
  EXPECT_EQ(Resolve("2024-03-01T00:30+01:00", kWednesday), "2024-02-29T23:30:00Z");
  EXPECT_EQ(Resolve("2023-12-31T23:30-01:00", kWednesday), "2024-01-01T00:30:00Z");
}

TEST(TimeRangeTest, RejectsBadIso) {
  for (const char* bad : {"2024-03-15T",
                          "2024-03-15T10",
                          "2024-03-15T10:3",
                          "2024-03-15T10:35:1",
                          "2024-3-15",
                          "2024-03-5",
                          "2024-02-30",
                          "2023-02-29",
                          "2024-13-01",
                          "2024-03-15T24:00",
                          "2024-03-15T10:60",
                          "2024-03-15T10:35:12+2",
                          "2024-03-15T10:35:12+02:60",
                          "2024-03-15T10:35:12+24:00",
                          "2024-03-15T10:35:12+02:00:00",
                          "2024-03-15T10:35:12ZZ",
                          "2024-03-15T10:35:12Z+01:00",
                          "2024-03-15Z",
                          "2024-03-15T10:35:12 Z",
                          "2024-03-15T10:35:12.",
                          "2024-03-15x10:35",
                          "2024/03/15",
                          "2024-03-15 trailing",
                          "0000-01-01T00:30+01:00"}) {
    EXPECT_TRUE(IsError(bad)) << bad;
  }
}

// ---- Relative modifiers: offsets ----

TEST(TimeRangeTest, OffsetsInEveryUnitSpelling) {
  struct Case {
    std::vector<const char*> spellings;
    const char* expected;  // "-2<unit>" from Wednesday 2024-03-13 15:20:30.25
  };
  const Case cases[] = {
      {{"s", "sec", "secs", "second", "seconds"}, "2024-03-13T15:20:28.250000Z"},
      {{"m", "min", "mins", "minute", "minutes"}, "2024-03-13T15:18:30.250000Z"},
      {{"h", "hr", "hrs", "hour", "hours"}, "2024-03-13T13:20:30.250000Z"},
      {{"d", "day", "days"}, "2024-03-11T15:20:30.250000Z"},
      {{"w", "week", "weeks"}, "2024-02-28T15:20:30.250000Z"},
      {{"mon", "month", "months"}, "2024-01-13T15:20:30.250000Z"},
      {{"q", "qtr", "qtrs", "quarter", "quarters"}, "2023-09-13T15:20:30.250000Z"},
      {{"y", "yr", "yrs", "year", "years"}, "2022-03-13T15:20:30.250000Z"},
  };
  for (const Case& c : cases) {
    for (const char* unit : c.spellings) {
      EXPECT_EQ(Resolve(std::string("-2") + unit, kWednesday), c.expected) << unit;
    }
  }
}

TEST(TimeRangeTest, PositiveOffsetsAndDefaultCount) {
  EXPECT_EQ(Resolve("+1d", kWednesday), "2024-03-14T15:20:30.250000Z");
  EXPECT_EQ(Resolve("+90s", kWednesday), "2024-03-13T15:22:00.250000Z");
  EXPECT_EQ(Resolve("+mon", kWednesday), "2024-04-13T15:20:30.250000Z");
  EXPECT_EQ(Resolve("-h", kWednesday), "2024-03-13T14:20:30.250000Z");
  EXPECT_EQ(Resolve("-d", kWednesday), "2024-03-12T15:20:30.250000Z");
  EXPECT_EQ(Resolve("-y", kWednesday), "2023-03-13T15:20:30.250000Z");
  EXPECT_EQ(Resolve("-0d", kWednesday), "2024-03-13T15:20:30.250000Z");
  EXPECT_EQ(Resolve("-24h", kWednesday), "2024-03-12T15:20:30.250000Z");
  EXPECT_EQ(Resolve("-1440m", kWednesday), "2024-03-12T15:20:30.250000Z");
  EXPECT_EQ(Resolve("-1d-1h+30m", kWednesday), "2024-03-12T14:50:30.250000Z");
  EXPECT_EQ(Resolve("+13mon", kWednesday), "2025-04-13T15:20:30.250000Z");
  EXPECT_EQ(Resolve("-15mon", kWednesday), "2022-12-13T15:20:30.250000Z");
}

// ---- Relative modifiers: snaps ----

TEST(TimeRangeTest, SnapsToEachUnit) {
  EXPECT_EQ(Resolve("@s", kWednesday), "2024-03-13T15:20:30Z");
  EXPECT_EQ(Resolve("@sec", kWednesday), "2024-03-13T15:20:30Z");
  EXPECT_EQ(Resolve("@m", kWednesday), "2024-03-13T15:20:00Z");
  EXPECT_EQ(Resolve("@minute", kWednesday), "2024-03-13T15:20:00Z");
  EXPECT_EQ(Resolve("@h", kWednesday), "2024-03-13T15:00:00Z");
  EXPECT_EQ(Resolve("@hour", kWednesday), "2024-03-13T15:00:00Z");
  EXPECT_EQ(Resolve("@d", kWednesday), "2024-03-13T00:00:00Z");
  EXPECT_EQ(Resolve("@day", kWednesday), "2024-03-13T00:00:00Z");
  EXPECT_EQ(Resolve("@mon", kWednesday), "2024-03-01T00:00:00Z");
  EXPECT_EQ(Resolve("@month", kWednesday), "2024-03-01T00:00:00Z");
  EXPECT_EQ(Resolve("@q", kWednesday), "2024-01-01T00:00:00Z");
  EXPECT_EQ(Resolve("@qtr", kWednesday), "2024-01-01T00:00:00Z");
  EXPECT_EQ(Resolve("@quarter", kWednesday), "2024-01-01T00:00:00Z");
  EXPECT_EQ(Resolve("@y", kWednesday), "2024-01-01T00:00:00Z");
  EXPECT_EQ(Resolve("@year", kWednesday), "2024-01-01T00:00:00Z");
}

TEST(TimeRangeTest, SnapOfAnAlignedTimeKeepsIt) {
  EXPECT_EQ(Resolve("@h", "2024-03-13 15:00:00"), "2024-03-13T15:00:00Z");
  EXPECT_EQ(Resolve("@d", "2024-03-13 00:00:00"), "2024-03-13T00:00:00Z");
  EXPECT_EQ(Resolve("@mon", "2024-03-01 00:00:00"), "2024-03-01T00:00:00Z");
  EXPECT_EQ(Resolve("@h", "2024-03-13 15:59:59.999999"), "2024-03-13T15:00:00Z");
}

TEST(TimeRangeTest, QuarterSnapGoesToJanAprJulOct) {
  EXPECT_EQ(Resolve("@q", "2024-03-31 23:59:59"), "2024-01-01T00:00:00Z");
  EXPECT_EQ(Resolve("@q", "2024-04-01 00:00:00"), "2024-04-01T00:00:00Z");
  EXPECT_EQ(Resolve("@q", "2024-05-20 10:00:00"), "2024-04-01T00:00:00Z");
  EXPECT_EQ(Resolve("@q", "2024-08-31 10:00:00"), "2024-07-01T00:00:00Z");
  EXPECT_EQ(Resolve("@q", "2024-09-30 10:00:00"), "2024-07-01T00:00:00Z");
  EXPECT_EQ(Resolve("@q", "2024-10-01 10:00:00"), "2024-10-01T00:00:00Z");
  EXPECT_EQ(Resolve("@q", "2024-12-31 23:59:59"), "2024-10-01T00:00:00Z");
  EXPECT_EQ(Resolve("-q@q", "2024-02-10 10:00:00"), "2023-10-01T00:00:00Z");
}

TEST(TimeRangeTest, WeekSnapsToEachWeekdayFromAWednesday) {
  EXPECT_EQ(Resolve("@w0", kWednesday), "2024-03-10T00:00:00Z");  // Sunday
  EXPECT_EQ(Resolve("@w1", kWednesday), "2024-03-11T00:00:00Z");  // Monday
  EXPECT_EQ(Resolve("@w2", kWednesday), "2024-03-12T00:00:00Z");  // Tuesday
  EXPECT_EQ(Resolve("@w3", kWednesday), "2024-03-13T00:00:00Z");  // today
  EXPECT_EQ(Resolve("@w4", kWednesday), "2024-03-07T00:00:00Z");  // last Thursday
  EXPECT_EQ(Resolve("@w5", kWednesday), "2024-03-08T00:00:00Z");  // last Friday
  EXPECT_EQ(Resolve("@w6", kWednesday), "2024-03-09T00:00:00Z");  // last Saturday
  EXPECT_EQ(Resolve("@w7", kWednesday), "2024-03-10T00:00:00Z");  // Sunday again
  EXPECT_EQ(Resolve("@w", kWednesday), "2024-03-10T00:00:00Z");
  EXPECT_EQ(Resolve("@week", kWednesday), "2024-03-10T00:00:00Z");
}

TEST(TimeRangeTest, WeekSnapsToMondayAndSundayFromEveryDay) {
  struct Case {
    const char* now;
    const char* monday;  // @w1
    const char* sunday;  // @w0
  };
  const Case cases[] = {
      {"2024-03-10 12:00:00", "2024-03-04T00:00:00Z", "2024-03-10T00:00:00Z"},  // Sunday
      {"2024-03-11 12:00:00", "2024-03-11T00:00:00Z", "2024-03-10T00:00:00Z"},  // Monday
      {"2024-03-12 12:00:00", "2024-03-11T00:00:00Z", "2024-03-10T00:00:00Z"},  // Tuesday
      {"2024-03-13 12:00:00", "2024-03-11T00:00:00Z", "2024-03-10T00:00:00Z"},  // Wednesday
      {"2024-03-14 12:00:00", "2024-03-11T00:00:00Z", "2024-03-10T00:00:00Z"},  // Thursday
      {"2024-03-15 12:00:00", "2024-03-11T00:00:00Z", "2024-03-10T00:00:00Z"},  // Friday
      {"2024-03-16 23:59:59", "2024-03-11T00:00:00Z", "2024-03-10T00:00:00Z"},  // Saturday
  };
  for (const Case& c : cases) {
    EXPECT_EQ(Resolve("@w1", c.now), c.monday) << c.now;
    EXPECT_EQ(Resolve("@w0", c.now), c.sunday) << c.now;
    EXPECT_EQ(Resolve("@w7", c.now), c.sunday) << c.now;
  }
  // Across a month and a year boundary: 2024-01-03 is a Wednesday.
  EXPECT_EQ(Resolve("@w5", "2024-01-03 08:00:00"), "2023-12-29T00:00:00Z");
}

TEST(TimeRangeTest, CombinesOffsetsAndSnapsLeftToRight) {
  EXPECT_EQ(Resolve("-70m@m", "2024-03-15 11:00:30"), "2024-03-15T09:50:00Z");
  EXPECT_EQ(Resolve("-10m@m", "2024-03-15 11:00:30"), "2024-03-15T10:50:00Z");
  EXPECT_EQ(Resolve("-7d@d", kWednesday), "2024-03-06T00:00:00Z");
  EXPECT_EQ(Resolve("@d+8h", kWednesday), "2024-03-13T08:00:00Z");
  EXPECT_EQ(Resolve("@d-2h", kWednesday), "2024-03-12T22:00:00Z");
  EXPECT_EQ(Resolve("-mon@mon", kWednesday), "2024-02-01T00:00:00Z");
  EXPECT_EQ(Resolve("-h@h", kWednesday), "2024-03-13T14:00:00Z");
  EXPECT_EQ(Resolve("+1d@d", kWednesday), "2024-03-14T00:00:00Z");
  EXPECT_EQ(Resolve("-1y@y", kWednesday), "2023-01-01T00:00:00Z");
  EXPECT_EQ(Resolve("@mon-1d", kWednesday), "2024-02-29T00:00:00Z");
  EXPECT_EQ(Resolve("@d@w1+8h", kWednesday), "2024-03-11T08:00:00Z");
  // "-1d@w1": one day back first; from a Monday that is Sunday, whose Monday is a week ago.
  EXPECT_EQ(Resolve("-1d@w1", "2024-03-11 15:00:00"), "2024-03-04T00:00:00Z");
  EXPECT_EQ(Resolve("@w1", "2024-03-11 15:00:00"), "2024-03-11T00:00:00Z");
  EXPECT_EQ(Resolve("-1d@w1", "2024-03-12 15:00:00"), "2024-03-11T00:00:00Z");
}

TEST(TimeRangeTest, SnapsRoundDownBeforeTheEpoch) {
  EXPECT_EQ(Resolve("@d", "1969-12-31 12:00:00"), "1969-12-31T00:00:00Z");
  EXPECT_EQ(Resolve("@h", "1969-12-31 23:59:59.5"), "1969-12-31T23:00:00Z");
  EXPECT_EQ(Resolve("@s", "1969-12-31 23:59:59.5"), "1969-12-31T23:59:59Z");
  EXPECT_EQ(Resolve("@w1", "1970-01-01 06:00:00"), "1969-12-29T00:00:00Z");  // a Thursday
  EXPECT_EQ(Resolve("@y", "1969-07-20 20:17:40"), "1969-01-01T00:00:00Z");
}

// ---- Calendar arithmetic ----

TEST(TimeRangeTest, MonthOffsetsClampToTheLastDay) {
  EXPECT_EQ(Resolve("-1mon", "2024-03-31 12:00:00"), "2024-02-29T12:00:00Z");
  EXPECT_EQ(Resolve("-1mon", "2023-03-31 12:00:00"), "2023-02-28T12:00:00Z");
  EXPECT_EQ(Resolve("-1mon", "2024-03-29 12:00:00"), "2024-02-29T12:00:00Z");
  EXPECT_EQ(Resolve("-1mon", "2024-03-28 12:00:00"), "2024-02-28T12:00:00Z");
  EXPECT_EQ(Resolve("+1mon", "2024-01-31 12:00:00"), "2024-02-29T12:00:00Z");
  EXPECT_EQ(Resolve("+1mon", "2024-05-31 12:00:00"), "2024-06-30T12:00:00Z");
  EXPECT_EQ(Resolve("+2mon", "2024-05-31 12:00:00"), "2024-07-31T12:00:00Z");
  EXPECT_EQ(Resolve("-1q", "2024-05-31 12:00:00"), "2024-02-29T12:00:00Z");
  EXPECT_EQ(Resolve("+1mon", "2024-12-15 12:00:00"), "2025-01-15T12:00:00Z");
  EXPECT_EQ(Resolve("-1mon", "2024-01-15 12:00:00"), "2023-12-15T12:00:00Z");
  // Clamping is per step: two one-month steps lose the 31st, one two-month step keeps it.
  EXPECT_EQ(Resolve("-1mon-1mon", "2024-03-31 12:00:00"), "2024-01-29T12:00:00Z");
  EXPECT_EQ(Resolve("-2mon", "2024-03-31 12:00:00"), "2024-01-31T12:00:00Z");
}

TEST(TimeRangeTest, LeapYears) {
  EXPECT_EQ(Resolve("+1d", "2024-02-28 06:00:00"), "2024-02-29T06:00:00Z");
  EXPECT_EQ(Resolve("+1d", "2023-02-28 06:00:00"), "2023-03-01T06:00:00Z");
  EXPECT_EQ(Resolve("+1d", "2000-02-28 06:00:00"), "2000-02-29T06:00:00Z");  // 400-year rule
  EXPECT_EQ(Resolve("+1d", "2100-02-28 06:00:00"), "2100-03-01T06:00:00Z");  // 100-year rule
  EXPECT_EQ(Resolve("-1y", "2024-02-29 06:00:00"), "2023-02-28T06:00:00Z");
  EXPECT_EQ(Resolve("+1y", "2024-02-29 06:00:00"), "2025-02-28T06:00:00Z");
  EXPECT_EQ(Resolve("+4y", "2024-02-29 06:00:00"), "2028-02-29T06:00:00Z");
  EXPECT_EQ(Resolve("+76y", "2024-02-29 06:00:00"), "2100-02-28T06:00:00Z");
  EXPECT_EQ(Resolve("-365d", "2024-03-01 00:00:00"), "2023-03-02T00:00:00Z");
  EXPECT_EQ(Resolve("-mon@mon", "2024-03-31 23:00:00"), "2024-02-01T00:00:00Z");
}

// ---- Bad input ----

TEST(TimeRangeTest, RejectsBadModifiers) {
  for (const char* bad :
       {"-",     "+",    "@",       "-5",        "+5",    "-5x",  "5m",     "-5m@",
        "--5m",  "+-1d", "-5 m",    "-5M",       " -5m",  "-5m ", "NOW",    "now ",
        "-1.5h", "@x",   "-1ms",    "@w8",       "@w9",   "-1w1", "-1w0",   "@ww",
        "-5m@",  "@d+",  "-70m@m@", "yesterday", "today", "1d",   "-1d@W1", "-1s s"}) {
    EXPECT_TRUE(IsError(bad)) << bad;
  }
  Result<std::int64_t> empty = ResolveTime("", 0);
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(empty.status().message().find("empty"), std::string::npos);
}

TEST(TimeRangeTest, MessagesSayWhatWasExpected) {
  EXPECT_EQ(Resolve("5m", kWednesday),
            "error: invalid time '5m': a relative offset needs a sign, e.g. '-5m' or '+5m'");
  EXPECT_NE(Resolve("-5x", kWednesday).find("unknown unit 'x'"), std::string::npos);
  EXPECT_NE(Resolve("-", kWednesday).find("a unit"), std::string::npos);
  EXPECT_NE(Resolve("@", kWednesday).find("a unit"), std::string::npos);
  EXPECT_NE(Resolve("@w8", kWednesday).find("@w0 .. @w7"), std::string::npos);
  EXPECT_NE(Resolve("yesterday", kWednesday).find("ISO-8601"), std::string::npos);
  EXPECT_NE(Resolve("2024-02-30", kWednesday).find("ISO-8601"), std::string::npos);
}

TEST(TimeRangeTest, RejectsOverflowAndYearsOutsideTheRange) {
  for (const char* bad :
       {"-999999999999y", "+999999999999y", "-999999999999mon", "-999999999999q",
        "-9223372036854775808s", "+9223372036854775807s", "-99999999999999999999999999s",
        "-300000000000000000s", "+300000000000000000w", "-2025y", "+7976y", "-24291mon",
        "-99999999999d", "+1d+1d-1d-99999999999w"}) {
    EXPECT_TRUE(IsError(bad)) << bad;
  }
  EXPECT_EQ(Resolve("-2024y", kWednesday), "0000-03-13T15:20:30.250000Z");
  EXPECT_EQ(Resolve("+7975y", kWednesday), "9999-03-13T15:20:30.250000Z");
  EXPECT_EQ(Resolve("-24290mon", kWednesday), "0000-01-13T15:20:30.250000Z");
  EXPECT_EQ(Resolve("@y", "0000-06-01 00:00:00"), "0000-01-01T00:00:00Z");
  EXPECT_TRUE(IsError("@w1", "0000-01-01 12:00:00"));  // a Saturday: Monday is in year -1
  EXPECT_TRUE(IsError("+1d", "9999-12-31 12:00:00"));
  EXPECT_TRUE(IsError("+1mon", "9999-12-31 12:00:00"));
  // `now` itself outside the supported years.
  EXPECT_FALSE(ResolveTime("-1h", kMaxTimeUs + 1).ok());
  EXPECT_FALSE(ResolveTime("now", kMinTimeUs - 1).ok());
  EXPECT_FALSE(ResolveTime("@d", std::numeric_limits<std::int64_t>::min()).ok());
  EXPECT_TRUE(ResolveTime("now", kMaxTimeUs).ok());
}

// ---- Cron ----

CronSchedule MustParse(std::string_view text) {
  Result<CronSchedule> schedule = CronSchedule::Parse(text);
  EXPECT_TRUE(schedule.ok()) << text << ": " << schedule.status().message();
  if (!schedule.ok()) return CronSchedule::Parse("* * * * *").value();
  return schedule.value();
}

// The next `count` firing times of `cron` after `from`, as ISO text.
std::vector<std::string> Firings(std::string_view cron, std::string_view from, int count) {
  const CronSchedule schedule = MustParse(cron);
  std::vector<std::string> out;
  std::int64_t time = Us(from);
  for (int i = 0; i < count; ++i) {
    time = schedule.NextAfter(time);
    out.push_back(time == CronSchedule::kNever ? "never" : Iso(time));
  }
  return out;
}

using Strings = std::vector<std::string>;

TEST(CronTest, NextAfterIsStrictlyAfter) {
  EXPECT_EQ(Firings("0 * * * *", "2024-03-15 10:00:00", 2),
            (Strings{"2024-03-15T11:00:00Z", "2024-03-15T12:00:00Z"}));
  EXPECT_EQ(Firings("0 * * * *", "2024-03-15 09:59:59.999999", 1),
            (Strings{"2024-03-15T10:00:00Z"}));
  EXPECT_EQ(Firings("0 * * * *", "2024-03-15 10:00:00.000001", 1),
            (Strings{"2024-03-15T11:00:00Z"}));
  EXPECT_EQ(Firings("* * * * *", "2024-03-15 10:00:30", 2),
            (Strings{"2024-03-15T10:01:00Z", "2024-03-15T10:02:00Z"}));
  EXPECT_EQ(Firings("59 23 31 12 *", "2024-03-15 10:00:00", 2),
            (Strings{"2024-12-31T23:59:00Z", "2025-12-31T23:59:00Z"}));
}

TEST(CronTest, ListsRangesAndSteps) {
  EXPECT_EQ(Firings("5,10-12,40-50/5 * * * *", "2024-03-15 10:00:00", 8),
            (Strings{"2024-03-15T10:05:00Z", "2024-03-15T10:10:00Z", "2024-03-15T10:11:00Z",
                     "2024-03-15T10:12:00Z", "2024-03-15T10:40:00Z", "2024-03-15T10:45:00Z",
                     "2024-03-15T10:50:00Z", "2024-03-15T11:05:00Z"}));
  EXPECT_EQ(Firings("10/20 * * * *", "2024-03-15 10:00:00", 4),
            (Strings{"2024-03-15T10:10:00Z", "2024-03-15T10:30:00Z", "2024-03-15T10:50:00Z",
                     "2024-03-15T11:10:00Z"}));
  EXPECT_EQ(Firings("*/30 * * * *", "2024-03-15 10:00:00", 3),
            (Strings{"2024-03-15T10:30:00Z", "2024-03-15T11:00:00Z", "2024-03-15T11:30:00Z"}));
  EXPECT_EQ(Firings("0 */6 * * *", "2024-03-15 10:00:00", 3),
            (Strings{"2024-03-15T12:00:00Z", "2024-03-15T18:00:00Z", "2024-03-16T00:00:00Z"}));
  EXPECT_EQ(Firings("0 8-20/4 * * *", "2024-03-15 10:00:00", 4),
            (Strings{"2024-03-15T12:00:00Z", "2024-03-15T16:00:00Z", "2024-03-15T20:00:00Z",
                     "2024-03-16T08:00:00Z"}));
  EXPECT_EQ(Firings("0 0 1 */3 *", "2024-02-10 00:00:00", 4),
            (Strings{"2024-04-01T00:00:00Z", "2024-07-01T00:00:00Z", "2024-10-01T00:00:00Z",
                     "2025-01-01T00:00:00Z"}));
  EXPECT_EQ(Firings("*/15 9-17 * * 1-5", "2024-03-15 17:40:00", 3),  // Friday evening
            (Strings{"2024-03-15T17:45:00Z", "2024-03-18T09:00:00Z", "2024-03-18T09:15:00Z"}));
  EXPECT_EQ(Firings("7 7 7 7 *", "2024-03-15 10:00:00", 1), (Strings{"2024-07-07T07:07:00Z"}));
}

TEST(CronTest, DayOfWeekSevenIsSunday) {
  const Strings sundays{"2024-03-17T12:00:00Z", "2024-03-24T12:00:00Z"};
  EXPECT_EQ(Firings("0 12 * * 7", "2024-03-15 10:00:00", 2), sundays);
  EXPECT_EQ(Firings("0 12 * * 0", "2024-03-15 10:00:00", 2), sundays);
  EXPECT_EQ(Firings("0 12 * * sun", "2024-03-15 10:00:00", 2), sundays);
  EXPECT_EQ(Firings("0 0 * * 5-7", "2024-03-15 10:00:00", 4),
            (Strings{"2024-03-16T00:00:00Z", "2024-03-17T00:00:00Z", "2024-03-22T00:00:00Z",
                     "2024-03-23T00:00:00Z"}));
}

TEST(CronTest, EitherDayFieldMatchesWhenBothAreRestricted) {
  // The 13th or any Friday (Vixie); 2024-03-01 is a Friday.
  EXPECT_EQ(Firings("0 0 13 * 5", "2024-03-01 00:00:00", 8),
            (Strings{"2024-03-08T00:00:00Z", "2024-03-13T00:00:00Z", "2024-03-15T00:00:00Z",
                     "2024-03-22T00:00:00Z", "2024-03-29T00:00:00Z", "2024-04-05T00:00:00Z",
                     "2024-04-12T00:00:00Z", "2024-04-13T00:00:00Z"}));
  // February 31st never exists, but Mondays in February do.
  EXPECT_EQ(Firings("0 0 31 2 1", "2024-01-31 12:00:00", 5),
            (Strings{"2024-02-05T00:00:00Z", "2024-02-12T00:00:00Z", "2024-02-19T00:00:00Z",
                     "2024-02-26T00:00:00Z", "2025-02-03T00:00:00Z"}));
}

TEST(CronTest, BothDayFieldsMustMatchWhenOneStartsWithStar) {
  // "*/10" counts as `*` for Vixie's rule: days 1, 11, 21, 31 that are also Fridays.
  EXPECT_EQ(Firings("0 0 */10 * 5", "2024-01-01 00:00:00", 4),
            (Strings{"2024-03-01T00:00:00Z", "2024-05-31T00:00:00Z", "2024-06-21T00:00:00Z",
                     "2024-10-11T00:00:00Z"}));
  EXPECT_EQ(Firings("0 0 13 * *", "2024-03-01 00:00:00", 2),
            (Strings{"2024-03-13T00:00:00Z", "2024-04-13T00:00:00Z"}));
  EXPECT_EQ(Firings("0 0 * * 5", "2024-03-01 00:00:00", 2),
            (Strings{"2024-03-08T00:00:00Z", "2024-03-15T00:00:00Z"}));
}

TEST(CronTest, MacrosAndNames) {
  EXPECT_EQ(Firings("@hourly", "2024-03-15 10:20:00", 2),
            (Strings{"2024-03-15T11:00:00Z", "2024-03-15T12:00:00Z"}));
  EXPECT_EQ(Firings("@daily", "2024-03-15 10:20:00", 1), (Strings{"2024-03-16T00:00:00Z"}));
  EXPECT_EQ(Firings("@midnight", "2024-03-15 10:20:00", 1), (Strings{"2024-03-16T00:00:00Z"}));
  EXPECT_EQ(Firings("@weekly", "2024-03-15 10:20:00", 1), (Strings{"2024-03-17T00:00:00Z"}));
  EXPECT_EQ(Firings("@monthly", "2024-03-15 10:20:00", 1), (Strings{"2024-04-01T00:00:00Z"}));
  EXPECT_EQ(Firings("@yearly", "2024-03-15 10:20:00", 1), (Strings{"2025-01-01T00:00:00Z"}));
  EXPECT_EQ(Firings("@annually", "2024-03-15 10:20:00", 1), (Strings{"2025-01-01T00:00:00Z"}));
  EXPECT_EQ(Firings("  @HOURLY ", "2024-03-15 10:20:00", 1), (Strings{"2024-03-15T11:00:00Z"}));
  // 2024-03-29 is a Friday; April to December are not selected; 2025-01-01 is a Wednesday.
  EXPECT_EQ(Firings("0 9 * jan-MAR Mon-Fri", "2024-03-29 10:00:00", 2),
            (Strings{"2025-01-01T09:00:00Z", "2025-01-02T09:00:00Z"}));
  EXPECT_EQ(Firings("0\t0  1 dec,JUN *", "2024-03-29 10:00:00", 2),
            (Strings{"2024-06-01T00:00:00Z", "2024-12-01T00:00:00Z"}));
}

TEST(CronTest, LeapDayOnlyFiresInLeapYears) {
  EXPECT_EQ(Firings("0 0 29 2 *", "2024-02-28 00:00:00", 2),
            (Strings{"2024-02-29T00:00:00Z", "2028-02-29T00:00:00Z"}));
  EXPECT_EQ(Firings("0 0 29 2 *", "2097-03-01 00:00:00", 1),  // 2100 is not a leap year
            (Strings{"2104-02-29T00:00:00Z"}));
}

TEST(CronTest, MatchesOnlyWholeFiringMinutes) {
  const CronSchedule hourly = MustParse("0 * * * *");
  EXPECT_TRUE(hourly.Matches(Us("2024-03-15 10:00:00")));
  EXPECT_FALSE(hourly.Matches(Us("2024-03-15 10:00:00.000001")));
  EXPECT_FALSE(hourly.Matches(Us("2024-03-15 10:01:00")));
  const CronSchedule fridays = MustParse("30 12 * * 5");
  EXPECT_TRUE(fridays.Matches(Us("2024-03-15 12:30:00")));
  EXPECT_FALSE(fridays.Matches(Us("2024-03-14 12:30:00")));
}

TEST(CronTest, WorksBeforeTheEpochAndStopsAtYear9999) {
  EXPECT_EQ(Firings("0 0 * * *", "1969-12-31 12:00:00", 1), (Strings{"1970-01-01T00:00:00Z"}));
  EXPECT_EQ(Firings("30 * * * *", "1969-12-31 22:45:00", 2),
            (Strings{"1969-12-31T23:30:00Z", "1970-01-01T00:30:00Z"}));
  EXPECT_EQ(Firings("* * * * *", "9999-12-31 23:58:30", 2),
            (Strings{"9999-12-31T23:59:00Z", "never"}));
  EXPECT_EQ(Firings("0 0 1 1 *", "9999-06-01 00:00:00", 1), (Strings{"never"}));
  const CronSchedule every_minute = MustParse("* * * * *");
  EXPECT_EQ(every_minute.NextAfter(std::numeric_limits<std::int64_t>::max()), CronSchedule::kNever);
  EXPECT_EQ(every_minute.NextAfter(std::numeric_limits<std::int64_t>::min()), kMinTimeUs);
}

// The error message of CronSchedule::Parse, or "ok".
std::string CronError(std::string_view text) {
  Result<CronSchedule> schedule = CronSchedule::Parse(text);
  if (schedule.ok()) return "ok";
  EXPECT_EQ(schedule.status().code(), StatusCode::kInvalidArgument);
  return schedule.status().message();
}

TEST(CronTest, RejectsImpossibleSchedules) {
  for (const char* never :
       {"0 0 31 2 *", "0 0 30,31 2 *", "0 0 31 4,6,9,11 *", "0 0 30 feb *", "0 0 30-31 2 *"}) {
    EXPECT_NE(CronError(never).find("never fires"), std::string::npos) << never;
  }
  EXPECT_EQ(CronError("0 0 31 2,3 *"), "ok");
  EXPECT_EQ(CronError("0 0 29 2 *"), "ok");
  EXPECT_EQ(CronError("0 0 */31 2 *"), "ok");  // day 1
}

TEST(CronTest, RejectsBadFields) {
  struct Case {
    const char* cron;
    const char* message_part;
  };
  const Case cases[] = {
      {"", "expected 5 fields"},
      {"* * * *", "expected 5 fields"},
      {"* * * * * *", "expected 5 fields"},
      {"60 * * * *", "minute field '60': 60 is outside 0-59"},
      {"* 24 * * *", "hour field '24': 24 is outside 0-23"},
      {"* * 0 * *", "day-of-month field '0': 0 is outside 1-31"},
      {"* * 32 * *", "day-of-month field '32': 32 is outside 1-31"},
      {"* * * 0 *", "month field '0': 0 is outside 1-12"},
      {"* * * 13 *", "month field '13': 13 is outside 1-12"},
      {"* * * * 8", "day-of-week field '8': 8 is outside 0-7"},
      {"99999999999999999999 * * * *", "is outside 0-59"},
      {"5-2 * * * *", "range 5-2 is reversed"},
      {"*/0 * * * *", "a step must be at least 1"},
      {"*/ * * * *", "step '' is not a number"},
      {"*/x * * * *", "step 'x' is not a number"},
      {"1,,2 * * * *", "empty list item"},
      {"1, * * * *", "empty list item"},
      {"a * * * *", "minute field 'a': 'a' is not a number"},
      {"-5 * * * *", "'' is not a number"},
      {"1- * * * *", "'' is not a number"},
      {"* * * foo *", "'foo' is not a number or a name"},
      {"* * * * monday", "'monday' is not a number or a name"},
      {"* * * mon *", "'mon' is not a number or a name"},
      {"* * * */jan *", "step 'jan' is not a number"},
      {"@reboot", "unknown macro"},
      {"@every 5m", "expected 5 fields"},
  };
  for (const Case& c : cases) {
    const std::string message = CronError(c.cron);
    EXPECT_NE(message.find(c.message_part), std::string::npos) << c.cron << " gave: " << message;
    EXPECT_NE(message.find("invalid cron '" + std::string(c.cron) + "'"), std::string::npos)
        << message;
  }
}

// ---- ReplayWindows ----

// "2024-03-15T11:00:00Z" -> "03-15T11:00"
std::string Short(std::int64_t time_us) { return Iso(time_us).substr(5, 11); }

// ReplayWindows as text: "run [earliest,latest)" per window, or "error: <message>".
Strings Replay(std::string_view cron, std::string_view earliest, std::string_view latest,
               std::string_view first, std::string_view last, std::size_t max = 2'000'000) {
  Result<std::vector<ScheduledWindow>> windows =
      ReplayWindows(cron, earliest, latest, Us(first), Us(last), max);
  if (!windows.ok()) return {"error: " + windows.status().message()};
  Strings out;
  for (const ScheduledWindow& w : *windows) {
    out.push_back(Short(w.run_us) + " [" + Short(w.earliest_us) + "," + Short(w.latest_us) + ")");
  }
  return out;
}

Strings EscuHourly(std::string_view event) {
  return Replay("0 * * * *", "-70m@m", "-10m@m", event, event);
}

TEST(ReplayTest, EscuHourlyWindowsAreContiguous) {
  // Run H covers [H-70m, H-10m); run H+1h covers [H-10m, H+50m): each event is in one window.
  EXPECT_EQ(EscuHourly("2024-03-15 10:35:00"), (Strings{"03-15T11:00 [03-15T09:50,03-15T10:50)"}));
  EXPECT_EQ(EscuHourly("2024-03-15 10:55:00"), (Strings{"03-15T12:00 [03-15T10:50,03-15T11:50)"}));
  EXPECT_EQ(EscuHourly("2024-03-15 10:52:00"), (Strings{"03-15T12:00 [03-15T10:50,03-15T11:50)"}));
}

TEST(ReplayTest, LatestIsExclusiveAndEarliestInclusive) {
  // Exactly at 11:00's latest (10:50): only 12:00's window, which starts there.
  EXPECT_EQ(EscuHourly("2024-03-15 10:50:00"), (Strings{"03-15T12:00 [03-15T10:50,03-15T11:50)"}));
  EXPECT_EQ(EscuHourly("2024-03-15 10:49:59.999999"),
            (Strings{"03-15T11:00 [03-15T09:50,03-15T10:50)"}));
  // Exactly at 11:00's earliest (09:50), which is 10:00's latest.
  EXPECT_EQ(EscuHourly("2024-03-15 09:50:00"), (Strings{"03-15T11:00 [03-15T09:50,03-15T10:50)"}));
  // Across midnight.
  EXPECT_EQ(EscuHourly("2024-03-15 23:55:00"), (Strings{"03-16T01:00 [03-15T23:50,03-16T00:50)"}));
}

TEST(ReplayTest, OverlappingHalfHourlyWindowsBothReturned) {
  // Every 30 minutes with 60-minute windows: every event is in exactly two windows.
  auto half_hourly = [](std::string_view event) {
    return Replay("*/30 * * * *", "-70m@m", "-10m@m", event, event);
  };
  EXPECT_EQ(half_hourly("2024-03-15 10:35:00"), (Strings{"03-15T11:00 [03-15T09:50,03-15T10:50)",
                                                         "03-15T11:30 [03-15T10:20,03-15T11:20)"}));
  EXPECT_EQ(
      half_hourly("2024-03-15 10:20:00"),  // 10:30's latest, 11:30's earliest
      (Strings{"03-15T11:00 [03-15T09:50,03-15T10:50)", "03-15T11:30 [03-15T10:20,03-15T11:20)"}));
  EXPECT_EQ(half_hourly("2024-03-15 10:50:00"), (Strings{"03-15T11:30 [03-15T10:20,03-15T11:20)",
                                                         "03-15T12:00 [03-15T10:50,03-15T11:50)"}));
}

TEST(ReplayTest, SpanOfEvents) {
  // Runs with latest > 10:00 (after 10:10) and earliest <= 12:00 (until 13:10).
  EXPECT_EQ(
      Replay("0 * * * *", "-70m@m", "-10m@m", "2024-03-15 10:00:00", "2024-03-15 12:00:00"),
      (Strings{"03-15T11:00 [03-15T09:50,03-15T10:50)", "03-15T12:00 [03-15T10:50,03-15T11:50)",
               "03-15T13:00 [03-15T11:50,03-15T12:50)"}));
  // Daily runs over yesterday: one week of events (Monday to Sunday) needs 7 runs.
  EXPECT_EQ(
      Replay("0 0 * * *", "-1d@d", "@d", "2024-03-11 00:00:00", "2024-03-17 23:59:59"),
      (Strings{"03-12T00:00 [03-11T00:00,03-12T00:00)", "03-13T00:00 [03-12T00:00,03-13T00:00)",
               "03-14T00:00 [03-13T00:00,03-14T00:00)", "03-15T00:00 [03-14T00:00,03-15T00:00)",
               "03-16T00:00 [03-15T00:00,03-16T00:00)", "03-17T00:00 [03-16T00:00,03-17T00:00)",
               "03-18T00:00 [03-17T00:00,03-18T00:00)"}));
}

TEST(ReplayTest, LatestNowAndWindowsAheadOfTheRun) {
  EXPECT_EQ(Replay("*/5 * * * *", "-5m", "now", "2024-03-15 10:35:00", "2024-03-15 10:35:00"),
            (Strings{"03-15T10:40 [03-15T10:35,03-15T10:40)"}));
  // A window after its run: the search must start before the event.
  EXPECT_EQ(Replay("0 * * * *", "@h", "+1h@h", "2024-03-15 10:35:00", "2024-03-15 10:35:00"),
            (Strings{"03-15T10:00 [03-15T10:00,03-15T11:00)"}));
  // A window a year back: found without walking the year run by run from the epoch.
  EXPECT_EQ(Replay("0 0 * * *", "-1y@d", "-1y@d+1d", "2023-03-15 10:35:00", "2023-03-15 10:35:00"),
            (Strings{"03-15T00:00 [03-15T00:00,03-16T00:00)"}));
}

TEST(ReplayTest, CountsEveryMinuteOfADay) {
  Result<std::vector<ScheduledWindow>> windows = ReplayWindows(
      "* * * * *", "-1m@m", "@m", Us("2024-03-15 00:00:00"), Us("2024-03-15 23:59:59"));
  ASSERT_TRUE(windows.ok()) << windows.status().message();
  ASSERT_EQ(windows->size(), 1440u);  // runs 00:01 .. 24:00
  EXPECT_EQ(Iso(windows->front().run_us), "2024-03-15T00:01:00Z");
  EXPECT_EQ(Iso(windows->back().run_us), "2024-03-16T00:00:00Z");
  EXPECT_EQ(ReplayWindows("* * * * *", "-1m@m", "@m", Us("2024-03-15 00:00:00"),
                          Us("2024-03-15 23:59:59"), 1440)
                .value()
                .size(),
            1440u);
}

TEST(ReplayTest, MoreThanMaxWindowsIsAnError) {
  Result<std::vector<ScheduledWindow>> windows = ReplayWindows(
      "* * * * *", "-1m@m", "@m", Us("2024-03-15 00:00:00"), Us("2024-03-15 23:59:59"), 1439);
  ASSERT_FALSE(windows.ok());
  EXPECT_EQ(windows.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(windows.status().message().find("more than 1439 runs"), std::string::npos)
      << windows.status().message();
  // Every minute over 300 years stops at the limit instead of allocating 158 million windows.
  windows = ReplayWindows("* * * * *", "-1m", "now", Us("1900-01-01 00:00:00"),
                          Us("2199-12-31 00:00:00"), 100'000);
  ASSERT_FALSE(windows.ok());
  EXPECT_NE(windows.status().message().find("more than 100000 runs"), std::string::npos)
      << windows.status().message();
}

TEST(ReplayTest, NoRunAfterTheEvents) {
  EXPECT_EQ(Replay("0 0 * * *", "-1d", "now", "9999-12-31 23:00:00", "9999-12-31 23:30:00"),
            Strings{});
}

TEST(ReplayTest, RejectsBadArguments) {
  auto error = [](std::string_view cron, std::string_view earliest, std::string_view latest,
                  std::string_view first, std::string_view last) {
    Strings result = Replay(cron, earliest, latest, first, last);
    return result.size() == 1 && result[0].rfind("error: ", 0) == 0 ? result[0] : "no error";
  };
  const char* day = "2024-03-15 10:35:00";
  EXPECT_NE(error("0 * * *", "-70m@m", "-10m@m", day, day).find("expected 5 fields"),
            std::string::npos);
  EXPECT_NE(error("0 0 31 2 *", "-70m@m", "-10m@m", day, day).find("never fires"),
            std::string::npos);
  EXPECT_NE(error("0 * * * *", "-70x@m", "-10m@m", day, day).find("unknown unit 'x'"),
            std::string::npos);
  EXPECT_NE(error("0 * * * *", "-70m@m", "", day, day).find("latest ''"), std::string::npos);
  EXPECT_NE(error("0 * * * *", "2024-03-15", "-10m@m", day, day)
                .find("earliest '2024-03-15' must be \"now\" or a relative time modifier"),
            std::string::npos);
  EXPECT_NE(error("0 * * * *", "-10m@m", "-70m@m", day, day).find("is not before latest"),
            std::string::npos);
  EXPECT_NE(error("0 * * * *", "-1h", "-1h", day, day).find("is not before latest"),
            std::string::npos);
  EXPECT_NE(error("0 * * * *", "-70m@m", "-10m@m", "2024-03-15 10:35:00", "2024-03-15 10:34:59")
                .find("is after the last"),
            std::string::npos);
  EXPECT_NE(error("0 * * * *", "-70m@m", "+1y", "9999-06-01 00:00:00", "9999-06-01 00:00:00")
                .find("after year 9999"),
            std::string::npos);
}

}  // namespace
}  // namespace quarry::query
