// libFuzzer harness: any text as a time (ISO-8601 or Splunk relative modifier) and as a cron
// schedule; replay windows for what parses. Never a crash, an overflow or a hang.
#include <cstdint>
#include <string_view>

#include "query/time_range.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  constexpr std::int64_t kNow = 1780409159999642;  // 2026-06-02T14:05:59.999642Z
  (void)quarry::query::ResolveTime(text, kNow);
  quarry::Result<quarry::query::CronSchedule> cron = quarry::query::CronSchedule::Parse(text);
  if (cron.ok()) {
    (void)cron->NextAfter(kNow);
    (void)quarry::query::ReplayWindows(text, "-70m@m", "-10m@m", kNow, kNow + 86400000000LL, 10000);
  }
  return 0;
}
