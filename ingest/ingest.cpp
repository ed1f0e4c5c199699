// The ingest driver: per file, hash, de-duplicate, sniff, then decode on a worker thread while
// this thread writes, the next file on disk already hashed and decoding; archives member by
// member; then the passes over the whole case (CrowdStrike resolution, links between sources).
#include "ingest/ingest.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <filesystem>
#include <mutex>
#include <system_error>
#include <thread>
#include <unordered_set>

#include "ingest/batcher.h"
#include "ingest/bounded_queue.h"
#include "ingest/input_file.h"

namespace quarry::ingest {
namespace fs = std::filesystem;

const char* FileOutcomeName(FileOutcome outcome) {
  switch (outcome) {
    case FileOutcome::kLoaded:
      return "loaded";
    case FileOutcome::kSkipped:
      return "skipped";
    case FileOutcome::kDuplicate:
      return "duplicate";
    case FileOutcome::kFailed:
      return "failed";
  }
  return "?";
}

namespace {

std::string Absolute(const fs::path& path) {
  std::error_code ec;
  fs::path absolute = fs::absolute(path, ec);
  return (ec ? path : absolute).lexically_normal().string();
}

// The name of the one member of a single compressed file: x.xml.gz -> x.xml.
std::string SingleMemberName(const std::string& path) {
  std::string name = fs::path(path).filename().string();
  for (std::string_view suffix : {".gz", ".bz2", ".xz", ".zst", ".gzip"}) {
    if (name.size() > suffix.size() && name.ends_with(suffix)) {
      return name.substr(0, name.size() - suffix.size());
    }
  }
  return name + ".data";
}

Result<std::string> ReadHead(ByteSource* source) {
  std::string head(kSniffBytes, '\0');
  Result<std::size_t> n = source->ReadFull(head.data(), head.size());
  if (!n.ok()) return n.status();
  head.resize(*n);
  return head;
}

// A batch with its raw records compressed on the decoder's thread, for the single writer.
struct Prepared {
  DecodedBatch batch;
  std::vector<PreCompressed> raw;  // one per event, when compressed ahead
};

// Decodes one event file on a thread of its own into a bounded queue that the writer drains.
// Destroying it stops the decoding and waits for the thread.
class FileDecoder {
 public:
  FileDecoder(std::unique_ptr<ByteSource> body, const SniffResult& sniff,
              const IngestOptions& options, std::unique_ptr<RawCompressor::Ahead> raw_ahead)
      : queue_(options.queue_batches), raw_ahead_(std::move(raw_ahead)) {
    thread_ = std::thread([this, body = std::move(body), sniff, &options]() mutable {
      Run(std::move(body), sniff, options.decode);
    });
  }
  ~FileDecoder() {
    Stop();
    (void)Join();
  }
  FileDecoder(const FileDecoder&) = delete;
  FileDecoder& operator=(const FileDecoder&) = delete;

  std::optional<Prepared> Pop() { return queue_.Pop(); }
  // Asks the decoder to end early; what it has queued is still popped.
  void Stop() {
    stop_ = true;
    queue_.Close();
  }
  // Waits for the decoder's end; how reading the file went.
  Status Join() {
    if (thread_.joinable()) thread_.join();
    return read_status_;
  }

 private:
  void Run(std::unique_ptr<ByteSource> body, const SniffResult& sniff,
           const DecodeOptions& options) {
    try {
      read_status_ = DecodeStream(std::move(body), sniff, options, [&](DecodedBatch&& batch) {
        if (stop_.load()) return false;
        Prepared prepared{std::move(batch), {}};
        if (raw_ahead_) {
          prepared.raw.resize(prepared.batch.events.size());
          for (std::size_t i = 0; i < prepared.raw.size(); ++i) {
            const ProcessEvent& event = prepared.batch.events[i];
            raw_ahead_->Compress(event.data_source, event.raw, &prepared.raw[i]);
          }
        }
        return !stop_.load() && queue_.Push(std::move(prepared));
      });
    } catch (const std::exception& e) {  // never let an exception end the process from here
      read_status_ = Status(StatusCode::kInternal, std::string("decoding failed: ") + e.what());
    }
    queue_.Close();
  }

