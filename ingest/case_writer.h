// The batch writer: the only code that writes ingested data to a case database. One
// transaction per input file, so an interrupted ingest leaves no half-loaded file behind.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>

#include "ingest/process_event.h"
#include "ingest/raw_compressor.h"
#include "schema/case_db.h"
#include "schema/status.h"

namespace quarry::ingest {

/// The input_files row of one file.
struct InputFileRow {
  std::string path;
  std::string sha256;
  std::int64_t size_bytes = 0;
  std::optional<std::string> format;            ///< "event_xml"; nothing when not recognised
  std::optional<std::string> encoding;          ///< "utf-8" / "utf-16le"
  std::string status;                           ///< "loaded" or "skipped"
  std::optional<std::string> reason;            ///< why a skipped file was skipped
  std::optional<std::string> container_sha256;  ///< the archive on disk it was read from
  std::optional<std::string> member_path;       ///< its path inside that archive
};

/// What one file contributed.
struct FileCounts {
  std::int64_t events_loaded = 0;     ///< rows added to process_events
  std::int64_t events_skipped = 0;    ///< events that are not process creation
  std::int64_t records_rejected = 0;  ///< records that could not be loaded
  std::int64_t warnings = 0;          ///< ingest_warnings rows (rejected + field problems)
  std::int64_t lookups_loaded = 0;    ///< FDR aidmaster / userinfo records stored
  std::int64_t events_duplicate = 0;  ///< events already in the case (event_copies rows)
};

/// Writes files, events and warnings through prepared statements.
class CaseWriter {
 public:
  /// Prepares the statements on an open read-write case; raw records are stored as `raw` says.
  static Result<std::unique_ptr<CaseWriter>> Create(schema::CaseDb* db,
                                                    RawStorage raw = RawStorage::kZstd);

  /// The path under which a file with this content was ingested before, if any.
  Result<std::optional<std::string>> FindFile(const std::string& sha256);
  /// True when the member `member_path` of the archive with this sha256 was read before.
  Result<bool> FindMember(const std::string& container_sha256, const std::string& member_path);
  /// Begins the file's transaction and records the file.
  Status BeginFile(const InputFileRow& file);
  /// Sets the current file's sha256 and size (a stream's, known only once it has been read).
  Status SetFileContent(const std::string& sha256, std::int64_t size_bytes);
  /// What AddEvent did.
  struct Added {
    bool added = true;  ///< false: the same event is in the case; the copy is in event_copies
    /// Set when an event with the same identity but other content is in the case: this one was
    /// added anyway (evidence is never dropped for a look-alike), and this is that event's id.
    std::optional<std::int64_t> look_alike;
  };
  /// Adds one event of the current file, unless the same event (same host, channel, record id
  /// and time, or same sensor, FDR event id, process and time; and the same process fields) is
  /// in the case already. `raw_ahead`: its raw record as compressed by a RawAhead(), if it was.
  Result<Added> AddEvent(const ProcessEvent& event, const PreCompressed* raw_ahead = nullptr);
  /// A compressor for raw records that runs on another thread (the decoder's) while this writer
  /// writes (RawCompressor::Ahead); null when raw records are stored as text.
  std::unique_ptr<RawCompressor::Ahead> RawAhead() const;
  /// Adds one warning of the current file.
  Status AddWarning(const IngestWarning& warning);
  /// Adds one FDR aidmaster record of the current file.
  Status AddHost(const CrowdStrikeHost& host);
  /// Adds one FDR userinfo record of the current file.
  Status AddUser(const CrowdStrikeUser& user);
  /// Stores the counts and commits the file's transaction.
  Status CommitFile(const FileCounts& counts);
  /// Rolls the current file back (nothing of it stays).
  void AbortFile();

  /// True when CrowdStrike events or lookups were committed since the last ResolveCrowdStrike.
  Result<bool> CrowdStrikePending();
  /// Re-derives dest, user and parent_process_id of every CrowdStrike row from the stored
  /// events and lookup records (ingest/sql/resolve_crowdstrike.sql), in one transaction, and
  /// clears the pending mark.
  Status ResolveCrowdStrike();

  /// Links rows of different sources that are one process (same host, process id and image,
  /// start within a second) for the events added since the last call, in one transaction.
  /// Returns how many rows were linked.
  Result<std::int64_t> LinkSources();

 private:
  explicit CaseWriter(schema::CaseDb* db) : db_(db) {}
  // Records the CrowdStrike side of an event just inserted as `event_id`, resolved as far as
  // the case allows now.
  Status AddCrowdStrikeEvent(const ProcessEvent& event, std::int64_t event_id);
  // Looks for an event with `event`'s identity already in the case.
  Result<Added> FindSameEvent(const ProcessEvent& event);

  schema::CaseDb* db_;
  std::unique_ptr<RawCompressor> raw_;
  schema::Statement find_file_;
  schema::Statement insert_file_;
  schema::Statement insert_event_;
  schema::Statement insert_warning_;
  schema::Statement update_counts_;
  schema::Statement insert_crowdstrike_event_;
  schema::Statement resolve_crowdstrike_event_;
  schema::Statement update_event_resolution_;
  schema::Statement update_crowdstrike_resolution_;
  schema::Statement insert_host_;
  schema::Statement insert_user_;
  schema::Statement find_member_;
  schema::Statement set_sha256_;
  schema::Statement find_windows_event_;
  schema::Statement find_crowdstrike_event_;
  schema::Statement insert_copy_;
  schema::Statement insert_host_source_;
  std::set<std::string> host_sources_;  // "dest\x1fsource" (lower case) recorded by this writer
  std::int64_t file_id_ = 0;
  bool in_file_ = false;
  bool crowdstrike_added_ = false;  // the current file added CrowdStrike events or lookups
};

}  // namespace quarry::ingest
