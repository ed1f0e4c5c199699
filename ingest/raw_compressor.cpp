// zstd frames for raw records, with a trained dictionary per data source (raw_compressor.h).
#include "ingest/raw_compressor.h"

#include <zdict.h>
#include <zstd.h>

namespace quarry::ingest {
namespace {

// Samples stop here even before kTrainingRecords (records of megabytes are rare but possible).
constexpr std::size_t kMaxSampleBytes = 16u << 20;
// Records shorter than this stay text: a frame's header and checksum would eat the gain.
constexpr std::size_t kMinCompressBytes = 64;

constexpr std::string_view kFindDictionary = R"sql(
SELECT dict_id, dictionary FROM raw_dictionaries WHERE data_source = ?1 ORDER BY dict_id LIMIT 1)sql";

// The stored text records of a source, oldest first: the samples a dictionary is trained on.
constexpr std::string_view kFindSamples = R"sql(
SELECT raw FROM process_events WHERE data_source = ?1 AND typeof(raw) = 'text'
ORDER BY event_id LIMIT ?2)sql";

// zstd names a dictionary by a hash of its content: two sources whose samples are the same
// share one row. The second statement says whether the row with that id holds this dictionary.
constexpr std::string_view kInsertDictionary = R"sql(
INSERT OR IGNORE INTO raw_dictionaries (dict_id, data_source, samples, file_id, dictionary)
VALUES (?1, ?2, ?3, ?4, ?5))sql";
constexpr std::string_view kSameDictionary = R"sql(
SELECT dictionary = ?2 FROM raw_dictionaries WHERE dict_id = ?1)sql";

struct FreeCCtx {
  void operator()(ZSTD_CCtx* p) const { ZSTD_freeCCtx(p); }
};

// Compresses one record into `frame`, as the writer and Ahead both do: the same parameters and
// dictionary give the same bytes on either thread. Returns the frame's size.
Result<std::size_t> CompressRecord(ZSTD_CCtx* cctx, const ZSTD_CDict* dictionary,
                                   std::string_view raw, std::string* frame) {
  ZSTD_CCtx_reset(cctx, ZSTD_reset_session_and_parameters);
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, RawCompressor::kLevel);
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1);  // damage is detected when read
  if (dictionary != nullptr) ZSTD_CCtx_refCDict(cctx, dictionary);
  frame->resize(ZSTD_compressBound(raw.size()));
  std::size_t size = ZSTD_compress2(cctx, frame->data(), frame->size(), raw.data(), raw.size());
  if (ZSTD_isError(size)) {
    return Status(StatusCode::kInternal,
                  std::string("zstd cannot compress a raw record: ") + ZSTD_getErrorName(size));
  }
  return size;
}

}  // namespace

struct RawCompressor::Context {
  std::unique_ptr<ZSTD_CCtx, FreeCCtx> cctx{ZSTD_createCCtx()};
};

// A trained source's dictionary, shared with Ahead (a ZSTD_CDict may be used by several threads
// at once); null: frames without one (training failed, e.g. on too few distinct bytes).
struct RawCompressor::Trained {
  std::shared_ptr<const ZSTD_CDict> dictionary;
};

// One data source: still collecting samples, or trained.
struct RawCompressor::Source {
  std::shared_ptr<const Trained> trained;  // set once trained
  std::string samples;                     // the sample records, end to end
  std::vector<std::size_t> sample_sizes;
};

// A dictionary owned by a shared_ptr (null stays null).
std::shared_ptr<const ZSTD_CDict> Shared(ZSTD_CDict* dictionary) {
  if (dictionary == nullptr) return nullptr;
  return std::shared_ptr<const ZSTD_CDict>(
      dictionary, [](const ZSTD_CDict* p) { ZSTD_freeCDict(const_cast<ZSTD_CDict*>(p)); });
}

void RawCompressor::SetTrained(std::string_view data_source, Source* source,
                               std::shared_ptr<const ZSTD_CDict_s> dictionary) {
  auto trained = std::make_shared<Trained>();
  trained->dictionary = std::move(dictionary);
  source->trained = trained;
  std::lock_guard<std::mutex> lock(published_mutex_);
  published_.insert_or_assign(std::string(data_source), std::move(trained));
}

std::shared_ptr<const RawCompressor::Trained> RawCompressor::Published(
    std::string_view data_source) const {
  std::lock_guard<std::mutex> lock(published_mutex_);
  auto found = published_.find(data_source);
  return found == published_.end() ? nullptr : found->second;
}

