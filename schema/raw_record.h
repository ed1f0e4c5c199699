// Raw records as a case stores them: the text as read, or a zstd frame of it (migration 0006),
// usually compressed with a dictionary kept in the case's raw_dictionaries table. This is the
// reading side, and the SQL function `quarry_raw(raw)` every Quarry connection has.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "schema/status.h"

struct sqlite3;

namespace quarry::schema {

/// The first four bytes of a zstd frame (0xFD2FB528, little-endian).
inline constexpr std::string_view kZstdMagic{"\x28\xb5\x2f\xfd", 4};

/// Largest record `quarry_raw` expands (bytes): more than any record ingest keeps, so a frame
/// claiming more is damage, not a record.
inline constexpr std::uint64_t kMaxRawRecordBytes = 256ull << 20;

/// Registers `quarry_raw(x)` on the connection: NULL and text come back unchanged; a BLOB that
/// is a zstd frame comes back as the text it holds (its dictionary read from raw_dictionaries by
/// the frame's dictionary id and kept for the connection's life); any other BLOB, or a frame that
/// does not expand (unknown dictionary, damage, larger than kMaxRawRecordBytes), is an SQL error
/// naming the problem, never a crash.
Status RegisterRawFunctions(sqlite3* db);

}  // namespace quarry::schema
