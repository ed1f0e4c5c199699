// quarry_raw(): expands a stored raw record (schema/raw_record.h).
#include "schema/raw_record.h"

#include <sqlite3.h>
#include <zstd.h>

#include <map>
#include <memory>

namespace quarry::schema {
namespace {

constexpr std::string_view kFindDictionary =
    "SELECT dictionary FROM raw_dictionaries WHERE dict_id = ?1";

// One connection's decompression state: a context, and each dictionary once it was needed.
struct RawDecoder {
  struct FreeDCtx {
    void operator()(ZSTD_DCtx* p) const { ZSTD_freeDCtx(p); }
  };
  struct FreeDDict {
    void operator()(ZSTD_DDict* p) const { ZSTD_freeDDict(p); }
  };
  std::unique_ptr<ZSTD_DCtx, FreeDCtx> dctx{ZSTD_createDCtx()};
  std::map<unsigned, std::unique_ptr<ZSTD_DDict, FreeDDict>> dictionaries;
  std::string out;
};

// The dictionary with zstd id `id`, loaded from the case the first time; null with `error` set
// when the case has none.
const ZSTD_DDict* Dictionary(RawDecoder* decoder, sqlite3* db, unsigned id, std::string* error) {
  auto found = decoder->dictionaries.find(id);
  if (found != decoder->dictionaries.end()) return found->second.get();
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, kFindDictionary.data(), static_cast<int>(kFindDictionary.size()),
                         &stmt, nullptr) != SQLITE_OK) {
    *error = std::string("quarry_raw: cannot read raw_dictionaries: ") + sqlite3_errmsg(db);
    sqlite3_finalize(stmt);
    return nullptr;
  }
  sqlite3_bind_int64(stmt, 1, id);
  ZSTD_DDict* dict = nullptr;
  if (sqlite3_step(stmt) == SQLITE_ROW) {
    const void* bytes = sqlite3_column_blob(stmt, 0);
    int size = sqlite3_column_bytes(stmt, 0);
    if (bytes != nullptr && size > 0) dict = ZSTD_createDDict(bytes, static_cast<size_t>(size));
  }
  sqlite3_finalize(stmt);
  if (dict == nullptr) {
    *error = "quarry_raw: the case has no usable dictionary " + std::to_string(id);
    return nullptr;
  }
  return decoder->dictionaries.emplace(id, dict).first->second.get();
}

void QuarryRaw(sqlite3_context* ctx, int, sqlite3_value** argv) {
  sqlite3_value* value = argv[0];
  int type = sqlite3_value_type(value);
  if (type != SQLITE_BLOB) {
    sqlite3_result_value(ctx, value);
    return;
  }
  auto* bytes = static_cast<const char*>(sqlite3_value_blob(value));
  std::string_view frame(bytes == nullptr ? "" : bytes,
                         static_cast<std::size_t>(sqlite3_value_bytes(value)));
  if (frame.substr(0, kZstdMagic.size()) != kZstdMagic) {
    sqlite3_result_error(ctx, "quarry_raw: not a stored raw record (a BLOB without zstd frame)",
                         -1);
    return;
  }
  unsigned long long size = ZSTD_getFrameContentSize(frame.data(), frame.size());
  if (size == ZSTD_CONTENTSIZE_UNKNOWN || size == ZSTD_CONTENTSIZE_ERROR ||
      size > kMaxRawRecordBytes) {
    sqlite3_result_error(ctx, "quarry_raw: damaged raw record (frame size unreadable or too large)",
                         -1);
    return;
  }
  auto* decoder = static_cast<RawDecoder*>(sqlite3_user_data(ctx));
  const ZSTD_DDict* dict = nullptr;
  unsigned id = ZSTD_getDictID_fromFrame(frame.data(), frame.size());
  if (id != 0) {
    std::string error;
    dict = Dictionary(decoder, sqlite3_context_db_handle(ctx), id, &error);
    if (dict == nullptr) {
      sqlite3_result_error(ctx, error.c_str(), -1);
      return;
    }
  }
  decoder->out.resize(static_cast<std::size_t>(size));
  size_t got =
      dict != nullptr
          ? ZSTD_decompress_usingDDict(decoder->dctx.get(), decoder->out.data(),
                                       decoder->out.size(), frame.data(), frame.size(), dict)
          : ZSTD_decompressDCtx(decoder->dctx.get(), decoder->out.data(), decoder->out.size(),
                                frame.data(), frame.size());
  if (ZSTD_isError(got) || got != size) {
    std::string error = std::string("quarry_raw: damaged raw record (") +
                        (ZSTD_isError(got) ? ZSTD_getErrorName(got) : "short") + ")";
    sqlite3_result_error(ctx, error.c_str(), -1);
    return;
  }
  sqlite3_result_text64(ctx, decoder->out.data(), got, SQLITE_TRANSIENT, SQLITE_UTF8);
}

}  // namespace

Status RegisterRawFunctions(sqlite3* db) {
  auto* decoder = new RawDecoder();
  if (decoder->dctx == nullptr) {
    delete decoder;
    return Status(StatusCode::kIoError, "cannot allocate a zstd decompression context");
  }
  int rc = sqlite3_create_function_v2(
      db, "quarry_raw", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, decoder,
      QuarryRaw, nullptr, nullptr, [](void* p) { delete static_cast<RawDecoder*>(p); });
  if (rc != SQLITE_OK) {
    return Status(StatusCode::kInvalidArgument,
                  std::string("cannot register quarry_raw: ") + sqlite3_errmsg(db));
  }
  return Status();
}

}  // namespace quarry::schema
