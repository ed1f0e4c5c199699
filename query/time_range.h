// Splunk time modifiers, ISO-8601 times and cron schedules, resolved in UTC.
//
// All times are microseconds since 1970-01-01T00:00:00Z (std::int64_t); there are no time zones
// and no daylight saving: a day is always 86400 seconds. Supported times lie in years
// 0000..9999 (kMinTimeUs..kMaxTimeUs); anything that would leave that range is an error.
//
// Relative time modifiers follow Splunk ("Time modifiers", SPL Search Reference): a sequence of
// offsets ("-70m", "+1d", "-h": sign, optional count defaulting to 1, unit) and snaps ("@d",
// "@w1": round down to the start of the unit), applied left to right, so "-1d@w1" is one day
// back then back to Monday 00:00 and "@d+8h" is today 08:00. Units (lower case only):
//   s sec secs second seconds | m min mins minute minutes | h hr hrs hour hours |
//   d day days | w week weeks | mon month months | q qtr qtrs quarter quarters |
//   y yr yrs year years
// and, for snaps only, w0..w7 (w0 = w7 = Sunday, w1 = Monday, ...; "@w" = "@week" = "@w0"). A
// week snap goes back to the most recent such weekday at 00:00, or to today 00:00 if today is
// that weekday; "@q" snaps to Jan/Apr/Jul/Oct 1st. Offsets in s/m/h/d/w are fixed durations;
// offsets in mon/q/y (q = 3 months, y = 12 months) are calendar arithmetic that keeps the day
// of month and time of day, and when that day does not exist in the target month it is clamped
// to the month's last day (Mar 31 "-1mon" is Feb 29 in a leap year, Feb 28 otherwise; Feb 29
// "+1y" is Feb 28). An offset needs its sign: "5m" is an error, as in Splunk.
//
// Cron follows Vixie cron; see CronSchedule.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string_view>
#include <vector>

#include "schema/status.h"

namespace quarry::query {

/// 0000-01-01T00:00:00Z, the earliest supported time, in microseconds since 1970.
inline constexpr std::int64_t kMinTimeUs = -62'167'219'200'000'000;
/// 9999-12-31T23:59:59.999999Z, the latest supported time, in microseconds since 1970.
inline constexpr std::int64_t kMaxTimeUs = 253'402'300'799'999'999;

/// Resolves a time given on the command line (--earliest/--latest/--now) against `now_us`:
///  - "now";
///  - an integer: Unix epoch seconds ("0" is 1970-01-01, Splunk's "all time"), at most
///    253402300799 (9999-12-31T23:59:59Z);
///  - ISO-8601: "YYYY-MM-DD", "YYYY-MM-DDTHH:MM", "YYYY-MM-DDTHH:MM:SS[.fraction]", a space
///    instead of T allowed; a time (not a bare date) may end in "Z" or an offset "+HH:MM",
///    "+HHMM" or "+HH" (or "-"); no offset means UTC; fraction digits past the sixth are dropped;
///  - a Splunk relative time modifier (see the top of this file), e.g. "-70m@m", "-24h", "@d+8h".
/// Anything else (empty text, "-", "@", "-5x", "5m", surrounding spaces, upper case units, a
/// count too large, a result or `now_us` outside years 0000..9999) is kInvalidArgument with a
/// message naming the text and what was expected.
Result<std::int64_t> ResolveTime(std::string_view spec, std::int64_t now_us);

/// A parsed 5-field cron expression, "minute hour day-of-month month day-of-week", in UTC.
///
/// Each field is a comma list of `*`, `N`, `a-b`, `*/s`, `a-b/s` or `N/s` (= N to the field's
/// maximum, step s). Ranges: minute 0-59, hour 0-23, day-of-month 1-31, month 1-12 (or JAN..DEC),
/// day-of-week 0-7 (or SUN..SAT; 0 and 7 are Sunday); names are case-insensitive and may be used
/// as range ends but not as steps. Vixie's day rule: when both day fields are restricted, a day
/// matches if EITHER matches; when either day field starts with `*` (including "*/2"), a day must
/// match both. Macros: @hourly, @daily (= @midnight), @weekly, @monthly, @yearly (= @annually);
/// @reboot and anything else starting with @ are rejected.
class CronSchedule {
 public:
  /// What NextAfter returns when there is no firing time in 400 years or before year 10000.
  static constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::max();

  /// Parses `text` (fields separated by spaces or tabs). Errors (kInvalidArgument, naming the
  /// text and the field): not 5 fields, a value out of range, a reversed range, a zero or
  /// missing step, an empty list item, an unknown name or macro, and a schedule that can never
  /// fire because no selected day of month exists in any selected month ("0 0 31 2 *").
  static Result<CronSchedule> Parse(std::string_view text);

  /// The first firing time strictly after `time_us` (firing times are whole minutes), or kNever
  /// if there is none within 400 years or before year 10000 (Parse rejects schedules that can
  /// never fire, so that happens only near year 9999).
  std::int64_t NextAfter(std::int64_t time_us) const;

  /// Whether `time_us` is a firing time: a whole minute that the schedule selects.
  bool Matches(std::int64_t time_us) const;

 private:
  CronSchedule() = default;
  bool DayMatches(unsigned day_of_month, unsigned weekday) const;

  std::uint64_t minutes_ = 0;   ///< bit n set: minute n (0-59) fires
  std::uint64_t hours_ = 0;     ///< bit n set: hour n (0-23) fires
  std::uint64_t days_ = 0;      ///< bit n set: day of month n (1-31) matches
  std::uint64_t months_ = 0;    ///< bit n set: month n (1-12) fires
  std::uint64_t weekdays_ = 0;  ///< bit n set: weekday n (0 = Sunday .. 6) matches
  bool days_star_ = false;      ///< the day-of-month field starts with `*`
  bool weekdays_star_ = false;  ///< the day-of-week field starts with `*`
};

/// One scheduled run of a detection: when it ran and the window [earliest_us, latest_us) it
/// searched, all in microseconds since 1970 UTC.
struct ScheduledWindow {
  std::int64_t run_us;       ///< the cron firing time
  std::int64_t earliest_us;  ///< first microsecond searched (inclusive)
  std::int64_t latest_us;    ///< end of the window (exclusive)
};

/// Every run of `cron` whose window overlaps [first_event_us, last_event_us] (both inclusive),
/// in run order. The window of a run at t is [earliest(t), latest(t)), where `earliest` and
/// `latest` are "now" or relative time modifiers (e.g. "-70m@m" and "-10m@m", ESCU's default)
/// resolved against t; absolute times are rejected. The search starts near first_event_us
/// minus the window's reach (never at the epoch) and stops after the last overlapping run.
/// Errors (kInvalidArgument): a bad cron or modifier, first_event_us after last_event_us or
/// outside years 0000..9999, a run whose earliest is not before its latest, a window outside
/// years 0000..9999, and more than `max_windows` overlapping runs (the message gives the limit;
/// nothing is allocated beyond it).
Result<std::vector<ScheduledWindow>> ReplayWindows(std::string_view cron, std::string_view earliest,
                                                   std::string_view latest,
                                                   std::int64_t first_event_us,
                                                   std::int64_t last_event_us,
                                                   std::size_t max_windows = 2'000'000);

}  // namespace quarry::query