  BoundedQueue<Prepared> queue_;
  std::unique_ptr<RawCompressor::Ahead> raw_ahead_;
  std::atomic<bool> stop_{false};
  Status read_status_;  // written by the thread, read after Join
  std::thread thread_;
};

// Writes one event file (any decodable format) in one transaction, from `decoder`, which
// decodes it on its own thread while this thread writes. `hashing` sees every byte of the
// file; its digest must equal `expected_sha256` when that is known (a file on disk, hashed
// before reading: else the file changed while it was read), and otherwise becomes the file's
// sha256 (an archive member), and a member whose content is in the case already is rolled back
// as a duplicate. A failure to write the case is returned (the file rolled back). A failure to
// read the file (an I/O error part-way, the decoder running out of memory) also rolls the file
// back, so that nothing half-read is taken for the whole file and a later run reads it again;
// the report says kFailed and why.
Status WriteEventFile(CaseWriter* writer, const InputFileRow& row, FileDecoder* decoder,
                      HashingSource* hashing, const std::optional<std::string>& expected_sha256,
                      FileReport* report) {
  // A failure to write (a full disk) ends the run: say which file was being written.
  auto writing = [&](const Status& status) {
    return Status(status.code(), "writing " + row.path + " to the case: " + status.message());
  };
  if (Status begun = writer->BeginFile(row); !begun.ok()) return writing(begun);

  Status write_status;
  FileCounts& counts = report->counts;
  while (std::optional<Prepared> prepared = decoder->Pop()) {
    if (!write_status.ok()) continue;  // drain so the decoder can finish
    DecodedBatch* batch = &prepared->batch;
    for (std::size_t i = 0; i < batch->events.size(); ++i) {
      const ProcessEvent& event = batch->events[i];
      Result<CaseWriter::Added> added =
          writer->AddEvent(event, prepared->raw.empty() ? nullptr : &prepared->raw[i]);
      write_status = added.status();
      if (!write_status.ok()) break;
      if (!added->added) {
        ++counts.events_duplicate;
        ++report->duplicate_by_source[event.data_source];
        continue;
      }
      ++counts.events_loaded;
      ++report->loaded_by_source[event.data_source];
      if (added->look_alike) {  // kept, and said: a forged or re-used id must not hide events
        write_status = writer->AddWarning(RecordWarning(
            event.record_offset, event.record_line, event.raw, IngestWarning::Severity::kField,
            event.record_id,
            "same event identity as event " + std::to_string(*added->look_alike) +
                " (host, channel or sensor, record or FDR id, time) but other process fields; "
                "loaded as an event of its own"));
        if (!write_status.ok()) break;
        ++counts.warnings;
      }
    }
    for (const IngestWarning& warning : batch->warnings) {
      if (!write_status.ok()) break;
      write_status = writer->AddWarning(warning);
    }
    for (const CrowdStrikeHost& host : batch->hosts) {
      if (!write_status.ok()) break;
      write_status = writer->AddHost(host);
    }
    for (const CrowdStrikeUser& user : batch->users) {
      if (!write_status.ok()) break;
      write_status = writer->AddUser(user);
    }
    if (!write_status.ok()) {
      decoder->Stop();
      continue;
    }
    counts.events_skipped += batch->events_skipped;
    counts.records_rejected += batch->records_rejected;
    counts.warnings += static_cast<std::int64_t>(batch->warnings.size());
    counts.lookups_loaded += static_cast<std::int64_t>(batch->hosts.size() + batch->users.size());
  }
  Status read_status = decoder->Join();
  if (!write_status.ok()) {
    writer->AbortFile();
    return writing(write_status);
  }
  Result<std::string> sha256 = read_status.ok() ? hashing->Finish() : read_status;
  auto give_up = [&](FileOutcome outcome, std::string reason) {
    writer->AbortFile();
    report->outcome = outcome;
    report->reason = std::move(reason);
    report->counts = FileCounts();
    report->loaded_by_source.clear();
    report->duplicate_by_source.clear();
    return Status::Ok();
  };
  if (!sha256.ok()) {
    return give_up(FileOutcome::kFailed, "reading failed part-way, nothing of the file was kept: " +
                                             sha256.status().message());
  }
  if (expected_sha256) {
    if (*sha256 != *expected_sha256) {
      return give_up(FileOutcome::kFailed, "the file changed while it was read (sha256 " +
                                               *expected_sha256 + " before, " + *sha256 +
                                               " as read); nothing of it was kept");
    }
  } else {
    Result<std::optional<std::string>> earlier = writer->FindFile(*sha256);
    if (!earlier.ok()) {
      writer->AbortFile();
      return earlier.status();
    }
    if (earlier->has_value()) {
      return give_up(FileOutcome::kDuplicate,
                     "already in the case (sha256 " + *sha256 + ", read as " + **earlier + ")");
    }
    Status set = writer->SetFileContent(*sha256, hashing->bytes());
    if (!set.ok()) {
      writer->AbortFile();
      return writing(set);
    }
  }
  if (Status committed = writer->CommitFile(counts); !committed.ok()) return writing(committed);
  return Status::Ok();
}

// The SHA-256 of every file in the case, and of every file this run has handled, so that a
// file read ahead is not decoded when its content is known (a re-run over files already
// loaded). It only saves work: whether a file is a duplicate is decided by the writer.
class KnownContent {
 public:
  void Add(std::string sha256) {
    std::lock_guard lock(mutex_);
    known_.insert(std::move(sha256));
  }
  bool Contains(const std::string& sha256) const {
    std::lock_guard lock(mutex_);
    return known_.contains(sha256);
  }

