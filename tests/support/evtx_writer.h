// Writes Windows XML Event Log files (.evtx) for tests and benchmarks, so that the project's EVTX
// fixtures and benchmark inputs are its own: the file header, 64 KiB chunks with their string
// and template tables, event records, and binary XML laid out the way Windows lays it out (a
// System template instance whose last substitution is the EventData as a nested template
// instance; each template and name defined once per chunk and referenced after). Also edits
// that damage a written file in one known way, for tests of readers.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "schema/status.h"

namespace quarry::testing {

/// The value types the writer stores in substitution arrays (libyal's EVTX document, "value
/// types"; [MS-EVEN6] 2.2.x).
enum class EvtxType : std::uint8_t {
  kNull = 0x00,      ///< no value: an optional attribute is left out, an element is empty
  kString = 0x01,    ///< UTF-16LE text without a terminator
  kUInt8 = 0x04,     ///< 1 byte
  kUInt16 = 0x06,    ///< 2 bytes, little-endian
  kUInt32 = 0x08,    ///< 4 bytes
  kUInt64 = 0x0a,    ///< 8 bytes
  kGuid = 0x0f,      ///< 16 bytes: Data1..3 little-endian, Data4 as written
  kFileTime = 0x11,  ///< 8 bytes: 100 ns ticks since 1601-01-01 UTC
  kSid = 0x13,       ///< binary SID: revision, count, 6-byte authority, 4-byte sub-authorities
  kHexInt32 = 0x14,  ///< 4 bytes, rendered as 0x%08x
  kHexInt64 = 0x15,  ///< 8 bytes, rendered as 0x%016x
};

/// One value of an event: null, or a type and its bytes as EVTX stores them.
class EvtxValue {
 public:
  EvtxValue() = default;  ///< null

  /// Text; invalid UTF-8 bytes become U+FFFD.
  static EvtxValue String(std::string_view utf8);
  /// An integer type (kUInt8 ... kUInt64, kHexInt32, kHexInt64) or kFileTime; `value` is
  /// truncated to the type's width.
  static EvtxValue Number(EvtxType type, std::uint64_t value);
  /// "{5770385F-C22A-43E0-BF4C-06F5698FFBD9}" (braces optional, any case); nothing when it is
  /// not a GUID.
  static std::optional<EvtxValue> Guid(std::string_view text);
  /// "S-1-5-21-...": nothing when it is not a SID (at most 15 sub-authorities).
  static std::optional<EvtxValue> Sid(std::string_view text);
  /// `text` as `type` when it reads as one (decimal or 0x-hex integers within the type's range,
  /// ISO-8601 UTC times for kFileTime, GUIDs, SIDs), else as a String, so that what the text
  /// says is kept either way. Empty text is null (an empty String for kString).
  static EvtxValue FromText(EvtxType type, std::string_view text);

  /// The same, reusing this value's buffer (no allocation once it is large enough).
  void SetNull();
  void SetString(std::string_view utf8);
  void SetNumber(EvtxType type, std::uint64_t value);

  EvtxType type() const { return type_; }
  bool is_null() const { return type_ == EvtxType::kNull; }
  /// The stored bytes (empty when null).
  const std::string& bytes() const { return bytes_; }
  /// For integer types and kFileTime: the number (0 for other types).
  std::uint64_t number() const;

