// libFuzzer harness: any bytes as an input file, through sniffing and the decoder it picks
// (event XML in UTF-8 or UTF-16, JSON lines, EVTX). Nothing may crash, hang or leak.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include "ingest/decode.h"
#include "ingest/input_file.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string path = "/dev/shm/quarry-fuzz-" + std::to_string(getpid());
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr) return 0;
  std::fwrite(data, 1, size, file);
  std::fclose(file);
  quarry::Result<quarry::ingest::SniffResult> sniff = quarry::ingest::SniffFile(path);
  if (sniff.ok() && !sniff->format.empty()) {
    quarry::ingest::DecodeOptions options;
    (void)quarry::ingest::DecodeFile(path, *sniff, options,
                                     [](quarry::ingest::DecodedBatch&&) { return true; });
  }
  return 0;
}