 private:
  mutable std::mutex mutex_;
  std::unordered_set<std::string> known_;
};

// Reads `inner` until `stop` is set, then fails: a file being hashed ahead is not read to its
// end when the ingest stops early.
class StoppableSource : public ByteSource {
 public:
  StoppableSource(std::unique_ptr<ByteSource> inner, const std::atomic<bool>* stop)
      : inner_(std::move(inner)), stop_(stop) {}
  Result<std::size_t> Read(char* out, std::size_t size) override {
    if (stop_->load()) return Status(StatusCode::kIoError, "stopped");
    return inner_->Read(out, size);
  }

 private:
  std::unique_ptr<ByteSource> inner_;
  const std::atomic<bool>* stop_;
};

// The first steps of a file on disk, taken on a thread of its own: its size and SHA-256, its
// first bytes and format, and for an event file whose content is not known yet the start of
// its decoding (a FileDecoder, whose queue fills and then waits for the writer). Started before
// the writer reaches the file, they overlap with the writing of the file before it; two files'
// queues are then in memory (docs/performance.md, "Page size, checkpoints and many files").
// Nothing here touches the case.
class DiskFileAhead {
 public:
  DiskFileAhead(std::string file_path, const IngestOptions& options, const KnownContent* known,
                std::unique_ptr<RawCompressor::Ahead> raw_ahead)
      : path(std::move(file_path)) {
    thread_ = std::thread([this, &options, known, raw_ahead = std::move(raw_ahead)]() mutable {
      try {
        Open(options, known, std::move(raw_ahead));
      } catch (const std::exception& e) {  // never let an exception end the process from here
        Status failed(StatusCode::kInternal, e.what());
        if (sha256.empty()) {
          hashed = failed;
        } else if (opened.ok()) {
          opened = failed;
        }
      }
    });
  }
  // Stops the first read if it is still going; then `decoder` (stopped and joined by its own
  // destructor) goes before the `hashing` it reads.
  ~DiskFileAhead() {
    stop_ = true;
    Wait();
  }
  DiskFileAhead(const DiskFileAhead&) = delete;
  DiskFileAhead& operator=(const DiskFileAhead&) = delete;

  // Waits for the first steps. From then on the members below are the writer's, but for
  // `hashing`, which a started decoder reads until it is joined.
  void Wait() {
    if (thread_.joinable()) thread_.join();
  }

  const std::string path;
  Status sized;   // reading the size
  Status hashed;  // hashing the whole file first
  Status opened;  // opening it and reading its first bytes
  std::int64_t size_bytes = 0;
  std::string sha256;
  std::unique_ptr<HashingSource> hashing;  // the second read, from the start
  std::string head;
  std::string archive_kind;              // "" when not an archive
  std::unique_ptr<FileDecoder> decoder;  // an event file's decoding, when started here

