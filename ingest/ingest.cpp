// The ingest driver: per file, hash, de-duplicate, sniff, then decode on a worker thread while
// this thread writes.
#include "ingest/ingest.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <filesystem>
#include <system_error>
#include <thread>

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

// Writes one event file (any decodable format) in one transaction. A failure to write the case
// is returned (the file rolled back). A failure to read the file (an I/O error part-way, or the
// decoder running out of memory) also rolls the file back, so that nothing half-read is taken
// for the whole file and a later run reads it again; the report says kFailed and why.
Status WriteEventFile(CaseWriter* writer, const InputFileRow& row, const SniffResult& sniff,
                      const IngestOptions& options, FileReport* report) {
  QUARRY_RETURN_IF_ERROR(writer->BeginFile(row));
  BoundedQueue<DecodedBatch> queue(options.queue_batches);
  std::atomic<bool> stop{false};
  Status read_status;
  std::thread decoder([&] {
    try {
      read_status = DecodeFile(row.path, sniff, options.decode, [&](DecodedBatch&& batch) {
        return !stop.load() && queue.Push(std::move(batch));
      });
    } catch (const std::exception& e) {  // never let an exception end the process from here
      read_status = Status(StatusCode::kInternal, std::string("decoding failed: ") + e.what());
    }
    queue.Close();
  });

  Status write_status;
  FileCounts& counts = report->counts;
  while (std::optional<DecodedBatch> batch = queue.Pop()) {
    if (!write_status.ok()) continue;  // drain so the decoder can finish
    for (const ProcessEvent& event : batch->events) {
      write_status = writer->AddEvent(event);
      if (!write_status.ok()) break;
      ++report->loaded_by_source[event.data_source];
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
      stop = true;
      queue.Close();
      continue;
    }
    counts.events_loaded += static_cast<std::int64_t>(batch->events.size());
    counts.events_skipped += batch->events_skipped;
    counts.records_rejected += batch->records_rejected;
    counts.warnings += static_cast<std::int64_t>(batch->warnings.size());
    counts.lookups_loaded += static_cast<std::int64_t>(batch->hosts.size() + batch->users.size());
  }
  decoder.join();
  if (!write_status.ok()) {
    writer->AbortFile();
    return write_status;
  }
  if (!read_status.ok()) {
    writer->AbortFile();
    report->outcome = FileOutcome::kFailed;
    report->reason =
        "reading failed part-way, nothing of the file was kept: " + read_status.message();
    report->counts = FileCounts();
    report->loaded_by_source.clear();
    return Status::Ok();
  }
  return writer->CommitFile(counts);
}

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
  Result<std::unique_ptr<CaseWriter>> writer = CaseWriter::Create(db);
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

  for (const std::string& path : files) {
    if (observer) observer->FileStarted(path);
    FileReport report;
    report.path = path;
    InputFileRow row;
    row.path = path;

    std::error_code ec;
    row.size_bytes = static_cast<std::int64_t>(fs::file_size(path, ec));
    Result<std::string> sha = Sha256OfFile(path);
    Result<SniffResult> sniff = sha.ok() ? SniffFile(path) : Result<SniffResult>(sha.status());
    if (ec || !sniff.ok()) {
      report.outcome = FileOutcome::kFailed;
      report.reason = ec ? "cannot read size: " + ec.message() : sniff.status().message();
    } else {
      row.sha256 = *sha;
      Result<std::optional<std::string>> earlier = (*writer)->FindFile(row.sha256);
      if (!earlier.ok()) return earlier.status();
      report.format = sniff->format;
      report.encoding = EncodingName(sniff->encoding);
      if (earlier->has_value()) {
        report.outcome = FileOutcome::kDuplicate;
        report.reason =
            "already in the case (sha256 " + row.sha256 + ", read as " + **earlier + ")";
      } else if (sniff->format.empty()) {
        report.outcome = FileOutcome::kSkipped;
        report.reason = sniff->reason;
        row.status = "skipped";
        row.reason = sniff->reason;
        QUARRY_RETURN_IF_ERROR((*writer)->BeginFile(row));
        QUARRY_RETURN_IF_ERROR((*writer)->CommitFile(report.counts));
      } else {
        report.outcome = FileOutcome::kLoaded;
        row.status = "loaded";
        row.format = sniff->format;
        row.encoding = report.encoding;
        QUARRY_RETURN_IF_ERROR(WriteEventFile(writer->get(), row, *sniff, options, &report));
      }
    }
    if (observer) observer->FileFinished(report);
    summary.files.push_back(std::move(report));
  }
  // Resolve when CrowdStrike data was committed since the last resolution, by this run or by
  // an earlier one that stopped before this step.
  Result<bool> pending = (*writer)->CrowdStrikePending();
  if (!pending.ok()) return pending.status();
  if (*pending) QUARRY_RETURN_IF_ERROR((*writer)->ResolveCrowdStrike());
  return summary;
}

}  // namespace quarry::ingest
