// quarry_bench_ingest: measures ingest of one file (event XML or JSON lines, whichever SniffFile
// finds) end to end, and its two halves alone on the same data in the same run: decoding
// (DecodeFile: for event XML the scanner, pugixml and Sysmon / Security 4688 field extraction,
// for JSON lines the line reader, JSON parser and CrowdStrike FDR field extraction; no database)
// and SQLite inserting (the same rows through CaseWriter's prepared INSERT, one transaction).
// End to end is Ingest(), which for CrowdStrike data also runs the post-ingest resolution SQL. Each
// phase runs in its own child process, so each peak RSS is that phase's own.
//
// Usage:
//   quarry_bench_ingest FILE [--work-dir DIR] [--pool-events N] [--insert-events N]
//                            [--phases hash,parse,insert,e2e] [--pragma "cache_size = -65536"]...
//                            [--raw zstd|plain] [--files K]
//
// --files K also cuts FILE at line ends into K files and ingests them end to end twice, reading
// the next file ahead and one file at a time.
// --pragma is for experiments only: it runs the PRAGMA on the case database right after opening
// it, in the insert and end-to-end phases, which `quarry ingest` itself does not do.
// bench/run.sh generates the input and runs this; docs/performance.md explains the figures.
// Exit status: 0 measured (whether or not the targets were met), 1 a phase failed, 2 usage.
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <vector>

#include "ingest/case_writer.h"
#include "ingest/decode.h"
#include "ingest/ingest.h"
#include "ingest/input_file.h"
#include "schema/case_db.h"

namespace quarry::bench {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr double kRatioTarget = 0.5;          // end-to-end / min(parse, insert), events/s
constexpr double kJsonLinesTarget = 0.6;      // JSON lines: end-to-end / insert alone, events/s
constexpr double kRssTargetMb = 300.0;        // peak RSS of end-to-end ingest, MB
constexpr double kRssTargetInputBytes = 2e9;  // ... on an input of this size
constexpr std::size_t kDefaultPoolEvents = 20000;
constexpr double kMb = 1e6;  // every MB here is 10^6 bytes

// What a phase's child process sends back to the parent (a plain struct through a pipe).
struct PhaseResult {
  bool ok = false;
  double seconds = 0;       // wall time of the measured part
  std::int64_t events = 0;  // process events decoded / inserted / loaded
  std::int64_t records_rejected = 0;
  std::int64_t warnings = 0;
  std::int64_t db_bytes = -1;    // case database after close, -1 when there is none
  std::int64_t wal_bytes = 0;    // what is left in -wal after close (normally nothing)
  std::int64_t raw_bytes = -1;   // stored raw records (process_events.raw) in it, bytes
  std::int64_t pool_events = 0;  // insert alone: distinct rows cycled through
  double rows_seconds = 0;       // insert alone: opening the case and adding the rows
  double commit_seconds = 0;     // insert alone: CommitFile (includes the WAL checkpoint)
  double close_seconds = 0;      // insert alone: closing the case
  char format[32] = {};          // what SniffFile found (parse alone)
  char message[512] = {};        // why it failed, or a note
};

static_assert(std::is_trivially_copyable_v<PhaseResult>, "sent through a pipe as bytes");

// A phase as the parent saw it.
struct Phase {
  std::string name;
  bool ran = false;
  PhaseResult result;
  double cpu_seconds = 0;    // user + system of the child
  double peak_rss_mb = 0;    // ru_maxrss of the child
  double cpu_wait_pct = -1;  // share of the wall time some task waited for a CPU; -1: unknown
};

void SetMessage(PhaseResult* result, std::string_view text) {
  std::size_t n = std::min(text.size(), sizeof result->message - 1);
  std::memcpy(result->message, text.data(), n);
  result->message[n] = '\0';
}

PhaseResult Failed(std::string_view text) {
  PhaseResult result;
  SetMessage(&result, text);
  return result;
}

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::int64_t FileBytes(const std::string& path) {
  std::error_code ec;
  std::uintmax_t size = fs::file_size(path, ec);
  return ec ? -1 : static_cast<std::int64_t>(size);
}

// Removes a case database and its journals; missing files are fine.
void RemoveCase(const std::string& db_path) {
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
    std::error_code ec;
    fs::remove(db_path + suffix, ec);
  }
}