 private:
  EvtxType type_ = EvtxType::kNull;
  std::string bytes_;
};

/// FILETIME ticks (100 ns since 1601-01-01 UTC) of `micros` since 1970-01-01 UTC plus `ticks`
/// (0-9) more 100 ns steps.
std::uint64_t FileTimeFromMicros(std::int64_t micros, unsigned ticks = 0);

/// FILETIME ticks of "2024-05-06T08:00:00.1234567Z" (the T may be a space; the fraction, of any
/// length, is cut to 100 ns; the Z is optional). Nothing when it is not such a time or lies
/// before 1601.
std::optional<std::uint64_t> ParseFileTime(std::string_view text);

/// One EventData/Data element. An empty name writes <Data> without a Name attribute.
struct EvtxData {
  std::string name;
  EvtxValue value;
};

/// One event as the writer stores it. Each System value is written as a substitution of the
/// System template with its own type (null ones are omitted attributes or empty elements);
/// the types named below are those Windows uses, and what EvtxValue::FromText should be given.
struct EvtxEvent {
  EvtxValue provider_name;        ///< System/Provider/@Name, kString
  EvtxValue provider_guid;        ///< System/Provider/@Guid, kGuid
  EvtxValue event_id;             ///< System/EventID, kUInt16
  EvtxValue qualifiers;           ///< System/EventID/@Qualifiers, kUInt16 (usually null)
  EvtxValue version;              ///< System/Version, kUInt8
  EvtxValue level;                ///< System/Level, kUInt8
  EvtxValue task;                 ///< System/Task, kUInt16
  EvtxValue opcode;               ///< System/Opcode, kUInt8
  EvtxValue keywords;             ///< System/Keywords, kHexInt64
  EvtxValue time_created;         ///< System/TimeCreated/@SystemTime, kFileTime; a FileTime is
                                  ///< also the record header's written time
  EvtxValue record_id;            ///< System/EventRecordID, kUInt64; a number is also the record
                                  ///< header's id, else the writer numbers the record
  EvtxValue activity_id;          ///< System/Correlation/@ActivityID, kGuid
  EvtxValue related_activity_id;  ///< System/Correlation/@RelatedActivityID, kGuid
  EvtxValue process_id;           ///< System/Execution/@ProcessID, kUInt32
  EvtxValue thread_id;            ///< System/Execution/@ThreadID, kUInt32
  EvtxValue channel;              ///< System/Channel, kString
  std::string computer;           ///< System/Computer: literal text of the System template, as
                                  ///< Windows writes it (one template per computer)
  EvtxValue user_id;              ///< System/Security/@UserID, kSid
  std::vector<EvtxData> data;     ///< EventData/Data, in order; written as its own template
};

/// Where the writer put one record.
struct EvtxRecordInfo {
  std::int64_t file_offset = 0;  ///< of the record's signature "**\0\0"
  std::int64_t chunk = 0;        ///< 0-based index of its chunk
  std::uint32_t size = 0;        ///< bytes, header and trailing size copy included
  std::uint64_t record_id = 0;   ///< the id in the record header
  /// File offset of the 4-byte template definition offset in the record's (System) template
  /// instance; pointing it elsewhere makes a "missing template" record.
  std::int64_t template_ref_offset = 0;
  bool defines_template = false;  ///< the System template's definition is inline in this record
};

/// Where the writer put one chunk.
struct EvtxChunkInfo {
  std::int64_t file_offset = 0;         ///< of the chunk's signature "ElfChnk\0"
  std::uint64_t first_record_id = 0;    ///< of its first record
  std::uint64_t last_record_id = 0;     ///< of its last record
  std::int64_t records = 0;             ///< records in the chunk
  std::uint32_t free_space_offset = 0;  ///< chunk offset where the record data ends, bytes
};

/// Knobs of the writer.
struct EvtxWriterOptions {
  /// Remember every record and chunk (records(), chunks()); turn off for long runs so that
  /// memory stays flat.
  bool keep_layout = true;
  /// The file header's flags: 0x1 dirty (a log Windows still has open), 0x2 full.
  std::uint32_t file_flags = 0;
  /// The id of the first record whose event has no numeric record_id; later ones count on.
  std::uint64_t first_record_id = 1;
  /// Bytes left unused at the end of every chunk, at least. 0 lets a record end at the chunk's
  /// last byte, which the format allows and Quarry reads; but libevtx 20181227 then drops that
  /// record and python-evtx 0.6.1 reads past the end of the file when it is the last chunk.
  std::uint32_t chunk_tail_bytes = 8;
};

/// Writes one .evtx file, a chunk at a time (memory stays at about two chunks).
///
/// **Example**
///
///     auto writer = EvtxWriter::Create("/tmp/x.evtx");
///     EvtxEvent event;
///     event.event_id = EvtxValue::Number(EvtxType::kUInt16, 1);
///     event.data.push_back({"Image", EvtxValue::String("C:\\Windows\\cmd.exe")});
///     Status s = (*writer)->Add(event);
///     s = (*writer)->Finish();
class EvtxWriter {
 public:
  /// Creates (or replaces) `path`; kIoError when it cannot.
  static Result<std::unique_ptr<EvtxWriter>> Create(const std::string& path,
                                                    const EvtxWriterOptions& options = {});
  ~EvtxWriter();
  EvtxWriter(const EvtxWriter&) = delete;
  EvtxWriter& operator=(const EvtxWriter&) = delete;