 private:
  void Open(const IngestOptions& options, const KnownContent* known,
            std::unique_ptr<RawCompressor::Ahead> raw_ahead) {
    std::error_code ec;
    size_bytes = static_cast<std::int64_t>(fs::file_size(path, ec));
    if (ec) {
      sized = Status(StatusCode::kIoError, "cannot read size: " + ec.message());
      return;
    }
    // The hash is taken before anything is read from the file (docs/reliability.md).
    Result<std::unique_ptr<ByteSource>> whole = OpenFileSource(path);
    if (!whole.ok()) {
      hashed = whole.status();
      return;
    }
    HashingSource first_read(std::make_unique<StoppableSource>(std::move(whole).value(), &stop_));
    Result<std::string> sha = first_read.Finish();
    if (!sha.ok()) {
      hashed = sha.status();
      return;
    }
    sha256 = std::move(sha).value();
    Result<std::unique_ptr<ByteSource>> file = OpenFileSource(path);
    if (!file.ok()) {
      opened = file.status();
      return;
    }
    hashing = std::make_unique<HashingSource>(std::move(file).value());
    Result<std::string> first = ReadHead(hashing.get());
    if (!first.ok()) {
      opened = first.status();
      return;
    }
    head = std::move(first).value();
    archive_kind = ArchiveKind(head);
    if (!archive_kind.empty()) return;
    SniffResult sniff = SniffBytes(head);
    if (sniff.format.empty() || stop_.load() || (known != nullptr && known->Contains(sha256))) {
      return;  // the writer reads it, if it is to be read
    }
    decoder = std::make_unique<FileDecoder>(PrependBytes(head, Borrow(hashing.get())), sniff,
                                            options, std::move(raw_ahead));
  }

  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// One ingest run: files on disk, archives and their members, each reported once.
class IngestRun {
 public:
  IngestRun(CaseWriter* writer, const IngestOptions& options, IngestObserver* observer,
            IngestSummary* summary)
      : writer_(writer), options_(options), observer_(observer), summary_(summary) {}

  // A file on disk, whose first steps `file` has taken (or is taking).
  Status DiskFile(DiskFileAhead* file) {
    const std::string& path = file->path;
    if (observer_) observer_->FileStarted(path);
    FileReport report;
    report.path = path;
    file->Wait();
    if (!file->sized.ok()) return Finish(Failed(std::move(report), file->sized.message()));
    if (!file->hashed.ok()) return Finish(Failed(std::move(report), file->hashed.message()));
    InputFileRow row;
    row.path = path;
    row.size_bytes = file->size_bytes;
    row.sha256 = file->sha256;
    Result<std::optional<std::string>> earlier = writer_->FindFile(row.sha256);
    if (!earlier.ok()) return earlier.status();
    if (earlier->has_value()) {
      report.outcome = FileOutcome::kDuplicate;
      report.reason = "already in the case (sha256 " + row.sha256 + ", read as " + **earlier + ")";
      return Finish(std::move(report));
    }
    if (!file->opened.ok()) return Finish(Failed(std::move(report), file->opened.message()));
    if (!file->archive_kind.empty()) {
      ExpansionBudget budget;
      budget.limit =
          std::max(options_.archive.ratio_floor_bytes, row.size_bytes * options_.archive.max_ratio);
      ArchiveInput input;
      input.path = path;
      input.single_member_name = SingleMemberName(path);
      std::string container = row.sha256;
      return Archive(std::move(report), std::move(row), file->archive_kind, input, container, "", 1,
                     &budget, nullptr);
    }
    return Content(std::move(report), std::move(row), file->head, file->hashing.get(), file->sha256,
                   file->decoder.get());
  }

 private:
  FileReport Failed(FileReport report, std::string reason) {
    report.outcome = FileOutcome::kFailed;
    report.reason = std::move(reason);
    return report;
  }

  Status Finish(FileReport report) {
    if (report.outcome == FileOutcome::kFailed) incomplete_ = true;
    if (observer_) observer_->FileFinished(report);
    summary_->files.push_back(std::move(report));
    return Status::Ok();
  }