RawCompressor::RawCompressor(schema::CaseDb* db, RawStorage storage)
    : db_(db), storage_(storage), context_(std::make_unique<Context>()) {}

RawCompressor::~RawCompressor() = default;

Result<std::unique_ptr<RawCompressor>> RawCompressor::Create(schema::CaseDb* db,
                                                             RawStorage storage) {
  std::unique_ptr<RawCompressor> compressor(new RawCompressor(db, storage));
  if (compressor->context_->cctx == nullptr) {
    return Status(StatusCode::kIoError, "cannot allocate a zstd compression context");
  }
  struct Item {
    std::string_view sql;
    schema::Statement* target;
  };
  for (Item item : {Item{kFindDictionary, &compressor->find_dictionary_},
                    Item{kFindSamples, &compressor->find_samples_},
                    Item{kInsertDictionary, &compressor->insert_dictionary_},
                    Item{kSameDictionary, &compressor->same_dictionary_}}) {
    Result<schema::Statement> stmt = db->Prepare(item.sql);
    if (!stmt.ok()) return stmt.status();
    *item.target = std::move(stmt).value();
  }
  return compressor;
}

void RawCompressor::Rollback() {
  sources_.clear();
  std::lock_guard<std::mutex> lock(published_mutex_);
  published_.clear();
}

// The state of `data_source`, read from the case the first time: its dictionary, or the text
// records stored so far as samples (training at once if they are enough).
Result<RawCompressor::Source*> RawCompressor::Find(std::string_view data_source,
                                                   std::int64_t file_id) {
  auto found = sources_.find(data_source);
  if (found != sources_.end()) return found->second.get();
  auto source = std::make_unique<Source>();
  find_dictionary_.BindText(1, data_source);
  Result<bool> row = find_dictionary_.Step();
  if (!row.ok()) {
    find_dictionary_.Reset();
    return row.status();
  }
  if (*row) {
    std::string_view dict = find_dictionary_.ColumnText(1);
    std::shared_ptr<const ZSTD_CDict> dictionary =
        Shared(ZSTD_createCDict(dict.data(), dict.size(), kLevel));
    find_dictionary_.Reset();
    if (dictionary == nullptr) {
      return Status(StatusCode::kInternal, "raw_dictionaries: the dictionary of " +
                                               std::string(data_source) + " is unusable");
    }
    SetTrained(data_source, source.get(), std::move(dictionary));
  } else {
    find_dictionary_.Reset();
    find_samples_.BindText(1, data_source);
    find_samples_.BindInt(2, static_cast<std::int64_t>(kTrainingRecords));
    while (source->samples.size() < kMaxSampleBytes) {
      Result<bool> more = find_samples_.Step();
      if (!more.ok()) {
        find_samples_.Reset();
        return more.status();
      }
      if (!*more) break;
      std::string_view text = find_samples_.ColumnText(0);
      source->samples.append(text);
      source->sample_sizes.push_back(text.size());
    }
    find_samples_.Reset();
    // Enough samples but no dictionary under this source's name: its dictionary is stored under
    // another source's (the same samples train the same dictionary), or training failed. Train
    // again as the run that completed the samples did, so the next record is stored the same.
    if (source->sample_sizes.size() >= kTrainingRecords ||
        source->samples.size() >= kMaxSampleBytes) {
      Result<std::shared_ptr<const ZSTD_CDict_s>> dictionary =
          Train(data_source, source.get(), file_id);
      if (!dictionary.ok()) return dictionary.status();
      SetTrained(data_source, source.get(), std::move(dictionary).value());
    }
  }
  return sources_.emplace(std::string(data_source), std::move(source)).first->second.get();
}

