// Reading input files: their SHA-256, what format their content is, and a stream of their text
// as UTF-8 whatever the encoding, with a way back to byte offsets in the original file.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "ingest/byte_source.h"
#include "schema/status.h"

namespace quarry::ingest {

/// Lower-case hex SHA-256 of the file's bytes; kIoError when it cannot be read.
Result<std::string> Sha256OfFile(const std::string& path);

/// Text encodings Quarry reads.
enum class TextEncoding { kUtf8, kUtf16Le };

/// What a file's first bytes say it is.
struct SniffResult {
  std::string format;  ///< "event_xml", "json_lines", "evtx", or empty when not an event source
  TextEncoding encoding = TextEncoding::kUtf8;
  std::size_t bom_bytes = 0;  ///< 3 for a UTF-8 BOM, 2 for a UTF-16LE BOM
  std::string reason;         ///< for a file that is not an event source: why not
};

/// Looks at the first 64 KiB of the file. Event XML is text (UTF-8, or UTF-16LE with or
/// without BOM) whose first markup is an XML declaration, a comment, `<Events>` or `<Event>`,
/// and that holds an `<Event` element. JSON lines is text whose first line is a JSON object of
/// a known kind (CrowdStrike FDR event, aidmaster or userinfo record, NXLog Windows event); a
/// first line longer than the window is judged by the member names that mark each kind, or,
/// when they come only after the cut, by being the well-formed start of a JSON object.
/// EVTX is a file that starts with the signature "ElfFile\0".
/// Never fails on content; kIoError when unreadable.
Result<SniffResult> SniffFile(const std::string& path);

/// How many leading bytes SniffBytes looks at.
inline constexpr std::size_t kSniffBytes = 64 * 1024;

/// The same judgement on a file's first bytes (up to kSniffBytes of them; fewer only when the
/// file is that short).
SniffResult SniffBytes(std::string_view head);

const char* EncodingName(TextEncoding encoding);

/// What transcoding UTF-16LE had to replace with U+FFFD.
struct Utf16Repairs {
  std::int64_t unpaired_surrogates = 0;  ///< code units D800-DFFF without their other half
  std::int64_t odd_final_bytes = 0;      ///< 1 when the file ends in half a code unit
  std::int64_t first_offset = -1;        ///< byte offset in the file of the first, -1 when none
};

/// Reads a text file in chunks as UTF-8. UTF-16LE is transcoded; an unpaired surrogate becomes
/// U+FFFD and is counted (RepairWarning). Tracks how UTF-8 positions map back to byte offsets
/// in the file.
class Utf8Reader {
 public:
  /// Opens `path`; `bom_bytes` are skipped.
  static Result<std::unique_ptr<Utf8Reader>> Open(const std::string& path, TextEncoding encoding,
                                                  std::size_t bom_bytes);
  /// Reads `source` from where it stands; `bom_bytes` are skipped.
  static Result<std::unique_ptr<Utf8Reader>> FromSource(std::unique_ptr<ByteSource> source,
                                                        TextEncoding encoding,
                                                        std::size_t bom_bytes);

  /// Appends up to about `max_bytes` of UTF-8 text to `out`. Returns false at end of file.
  /// kIoError when the read fails.
  Result<bool> ReadChunk(std::string* out, std::size_t max_bytes);

  /// The number of original file bytes that `utf8` (a stretch of this reader's output) came from.
  std::int64_t SourceBytes(std::string_view utf8) const;

  std::int64_t bom_bytes() const { return static_cast<std::int64_t>(bom_bytes_); }

  /// What UTF-16 transcoding replaced so far (all zero for UTF-8 input).
  const Utf16Repairs& repairs() const { return repairs_; }
  /// The reason of the file's one warning about those replacements ("2 unpaired UTF-16
  /// surrogates read as U+FFFD (the first at byte 96; ...)"), or nothing when there were none.
  /// The decoders cannot tell which record held them: the text is repaired before it is split.
  std::optional<std::string> RepairWarning() const;

 private:
  Utf8Reader(std::unique_ptr<ByteSource> source, TextEncoding encoding, std::size_t bom_bytes)
      : source_(std::move(source)),
        encoding_(encoding),
        bom_bytes_(bom_bytes),
        raw_offset_(static_cast<std::int64_t>(bom_bytes)) {}

  std::unique_ptr<ByteSource> source_;
  TextEncoding encoding_;
  std::size_t bom_bytes_;
  std::string raw_;  // UTF-16 bytes read but not yet transcoded (odd byte, lone high surrogate)
  std::int64_t raw_offset_;  // byte offset in the file of raw_'s first byte
  Utf16Repairs repairs_;
  std::string read_buffer_;  // reused read buffer
};

}  // namespace quarry::ingest
