// Splunk time modifiers, ISO-8601 times and cron schedules, resolved in UTC.
#include "query/time_range.h"

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>

#include "schema/time_util.h"

namespace quarry::query {
namespace {

namespace chr = std::chrono;

constexpr std::int64_t kUsPerSecond = 1'000'000;
constexpr std::int64_t kUsPerMinute = 60 * kUsPerSecond;
constexpr std::int64_t kUsPerHour = 60 * kUsPerMinute;
constexpr std::int64_t kUsPerDay = 24 * kUsPerHour;
constexpr std::int64_t kUsPerWeek = 7 * kUsPerDay;
constexpr std::int64_t kSpanUs = kMaxTimeUs - kMinTimeUs;
constexpr std::int64_t kMaxEpochSeconds = kMaxTimeUs / kUsPerSecond;  // 9999-12-31T23:59:59Z
constexpr std::int64_t kLastMonthIndex = 9999 * 12 + 11;              // December 9999
constexpr std::int64_t kGregorianCycleDays = 146097;                  // 400 years

constexpr std::string_view kExpectedTime =
    "expected \"now\", Unix epoch seconds, an ISO-8601 time "
    "(YYYY-MM-DD[THH:MM[:SS[.ffffff]]][Z|+HH:MM]) or a relative time modifier such as -24h@h";

std::int64_t FloorDiv(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  return (a % b < 0) ? q - 1 : q;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsLower(char c) { return c >= 'a' && c <= 'z'; }

Status Invalid(std::string message) { return {StatusCode::kInvalidArgument, std::move(message)}; }

std::int64_t DayOf(std::int64_t time_us) { return FloorDiv(time_us, kUsPerDay); }

chr::year_month_day DateOfDay(std::int64_t day) {
  return chr::year_month_day{chr::sys_days{chr::days{day}}};
}

std::int64_t DayOfDate(chr::year_month_day date) {
  return static_cast<std::int64_t>(chr::sys_days{date}.time_since_epoch().count());
}

unsigned WeekdayOfDay(std::int64_t day) {  // 0 = Sunday
  return chr::weekday{chr::sys_days{chr::days{day}}}.c_encoding();
}

// ---- Relative time modifiers ----

enum class Unit { kSecond, kMinute, kHour, kDay, kWeek, kMonth, kQuarter, kYear };

struct UnitName {
  std::string_view name;
  Unit unit;
};

constexpr UnitName kUnitNames[] = {
    {"s", Unit::kSecond},        {"sec", Unit::kSecond},       {"secs", Unit::kSecond},
    {"second", Unit::kSecond},   {"seconds", Unit::kSecond},   {"m", Unit::kMinute},
    {"min", Unit::kMinute},      {"mins", Unit::kMinute},      {"minute", Unit::kMinute},
    {"minutes", Unit::kMinute},  {"h", Unit::kHour},           {"hr", Unit::kHour},
    {"hrs", Unit::kHour},        {"hour", Unit::kHour},        {"hours", Unit::kHour},
    {"d", Unit::kDay},           {"day", Unit::kDay},          {"days", Unit::kDay},
    {"w", Unit::kWeek},          {"week", Unit::kWeek},        {"weeks", Unit::kWeek},
    {"mon", Unit::kMonth},       {"month", Unit::kMonth},      {"months", Unit::kMonth},
    {"q", Unit::kQuarter},       {"qtr", Unit::kQuarter},      {"qtrs", Unit::kQuarter},
    {"quarter", Unit::kQuarter}, {"quarters", Unit::kQuarter}, {"y", Unit::kYear},
    {"yr", Unit::kYear},         {"yrs", Unit::kYear},         {"year", Unit::kYear},
    {"years", Unit::kYear},
};

constexpr std::string_view kUnitList =
    "s, m, h, d, w, mon, q or y, or a long form such as sec, min, hour, day, week, month, "
    "quarter, year";

// One offset ("-70m") or snap ("@w1") of a relative time modifier.
struct Step {
  bool snap = false;
  Unit unit = Unit::kSecond;
  std::int64_t count = 0;  ///< offsets: signed number of units
  unsigned weekday = 0;    ///< week snaps: 0 = Sunday .. 6 = Saturday
};

using Modifier = std::vector<Step>;

std::int64_t FixedUnitUs(Unit unit) {
  switch (unit) {
    case Unit::kSecond:
      return kUsPerSecond;
    case Unit::kMinute:
      return kUsPerMinute;
    case Unit::kHour:
      return kUsPerHour;
    case Unit::kDay:
      return kUsPerDay;
    case Unit::kWeek:
      return kUsPerWeek;
    default:
      return 0;  // calendar units
  }
}

std::int64_t MonthsPerUnit(Unit unit) {
  switch (unit) {
    case Unit::kMonth:
      return 1;
    case Unit::kQuarter:
      return 3;
    default:
      return 12;
  }
}

// Parses the offsets and snaps of `spec`; "now" is the empty modifier.
Result<Modifier> ParseModifier(std::string_view spec) {
  auto fail = [&](const std::string& what) {
    return Invalid("invalid time modifier '" + std::string(spec) + "': " + what);
  };
  if (spec == "now") return Modifier{};
  if (spec.empty()) return fail("it is empty");
  Modifier steps;
  std::size_t pos = 0;
  while (pos < spec.size()) {
    const std::size_t start = pos;
    Step step;
    const char lead = spec[pos++];
    if (lead == '@') {
      step.snap = true;
    } else if (lead == '+' || lead == '-') {
      std::int64_t count = 0;
      std::size_t digits = 0;
      while (pos < spec.size() && IsDigit(spec[pos])) {
        count = count * 10 + (spec[pos++] - '0');
        ++digits;
        if (count > kSpanUs) return fail("the count is too large");
      }
      if (digits == 0) count = 1;
      step.count = lead == '-' ? -count : count;
    } else {
      return fail(std::string("unexpected '") + lead + "' at position " + std::to_string(start) +
                  " (expected '+', '-' or '@' followed by a unit)");
    }
    const std::size_t unit_start = pos;
    while (pos < spec.size() && IsLower(spec[pos])) ++pos;
    const std::string_view unit = spec.substr(unit_start, pos - unit_start);
    const std::string_view token = spec.substr(start, pos - start);
    if (unit.empty()) {
      return fail("a unit (" + std::string(kUnitList) + ") must follow '" + std::string(token) +
                  "'");
    }
    const auto* found = std::find_if(std::begin(kUnitNames), std::end(kUnitNames),
                                     [&](const UnitName& u) { return u.name == unit; });
    if (found == std::end(kUnitNames)) {
      return fail("unknown unit '" + std::string(unit) + "' (expected " + std::string(kUnitList) +
                  ")");
    }
    step.unit = found->unit;
    if (step.snap && unit == "w" && pos < spec.size() && IsDigit(spec[pos])) {
      const int weekday = spec[pos++] - '0';
      if (weekday > 7) return fail("'@w" + std::to_string(weekday) + "': expected @w0 .. @w7");
      step.weekday = static_cast<unsigned>(weekday % 7);
    }
    steps.push_back(step);
  }
  return steps;
}

// Applies `modifier` to `time_us`. Returns 0 and sets `*out`, or -1 / +1 when the time (or an
// intermediate one) falls before kMinTimeUs / after kMaxTimeUs. Saturating like this keeps the
// result a non-decreasing function of `time_us`.
int ApplyModifier(const Modifier& modifier, std::int64_t time_us, std::int64_t* out) {
  std::int64_t t = time_us;
  if (t < kMinTimeUs) return -1;
  if (t > kMaxTimeUs) return 1;
  for (const Step& step : modifier) {
    const std::int64_t unit_us = FixedUnitUs(step.unit);
    if (step.snap) {
      if (step.unit == Unit::kWeek) {
        const std::int64_t day = DayOf(t);
        const unsigned back = (WeekdayOfDay(day) + 7 - step.weekday) % 7;
        t = (day - back) * kUsPerDay;
      } else if (unit_us != 0) {
        t = FloorDiv(t, unit_us) * unit_us;
      } else {
        const chr::year_month_day date = DateOfDay(DayOf(t));
        unsigned month = static_cast<unsigned>(date.month());
        if (step.unit == Unit::kQuarter) month = (month - 1) / 3 * 3 + 1;
        if (step.unit == Unit::kYear) month = 1;
        t = DayOfDate(date.year() / chr::month{month} / chr::day{1}) * kUsPerDay;
      }
    } else if (unit_us != 0) {
      if (step.count > kSpanUs / unit_us) return 1;
      if (step.count < -(kSpanUs / unit_us)) return -1;
      t += step.count * unit_us;  // |t| and the offset are both below 2^59: no overflow
    } else {
      if (step.count > 12 * 10000) return 1;
      if (step.count < -12 * 10000) return -1;
      const std::int64_t day = DayOf(t);
      const std::int64_t time_of_day = t - day * kUsPerDay;
      const chr::year_month_day date = DateOfDay(day);
      const std::int64_t index = static_cast<int>(date.year()) * std::int64_t{12} +
                                 static_cast<unsigned>(date.month()) - 1 +
                                 step.count * MonthsPerUnit(step.unit);
      if (index < 0) return -1;
      if (index > kLastMonthIndex) return 1;
      const chr::year year{static_cast<int>(index / 12)};
      const chr::month month{static_cast<unsigned>(index % 12 + 1)};
      const chr::day last = chr::year_month_day_last{year, chr::month_day_last{month}}.day();
      const chr::day day_of_month = std::min(date.day(), last);  // Mar 31 - 1mon = Feb 28/29
      t = DayOfDate(year / month / day_of_month) * kUsPerDay + time_of_day;
    }
    if (t < kMinTimeUs) return -1;
    if (t > kMaxTimeUs) return 1;
  }
  *out = t;
  return 0;
}

// A window bound of ReplayWindows: "now" or a relative modifier, never an absolute time.
Result<Modifier> ParseWindowModifier(std::string_view which, std::string_view spec) {
  if (spec != "now" && (spec.empty() || (spec[0] != '+' && spec[0] != '-' && spec[0] != '@'))) {
    return Invalid("replay: " + std::string(which) + " '" + std::string(spec) +
                   "' must be \"now\" or a relative time modifier such as -70m@m");
  }
  return ParseModifier(spec);
}

// ApplyModifier with its range failure as a Status naming `spec`.
Result<std::int64_t> ResolveModifier(const Modifier& modifier, std::string_view spec,
                                     std::int64_t time_us) {
  std::int64_t out = 0;
  const int range = ApplyModifier(modifier, time_us, &out);
  if (range == 0) return out;
  if (time_us < kMinTimeUs || time_us > kMaxTimeUs) {
    return Invalid("invalid time '" + std::string(spec) + "': the reference time " +
                   std::to_string(time_us) + " us is outside years 0000-9999");
  }
  return Invalid("invalid time '" + std::string(spec) + "': resolved against " +
                 schema::FormatIsoUtc(time_us) + " it falls " +
                 (range < 0 ? "before year 0000" : "after year 9999"));
}

// ---- Absolute times ----

// "", "Z", "+HH:MM", "+HHMM", "+HH" (or '-'): the offset east of UTC in microseconds.
bool ParseZone(std::string_view zone, std::int64_t* offset_us) {
  *offset_us = 0;
  if (zone.empty() || zone == "Z") return true;
  if (zone[0] != '+' && zone[0] != '-') return false;
  std::string_view rest = zone.substr(1);
  std::string digits;
  if (rest.size() == 5 && rest[2] == ':') {
    digits = std::string(rest.substr(0, 2)) + std::string(rest.substr(3));
  } else if (rest.size() == 4 || rest.size() == 2) {
    digits = std::string(rest);
  } else {
    return false;
  }
  if (!std::all_of(digits.begin(), digits.end(), IsDigit)) return false;
  const int hours = (digits[0] - '0') * 10 + (digits[1] - '0');
  const int minutes = digits.size() == 4 ? (digits[2] - '0') * 10 + (digits[3] - '0') : 0;
  if (hours > 23 || minutes > 59) return false;
  const std::int64_t offset = hours * kUsPerHour + minutes * kUsPerMinute;
  *offset_us = zone[0] == '-' ? -offset : offset;
  return true;
}

// ISO-8601 as documented on ResolveTime; the calendar checks are ParseUtcTimestamp's.
std::optional<std::int64_t> ParseIso(std::string_view spec) {
  if (spec.size() < 10) return std::nullopt;
  std::string text(spec.substr(0, 10));
  std::int64_t offset_us = 0;
  if (spec.size() == 10) {
    text += " 00:00:00";
  } else {
    if (spec[10] != 'T' && spec[10] != ' ') return std::nullopt;
    const std::size_t zone = spec.find_first_of("Z+-", 11);
    const std::string_view time =
        spec.substr(11, zone == std::string_view::npos ? zone : zone - 11);
    if (zone != std::string_view::npos && !ParseZone(spec.substr(zone), &offset_us)) {
      return std::nullopt;
    }
    if (time.size() == 5) {
      text += ' ' + std::string(time) + ":00";
    } else if (time.size() >= 8) {
      text += ' ' + std::string(time);
    } else {
      return std::nullopt;
    }
  }
  const std::optional<std::int64_t> local = schema::ParseUtcTimestamp(text);
  if (!local) return std::nullopt;
  return *local - offset_us;
}

// ---- Cron ----

constexpr std::string_view kMonthNames[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                            "jul", "aug", "sep", "oct", "nov", "dec"};
constexpr std::string_view kWeekdayNames[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

struct CronField {
  std::string_view name;
  unsigned min;
  unsigned max;
  const std::string_view* names;  ///< nullptr, or names of min, min+1, ...
  std::size_t name_count;
};

constexpr CronField kCronFields[] = {
    {"minute", 0, 59, nullptr, 0},           {"hour", 0, 23, nullptr, 0},
    {"day-of-month", 1, 31, nullptr, 0},     {"month", 1, 12, kMonthNames, 12},
    {"day-of-week", 0, 7, kWeekdayNames, 7},
};

struct CronMacro {
  std::string_view name;
  std::string_view expansion;
};

constexpr CronMacro kCronMacros[] = {
    {"@hourly", "0 * * * *"},   {"@daily", "0 0 * * *"},   {"@midnight", "0 0 * * *"},
    {"@weekly", "0 0 * * 0"},   {"@monthly", "0 0 1 * *"}, {"@yearly", "0 0 1 1 *"},
    {"@annually", "0 0 1 1 *"},
};

// Days each month can have (February 29 in leap years), indexed by month 1-12.
constexpr unsigned kMaxDaysInMonth[] = {0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// A number, or (when `field` has names) a name; false when it is neither.
bool ParseCronValue(std::string_view text, const CronField& field, bool allow_name,
                    unsigned* value) {
  if (text.empty()) return false;
  if (std::all_of(text.begin(), text.end(), IsDigit)) {
    unsigned v = 0;
    for (char c : text) {
      v = v * 10 + static_cast<unsigned>(c - '0');
      if (v > 1000) break;  // out of every range; stop before it could overflow
    }
    *value = v;
    return true;
  }
  if (!allow_name || field.names == nullptr) return false;
  const std::string lower = Lower(text);
  for (std::size_t i = 0; i < field.name_count; ++i) {
    if (field.names[i] == lower) {
      *value = field.min + static_cast<unsigned>(i);
      return true;
    }
  }
  return false;
}

Status ParseCronField(std::string_view text, const CronField& field, std::uint64_t* bits) {
  const std::string prefix = std::string(field.name) + " field '" + std::string(text) + "': ";
  const std::string what = field.names ? "a number or a name" : "a number";
  *bits = 0;
  std::size_t begin = 0;
  while (true) {
    const std::size_t comma = text.find(',', begin);
    const std::string_view item =
        text.substr(begin, comma == std::string_view::npos ? comma : comma - begin);
    if (item.empty()) return Invalid(prefix + "empty list item");
    const std::size_t slash = item.find('/');
    const std::string_view base = item.substr(0, slash);
    unsigned step = 1;
    if (slash != std::string_view::npos) {
      const std::string_view step_text = item.substr(slash + 1);
      if (!ParseCronValue(step_text, field, false, &step)) {
        return Invalid(prefix + "step '" + std::string(step_text) + "' is not a number");
      }
      if (step == 0) return Invalid(prefix + "a step must be at least 1");
    }
    unsigned low = field.min;
    unsigned high = field.max;
    // Parses one end of a range into `value`, checking it against the field's range.
    auto parse_bound = [&](std::string_view bound, unsigned* value) {
      if (!ParseCronValue(bound, field, true, value)) {
        return Invalid(prefix + "'" + std::string(bound) + "' is not " + what);
      }
      if (*value < field.min || *value > field.max) {
        return Invalid(prefix + std::string(bound) + " is outside " + std::to_string(field.min) +
                       "-" + std::to_string(field.max));
      }
      return Status::Ok();
    };
    if (base != "*") {
      const std::size_t dash = base.find('-');
      QUARRY_RETURN_IF_ERROR(parse_bound(base.substr(0, dash), &low));
      if (dash != std::string_view::npos) {
        QUARRY_RETURN_IF_ERROR(parse_bound(base.substr(dash + 1), &high));
      } else if (slash == std::string_view::npos) {
        high = low;
      }
      if (low > high) {
        return Invalid(prefix + "range " + std::to_string(low) + "-" + std::to_string(high) +
                       " is reversed");
      }
    }
    for (unsigned v = low; v <= high; v += step) *bits |= std::uint64_t{1} << v;
    if (comma == std::string_view::npos) break;
    begin = comma + 1;
  }
  return Status::Ok();
}

bool Bit(std::uint64_t bits, unsigned n) { return (bits >> n) & 1u; }

}  // namespace

// ---- ResolveTime ----

Result<std::int64_t> ResolveTime(std::string_view spec, std::int64_t now_us) {
  const std::string quoted = "invalid time '" + std::string(spec) + "': ";
  if (spec.empty()) return Invalid(quoted + "it is empty; " + std::string(kExpectedTime));
  if (spec == "now" || spec[0] == '+' || spec[0] == '-' || spec[0] == '@') {
    Result<Modifier> modifier = ParseModifier(spec);
    if (!modifier.ok()) return modifier.status();
    return ResolveModifier(*modifier, spec, now_us);
  }
  if (std::all_of(spec.begin(), spec.end(), IsDigit)) {
    std::int64_t seconds = 0;
    for (char c : spec) {
      seconds = seconds * 10 + (c - '0');
      if (seconds > kMaxEpochSeconds) {
        return Invalid(quoted + "epoch seconds must be at most " +
                       std::to_string(kMaxEpochSeconds) + " (9999-12-31T23:59:59Z)");
      }
    }
    return seconds * kUsPerSecond;
  }
  if (spec.size() >= 5 && std::all_of(spec.begin(), spec.begin() + 4, IsDigit) && spec[4] == '-') {
    const std::optional<std::int64_t> time = ParseIso(spec);
    if (!time) {
      return Invalid(quoted +
                     "not a valid ISO-8601 time; expected YYYY-MM-DD, YYYY-MM-DDTHH:MM or "
                     "YYYY-MM-DDTHH:MM:SS[.ffffff], optionally ending in Z or +HH:MM/-HH:MM");
    }
    if (*time < kMinTimeUs || *time > kMaxTimeUs) {
      return Invalid(quoted + "it falls outside years 0000-9999 in UTC");
    }
    return *time;
  }
  if (IsDigit(spec[0]) && ParseModifier("-" + std::string(spec)).ok()) {
    return Invalid(quoted + "a relative offset needs a sign, e.g. '-" + std::string(spec) +
                   "' or '+" + std::string(spec) + "'");
  }
  return Invalid(quoted + std::string(kExpectedTime));
}

// ---- CronSchedule ----

Result<CronSchedule> CronSchedule::Parse(std::string_view text) {
  const std::string quoted = "invalid cron '" + std::string(text) + "': ";
  std::vector<std::string_view> fields;
  std::size_t pos = 0;
  while (pos < text.size()) {
    while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\t')) ++pos;
    const std::size_t start = pos;
    while (pos < text.size() && text[pos] != ' ' && text[pos] != '\t') ++pos;
    if (pos > start) fields.push_back(text.substr(start, pos - start));
  }
  if (fields.size() == 1 && fields[0][0] == '@') {
    const std::string name = Lower(fields[0]);
    for (const CronMacro& macro : kCronMacros) {
      if (macro.name == name) return Parse(macro.expansion);
    }
    return Invalid(quoted +
                   "unknown macro (expected @hourly, @daily, @midnight, @weekly, @monthly, "
                   "@yearly or @annually)");
  }
  if (fields.size() != 5) {
    return Invalid(quoted + "expected 5 fields (minute hour day-of-month month day-of-week), got " +
                   std::to_string(fields.size()));
  }
  CronSchedule schedule;
  std::uint64_t* bits[] = {&schedule.minutes_, &schedule.hours_, &schedule.days_, &schedule.months_,
                           &schedule.weekdays_};
  for (std::size_t i = 0; i < 5; ++i) {
    const Status status = ParseCronField(fields[i], kCronFields[i], bits[i]);
    if (!status.ok()) return Invalid(quoted + status.message());
  }
  if (Bit(schedule.weekdays_, 7)) schedule.weekdays_ = (schedule.weekdays_ | 1u) & 0x7f;
  schedule.days_star_ = fields[2][0] == '*';
  schedule.weekdays_star_ = fields[4][0] == '*';
  // With the OR rule every month has matching weekdays, and a `*` day field includes day 1; so
  // the schedule can only be impossible when the day-of-week field is `*`.
  if (schedule.weekdays_star_) {
    bool possible = false;
    for (unsigned month = 1; month <= 12 && !possible; ++month) {
      if (!Bit(schedule.months_, month)) continue;
      for (unsigned day = 1; day <= kMaxDaysInMonth[month]; ++day) {
        if (Bit(schedule.days_, day)) possible = true;
      }
    }
    if (!possible) {
      return Invalid(quoted +
                     "it never fires: no selected day of month exists in a selected month");
    }
  }
  return schedule;
}

bool CronSchedule::DayMatches(unsigned day_of_month, unsigned weekday) const {
  const bool day_ok = Bit(days_, day_of_month);
  const bool weekday_ok = Bit(weekdays_, weekday);
  if (days_star_ || weekdays_star_) return day_ok && weekday_ok;
  return day_ok || weekday_ok;  // Vixie: both restricted, either matches
}

bool CronSchedule::Matches(std::int64_t time_us) const {
  if (time_us < kMinTimeUs || time_us > kMaxTimeUs || time_us % kUsPerMinute != 0) return false;
  const std::int64_t day = DayOf(time_us);
  const auto minute_of_day = static_cast<unsigned>((time_us - day * kUsPerDay) / kUsPerMinute);
  const chr::year_month_day date = DateOfDay(day);
  return Bit(minutes_, minute_of_day % 60) && Bit(hours_, minute_of_day / 60) &&
         Bit(months_, static_cast<unsigned>(date.month())) &&
         DayMatches(static_cast<unsigned>(date.day()), WeekdayOfDay(day));
}

std::int64_t CronSchedule::NextAfter(std::int64_t time_us) const {
  if (time_us >= kMaxTimeUs) return kNever;
  const std::int64_t start =
      (FloorDiv(std::max(time_us, kMinTimeUs - 1), kUsPerMinute) + 1) * kUsPerMinute;
  std::int64_t day = DayOf(start);
  auto minute_of_day = static_cast<unsigned>((start - day * kUsPerDay) / kUsPerMinute);
  const std::int64_t last_day = std::min(day + kGregorianCycleDays, DayOf(kMaxTimeUs));
  while (day <= last_day) {
    const chr::year_month_day date = DateOfDay(day);
    if (!Bit(months_, static_cast<unsigned>(date.month()))) {
      day = DayOfDate(date.year() / date.month() / chr::day{1} + chr::months{1});
      minute_of_day = 0;
      continue;
    }
    if (DayMatches(static_cast<unsigned>(date.day()), WeekdayOfDay(day))) {
      for (unsigned hour = minute_of_day / 60; hour < 24; ++hour) {
        if (!Bit(hours_, hour)) continue;
        for (unsigned minute = hour == minute_of_day / 60 ? minute_of_day % 60 : 0; minute < 60;
             ++minute) {
          if (Bit(minutes_, minute)) return day * kUsPerDay + (hour * 60 + minute) * kUsPerMinute;
        }
      }
    }
    ++day;
    minute_of_day = 0;
  }
  return kNever;
}

// ---- ReplayWindows ----

Result<std::vector<ScheduledWindow>> ReplayWindows(std::string_view cron, std::string_view earliest,
                                                   std::string_view latest,
                                                   std::int64_t first_event_us,
                                                   std::int64_t last_event_us,
                                                   std::size_t max_windows) {
  Result<CronSchedule> schedule = CronSchedule::Parse(cron);
  if (!schedule.ok()) return schedule.status();
  Result<Modifier> earliest_modifier = ParseWindowModifier("earliest", earliest);
  if (!earliest_modifier.ok()) return earliest_modifier.status();
  Result<Modifier> latest_modifier = ParseWindowModifier("latest", latest);
  if (!latest_modifier.ok()) return latest_modifier.status();
  if (first_event_us > last_event_us) {
    return Invalid("replay: the first event " + schema::FormatIsoUtc(first_event_us) +
                   " is after the last " + schema::FormatIsoUtc(last_event_us));
  }
  if (first_event_us < kMinTimeUs || last_event_us > kMaxTimeUs) {
    return Invalid("replay: the events' times are outside years 0000-9999");
  }

  // latest(t), saturated outside the supported range; non-decreasing in t.
  auto latest_at = [&](std::int64_t t) {
    std::int64_t out = 0;
    const int range = ApplyModifier(*latest_modifier, t, &out);
    if (range < 0) return kMinTimeUs - 1;
    if (range > 0) return kMaxTimeUs + 1;
    return out;
  };
  // Find whole minutes `low` < `high` with latest(low) <= first event < latest(high): no run at
  // or before `low` can reach the events, every run after it ends after the first event.
  const std::int64_t first_minute = DayOf(kMinTimeUs) * kUsPerDay;
  const std::int64_t last_minute = FloorDiv(kMaxTimeUs, kUsPerMinute) * kUsPerMinute;
  std::int64_t low = FloorDiv(first_event_us, kUsPerMinute) * kUsPerMinute;
  for (std::int64_t step = kUsPerMinute; latest_at(low) > first_event_us; step *= 2) {
    if (low == first_minute) {
      low = first_minute - kUsPerMinute;  // every run from year 0000 on may overlap
      break;
    }
    low = std::max(first_minute, low - step);
  }
  std::int64_t high = low + kUsPerMinute;
  for (std::int64_t step = kUsPerMinute; latest_at(high) <= first_event_us; step *= 2) {
    if (high == last_minute) return std::vector<ScheduledWindow>{};  // no window reaches them
    low = high;
    high = std::min(last_minute, high + step);
  }
  while (high - low > kUsPerMinute) {
    const std::int64_t middle = low + (high - low) / kUsPerMinute / 2 * kUsPerMinute;
    (latest_at(middle) > first_event_us ? high : low) = middle;
  }

  std::vector<ScheduledWindow> windows;
  for (std::int64_t run = schedule->NextAfter(low); run != CronSchedule::kNever;
       run = schedule->NextAfter(run)) {
    Result<std::int64_t> window_earliest = ResolveModifier(*earliest_modifier, earliest, run);
    if (!window_earliest.ok()) return window_earliest.status();
    Result<std::int64_t> window_latest = ResolveModifier(*latest_modifier, latest, run);
    if (!window_latest.ok()) return window_latest.status();
    if (*window_earliest >= *window_latest) {
      return Invalid("replay: for the run at " + schema::FormatIsoUtc(run) + " earliest '" +
                     std::string(earliest) + "' (" + schema::FormatIsoUtc(*window_earliest) +
                     ") is not before latest '" + std::string(latest) + "' (" +
                     schema::FormatIsoUtc(*window_latest) + ")");
    }
    if (*window_earliest > last_event_us) break;  // so are all later runs' windows
    if (*window_latest <= first_event_us) continue;
    if (windows.size() == max_windows) {
      return Invalid("replay: cron '" + std::string(cron) + "' with windows " +
                     std::string(earliest) + ".." + std::string(latest) + " has more than " +
                     std::to_string(max_windows) + " runs over the events from " +
                     schema::FormatIsoUtc(first_event_us) + " to " +
                     schema::FormatIsoUtc(last_event_us) + " (limit reached at the run at " +
                     schema::FormatIsoUtc(run) + "); narrow the time span or raise the limit");
    }
    windows.push_back({run, *window_earliest, *window_latest});
  }
  return windows;
}

}  // namespace quarry::query