  // A file whose first bytes `head` have been read through `hashing`: an event file, or a file
  // that is not an event source (recorded as skipped).
  // `decoder`: the file's decoding when DiskFileAhead started it (else it starts here).
  Status Content(FileReport report, InputFileRow row, const std::string& head,
                 HashingSource* hashing, const std::optional<std::string>& expected_sha256,
                 FileDecoder* decoder = nullptr) {
    SniffResult sniff = SniffBytes(head);
    report.format = sniff.format;
    report.encoding = sniff.format.empty() ? "" : EncodingName(sniff.encoding);
    if (sniff.format.empty()) {
      Result<std::string> sha = hashing->Finish();
      if (!sha.ok()) return Finish(Failed(std::move(report), sha.status().message()));
      if (expected_sha256 && *sha != *expected_sha256) {
        return Finish(Failed(std::move(report), "the file changed while it was read"));
      }
      if (!expected_sha256) {
        Result<std::optional<std::string>> earlier = writer_->FindFile(*sha);
        if (!earlier.ok()) return earlier.status();
        if (earlier->has_value()) {
          report.outcome = FileOutcome::kDuplicate;
          report.reason = "already in the case (sha256 " + *sha + ", read as " + **earlier + ")";
          return Finish(std::move(report));
        }
        row.size_bytes = hashing->bytes();
      }
      row.sha256 = *sha;
      report.outcome = FileOutcome::kSkipped;
      report.reason = sniff.reason;
      row.status = "skipped";
      row.reason = sniff.reason;
      QUARRY_RETURN_IF_ERROR(writer_->BeginFile(row));
      QUARRY_RETURN_IF_ERROR(writer_->CommitFile(report.counts));
      return Finish(std::move(report));
    }
    report.outcome = FileOutcome::kLoaded;
    row.status = "loaded";
    row.format = sniff.format;
    row.encoding = report.encoding;
    if (!expected_sha256) row.sha256 = "reading: " + row.path;  // set when read (unique)
    std::unique_ptr<FileDecoder> here;
    if (decoder == nullptr) {
      here = std::make_unique<FileDecoder>(PrependBytes(head, Borrow(hashing)), sniff, options_,
                                           writer_->RawAhead());
      decoder = here.get();
    }
    QUARRY_RETURN_IF_ERROR(
        WriteEventFile(writer_, row, decoder, hashing, expected_sha256, &report));
    return Finish(std::move(report));
  }

  // An archive: each member in turn, then (when every member was read) the archive's own row,
  // so that an interrupted run reads the rest of it next time and a finished one is a
  // duplicate. `container_sha256` is the archive on disk; `prefix` the path of this archive in
  // it ("" for the archive on disk itself).
  // `hashing` (a nested archive) gives the archive's own sha256 once it has been read through.
  Status Archive(FileReport report, InputFileRow row, const std::string& kind,
                 const ArchiveInput& input, const std::string& container_sha256,
                 const std::string& prefix, int depth, ExpansionBudget* budget,
                 HashingSource* hashing) {
    bool was_incomplete = incomplete_;
    incomplete_ = false;
    std::int64_t members = 0;
    Status walk = WalkArchive(
        input, options_.password, budget,
        [&](const ArchiveEntry& entry, ByteSource* body) {
          ++members;
          return Member(report.path + "!" + entry.path, container_sha256, prefix + entry.path,
                        entry, body, depth, budget);
        },
        [&](const ArchiveEntry& entry, const std::string& reason) {
          ++members;
          return Unread(report.path + "!" + entry.path, container_sha256, prefix + entry.path,
                        reason);
        });
    report.format = kind;
    bool complete = walk.ok() && !incomplete_;
    incomplete_ = was_incomplete || !complete;
    if (walk.code() != StatusCode::kOk && walk.code() != StatusCode::kCorrupt &&
        walk.code() != StatusCode::kIoError) {
      return walk;  // the case could not be written
    }
    if (!walk.ok()) {
      return Finish(Failed(std::move(report),
                           walk.message() + " (after " + std::to_string(members) + " entries)"));
    }
    if (!complete) {
      return Finish(Failed(std::move(report),
                           "some members could not be read (see above); the archive will be read "
                           "again by the next run"));
    }
    if (hashing != nullptr) {
      Result<std::string> sha = hashing->Finish();
      if (!sha.ok()) return Finish(Failed(std::move(report), sha.status().message()));
      row.sha256 = *sha;
      row.size_bytes = hashing->bytes();
    }
    // The archive's own row, when its content is new (a nested archive seen before is not).
    Result<std::optional<std::string>> earlier = writer_->FindFile(row.sha256);
    if (!earlier.ok()) return earlier.status();
    report.outcome = FileOutcome::kLoaded;
    report.reason = std::to_string(members) + " entries";
    if (!earlier->has_value()) {
      row.status = "loaded";
      row.format = kind;
      QUARRY_RETURN_IF_ERROR(writer_->BeginFile(row));
      QUARRY_RETURN_IF_ERROR(writer_->CommitFile(FileCounts()));
    }
    return Finish(std::move(report));
  }

