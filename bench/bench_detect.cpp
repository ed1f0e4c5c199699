// quarry_bench_detect: times the compiled SQL of detections on a case, one detection at a time,
// with its EXPLAIN QUERY PLAN. bench/detect.sh runs it (docs/performance.md, "Detection
// latency"); it is not part of ctest and no test is timed.
//
// Usage:
//   quarry_bench_detect --db CASE [--detections DIR]... [--macros DIR]... [--only ID]...
//                       [--repeat N] [--evict] [--timeout SECONDS] [--tsv FILE] [--plans FILE]
//                       [--quiet]
//
// For each selected detection (default: every detection of the catalog, built-in ones first,
// as `quarry detect` loads them) it compiles the search exactly as `quarry detect` does
// (CompileDetection: macros expanded, the whole-case query with the filter macro), prepares the
// SQL on a read-only connection with Quarry's spl_* functions, binds the values `detect` binds
// (now = the newest event), and steps through every row, reading each column as RunSearch does
// but keeping nothing, so memory stays flat whatever the result size. The timed span is
// prepare + bind + every step, on a monotonic clock; `--repeat N` runs it N times on the same
// connection and reports the first, the median and the max. `--evict` first drops the case
// file's pages from the page cache (posix_fadvise DONTNEED on the database and its -wal: only
// this file, nothing else on the machine), so the first run reads from disk: the cold figure.
// `--timeout` interrupts a run that takes longer (sqlite3_progress_handler), reported as
// status "timeout" with the time it had taken.
//
// Output: one line per detection on stdout as it finishes (for following a long run), and with
// --tsv a table with a header: id, name, type, status, rows, first_ms, median_ms, max_ms, runs,
// access (how process_events is read: scan, index NAME, ...), temp_btrees, leading_wildcards
// (LIKE values that start with %), likes, regex (spl_regex/spl_rex/spl_replace calls), error,
// first_cpu_ms (the first run's CPU time on this thread: steadier than wall time when other
// work competes for the CPUs, and below it when the run waits for the disk).
// --plans writes every detection's full plan and SQL. Exit status: 0 when every selected
// detection was measured or failed to compile (a compile failure is data, not an error), 1 when
// the case could not be opened or a compiled query failed, 2 usage error.
#include <fcntl.h>
#include <sqlite3.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "query/detect.h"
#include "query/detection.h"
#include "query/spl_compiler.h"
#include "query/sql_functions.h"
#include "schema/case_db.h"

namespace {

using quarry::query::SqlValue;
using Clock = std::chrono::steady_clock;

struct Flags {
  std::string db;
  std::vector<std::string> detection_dirs;
  std::vector<std::string> macro_dirs;
  std::vector<std::string> only;
  int repeat = 1;
  bool evict = false;
  double timeout_s = 0;
  std::string tsv;
  std::string plans;
  bool quiet = false;
};

constexpr const char* kUsage =
    "usage: quarry_bench_detect --db CASE [--detections DIR]... [--macros DIR]... [--only ID]...\n"
    "                           [--repeat N] [--evict] [--timeout SECONDS] [--tsv FILE]\n"
    "                           [--plans FILE] [--quiet]\n";

// Drops the file's cached pages (clean ones; the case is not being written).
void Evict(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return;
  (void)::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  ::close(fd);
}

// Binds what RunSearch binds for a whole-case run: ?1/?2 the (unused) window, ?3 now, then the
// search's own values.
void BindSearch(quarry::schema::Statement* stmt, const quarry::query::CompiledSearch& search,
                std::int64_t now_us) {
  int parameters = stmt->ParameterCount();
  if (parameters >= quarry::query::kEarliestParam)
    stmt->BindInt(quarry::query::kEarliestParam, std::numeric_limits<std::int64_t>::min());
  if (parameters >= quarry::query::kLatestParam)
    stmt->BindInt(quarry::query::kLatestParam, std::numeric_limits<std::int64_t>::max());
  if (parameters >= quarry::query::kNowParam) stmt->BindInt(quarry::query::kNowParam, now_us);
  for (std::size_t i = 0; i < search.params.size(); ++i)
    quarry::query::BindValue(stmt, static_cast<int>(i) + quarry::query::kNowParam + 1,
                             search.params[i]);
}

// CPU time of this thread: steadier than wall time on a shared machine.
double ThreadCpuMs() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_nsec) / 1e6;
}

struct Deadline {
  Clock::time_point at;
  bool armed = false;
  bool fired = false;
};