// Trains the source's dictionary on its samples and stores it. A failure to train is not an
// error: the source's frames then go without a dictionary (null).
Result<std::shared_ptr<const ZSTD_CDict_s>> RawCompressor::Train(std::string_view data_source,
                                                                 Source* source,
                                                                 std::int64_t file_id) {
  std::int64_t samples = static_cast<std::int64_t>(source->sample_sizes.size());
  std::string dict(kDictionaryBytes, '\0');
  std::size_t size = ZDICT_trainFromBuffer(dict.data(), dict.size(), source->samples.data(),
                                           source->sample_sizes.data(),
                                           static_cast<unsigned>(source->sample_sizes.size()));
  std::string().swap(source->samples);
  std::vector<std::size_t>().swap(source->sample_sizes);
  if (ZDICT_isError(size)) return std::shared_ptr<const ZSTD_CDict>();
  dict.resize(size);
  unsigned id = ZDICT_getDictID(dict.data(), dict.size());
  std::shared_ptr<const ZSTD_CDict> owned =
      Shared(ZSTD_createCDict(dict.data(), dict.size(), kLevel));
  if (id == 0 || owned == nullptr) return std::shared_ptr<const ZSTD_CDict>();
  insert_dictionary_.BindInt(1, static_cast<std::int64_t>(id));
  insert_dictionary_.BindText(2, data_source);
  insert_dictionary_.BindInt(3, samples);
  insert_dictionary_.BindInt(4, file_id);
  insert_dictionary_.BindBlob(5, dict);
  QUARRY_RETURN_IF_ERROR(insert_dictionary_.Run());
  same_dictionary_.BindInt(1, static_cast<std::int64_t>(id));
  same_dictionary_.BindBlob(2, dict);
  Result<bool> row = same_dictionary_.Step();
  bool same = row.ok() && *row && same_dictionary_.ColumnInt(0) == 1;
  same_dictionary_.Reset();
  if (!row.ok()) return row.status();
  // Another dictionary with this id (a hash collision): frames without a dictionary, since a
  // frame could not say which of the two it used.
  if (!same) return std::shared_ptr<const ZSTD_CDict>();
  return owned;
}

Result<RawCompressor::Stored> RawCompressor::Encode(std::string_view data_source,
                                                    std::string_view raw, std::int64_t file_id,
                                                    const PreCompressed* ahead) {
  Stored text{false, raw};
  if (storage_ == RawStorage::kPlain) return text;
  Result<Source*> found = Find(data_source, file_id);
  if (!found.ok()) return found.status();
  Source* source = *found;
  if (!source->trained) {
    // A text record, and a sample; the one that completes the samples trains the dictionary
    // for the records after it.
    source->samples.append(raw);
    source->sample_sizes.push_back(raw.size());
    if (source->sample_sizes.size() >= kTrainingRecords ||
        source->samples.size() >= kMaxSampleBytes) {
      Result<std::shared_ptr<const ZSTD_CDict_s>> dictionary = Train(data_source, source, file_id);
      if (!dictionary.ok()) return dictionary.status();
      SetTrained(data_source, source, std::move(dictionary).value());
    }
    return text;
  }
  if (ahead != nullptr && ahead->made_with != nullptr && ahead->made_with == source->trained &&
      ahead->raw_size == raw.size()) {
    return ahead->is_blob ? Stored{true, ahead->frame} : text;
  }
  if (raw.size() < kMinCompressBytes) return text;
  Result<std::size_t> size =
      CompressRecord(context_->cctx.get(), source->trained->dictionary.get(), raw, &frame_);
  if (!size.ok()) return size.status();
  if (*size >= raw.size()) return text;
  return Stored{true, std::string_view(frame_.data(), *size)};
}

struct RawCompressor::Ahead::Context {
  std::unique_ptr<ZSTD_CCtx, FreeCCtx> cctx{ZSTD_createCCtx()};
  std::string frame;
};

RawCompressor::Ahead::Ahead(const RawCompressor* owner)
    : owner_(owner), context_(std::make_unique<Context>()) {}

RawCompressor::Ahead::~Ahead() = default;

void RawCompressor::Ahead::Compress(std::string_view data_source, std::string_view raw,
                                    PreCompressed* out) {
  *out = PreCompressed();
  if (context_->cctx == nullptr) return;  // the writer compresses it
  std::shared_ptr<const Trained> trained = owner_->Published(data_source);
  if (trained == nullptr) return;  // still sampling, or not read yet: the writer decides
  if (raw.size() >= kMinCompressBytes) {
    Result<std::size_t> size =
        CompressRecord(context_->cctx.get(), trained->dictionary.get(), raw, &context_->frame);
    if (!size.ok()) return;  // the writer compresses it again and reports the error
    if (*size < raw.size()) {
      out->is_blob = true;
      out->frame.assign(context_->frame.data(), *size);
    }
  }
  out->raw_size = raw.size();
  out->made_with = std::move(trained);
}

}  // namespace quarry::ingest
