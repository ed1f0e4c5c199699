// quarry_bench_evtx: EVTX decoding alone (read, binary XML, normalization; no SQLite) over a
// list of files, best of N passes. Prints bytes, records, process events, seconds and rates.
//
// Usage: quarry_bench_evtx PASSES FILE...
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "ingest/decode.h"
#include "ingest/input_file.h"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: quarry_bench_evtx PASSES FILE...\n");
    return 2;
  }
  const int passes = std::atoi(argv[1]);
  std::vector<std::string> files(argv + 2, argv + argc);
  double best = 1e300;
  long long bytes = 0, records = 0, events = 0;
  for (int pass = 0; pass < passes; ++pass) {
    bytes = records = events = 0;
    auto start = std::chrono::steady_clock::now();
    for (const std::string& file : files) {
      quarry::Result<quarry::ingest::SniffResult> sniff = quarry::ingest::SniffFile(file);
      if (!sniff.ok() || sniff->format != "evtx") continue;
      bytes += static_cast<long long>(std::filesystem::file_size(file));
      quarry::Status status = quarry::ingest::DecodeFile(
          file, *sniff, quarry::ingest::DecodeOptions{}, [&](quarry::ingest::DecodedBatch&& batch) {
            events += static_cast<long long>(batch.events.size());
            records += static_cast<long long>(batch.events.size()) + batch.events_skipped +
                       batch.records_rejected;
            return true;
          });
      if (!status.ok()) std::fprintf(stderr, "%s: %s\n", file.c_str(), status.message().c_str());
    }
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (seconds < best) best = seconds;
  }
  std::printf("files %zu, %.1f MB, %lld records, %lld process events\n", files.size(),
              static_cast<double>(bytes) / 1e6, records, events);
  std::printf(
      "decode alone (best of %d): %.3f s, %.1f MB/s, %.0f records/s, %.0f process events/s\n",
      passes, best, static_cast<double>(bytes) / 1e6 / best, static_cast<double>(records) / best,
      static_cast<double>(events) / best);
  return 0;
}
