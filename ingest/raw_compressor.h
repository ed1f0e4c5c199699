// Compresses raw records for the case (migration 0006): a zstd frame per record, with a
// dictionary per data source trained on the case's first records of that source. Part of the
// batch writer; schema/raw_record.h is the reading side.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "schema/case_db.h"
#include "schema/status.h"

struct ZSTD_CDict_s;  // zstd.h's ZSTD_CDict

namespace quarry::ingest {

/// How raw records are stored.
enum class RawStorage {
  kZstd,   ///< zstd frames (the default); text where a frame would not be smaller
  kPlain,  ///< text only, readable with any SQLite client
};

/// A record compressed ahead of the writer, on the decoder's thread (RawCompressor::Ahead).
struct PreCompressed {
  /// The dictionary state it was made with (RawCompressor's own token); null: not made.
  std::shared_ptr<const void> made_with;
  std::size_t raw_size = 0;  ///< the length of the record it was made from
  bool is_blob = false;      ///< false: the record stays text (short, or the frame was not smaller)
  std::string frame;         ///< the zstd frame when is_blob
};

/// Decides what goes into process_events.raw for each new record.
///
/// The first kTrainingRecords records of a data source in a case are stored as text; they are
/// the samples its dictionary is trained on, once, inside the transaction of the file that
/// completes them. Later records are zstd frames with that dictionary. Everything is a function
/// of the case's rows in event_id order, so a re-run after a crash, or the same files ingested
/// into a new case, store the same bytes.
class RawCompressor {
 public:
  /// Records of one data source stored as text and trained on.
  static constexpr std::size_t kTrainingRecords = 1000;
  /// Largest dictionary (bytes).
  static constexpr std::size_t kDictionaryBytes = 64 * 1024;
  /// zstd level: 3 is zstd's default; higher levels cost the single writer time for little gain
  /// on records this small (docs/performance.md).
  static constexpr int kLevel = 3;

  /// A compressor writing dictionaries into `db` (which must outlive it).
  static Result<std::unique_ptr<RawCompressor>> Create(schema::CaseDb* db, RawStorage storage);
  ~RawCompressor();

  /// What to bind for one record.
  struct Stored {
    bool is_blob = false;    ///< true: `bytes` is a zstd frame; false: `bytes` is the text
    std::string_view bytes;  ///< valid until the next Encode
  };
  /// The stored form of `raw`, an event of `data_source` in the file `file_id`. May train and
  /// store a dictionary (in the open transaction). Call only for rows that will be inserted.
  /// `ahead`, when given, is `raw` compressed by an Ahead: it is used when it was made with the
  /// dictionary this call would use, from a record of raw's length (the bytes are then the
  /// same), and ignored otherwise.
  Result<Stored> Encode(std::string_view data_source, std::string_view raw, std::int64_t file_id,
                        const PreCompressed* ahead = nullptr);

  /// Compresses records on another thread than the writer's, with the dictionaries the writer
  /// has loaded or trained so far, so that the single writer only binds the frames. Records
  /// whose source has no dictionary yet are left to Encode. Safe to use while the writer runs
  /// Encode and Rollback; the RawCompressor must outlive it.
  class Ahead {
   public:
    explicit Ahead(const RawCompressor* owner);
    ~Ahead();
    Ahead(const Ahead&) = delete;
    Ahead& operator=(const Ahead&) = delete;
    /// Fills `out` for `raw`, a record of `data_source`, when that source's dictionary is known.
    void Compress(std::string_view data_source, std::string_view raw, PreCompressed* out);

   private:
    const RawCompressor* owner_;
    struct Context;
    std::unique_ptr<Context> context_;
  };
  /// How it stores raw records.
  RawStorage storage() const { return storage_; }
  /// Forgets what it learnt since the last commit (the file was rolled back): the next Encode
  /// reads the state back from the case.
  void Rollback();

 private:
  struct Source;
  struct Trained;
  explicit RawCompressor(schema::CaseDb* db, RawStorage storage);
  // Marks `source` trained with `dictionary` (null: frames without one) and publishes that to
  // Ahead.
  void SetTrained(std::string_view data_source, Source* source,
                  std::shared_ptr<const ZSTD_CDict_s> dictionary);
  // The trained state of `data_source` as published, or null.
  std::shared_ptr<const Trained> Published(std::string_view data_source) const;
  Result<Source*> Find(std::string_view data_source, std::int64_t file_id);
  Result<std::shared_ptr<const ZSTD_CDict_s>> Train(std::string_view data_source, Source* source,
                                                    std::int64_t file_id);

  schema::CaseDb* db_;
  RawStorage storage_;
  schema::Statement find_dictionary_;
  schema::Statement find_samples_;
  schema::Statement insert_dictionary_;
  schema::Statement same_dictionary_;
  std::map<std::string, std::unique_ptr<Source>, std::less<>> sources_;
  struct Context;
  std::unique_ptr<Context> context_;
  std::string frame_;
  mutable std::mutex published_mutex_;  // guards published_, read by Ahead on other threads
  std::map<std::string, std::shared_ptr<const Trained>, std::less<>> published_;
};

}  // namespace quarry::ingest
