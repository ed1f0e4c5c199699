// The batch writer: the only code that writes ingested data to a case database. One
// transaction per input file, so an interrupted ingest leaves no half-loaded file behind.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "ingest/process_event.h"
#include "schema/case_db.h"
#include "schema/status.h"

namespace quarry::ingest {

/// The input_files row of one file.
struct InputFileRow {
  std::string path;
  std::string sha256;
  std::int64_t size_bytes = 0;
  std::optional<std::string> format;    ///< "event_xml"; nothing when not recognised
  std::optional<std::string> encoding;  ///< "utf-8" / "utf-16le"
  std::string status;                   ///< "loaded" or "skipped"
  std::optional<std::string> reason;    ///< why a skipped file was skipped
};

/// What one file contributed.
struct FileCounts {
  std::int64_t events_loaded = 0;     ///< rows added to process_events
  std::int64_t events_skipped = 0;    ///< events that are not process creation
  std::int64_t records_rejected = 0;  ///< records that could not be loaded
  std::int64_t warnings = 0;          ///< ingest_warnings rows (rejected + field problems)
  std::int64_t lookups_loaded = 0;    ///< FDR aidmaster / userinfo records stored
};

/// Writes files, events and warnings through prepared statements.
class CaseWriter {
 public:
  /// Prepares the statements on an open read-write case.
  static Result<std::unique_ptr<CaseWriter>> Create(schema::CaseDb* db);

  /// The path under which a file with this content was ingested before, if any.
  Result<std::optional<std::string>> FindFile(const std::string& sha256);
  /// Begins the file's transaction and records the file.
  Status BeginFile(const InputFileRow& file);
  /// Adds one event of the current file.
  Status AddEvent(const ProcessEvent& event);
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

 private:
  explicit CaseWriter(schema::CaseDb* db) : db_(db) {}
  // Records the CrowdStrike side of an event just inserted as `event_id`, resolved as far as
  // the case allows now.
  Status AddCrowdStrikeEvent(const ProcessEvent& event, std::int64_t event_id);

  schema::CaseDb* db_;
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
  std::int64_t file_id_ = 0;
  bool in_file_ = false;
  bool crowdstrike_added_ = false;  // the current file added CrowdStrike events or lookups
};

}  // namespace quarry::ingest