  // One regular-file entry of an archive.
  Status Member(const std::string& display, const std::string& container_sha256,
                const std::string& member_path, const ArchiveEntry& entry, ByteSource* body,
                int depth, ExpansionBudget* budget) {
    if (observer_) observer_->FileStarted(display);
    FileReport report;
    report.path = display;
    Result<bool> seen = writer_->FindMember(container_sha256, member_path);
    if (!seen.ok()) return seen.status();
    if (*seen) {
      report.outcome = FileOutcome::kDuplicate;
      report.reason = "already in the case (read from this archive before)";
      return Finish(std::move(report));
    }
    InputFileRow row;
    row.path = display;
    row.size_bytes = std::max<std::int64_t>(entry.declared_size, 0);
    row.container_sha256 = container_sha256;
    row.member_path = member_path;
    HashingSource hashing(Borrow(body));
    Result<std::string> head = ReadHead(&hashing);
    if (!head.ok()) return Finish(Failed(std::move(report), head.status().message()));
    std::string kind = ArchiveKind(*head);
    if (kind.empty()) return Content(std::move(report), std::move(row), *head, &hashing, {});
    if (depth >= options_.archive.max_depth) {
      return Unread(display, container_sha256, member_path,
                    "an archive nested more than " + std::to_string(options_.archive.max_depth) +
                        " deep, not opened");
    }
    // A nested archive: small ones are read into memory (7z and zip need to seek), larger
    // ones streamed.
    ArchiveInput input;
    input.single_member_name = SingleMemberName(entry.path);
    std::string buffer;
    std::unique_ptr<ByteSource> stream;
    if (entry.declared_size >= 0 && entry.declared_size <= options_.archive.max_nested_in_memory) {
      buffer = *head;
      std::string block(1 << 16, '\0');
      while (true) {
        Result<std::size_t> n = hashing.Read(block.data(), block.size());
        if (!n.ok()) return Finish(Failed(std::move(report), n.status().message()));
        if (*n == 0) break;
        buffer.append(block.data(), *n);
        if (static_cast<std::int64_t>(buffer.size()) > options_.archive.max_nested_in_memory) {
          return Finish(Failed(std::move(report), "larger than the archive says"));
        }
      }
      input.memory = buffer;
    } else {
      stream = PrependBytes(*head, Borrow(&hashing));
      input.stream = stream.get();
    }
    return Archive(std::move(report), std::move(row), kind, input, container_sha256,
                   member_path + "!", depth + 1, budget, &hashing);
  }

  // An entry that is not read (a link, an encrypted entry): a skipped row, so it is listed.
  Status Unread(const std::string& display, const std::string& container_sha256,
                const std::string& member_path, const std::string& reason) {
    if (observer_) observer_->FileStarted(display);
    FileReport report;
    report.path = display;
    Result<bool> seen = writer_->FindMember(container_sha256, member_path);
    if (!seen.ok()) return seen.status();
    report.outcome = *seen ? FileOutcome::kDuplicate : FileOutcome::kSkipped;
    report.reason = *seen ? "already in the case (listed from this archive before)" : reason;
    if (!*seen) {
      InputFileRow row;
      row.path = display;
      row.sha256 = "unread:" + container_sha256 + "!" + member_path;  // not read: no digest
      row.status = "skipped";
      row.reason = reason;
      row.container_sha256 = container_sha256;
      row.member_path = member_path;
      QUARRY_RETURN_IF_ERROR(writer_->BeginFile(row));
      QUARRY_RETURN_IF_ERROR(writer_->CommitFile(FileCounts()));
    }
    return Finish(std::move(report));
  }