int Progress(void* data) {
  auto* deadline = static_cast<Deadline*>(data);
  if (deadline->armed && Clock::now() >= deadline->at) {
    deadline->fired = true;
    return 1;  // interrupts the statement
  }
  return 0;
}

struct RunResult {
  bool ok = false;
  bool timed_out = false;
  std::string error;
  std::int64_t rows = 0;
  std::size_t bytes = 0;  ///< text of every value read
  double ms = 0;
  double cpu_ms = 0;
};

RunResult RunOnce(quarry::schema::CaseDb* db, const quarry::query::CompiledSearch& search,
                  std::int64_t now_us, Deadline* deadline, double timeout_s) {
  RunResult result;
  double start_cpu = ThreadCpuMs();
  Clock::time_point start = Clock::now();
  deadline->fired = false;
  deadline->armed = timeout_s > 0;
  if (deadline->armed)
    deadline->at = start + std::chrono::duration_cast<Clock::duration>(
                               std::chrono::duration<double>(timeout_s));
  auto stmt = db->Prepare(search.sql);
  if (!stmt.ok()) {
    result.error = stmt.status().message();
  } else {
    BindSearch(&*stmt, search, now_us);
    std::size_t bytes = 0;  // read every value, as RunSearch does, but keep none
    while (true) {
      quarry::Result<bool> row = stmt->Step();
      if (!row.ok()) {
        result.error = row.status().message();
        break;
      }
      if (!*row) {
        result.ok = true;
        break;
      }
      ++result.rows;
      for (int c = 0; c < stmt->ColumnCount(); ++c) bytes += stmt->ColumnText(c).size();
    }
    result.bytes = bytes;
  }
  result.ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  result.cpu_ms = ThreadCpuMs() - start_cpu;
  deadline->armed = false;
  if (!result.ok && deadline->fired) {
    result.timed_out = true;
    result.error = "timeout";
  }
  return result;
}

// EXPLAIN QUERY PLAN rows as "id parent detail" lines.
std::vector<std::string> Plan(quarry::schema::CaseDb* db,
                              const quarry::query::CompiledSearch& search, std::int64_t now_us) {
  std::vector<std::string> lines;
  auto stmt = db->Prepare("EXPLAIN QUERY PLAN " + search.sql);
  if (!stmt.ok()) return {"error: " + stmt.status().message()};
  BindSearch(&*stmt, search, now_us);
  while (true) {
    quarry::Result<bool> row = stmt->Step();
    if (!row.ok() || !*row) break;
    lines.push_back(std::to_string(stmt->ColumnInt(0)) + " " + std::to_string(stmt->ColumnInt(1)) +
                    " " + std::string(stmt->ColumnText(3)));
  }
  return lines;
}

// How the plan reads process_events (alias e): "scan" (every row), "scan (COVERING x)", or
// "index a+b (N lookups)" for index searches (names without their process_events_ prefix; a
// multi-index OR searches once per branch); and how many temporary B-trees it builds.
void SummarizePlan(const std::vector<std::string>& plan, std::string* access, int* temp_btrees) {
  *temp_btrees = 0;
  access->clear();
  auto shorten = [](std::string text) {
    for (std::string_view prefix : {"INDEX ", "process_events_"}) {
      for (std::size_t at = text.find(prefix); at != std::string::npos; at = text.find(prefix))
        text.erase(at, prefix.size());
    }
    std::size_t paren = text.find(" (");
    return paren == std::string::npos ? text : text.substr(0, paren);
  };
  std::vector<std::string> scans, indexes;
  int lookups = 0;
  for (const std::string& line : plan) {
    std::string_view detail = line;
    detail = detail.substr(detail.find(' ', detail.find(' ') + 1) + 1);
    std::size_t using_at = detail.find(" USING ");
    if (detail.rfind("SCAN e", 0) == 0 || detail.rfind("SCAN process_events", 0) == 0) {
      scans.push_back(using_at == std::string_view::npos
                          ? "scan"
                          : "scan (" + shorten(std::string(detail.substr(using_at + 7))) + ")");
    } else if (detail.rfind("SEARCH e ", 0) == 0 || detail.rfind("SEARCH process_events", 0) == 0) {
      std::string name = using_at == std::string_view::npos
                             ? std::string(detail)
                             : shorten(std::string(detail.substr(using_at + 7)));
      ++lookups;
      if (std::find(indexes.begin(), indexes.end(), name) == indexes.end()) indexes.push_back(name);
    } else if (detail.find("TEMP B-TREE") != std::string_view::npos) {
      ++*temp_btrees;
    }
  }
  for (const std::string& scan : scans) *access += (access->empty() ? "" : " + ") + scan;
  if (!indexes.empty()) {
    std::string names;
    for (const std::string& name : indexes) names += (names.empty() ? "" : "+") + name;
    *access += (access->empty() ? "index " : " + index ") + names;
    if (lookups > 1) *access += " (" + std::to_string(lookups) + " lookups)";
  }
  if (access->empty()) *access = "none";
}

