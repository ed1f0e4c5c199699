// Archives as inputs (zip, 7z, tar, tar.gz, single .gz, ... through libarchive): members are
// streamed to the caller one at a time, never written to disk, with limits that stop
// decompression bombs and with every entry that is not read given a reason.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "ingest/byte_source.h"
#include "schema/status.h"

namespace quarry::ingest {

/// The archive or compression format the first bytes of a file show ("zip", "7z", "tar",
/// "gzip", "bzip2", "xz", "zstd", "rar", "cab"), or empty when they show none.
std::string ArchiveKind(std::string_view head);

/// How far archives may expand.
struct ArchiveLimits {
  /// Bytes all members of one archive on disk (nested ones included) may expand to, per byte
  /// of the archive; above `ratio_floor_bytes` of output only. Real logs compress about 10 to
  /// 50 times; decompression bombs a million times.
  std::int64_t max_ratio = 1000;
  std::int64_t ratio_floor_bytes = std::int64_t{1} << 30;
  /// Archives inside archives, at most this deep (the archive on disk is depth 1).
  int max_depth = 8;
  /// A nested archive up to this size is held in memory, so formats that need to seek (7z, zip
  /// with its central directory) read it fully; a larger one is streamed.
  std::int64_t max_nested_in_memory = std::int64_t{64} << 20;
};

/// The most memory an archive's decompressor may take in one step (opening the archive, reading
/// an entry's header, starting a member), bytes. libarchive's LZMA readers allocate whatever
/// dictionary the archive declares (up to 4 GB) and keep up to that much output in it; the
/// largest standard presets need 64 MB (xz -9, 7-Zip -mx9) and 128 MB (zstd --ultra -22).
/// An archive that asks for more stops being read, as a decompression bomb does.
inline constexpr std::int64_t kMaxDecompressorBytes = std::int64_t{256} << 20;

/// The expansion so far of the archive on disk being read, shared by its nested archives.
struct ExpansionBudget {
  std::int64_t used = 0;   ///< member bytes read so far
  std::int64_t limit = 0;  ///< most member bytes allowed
  bool exceeded = false;
};

/// One entry of an archive as the walk meets it.
struct ArchiveEntry {
  std::string path;                 ///< its path in the archive, as stored
  std::int64_t declared_size = -1;  ///< uncompressed size the archive states, -1 when unknown
};

/// Called with each regular-file entry and a stream of its bytes (valid during the call).
/// Returning an error stops the walk with that error.
using ArchiveMemberFn = std::function<Status(const ArchiveEntry& entry, ByteSource* body)>;
/// Called with each entry that is not read (a link, a device, an encrypted entry without a
/// password) and why. Directories are passed over silently.
using ArchiveSkipFn = std::function<Status(const ArchiveEntry& entry, const std::string& reason)>;

/// Where an archive's bytes come from: a file on disk (seekable), a buffer in memory
/// (seekable), or a stream (read front to back).
struct ArchiveInput {
  std::string path;                ///< a file on disk, when set
  std::string_view memory;         ///< else a buffer, when non-empty
  ByteSource* stream = nullptr;    ///< else this stream
  std::string single_member_name;  ///< the member name for a single compressed file (x.gz)
};

/// Walks the archive's entries in stored order. `passwords` are tried for encrypted entries.
/// The returned Status is an archive that cannot be read (not an archive, damaged, a limit
/// reached: the expansion budget or kMaxDecompressorBytes): kCorrupt with a reason; entries
/// read before that have been handed over. A member whose decompressor takes more than
/// kMaxDecompressorBytes fails its first read with that reason, and the walk stops after it.
Status WalkArchive(const ArchiveInput& input, const std::optional<std::string>& password,
                   ExpansionBudget* budget, const ArchiveMemberFn& on_member,
                   const ArchiveSkipFn& on_skip);

}  // namespace quarry::ingest