  CaseWriter* writer_;
  const IngestOptions& options_;
  IngestObserver* observer_;
  IngestSummary* summary_;
  bool incomplete_ = false;  // a file of the archive being walked failed
};

}  // namespace

std::vector<std::string> ExpandInputPaths(const std::vector<std::string>& paths,
                                          const std::vector<std::string>& exclude,
                                          std::vector<FileReport>* missing) {
  std::vector<std::string> files;
  for (const std::string& given : paths) {
    std::error_code ec;
    fs::file_status status = fs::status(given, ec);
    if (ec || !fs::exists(status)) {
      FileReport report;
      report.path = Absolute(given);
      report.outcome = FileOutcome::kFailed;
      report.reason = "no such file or folder";
      missing->push_back(std::move(report));
      continue;
    }
    if (!fs::is_directory(status)) {
      files.push_back(Absolute(given));
      continue;
    }
    std::vector<std::string> found;
    fs::recursive_directory_iterator it(given, fs::directory_options::skip_permission_denied, ec);
    for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      std::error_code type_ec;
      if (it->is_regular_file(type_ec)) found.push_back(Absolute(it->path()));
    }
    if (ec) {
      FileReport report;
      report.path = Absolute(given);
      report.outcome = FileOutcome::kFailed;
      report.reason = "cannot walk folder: " + ec.message();
      missing->push_back(std::move(report));
    }
    std::sort(found.begin(), found.end());
    files.insert(files.end(), found.begin(), found.end());
  }
  std::erase_if(files, [&](const std::string& file) {
    return std::find(exclude.begin(), exclude.end(), file) != exclude.end();
  });
  return files;
}

Result<IngestSummary> Ingest(schema::CaseDb* db, const std::vector<std::string>& paths,
                             const IngestOptions& options, IngestObserver* observer) {
  Result<std::unique_ptr<CaseWriter>> writer = CaseWriter::Create(db, options.raw);
  if (!writer.ok()) return writer.status();

  std::vector<std::string> exclude;
  if (db->path() != ":memory:") {
    std::string case_path = Absolute(db->path());
    for (const char* suffix : {"", "-wal", "-shm", "-journal"})
      exclude.push_back(case_path + suffix);
  }
  IngestSummary summary;
  std::vector<std::string> files = ExpandInputPaths(paths, exclude, &summary.files);
  for (const FileReport& report : summary.files) {
    if (observer) observer->FileFinished(report);
  }

  IngestRun run(writer->get(), options, observer, &summary);
  // The next file's first steps and decoding start while this one is written
  // (options.read_ahead), so that they overlap with its writing and its commit.
  KnownContent known;
  if (options.read_ahead) {
    Result<schema::Statement> in_case = db->Prepare("SELECT sha256 FROM input_files");
    if (!in_case.ok()) return in_case.status();
    while (true) {
      Result<bool> row = in_case->Step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      known.Add(std::string(in_case->ColumnText(0)));
    }
  }
  auto start = [&](std::size_t i) -> std::unique_ptr<DiskFileAhead> {
    if (i >= files.size()) return nullptr;
    return std::make_unique<DiskFileAhead>(files[i], options, &known, (*writer)->RawAhead());
  };
  std::unique_ptr<DiskFileAhead> next = start(0);
  for (std::size_t i = 0; i < files.size(); ++i) {
    std::unique_ptr<DiskFileAhead> file = next ? std::move(next) : start(i);
    if (options.read_ahead) next = start(i + 1);
    QUARRY_RETURN_IF_ERROR(run.DiskFile(file.get()));
    if (!file->sha256.empty()) known.Add(file->sha256);
  }
  // Resolve when CrowdStrike data was committed since the last resolution, by this run or by
  // an earlier one that stopped before this step.
  Result<bool> pending = (*writer)->CrowdStrikePending();
  if (!pending.ok()) return pending.status();
  if (*pending) QUARRY_RETURN_IF_ERROR((*writer)->ResolveCrowdStrike());
  Result<std::int64_t> linked = (*writer)->LinkSources();
  if (!linked.ok()) return linked.status();
  summary.rows_linked = *linked;
  return summary;
}

}  // namespace quarry::ingest