std::string Clean(std::string text) {
  for (char& c : text)
    if (c == '\t' || c == '\n' || c == '\r') c = ' ';
  return text;
}

int Main(int argc, char** argv) {
  Flags flags;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "quarry_bench_detect: %s needs a value\n%s", argv[i], kUsage);
        std::exit(2);
      }
      return argv[++i];
    };
    if (arg == "--db") {
      flags.db = value();
    } else if (arg == "--detections") {
      flags.detection_dirs.emplace_back(value());
    } else if (arg == "--macros") {
      flags.macro_dirs.emplace_back(value());
    } else if (arg == "--only") {
      flags.only.emplace_back(value());
    } else if (arg == "--repeat") {
      flags.repeat = std::atoi(value());
    } else if (arg == "--timeout") {
      flags.timeout_s = std::atof(value());
    } else if (arg == "--tsv") {
      flags.tsv = value();
    } else if (arg == "--plans") {
      flags.plans = value();
    } else if (arg == "--evict") {
      flags.evict = true;
    } else if (arg == "--quiet") {
      flags.quiet = true;
    } else if (arg == "-h" || arg == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    } else {
      std::fprintf(stderr, "quarry_bench_detect: unknown argument %s\n%s", argv[i], kUsage);
      return 2;
    }
  }
  if (flags.db.empty() || flags.repeat < 1) {
    std::fputs(kUsage, stderr);
    return 2;
  }

  auto catalog = quarry::query::LoadCatalog(flags.detection_dirs, flags.macro_dirs);
  if (!catalog.ok()) {
    std::fprintf(stderr, "quarry_bench_detect: %s\n", catalog.status().message().c_str());
    return 1;
  }
  std::vector<const quarry::query::Detection*> selected;
  if (flags.only.empty()) {
    for (const auto& detection : catalog->detections) selected.push_back(&detection);
  } else {
    for (const std::string& key : flags.only) {
      const quarry::query::Detection* detection = catalog->Find(key);
      if (detection == nullptr) {
        std::fprintf(stderr, "quarry_bench_detect: no detection %s in the catalog\n", key.c_str());
        return 2;
      }
      selected.push_back(detection);
    }
  }

  if (flags.evict) {
    Evict(flags.db);
    Evict(flags.db + "-wal");
  }
  auto db = quarry::schema::CaseDb::Open(flags.db, quarry::schema::OpenMode::kReadOnly);
  if (!db.ok()) {
    std::fprintf(stderr, "quarry_bench_detect: %s\n", db.status().message().c_str());
    return 1;
  }
  quarry::Status registered = quarry::query::RegisterSplFunctions(db->get());
  if (!registered.ok()) {
    std::fprintf(stderr, "quarry_bench_detect: %s\n", registered.message().c_str());
    return 1;
  }
  Deadline deadline;
  sqlite3_progress_handler((*db)->handle(), 100000, Progress, &deadline);
  // `quarry detect`'s default now: the newest event.
  auto now = (*db)->QueryInt("SELECT coalesce(max(time_us), 0) FROM process_events");
  if (!now.ok()) {
    std::fprintf(stderr, "quarry_bench_detect: %s\n", now.status().message().c_str());
    return 1;
  }

  std::ofstream tsv;
  if (!flags.tsv.empty()) {
    tsv.open(flags.tsv);
    tsv << "id\tname\ttype\tstatus\trows\tfirst_ms\tmedian_ms\tmax_ms\truns\taccess\ttemp_btrees"
           "\tleading_wildcards\tlikes\tregex\terror\tfirst_cpu_ms\n";
  }
  std::ofstream plans;
  if (!flags.plans.empty()) plans.open(flags.plans);

  int failed = 0, measured = 0, not_compiled = 0, timed_out = 0;
  double total_ms = 0;
  for (const quarry::query::Detection* detection : selected) {
    auto compiled = quarry::query::CompileDetection(*detection, catalog->macros);
    std::string status, error, access = "-";
    int temp_btrees = 0, leading = 0, likes = 0, regex = 0;
    std::vector<double> times;
    double first_cpu = 0;
    std::vector<double> cpu_times;
    std::int64_t rows = -1;
    if (!compiled.ok()) {
      status = "not-compiled";
      error = compiled.status().message();
      ++not_compiled;
    } else {
      const quarry::query::CompiledSearch& search = compiled->filtered;
      std::vector<std::string> plan = Plan(db->get(), search, *now);
      SummarizePlan(plan, &access, &temp_btrees);
      for (const SqlValue& value : search.params) {
        const auto* text = std::get_if<std::string>(&value);
        if (text != nullptr && !text->empty() && text->front() == '%') ++leading;
      }
      for (std::size_t at = search.sql.find(" LIKE "); at != std::string::npos;
           at = search.sql.find(" LIKE ", at + 1))
        ++likes;
      for (std::string_view fn : {"spl_regex(", "spl_rex(", "spl_replace("})
        for (std::size_t at = search.sql.find(fn); at != std::string::npos;
             at = search.sql.find(fn, at + 1))
          ++regex;
      status = "ok";
      for (int run = 0; run < flags.repeat; ++run) {
        RunResult result = RunOnce(db->get(), search, *now, &deadline, flags.timeout_s);
        times.push_back(result.ms);
        cpu_times.push_back(result.cpu_ms);
        if (run == 0) first_cpu = result.cpu_ms;
        if (!result.ok) {
          status = result.timed_out ? "timeout" : "error";
          error = result.error;
          break;
        }
        rows = result.rows;
      }
      if (status == "ok") ++measured;
      if (status == "timeout") ++timed_out;
      if (status == "error") ++failed;
      total_ms += times.front();
      if (plans.is_open()) {
        plans << "== " << detection->id << "  " << detection->name << "\n";
        for (const std::string& line : plan) plans << "  " << line << "\n";
        plans << search.sql << "\n";
        for (std::size_t i = 0; i < search.params.size(); ++i) {
          plans << "  ?" << (i + 4) << " = " << quarry::query::ValueText(search.params[i]) << "\n";
        }
        plans << "\n";
      }
    }
    double first = times.empty() ? 0 : times.front();
    std::vector<double> sorted = times;
    std::sort(sorted.begin(), sorted.end());
    double median = sorted.empty() ? 0 : sorted[sorted.size() / 2];
    if (!sorted.empty() && sorted.size() % 2 == 0)
      median = (sorted[sorted.size() / 2 - 1] + sorted[sorted.size() / 2]) / 2;
    double max = sorted.empty() ? 0 : sorted.back();
    if (!flags.quiet) {
      std::printf("%-12s %10.1f ms (CPU %.1f)  rows %-9lld %s  [%s]%s%s\n", status.c_str(), first,
                  first_cpu, static_cast<long long>(rows), detection->name.c_str(), access.c_str(),
                  error.empty() ? "" : "  ", error.substr(0, 120).c_str());
      if (flags.repeat > 1 && !times.empty()) {
        std::printf("             runs (ms):");
        for (double t : times) std::printf(" %.2f", t);
        std::printf("\n             CPU (ms): ");
        for (double t : cpu_times) std::printf(" %.2f", t);
        std::printf("\n             first %.2f, median %.2f, max %.2f ms\n", first, median, max);
      }
      std::fflush(stdout);
    }
    if (tsv.is_open()) {
      char numbers[128];
      std::snprintf(numbers, sizeof numbers, "%.2f\t%.2f\t%.2f\t%zu", first, median, max,
                    times.size());
      tsv << detection->id << '\t' << Clean(detection->name) << '\t' << detection->type << '\t'
          << status << '\t' << rows << '\t' << numbers << '\t' << access << '\t' << temp_btrees
          << '\t' << leading << '\t' << likes << '\t' << regex << '\t' << Clean(error) << '\t'
          << first_cpu << '\n';
      tsv.flush();
    }
  }
  std::printf(
      "quarry_bench_detect: %zu detections: %d measured, %d timed out, %d failed, %d do not "
      "compile; %.1f s in the measured first runs\n",
      selected.size(), measured, timed_out, failed, not_compiled, total_ms / 1000);
  return failed > 0 ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) { return Main(argc, argv); }
