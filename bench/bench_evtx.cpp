// quarry_bench_evtx: EVTX decoding alone over a list of files, best of N passes. Prints bytes,
// records, process events, seconds and rates.
//
// Usage: quarry_bench_evtx [--xml] PASSES FILE...
//
// By default it times what `quarry ingest` does with an EVTX file short of SQLite: read, binary
// XML, normalization of the process-creation events (DecodeFile). With --xml it times decoding
// every record in full and rendering it as event XML (VisitEvtxRecords), the work
// `evtxexport -f xml` does, for a like-for-like comparison with it.
//
// Both the wall time and the process's CPU time are reported (each the best of the passes): on
// a shared machine the CPU time is the steadier figure.
#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "ingest/decode.h"
#include "ingest/evtx.h"
#include "ingest/input_file.h"

namespace {

double CpuSeconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

}  // namespace

int main(int argc, char** argv) {
  bool xml = argc > 1 && std::strcmp(argv[1], "--xml") == 0;
  int first = xml ? 2 : 1;
  if (argc < first + 2) {
    std::fprintf(stderr, "usage: quarry_bench_evtx [--xml] PASSES FILE...\n");
    return 2;
  }
  const int passes = std::atoi(argv[first]);
  std::vector<std::string> files(argv + first + 1, argv + argc);
  double best = 1e300, best_cpu = 1e300;
  long long bytes = 0, records = 0, events = 0, xml_bytes = 0;
  for (int pass = 0; pass < passes; ++pass) {
    bytes = records = events = xml_bytes = 0;
    auto start = std::chrono::steady_clock::now();
    double start_cpu = CpuSeconds();
    for (const std::string& file : files) {
      quarry::Result<quarry::ingest::SniffResult> sniff = quarry::ingest::SniffFile(file);
      if (!sniff.ok() || sniff->format != "evtx") continue;
      bytes += static_cast<long long>(std::filesystem::file_size(file));
      quarry::Status status;
      if (xml) {
        status = quarry::ingest::VisitEvtxRecords(
            file, /*with_xml=*/true,
            [&](std::int64_t, const quarry::ingest::WinEvent&, std::string_view text) {
              ++records;
              xml_bytes += static_cast<long long>(text.size());
              return true;
            });
      } else {
        auto count = [&](quarry::ingest::DecodedBatch&& batch) {
          events += static_cast<long long>(batch.events.size());
          records += static_cast<long long>(batch.events.size()) + batch.events_skipped +
                     batch.records_rejected;
          return true;
        };
        status = quarry::ingest::DecodeFile(file, *sniff, quarry::ingest::DecodeOptions{}, count);
      }
      if (!status.ok()) std::fprintf(stderr, "%s: %s\n", file.c_str(), status.message().c_str());
    }
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (seconds < best) best = seconds;
    double cpu = CpuSeconds() - start_cpu;
    if (cpu < best_cpu) best_cpu = cpu;
  }
  if (xml) {
    std::printf("files %zu, %.1f MB, %lld records, %.1f MB of event XML\n", files.size(),
                static_cast<double>(bytes) / 1e6, records, static_cast<double>(xml_bytes) / 1e6);
    std::printf("full decode + XML (best of %d): %.3f s, %.1f MB/s, %.0f records/s\n", passes, best,
                static_cast<double>(bytes) / 1e6 / best, static_cast<double>(records) / best);
    std::printf("full decode + XML, CPU time (best of %d): %.3f s, %.0f records/s\n", passes,
                best_cpu, static_cast<double>(records) / best_cpu);
    return 0;
  }
  std::printf("files %zu, %.1f MB, %lld records, %lld process events\n", files.size(),
              static_cast<double>(bytes) / 1e6, records, events);
  std::printf(
      "decode alone (best of %d): %.3f s, %.1f MB/s, %.0f records/s, %.0f process events/s\n",
      passes, best, static_cast<double>(bytes) / 1e6 / best, static_cast<double>(records) / best,
      static_cast<double>(events) / best);
  std::printf("decode alone, CPU time (best of %d): %.3f s, %.0f records/s\n", passes, best_cpu,
              static_cast<double>(records) / best_cpu);
  return 0;
}