// Opens a fresh case database and runs the experiment's PRAGMAs on it.
Result<std::unique_ptr<schema::CaseDb>> OpenCase(const std::string& db_path,
                                                 const std::vector<std::string>& pragmas) {
  RemoveCase(db_path);
  Result<std::unique_ptr<schema::CaseDb>> db =
      schema::CaseDb::Open(db_path, schema::OpenMode::kReadWrite);
  if (!db.ok()) return db;
  for (const std::string& pragma : pragmas) {
    Status status = (*db)->Exec("PRAGMA " + pragma);
    if (!status.ok()) return status;
  }
  return db;
}

// Records the case database's size once it is closed (SQLite checkpoints the WAL on close).
void MeasureCase(const std::string& db_path, PhaseResult* result) {
  result->db_bytes = FileBytes(db_path);
  std::int64_t wal = FileBytes(db_path + "-wal");
  result->wal_bytes = wal > 0 ? wal : 0;
  Result<std::unique_ptr<schema::CaseDb>> db =
      schema::CaseDb::Open(db_path, schema::OpenMode::kReadOnly);
  if (!db.ok()) return;
  Result<std::int64_t> raw =
      (*db)->QueryInt("SELECT coalesce(sum(length(CAST(raw AS BLOB))), 0) FROM process_events");
  if (raw.ok()) result->raw_bytes = *raw;
}

// ---- The phases (each runs in a child process) ----

// SHA-256 of the file: the serial first step of every ingest, shown for reference.
PhaseResult HashPhase(const std::string& input) {
  Clock::time_point start = Clock::now();
  Result<std::string> sha = ingest::Sha256OfFile(input);
  PhaseResult result;
  result.seconds = SecondsSince(start);
  if (!sha.ok()) return Failed(sha.status().message());
  result.ok = true;
  return result;
}

// Decoding alone: what the ingest's decoder thread does, with the batches thrown away.
PhaseResult ParsePhase(const std::string& input) {
  Clock::time_point start = Clock::now();
  Result<ingest::SniffResult> sniff = ingest::SniffFile(input);
  if (!sniff.ok()) return Failed(sniff.status().message());
  PhaseResult result;
  std::snprintf(result.format, sizeof result.format, "%s", sniff->format.c_str());
  Status status =
      ingest::DecodeFile(input, *sniff, ingest::DecodeOptions(), [&](ingest::DecodedBatch&& batch) {
        result.events += static_cast<std::int64_t>(batch.events.size());
        result.records_rejected += batch.records_rejected;
        result.warnings += static_cast<std::int64_t>(batch.warnings.size());
        return true;
      });
  result.seconds = SecondsSince(start);
  if (!status.ok()) return Failed(status.message());
  result.ok = true;
  return result;
}

