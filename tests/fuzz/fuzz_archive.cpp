// libFuzzer harness: any bytes as an archive (zip, 7z, tar, gzip, bzip2, xz, ... through
// libarchive), walked as ingest walks one: each member's head decides whether it is a nested
// archive (walked again, in memory when small and sized, else streamed) or an event file
// (sniffed and decoded). A small expansion budget stands in for ingest's ratio limit, so a bomb
// stops early. Nothing may crash, hang or leak. Run it with -malloc_limit_mb above 4096
// (tests/fuzz/run.sh does): an LZMA dictionary is allocated as declared, up to 4 GB of address
// space, before WalkArchive can refuse it (kMaxDecompressorBytes); -rss_limit_mb still catches
// memory that is used.
#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "ingest/archive.h"
#include "ingest/byte_source.h"
#include "ingest/decode.h"
#include "ingest/input_file.h"

namespace {

using quarry::Result;
using quarry::Status;
using namespace quarry::ingest;

constexpr int kMaxDepth = 4;                           // ingest allows 8; 4 reaches every path
constexpr std::int64_t kBudgetBytes = 4 << 20;         // member bytes per input, at most
constexpr std::size_t kMaxNestedInMemory = 256 << 10;  // ingest: 64 MB

void Walk(const ArchiveInput& input, int depth, ExpansionBudget* budget);

// One regular-file member, as ingest's IngestRun::Member reads it. A member that cannot be read
// is that member's failure and the walk goes on, as in ingest.
Status Member(const ArchiveEntry& entry, ByteSource* body, int depth, ExpansionBudget* budget) {
  std::string head(kSniffBytes, '\0');
  Result<std::size_t> n = body->ReadFull(head.data(), head.size());
  if (!n.ok()) return Status::Ok();
  head.resize(*n);
  if (!ArchiveKind(head).empty()) {
    if (depth >= kMaxDepth) return Status::Ok();
    ArchiveInput nested;
    nested.single_member_name = entry.path + ".data";
    std::string buffer;
    std::unique_ptr<ByteSource> stream;
    if (entry.declared_size >= 0 &&
        entry.declared_size <= static_cast<std::int64_t>(kMaxNestedInMemory)) {
      buffer = head;
      std::string block(1 << 16, '\0');
      while (true) {
        Result<std::size_t> read = body->Read(block.data(), block.size());
        if (!read.ok()) return Status::Ok();
        if (*read == 0) break;
        buffer.append(block.data(), *read);
        if (buffer.size() > kMaxNestedInMemory) return Status::Ok();  // larger than declared
      }
      nested.memory = buffer;
    } else {
      stream = PrependBytes(head, Borrow(body));
      nested.stream = stream.get();
    }
    Walk(nested, depth + 1, budget);
    return Status::Ok();
  }
  SniffResult sniff = SniffBytes(head);
  if (sniff.format.empty()) return Status::Ok();
  DecodeOptions options;
  (void)DecodeStream(PrependBytes(std::move(head), Borrow(body)), sniff, options,
                     [](DecodedBatch&&) { return true; });
  return Status::Ok();
}

void Walk(const ArchiveInput& input, int depth, ExpansionBudget* budget) {
  // The password lets encrypted entries be tried (a wrong one is a read error of the member).
  (void)WalkArchive(
      input, std::optional<std::string>("infected"), budget,
      [&](const ArchiveEntry& entry, ByteSource* body) {
        return Member(entry, body, depth, budget);
      },
      [](const ArchiveEntry&, const std::string&) { return Status::Ok(); });
}

// The fuzz input as a stream that hands out at most 4 KiB per read, so libarchive's streaming
// readers (no seeking, blocks cut anywhere) are fuzzed as well as its in-memory ones.
class ChunkedSource : public ByteSource {
 public:
  explicit ChunkedSource(std::string_view bytes) : bytes_(bytes) {}
  Result<std::size_t> Read(char* out, std::size_t size) override {
    std::size_t n = std::min({size, bytes_.size(), std::size_t{4096}});
    bytes_.copy(out, n);
    bytes_.remove_prefix(n);
    return n;
  }

 private:
  std::string_view bytes_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  // Ingest hands libarchive only what starts like an archive (ArchiveKind); so does this.
  if (ArchiveKind(bytes.substr(0, kSniffBytes)).empty()) return 0;
  // Even sizes are read from memory (seekable, as a file on disk), odd sizes as a stream (as a
  // large nested archive): the same bytes reach both readers as the fuzzer adds or drops one.
  ArchiveInput input;
  input.single_member_name = "input.data";
  ChunkedSource stream(bytes);
  if (size % 2 == 0) {
    input.memory = bytes;
  } else {
    input.stream = &stream;
  }
  ExpansionBudget budget;
  budget.limit = kBudgetBytes;
  Walk(input, 1, &budget);
  return 0;
}