  /// Appends `event` as the next record; when it does not fit in the current chunk, that chunk
  /// is written out and the record starts a new one. kInvalidArgument, and nothing written,
  /// when the event cannot fit even in an empty chunk (a record holds at most 65,024 bytes less
  /// options.chunk_tail_bytes, a value at most 65,535); kIoError when writing fails;
  /// kInvalidArgument after Finish.
  Status Add(const EvtxEvent& event);

  /// Writes the last chunk and the file header (chunk count, next record id, flags, checksum)
  /// and closes the file. A second call does nothing. Without Finish the file has no valid
  /// header.
  Status Finish();

  std::int64_t record_count() const;
  std::int64_t chunk_count() const;  ///< chunks written or started
  /// Every record and chunk so far (empty unless options.keep_layout).
  const std::vector<EvtxRecordInfo>& records() const;
  const std::vector<EvtxChunkInfo>& chunks() const;

 private:
  struct Impl;
  explicit EvtxWriter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// ---- Deliberate damage, for tests of readers ----

/// Layout constants, bytes.
inline constexpr std::int64_t kEvtxFileHeaderSize = 4096;
inline constexpr std::int64_t kEvtxChunkSize = 65536;
inline constexpr std::int64_t kEvtxChunkHeaderSize = 512;

/// CRC-32 (IEEE, as zlib) continuing from `crc`: the checksum EVTX headers and chunks use.
std::uint32_t EvtxCrc32(const void* data, std::size_t size, std::uint32_t crc = 0);

/// Overwrites bytes of the file at `path` from `offset`; kIoError when it cannot.
Status PatchEvtxBytes(const std::string& path, std::int64_t offset, std::string_view bytes);
/// Overwrites a little-endian 16- or 32-bit value at `offset`.
Status PatchEvtxU16(const std::string& path, std::int64_t offset, std::uint16_t value);
Status PatchEvtxU32(const std::string& path, std::int64_t offset, std::uint32_t value);
/// Cuts the file to `size` bytes.
Status TruncateEvtxFile(const std::string& path, std::int64_t size);

/// Recomputes the file header's checksum and, for every chunk with a valid signature, its
/// header and record data checksums, so that the damage done before is the only damage.
Status RefreshEvtxChecksums(const std::string& path);

/// The file header's chunk count becomes `count` (its checksum stays right).
Status SetEvtxHeaderChunkCount(const std::string& path, std::uint16_t count);
/// The chunk's signature becomes "ElfChnX\0".
Status BreakEvtxChunkSignature(const std::string& path, const EvtxChunkInfo& chunk);
/// The stored checksum of the chunk's record data (or, with `header`, of its header) is wrong.
Status BreakEvtxChunkChecksum(const std::string& path, const EvtxChunkInfo& chunk, bool header);
/// The record's size and its trailing copy say `new_size` (smaller than the record): its
/// binary XML is cut short; the bytes after the new end, up to the old one, are left as they
/// were. Chunk checksums are refreshed so that only the record is damaged.
Status ShortenEvtxRecord(const std::string& path, const EvtxRecordInfo& record,
                         std::uint32_t new_size);
/// The record's template instance refers to chunk offset `chunk_offset`, where no template is
/// defined (use a record that does not define its template). Checksums are refreshed.
Status PointEvtxTemplateAt(const std::string& path, const EvtxRecordInfo& record,
                           std::uint32_t chunk_offset);

}  // namespace quarry::testing