// Inserting alone: `count` rows through CaseWriter in one transaction into a fresh case. The rows
// are the file's first `pool_size` events, decoded into memory once before the clock starts and
// cycled through; each pass shifts their times, offsets and record ids past the previous pass so
// that the indexes grow in the same order as in a real ingest.
PhaseResult InsertPhase(const std::string& input, const std::string& db_path, std::int64_t count,
                        std::size_t pool_size, const std::vector<std::string>& pragmas,
                        ingest::RawStorage raw) {
  Result<ingest::SniffResult> sniff = ingest::SniffFile(input);
  if (!sniff.ok()) return Failed(sniff.status().message());
  std::vector<ingest::ProcessEvent> pool;
  pool.reserve(pool_size);
  auto keep = [&](ingest::DecodedBatch&& batch) {
    for (ingest::ProcessEvent& event : batch.events) {
      if (pool.size() < pool_size) pool.push_back(std::move(event));
    }
    return pool.size() < pool_size;  // stop decoding once the pool is full
  };
  Status status = ingest::DecodeFile(input, *sniff, ingest::DecodeOptions(), keep);
  if (!status.ok()) return Failed(status.message());
  if (pool.empty()) return Failed("the file has no process events to insert");
  const ingest::ProcessEvent& first = pool.front();
  const ingest::ProcessEvent& last = pool.back();
  const std::int64_t time_span = last.time_us - first.time_us + 1;
  const std::int64_t offset_span =
      last.record_offset + static_cast<std::int64_t>(last.raw.size()) + 1 - first.record_offset;
  const auto pool_count = static_cast<std::int64_t>(pool.size());
  std::vector<std::string> fdr_ids, guids;  // each pool event's FDR id and process GUID
  for (const ingest::ProcessEvent& event : pool) {
    fdr_ids.push_back(event.crowdstrike && event.crowdstrike->fdr_event_id
                          ? *event.crowdstrike->fdr_event_id
                          : std::string());
    guids.push_back(event.process_guid.value_or(""));
  }

  PhaseResult result;
  result.pool_events = pool_count;
  Clock::time_point start = Clock::now();
  {
    Result<std::unique_ptr<schema::CaseDb>> db = OpenCase(db_path, pragmas);
    if (!db.ok()) return Failed(db.status().message());
    Result<std::unique_ptr<ingest::CaseWriter>> writer = ingest::CaseWriter::Create(db->get(), raw);
    if (!writer.ok()) return Failed(writer.status().message());
    ingest::InputFileRow row;
    row.path = input;
    row.sha256 = "bench-insert-alone-0000000000000000000000000000000000000000000000000000";
    row.size_bytes = FileBytes(input);
    row.format = sniff->format;
    row.encoding = "utf-8";
    row.status = "loaded";
    status = (*writer)->BeginFile(row);
    if (!status.ok()) return Failed(status.message());
    // Raw records compressed ahead, as the decoder's thread does in an ingest: once per pool
    // event (its raw record is the same in every pass), as soon as its source has a dictionary.
    std::unique_ptr<ingest::RawCompressor::Ahead> ahead = (*writer)->RawAhead();
    std::vector<ingest::PreCompressed> raw_ahead(pool.size());
    for (std::int64_t i = 0; i < count; ++i) {
      const auto slot = static_cast<std::size_t>(i % pool_count);
      ingest::ProcessEvent& event = pool[slot];
      if (ahead && raw_ahead[slot].made_with == nullptr) {
        ahead->Compress(event.data_source, event.raw, &raw_ahead[slot]);
      }
      Result<ingest::CaseWriter::Added> added = (*writer)->AddEvent(event, &raw_ahead[slot]);
      if (!added.ok()) return Failed(added.status().message());
      event.time_us += time_span;  // ready for its next pass
      if (event.log_time_us) *event.log_time_us += time_span;
      event.record_offset += offset_span;
      if (event.record_line) *event.record_line += pool_count;
      if (event.record_id) *event.record_id += pool_count;
      // A new FDR event id and process per pass, as a real file has: repeated ones would make
      // every later pass a candidate, or a look-alike, of all the earlier copies in
      // CaseWriter's event-identity lookup.
      if (event.crowdstrike) {
        std::string pass(".");  // (not "." + to_string: GCC 12 warns -Wrestrict wrongly)
        pass += std::to_string(i / pool_count + 1);
        if (event.crowdstrike->fdr_event_id)
          *event.crowdstrike->fdr_event_id = fdr_ids[slot] + pass;
        if (event.process_guid) *event.process_guid = guids[slot] + pass;
      }
    }
    result.rows_seconds = SecondsSince(start);
    ingest::FileCounts counts;
    counts.events_loaded = count;
    status = (*writer)->CommitFile(counts);
    if (!status.ok()) return Failed(status.message());
    result.commit_seconds = SecondsSince(start) - result.rows_seconds;
  }  // the writer, then the database, close here
  result.seconds = SecondsSince(start);
  result.close_seconds = result.seconds - result.rows_seconds - result.commit_seconds;
  result.events = count;
  MeasureCase(db_path, &result);
  result.ok = true;
  return result;
}

// End to end: Ingest() of `inputs` into a fresh case, from opening the database to closing it.
// For CrowdStrike data that includes the post-ingest resolution
// (ingest/sql/resolve_crowdstrike.sql). `read_ahead`: IngestOptions::read_ahead (the next file
// decoding while one is written).
PhaseResult EndToEndPhase(const std::vector<std::string>& inputs, const std::string& db_path,
                          const std::vector<std::string>& pragmas, ingest::RawStorage raw,
                          bool read_ahead = true) {
  PhaseResult result;
  Clock::time_point start = Clock::now();
  {
    Result<std::unique_ptr<schema::CaseDb>> db = OpenCase(db_path, pragmas);
    if (!db.ok()) return Failed(db.status().message());
    ingest::IngestOptions options;
    options.raw = raw;
    options.read_ahead = read_ahead;
    Result<ingest::IngestSummary> summary = ingest::Ingest(db->get(), inputs, options, nullptr);
    if (!summary.ok()) return Failed(summary.status().message());
    if (summary->files.size() != inputs.size()) return Failed("not every file was read");
    for (const ingest::FileReport& file : summary->files) {
      if (file.outcome != ingest::FileOutcome::kLoaded) {
        return Failed(file.path + " was not loaded: " + file.reason);
      }
      result.events += file.counts.events_loaded;
      result.records_rejected += file.counts.records_rejected;
      result.warnings += file.counts.warnings;
    }
  }
  result.seconds = SecondsSince(start);
  MeasureCase(db_path, &result);
  result.ok = true;
  return result;
}

