// One normalized process-creation event as the writer stores it: CIM Endpoint.Processes fields
// plus provenance. Normalizers fill it; the writer binds it; nothing here knows a source format.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace quarry::ingest {

/// What a CrowdStrike event said about its host and user before the FDR lookup files resolve
/// them (table crowdstrike_events).
struct CrowdStrikeRefs {
  std::optional<std::string> aid;            ///< Falcon sensor id
  std::optional<std::string> computer_name;  ///< ComputerName in the event itself (exports)
  std::optional<std::string> user_name;      ///< UserName in the event itself
  std::optional<std::string> fdr_event_id;   ///< the event's "id"
};

/// A process-creation event in CIM terms. An absent optional is SQL NULL.
struct ProcessEvent {
  std::int64_t time_us = 0;  ///< process start, microseconds since 1970-01-01 UTC
  std::optional<std::string> dest;
  std::optional<std::string> user;
  std::optional<std::string> user_id;
  std::optional<std::string> process;  ///< full command line
  std::optional<std::string> process_name;
  std::optional<std::string> process_path;
  std::optional<std::int64_t> process_id;
  std::optional<std::string> process_guid;
  std::optional<std::string> process_hash;
  std::optional<std::string> process_integrity_level;  ///< lower case, as CIM's base search
  std::optional<std::string> process_current_directory;
  std::optional<std::string> original_file_name;
  std::optional<std::string> parent_process;
  std::optional<std::string> parent_process_name;
  std::optional<std::string> parent_process_path;
  std::optional<std::int64_t> parent_process_id;
  std::optional<std::string> parent_process_guid;
  std::optional<std::string> parent_user;
  std::string vendor_product;  ///< e.g. "Microsoft Sysmon"
  std::string action;          ///< "allowed" for every process that started

  // Provenance.
  std::string data_source;  ///< ESCU data_source name, e.g. "Sysmon EventID 1"
  std::string sourcetype;   ///< Splunk sourcetype, e.g. "XmlWinEventLog"
  std::string
      source;  ///< Splunk source, e.g. "XmlWinEventLog:Microsoft-Windows-Sysmon/Operational"
  std::optional<std::int64_t> event_code;      ///< Windows EventID; nothing for CrowdStrike
  std::optional<std::int64_t> record_id;       ///< EventRecordID
  std::optional<std::int64_t> log_time_us;     ///< System/TimeCreated, microseconds since 1970 UTC
  std::int64_t record_offset = 0;              ///< byte offset of the record in its input file
  std::optional<std::int64_t> record_line;     ///< 1-based line of the record (text formats)
  std::string raw;                             ///< the record as read, UTF-8
  std::optional<CrowdStrikeRefs> crowdstrike;  ///< set for CrowdStrike events only
};

/// One FDR aidmaster record: what a Falcon sensor's host is called (table crowdstrike_hosts).
struct CrowdStrikeHost {
  std::string aid;
  std::optional<std::string> computer_name;
  std::optional<std::string> machine_domain;
  std::optional<std::string> ou;
  std::optional<std::string> site_name;
  std::optional<std::string> platform;
  std::optional<std::string> os_version;
  std::optional<std::int64_t> seen_time_us;  ///< the record's Time, microseconds since 1970 UTC
  std::int64_t record_offset = 0;            ///< byte offset in the input file
  std::string raw;
};

/// One FDR userinfo record: the account behind a SID (table crowdstrike_users).
struct CrowdStrikeUser {
  std::string user_sid;
  std::optional<std::string> user;  ///< DOMAIN\NAME
  std::optional<std::string> user_name;
  std::optional<std::string> account_type;
  std::optional<std::string> last_logged_on_host;
  std::optional<std::int64_t> seen_time_us;  ///< the record's _time, microseconds since 1970 UTC
  std::int64_t record_offset = 0;
  std::string raw;
};

/// A record that could not be loaded, or loaded with a damaged field.
struct IngestWarning {
  enum class Severity { kRejected, kField };
  Severity severity = Severity::kRejected;
  std::int64_t byte_offset = 0;           ///< where the record starts in the input file
  std::optional<std::int64_t> line;       ///< 1-based line (text formats)
  std::optional<std::int64_t> record_id;  ///< EventRecordID when known
  std::string reason;                     ///< for people: what is wrong
  std::string excerpt;                    ///< the first 200 bytes of the record
};

/// How many bytes of a bad record a warning keeps, at most.
inline constexpr std::size_t kWarningExcerptBytes = 200;

/// The first kWarningExcerptBytes bytes of `record`, shortened so that it does not end inside
/// a UTF-8 sequence.
inline std::string WarningExcerpt(std::string_view record) {
  if (record.size() <= kWarningExcerptBytes) return std::string(record);
  std::size_t end = kWarningExcerptBytes;
  std::size_t back = 0;  // step back over at most 3 continuation bytes to the lead byte
  while (back < 3 && end > 0 && (static_cast<unsigned char>(record[end]) & 0xC0) == 0x80) {
    --end;
    ++back;
  }
  return std::string(record.substr(0, end));
}

}  // namespace quarry::ingest
