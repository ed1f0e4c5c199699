// `quarry ingest`: walk the given paths, recognise each file by content, decode and write it,
// one transaction per file. A file is decoded on a thread of its own while this thread writes
// it, and the next file on disk is hashed and starts decoding on another while it does.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ingest/archive.h"
#include "ingest/case_writer.h"
#include "ingest/decode.h"
#include "schema/case_db.h"
#include "schema/status.h"

namespace quarry::ingest {

/// What happened to one input file.
enum class FileOutcome {
  kLoaded,     ///< read; its events (possibly none) and warnings are in the case
  kSkipped,    ///< not an event source; recorded in input_files with the reason
  kDuplicate,  ///< the same content is already in the case; nothing was added
  kFailed,     ///< could not be read; nothing was added
};

const char* FileOutcomeName(FileOutcome outcome);

/// The result of one input file.
struct FileReport {
  std::string path;  ///< absolute path; archive members as archive!member
  FileOutcome outcome = FileOutcome::kFailed;
  std::string format;    ///< "event_xml" when recognised
  std::string encoding;  ///< "utf-8" / "utf-16le" for text
  std::string reason;    ///< skipped / duplicate / failed: why, for people
  FileCounts counts;
  std::map<std::string, std::int64_t> loaded_by_source;  ///< data_source -> events loaded
  /// data_source -> events not loaded because they were in the case already (event_copies)
  std::map<std::string, std::int64_t> duplicate_by_source;
};

/// Hears about each file as it is done (progress output).
class IngestObserver {
 public:
  virtual ~IngestObserver() = default;
  virtual void FileStarted(const std::string& path) { (void)path; }
  virtual void FileFinished(const FileReport& report) { (void)report; }
};

/// Tunables of an ingest run.
struct IngestOptions {
  DecodeOptions decode;
  /// decoded batches waiting for the writer, at most, per file: the file being written and the
  /// next one, read ahead
  std::size_t queue_batches = 8;
  /// Hash, sniff and start decoding the next file on disk while this one is written (unless
  /// its SHA-256 is already in the case); false: each file's reading starts when the writer
  /// gets to it.
  bool read_ahead = true;
  ArchiveLimits archive;                ///< how far archives may expand and nest
  std::optional<std::string> password;  ///< for encrypted archive entries ('infected')
  RawStorage raw = RawStorage::kZstd;   ///< how raw records are stored (docs/schema.md)
};

/// Every file's report, in the order the files were read.
struct IngestSummary {
  std::vector<FileReport> files;
  std::int64_t rows_linked = 0;  ///< rows newly linked to another source's row of one process
};

/// Lists the files to read under `paths`: a file is itself; a folder is walked recursively
/// (regular files, sorted by path; links to folders are not followed). Paths are made absolute.
/// A path that does not exist becomes a kFailed report in `missing`. Files whose absolute path
/// is in `exclude` (the case database and its journals) are left out.
std::vector<std::string> ExpandInputPaths(const std::vector<std::string>& paths,
                                          const std::vector<std::string>& exclude,
                                          std::vector<FileReport>* missing);

/// Ingests every file under `paths` into `db` (opened read-write). Bad records and bad files
/// are reported in the summary and the run goes on; a failed Result means the case itself could
/// not be written (disk full, database error), and the file being written was rolled back.
Result<IngestSummary> Ingest(schema::CaseDb* db, const std::vector<std::string>& paths,
                             const IngestOptions& options, IngestObserver* observer);

}  // namespace quarry::ingest