// ---- Child processes ----

bool WriteAll(int fd, const void* data, std::size_t size) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t n = write(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

bool ReadAll(int fd, void* data, std::size_t size) {
  char* p = static_cast<char*>(data);
  while (size > 0) {
    ssize_t n = read(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

// The kernel's total time, in microseconds, that some runnable task waited for a CPU
// (/proc/pressure/cpu, Linux 4.20+ with PSI); nothing where that is not available.
std::optional<std::int64_t> CpuWaitMicros() {
  std::FILE* file = std::fopen("/proc/pressure/cpu", "r");
  if (file == nullptr) return std::nullopt;
  char line[256];
  std::optional<std::int64_t> total;
  if (std::fgets(line, sizeof line, file) != nullptr) {
    const char* at = std::strstr(line, "total=");
    if (std::strncmp(line, "some ", 5) == 0 && at != nullptr) total = std::atoll(at + 6);
  }
  std::fclose(file);
  return total;
}

double Seconds(const timeval& tv) {
  return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
}

// Runs `body` in a forked child and collects its result, CPU time and peak RSS. This process
// holds no threads and little memory at the fork, so the child's peak RSS is the phase's own.
// Dirty pages (the freshly written input, the previous phase's database) are flushed first so
// that the kernel's write-back does not land in the middle of the phase.
Phase RunInChild(const std::string& name, const std::function<PhaseResult()>& body) {
  Phase phase;
  phase.name = name;
  phase.ran = true;
  sync();
  std::fprintf(stderr, "quarry_bench_ingest: running %s...\n", name.c_str());
  int fds[2];
  if (pipe(fds) != 0) {
    phase.result = Failed(std::string("pipe: ") + std::strerror(errno));
    return phase;
  }
  std::fflush(nullptr);
  std::optional<std::int64_t> wait_before = CpuWaitMicros();
  Clock::time_point start = Clock::now();
  pid_t pid = fork();
  if (pid < 0) {
    phase.result = Failed(std::string("fork: ") + std::strerror(errno));
    close(fds[0]);
    close(fds[1]);
    return phase;
  }
  if (pid == 0) {
    close(fds[0]);
    PhaseResult result;
    try {
      result = body();
    } catch (const std::exception& e) {
      result = Failed(std::string("exception: ") + e.what());
    }
    _exit(WriteAll(fds[1], &result, sizeof result) ? 0 : 1);
  }
  close(fds[1]);
  bool received = ReadAll(fds[0], &phase.result, sizeof phase.result);
  close(fds[0]);
  int status = 0;
  rusage usage{};
  while (wait4(pid, &status, 0, &usage) < 0 && errno == EINTR) {
  }
  double wall = SecondsSince(start);
  std::optional<std::int64_t> wait_after = CpuWaitMicros();
  if (wait_before && wait_after && wall > 0) {
    phase.cpu_wait_pct = 100.0 * static_cast<double>(*wait_after - *wait_before) / 1e6 / wall;
  }
  phase.cpu_seconds = Seconds(usage.ru_utime) + Seconds(usage.ru_stime);
  phase.peak_rss_mb = static_cast<double>(usage.ru_maxrss) * 1024.0 / kMb;  // ru_maxrss is KiB
  if (!received) {
    phase.result =
        Failed(WIFSIGNALED(status) ? "child killed by signal " + std::to_string(WTERMSIG(status))
                                   : std::string("child exited without a result"));
  }
  if (!phase.result.ok) {
    std::fprintf(stderr, "quarry_bench_ingest: %s failed: %s\n", name.c_str(),
                 phase.result.message);
  } else {
    std::fprintf(stderr, "quarry_bench_ingest: %s done in %.1f s\n", name.c_str(),
                 phase.result.seconds);
  }
  return phase;
}

// ---- Report ----

double EventsPerSecond(const Phase& phase) {
  return phase.result.seconds > 0 ? static_cast<double>(phase.result.events) / phase.result.seconds
                                  : 0;
}

void PrintPhase(const Phase& phase, std::int64_t input_bytes, bool has_events) {
  if (!phase.ran) return;
  if (!phase.result.ok) {
    std::printf("  %-15s FAILED: %s\n", phase.name.c_str(), phase.result.message);
    return;
  }
  const PhaseResult& r = phase.result;
  char events_per_s[32] = "-";
  if (has_events) std::snprintf(events_per_s, sizeof events_per_s, "%.0f", EventsPerSecond(phase));
  char cpu_wait[16] = "-";
  if (phase.cpu_wait_pct >= 0) {
    std::snprintf(cpu_wait, sizeof cpu_wait, "%.0f%%", phase.cpu_wait_pct);
  }
  std::printf("  %-15s %9.2f %11s %9.1f %9.2f %6.0f%% %11.1f %9s\n", phase.name.c_str(), r.seconds,
              events_per_s, static_cast<double>(input_bytes) / kMb / r.seconds, phase.cpu_seconds,
              100.0 * phase.cpu_seconds / r.seconds, phase.peak_rss_mb, cpu_wait);
}

// Cuts `input` into `parts` files of about equal size in `dir`, each ending at a line end (one
// event a line), for the many-files phases. Returns their paths.
Result<std::vector<std::string>> CutIntoFiles(const std::string& input, std::int64_t parts,
                                              const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Status(StatusCode::kIoError, dir + ": " + ec.message());
  const std::int64_t total = FileBytes(input);
  if (total <= 0) return Status(StatusCode::kInvalidArgument, "the input is empty");
  std::FILE* in = std::fopen(input.c_str(), "rb");
  if (in == nullptr) return Status(StatusCode::kIoError, input + ": " + std::strerror(errno));
  char magic[8] = {};
  if (std::fread(magic, 1, sizeof magic, in) == sizeof magic &&
      std::memcmp(magic, "ElfFile", 8) == 0) {
    std::fclose(in);
    return Status(StatusCode::kInvalidArgument, "an EVTX file cannot be cut at line ends");
  }
  // Where each part ends: just after the first line end at or past its share of the bytes.
  std::vector<std::int64_t> ends;
  for (std::int64_t k = 1; k < parts; ++k) {
    std::int64_t at = std::max(total * k / parts, ends.empty() ? 0 : ends.back());
    if (std::fseek(in, static_cast<long>(at), SEEK_SET) != 0) break;
    int c = 0;
    while ((c = std::fgetc(in)) != EOF && c != '\n') ++at;
    if (c == EOF) break;
    ends.push_back(at + 1);
  }
  ends.push_back(total);
  std::rewind(in);
  std::vector<std::string> paths;
  std::vector<char> buffer(1 << 20);
  std::int64_t from = 0;
  bool failed = false;
  for (std::int64_t end : ends) {
    if (end <= from) continue;
    char name[32];
    std::snprintf(name, sizeof name, "part-%06zu.data", paths.size());
    paths.push_back((fs::path(dir) / name).string());
    std::FILE* out = std::fopen(paths.back().c_str(), "wb");
    if (out == nullptr) {
      failed = true;
      break;
    }
    for (std::int64_t left = end - from; left > 0 && !failed;) {
      std::size_t want = static_cast<std::size_t>(
          std::min<std::int64_t>(left, static_cast<std::int64_t>(buffer.size())));
      std::size_t got = std::fread(buffer.data(), 1, want, in);
      if (got == 0 || std::fwrite(buffer.data(), 1, got, out) != got) failed = true;
      left -= static_cast<std::int64_t>(got);
    }
    if (std::fclose(out) != 0) failed = true;
    from = end;
    if (failed) break;
  }
  std::fclose(in);
  if (failed) return Status(StatusCode::kIoError, "cannot write the parts in " + dir);
  return paths;
}

struct Flags {
  std::string input;
  std::string work_dir;
  std::size_t pool_events = kDefaultPoolEvents;
  std::optional<std::int64_t> insert_events;
  std::vector<std::string> phases = {"hash", "parse", "insert", "e2e"};
  std::vector<std::string> pragmas;  // experiments only
  ingest::RawStorage raw = ingest::RawStorage::kZstd;
  std::int64_t files = 0;  // --files: also ingest FILE cut into this many files
};

constexpr const char* kUsage =
    "usage: quarry_bench_ingest FILE [--work-dir DIR] [--pool-events N] [--insert-events N]\n"
    "                           [--phases hash,parse,insert,e2e] [--pragma TEXT]...\n"
    "                           [--raw zstd|plain] [--files K]\n"
    "Measures, on FILE (event XML or JSON lines), SHA-256 alone, decoding alone, SQLite insert "
    "alone and the\n"
    "end-to-end ingest, each in its own child process. Case databases are created in DIR\n"
    "(default: FILE's folder) and deleted afterwards. --insert-events defaults to the number of\n"
    "events the parse phase found; --pool-events (default 20000) is how many distinct decoded\n"
    "rows the insert phase cycles through. --pragma TEXT runs `PRAGMA TEXT` on the case database\n"
    "after opening it in the insert and end-to-end phases (experiments; quarry does not).\n"
    "--raw stores raw records as quarry ingest --raw does (default zstd). --files K also cuts\n"
    "FILE (one event a line: XML or JSON lines) into K files at line ends and ingests them end\n"
    "to end twice: reading the next file ahead while one is written (as quarry ingest does),\n"
    "and one file at a time.\n";

bool ParseSize(std::string_view text, std::int64_t* value) {
  std::string copy(text);
  char* end = nullptr;
  errno = 0;
  long long parsed = std::strtoll(copy.c_str(), &end, 10);
  if (errno != 0 || end == copy.c_str() || *end != '\0' || parsed < 0) return false;
  *value = parsed;
  return true;
}

std::optional<Flags> ParseFlags(int argc, char** argv) {
  Flags flags;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      std::fputs(kUsage, stdout);
      std::exit(0);
    }
    if (!arg.starts_with("--")) {
      if (!flags.input.empty()) return std::nullopt;
      flags.input = arg;
      continue;
    }
    if (i + 1 >= argc) return std::nullopt;
    std::string_view value = argv[++i];
    std::int64_t number = 0;
    if (arg == "--work-dir") {
      flags.work_dir = value;
    } else if (arg == "--pool-events" && ParseSize(value, &number) && number > 0) {
      flags.pool_events = static_cast<std::size_t>(number);
    } else if (arg == "--insert-events" && ParseSize(value, &number)) {
      flags.insert_events = number;
    } else if (arg == "--raw" && (value == "zstd" || value == "plain")) {
      flags.raw = value == "plain" ? ingest::RawStorage::kPlain : ingest::RawStorage::kZstd;
    } else if (arg == "--pragma") {
      flags.pragmas.emplace_back(value);
    } else if (arg == "--files" && ParseSize(value, &number) && number > 0) {
      flags.files = number;
    } else if (arg == "--phases") {
      flags.phases.clear();
      std::size_t from = 0;
      while (from <= value.size()) {
        std::size_t comma = std::min(value.find(',', from), value.size());
        std::string phase(value.substr(from, comma - from));
        if (phase != "hash" && phase != "parse" && phase != "insert" && phase != "e2e") {
          return std::nullopt;
        }
        flags.phases.push_back(phase);
        from = comma + 1;
      }
    } else {
      return std::nullopt;
    }
  }
  if (flags.input.empty()) return std::nullopt;
  if (flags.work_dir.empty()) {
    fs::path parent = fs::absolute(flags.input).parent_path();
    flags.work_dir = parent.string();
  }
  return flags;
}

bool Wants(const Flags& flags, std::string_view phase) {
  return std::find(flags.phases.begin(), flags.phases.end(), phase) != flags.phases.end();
}

int Main(int argc, char** argv) {
  std::optional<Flags> parsed = ParseFlags(argc, argv);
  if (!parsed) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  const Flags& flags = *parsed;
  const std::int64_t input_bytes = FileBytes(flags.input);
  if (input_bytes < 0) {
    std::fprintf(stderr, "quarry_bench_ingest: cannot read %s\n", flags.input.c_str());
    return 1;
  }
  if (Wants(flags, "insert") && !Wants(flags, "parse") && !flags.insert_events) {
    std::fprintf(
        stderr, "quarry_bench_ingest: the insert phase needs the parse phase or --insert-events\n");
    return 2;
  }
  std::error_code ec;
  fs::create_directories(flags.work_dir, ec);
  const std::string input = fs::absolute(flags.input).string();
  const std::string insert_db = (fs::path(flags.work_dir) / "quarry-bench-insert.db").string();
  const std::string e2e_db = (fs::path(flags.work_dir) / "quarry-bench-e2e.db").string();

  Phase hash, parse, insert, e2e;
  hash.name = "sha256 alone";
  parse.name = "parse alone";
  insert.name = "insert alone";
  e2e.name = "end-to-end";
  if (Wants(flags, "hash")) hash = RunInChild(hash.name, [&] { return HashPhase(input); });
  if (Wants(flags, "parse")) parse = RunInChild(parse.name, [&] { return ParsePhase(input); });
  if (Wants(flags, "insert")) {
    std::int64_t count = flags.insert_events.value_or(parse.result.events);
    if (!flags.insert_events && !parse.result.ok) {
      insert.ran = true;
      insert.result = Failed("skipped: the parse phase failed");
    } else {
      insert = RunInChild(insert.name, [&] {
        return InsertPhase(input, insert_db, count, flags.pool_events, flags.pragmas, flags.raw);
      });
    }
    RemoveCase(insert_db);
  }
  if (Wants(flags, "e2e")) {
    e2e = RunInChild(e2e.name,
                     [&] { return EndToEndPhase({input}, e2e_db, flags.pragmas, flags.raw); });
    RemoveCase(e2e_db);
  }
  // The same events as many files, read ahead (as quarry ingest does) and one at a time.
  Phase files_ahead, files_serial;
  files_ahead.name = std::to_string(flags.files) + " files";
  files_serial.name = std::to_string(flags.files) + " files 1by1";
  std::string files_note;
  if (flags.files > 0) {
    const std::string parts_dir = (fs::path(flags.work_dir) / "quarry-bench-parts").string();
    Result<std::vector<std::string>> parts = CutIntoFiles(input, flags.files, parts_dir);
    if (!parts.ok()) {
      files_note = "(failed: " + parts.status().message() + ")";
      files_ahead.ran = true;
      files_ahead.result = Failed("the input could not be cut into files");
    } else {
      files_note = std::to_string(parts->size()) + " files of about " +
                   std::to_string(input_bytes / static_cast<std::int64_t>(parts->size())) +
                   " bytes";
      files_ahead = RunInChild(files_ahead.name, [&] {
        return EndToEndPhase(*parts, e2e_db, flags.pragmas, flags.raw, /*read_ahead=*/true);
      });
      RemoveCase(e2e_db);
      files_serial = RunInChild(files_serial.name, [&] {
        return EndToEndPhase(*parts, e2e_db, flags.pragmas, flags.raw, /*read_ahead=*/false);
      });
      RemoveCase(e2e_db);
    }
    fs::remove_all(parts_dir, ec);
  }

  std::int64_t events = e2e.result.ok ? e2e.result.events : parse.result.events;
  std::printf("\nquarry_bench_ingest: %s\n", input.c_str());
  std::printf("format: %s\n",
              parse.result.ok ? parse.result.format : "unknown (parse alone did not run)");
  std::printf("input: %" PRId64 " bytes (%.1f MB), %" PRId64 " process events, %.0f bytes/event\n",
              input_bytes, static_cast<double>(input_bytes) / kMb, events,
              events > 0 ? static_cast<double>(input_bytes) / static_cast<double>(events) : 0.0);
  std::printf("raw records stored: %s\n",
              flags.raw == ingest::RawStorage::kPlain ? "plain" : "zstd");
  for (const std::string& pragma : flags.pragmas) {
    std::printf("EXPERIMENT: PRAGMA %s on the case database (quarry ingest does not do this)\n",
                pragma.c_str());
  }
  std::printf(
      "MB = 10^6 bytes; MB/s: input bytes over the phase's wall time; CPU%%: the phase's CPU\n"
      "time over its wall time; CPU wait: time some task on the machine waited for a CPU\n"
      "during the phase, over its wall time (high: other work competed, figures skewed)\n\n");
  std::printf("  %-15s %9s %11s %9s %9s %7s %11s %9s\n", "phase", "seconds", "events/s", "MB/s",
              "CPU s", "CPU%", "peak RSS MB", "CPU wait");
  PrintPhase(hash, input_bytes, false);
  PrintPhase(parse, input_bytes, true);
  PrintPhase(insert, input_bytes, true);
  PrintPhase(e2e, input_bytes, true);
  if (files_ahead.ran) PrintPhase(files_ahead, input_bytes, true);
  if (files_serial.ran) PrintPhase(files_serial, input_bytes, true);
  std::printf("\n");
  if (flags.files > 0) {
    std::printf("files: FILE cut at line ends into %s; \"files\" reads the next file ahead\n",
                files_note.c_str());
    if (files_ahead.result.ok && files_serial.result.ok) {
      std::printf("files: reading ahead %.0f events/s, one file at a time %.0f events/s (%.2fx)\n",
                  EventsPerSecond(files_ahead), EventsPerSecond(files_serial),
                  EventsPerSecond(files_ahead) / EventsPerSecond(files_serial));
    }
  }

  if (parse.result.ok && (parse.result.records_rejected > 0 || parse.result.warnings > 0)) {
    std::printf("note: parse alone: %" PRId64 " records rejected, %" PRId64 " warnings\n",
                parse.result.records_rejected, parse.result.warnings);
  }
  if (insert.result.ok) {
    std::printf("insert alone: %" PRId64 " rows cycled from the file's first %" PRId64
                " events, one transaction: %.1f s opening the case and adding rows, %.1f s in "
                "CommitFile (includes the WAL checkpoint), %.1f s closing\n",
                insert.result.events, insert.result.pool_events, insert.result.rows_seconds,
                insert.result.commit_seconds, insert.result.close_seconds);
  }
  bool verdicts = true;
  if (parse.result.ok && insert.result.ok && e2e.result.ok) {
    double floor = std::min(EventsPerSecond(parse), EventsPerSecond(insert));
    double ratio = EventsPerSecond(e2e) / floor;
    std::printf(
        "end-to-end / min(parse, insert) = %.0f / %.0f events/s = %.2f (target >= %.2f): %s\n",
        EventsPerSecond(e2e), floor, ratio, kRatioTarget, ratio >= kRatioTarget ? "PASS" : "FAIL");
    if (std::string_view(parse.result.format) == "json_lines") {
      double share = EventsPerSecond(e2e) / EventsPerSecond(insert);
      std::printf(
          "JSON lines: end-to-end / insert alone = %.0f / %.0f events/s = %.2f (target >= "
          "%.2f): %s\n",
          EventsPerSecond(e2e), EventsPerSecond(insert), share, kJsonLinesTarget,
          share >= kJsonLinesTarget ? "PASS" : "FAIL");
    }
  } else {
    verdicts = false;
  }
  if (e2e.result.ok) {
    std::printf("end-to-end peak RSS = %.1f MB (target < %.0f MB on a %.0f GB input): %s%s\n",
                e2e.peak_rss_mb, kRssTargetMb, kRssTargetInputBytes / 1e9,
                e2e.peak_rss_mb < kRssTargetMb ? "PASS" : "FAIL",
                static_cast<double>(input_bytes) < kRssTargetInputBytes
                    ? " (this input is smaller than 2 GB: indicative only)"
                    : "");
    if (parse.result.ok && e2e.result.events != parse.result.events) {
      std::printf("warning: end-to-end loaded %" PRId64 " events, parse alone found %" PRId64 "\n",
                  e2e.result.events, parse.result.events);
    }
    std::printf("case database after end-to-end (closed): %" PRId64
                " bytes = %.0f bytes/event "
                "(%.2f x the input)%s\n",
                e2e.result.db_bytes,
                e2e.result.events > 0 ? static_cast<double>(e2e.result.db_bytes) /
                                            static_cast<double>(e2e.result.events)
                                      : 0.0,
                static_cast<double>(e2e.result.db_bytes) / static_cast<double>(input_bytes),
                e2e.result.wal_bytes > 0
                    ? (", plus " + std::to_string(e2e.result.wal_bytes) + " bytes of WAL").c_str()
                    : "");
    if (e2e.result.raw_bytes >= 0 && e2e.result.events > 0) {
      double loaded = static_cast<double>(e2e.result.events);
      std::printf("  of which raw records: %.0f bytes/event; without them: %.0f bytes/event\n",
                  static_cast<double>(e2e.result.raw_bytes) / loaded,
                  static_cast<double>(e2e.result.db_bytes - e2e.result.raw_bytes) / loaded);
    }
  } else {
    verdicts = false;
  }
  if (insert.result.ok && insert.result.events > 0) {
    std::printf(
        "case database after insert alone (closed): %" PRId64 " bytes = %.0f bytes/event\n",
        insert.result.db_bytes,
        static_cast<double>(insert.result.db_bytes) / static_cast<double>(insert.result.events));
  }
  if (!verdicts) std::printf("(verdicts need the parse, insert and e2e phases to succeed)\n");
  for (const Phase* phase : {&hash, &parse, &insert, &e2e, &files_ahead, &files_serial}) {
    if (phase->ran && !phase->result.ok) return 1;
  }
  return 0;
}

}  // namespace
}  // namespace quarry::bench

int main(int argc, char** argv) { return quarry::bench::Main(argc, argv); }
