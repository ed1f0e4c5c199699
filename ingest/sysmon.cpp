// Sysmon EID 1 normalization; the column-by-column evidence is in FIELD-MAPPINGS.md §2.3 and
// Quarry's choices in docs/normalization.md.
#include "ingest/sysmon.h"

#include "ingest/normalize_util.h"

namespace quarry::ingest {
namespace {

constexpr std::string_view kSysmonProvider = "Microsoft-Windows-Sysmon";
constexpr std::string_view kSysmonChannel = "Microsoft-Windows-Sysmon/Operational";

std::optional<std::int64_t> IntField(const WinEvent& event, std::string_view name,
                                     std::vector<std::string>* problems) {
  std::optional<std::string> text = ValueOrNull(event.Find(name));
  if (!text) return std::nullopt;
  std::optional<std::int64_t> value = ParseInt(*text);
  if (!value) problems->push_back(std::string(name) + " is not a number: '" + *text + "'");
  return value;
}

}  // namespace

bool IsSysmonProcessCreate(const WinEvent& event) {
  return event.event_id == 1 &&
         (event.provider == kSysmonProvider || event.channel == kSysmonChannel);
}

bool NormalizeSysmonProcessCreate(const WinEvent& event, ProcessEvent* row,
                                  std::vector<std::string>* field_problems) {
  if (!event.problems.empty()) field_problems->emplace_back(event.problems);
  std::string log_time_why, time_why;  // why a time that reads was refused (before 1601)
  std::optional<std::int64_t> log_time;
  if (!event.system_time.empty()) log_time = ParseWindowsTime(event.system_time, &log_time_why);
  row->log_time_us = log_time;

  std::optional<std::string> utc_time = ValueOrNull(event.Find("UtcTime"));
  std::optional<std::int64_t> time;
  if (utc_time) time = ParseWindowsTime(*utc_time, &time_why);
  if (!time_why.empty()) time_why = ": " + time_why;
  if (!time) {
    if (!log_time) {
      if (!log_time_why.empty()) log_time_why = ": " + log_time_why;
      field_problems->push_back("no readable time: UtcTime '" + utc_time.value_or("") + "'" +
                                time_why + ", TimeCreated '" + std::string(event.system_time) +
                                "'" + log_time_why);
      return false;
    }
    field_problems->push_back("UtcTime unreadable ('" + utc_time.value_or("") + "'" + time_why +
                              "); used System/TimeCreated");
    time = log_time;
  }
  row->time_us = *time;

  row->dest = ValueOrNull(event.computer);
  row->user = ValueOrNull(event.Find("User"));
  row->user_id = std::nullopt;  // Sysmon logs no SID for the process's user (see normalization.md)
  row->process = ValueOrNull(event.Find("CommandLine"));
  row->process_path = ValueOrNull(event.Find("Image"));
  row->process_name =
      row->process_path ? Basename(row->process_path) : ProcessNameFromCommandLine(row->process);
  row->process_id = IntField(event, "ProcessId", field_problems);
  row->process_guid = ValueOrNull(event.Find("ProcessGuid"));
  row->process_hash = ValueOrNull(event.Find("Hashes"));
  std::optional<std::string> integrity = ValueOrNull(event.Find("IntegrityLevel"));
  row->process_integrity_level = integrity ? std::optional(AsciiLower(*integrity)) : std::nullopt;
  row->process_current_directory = ValueOrNull(event.Find("CurrentDirectory"));
  row->original_file_name = ValueOrNull(event.Find("OriginalFileName"));
  row->parent_process = ValueOrNull(event.Find("ParentCommandLine"));
  row->parent_process_path = ValueOrNull(event.Find("ParentImage"));
  row->parent_process_name = row->parent_process_path
                                 ? Basename(row->parent_process_path)
                                 : ProcessNameFromCommandLine(row->parent_process);
  row->parent_process_id = IntField(event, "ParentProcessId", field_problems);
  row->parent_process_guid = ValueOrNull(event.Find("ParentProcessGuid"));
  row->parent_user = ValueOrNull(event.Find("ParentUser"));
  row->vendor_product = "Microsoft Sysmon";
  row->action = "allowed";

  row->data_source = "Sysmon EventID 1";
  row->sourcetype = "XmlWinEventLog";
  row->source = "XmlWinEventLog:" + std::string(kSysmonChannel);
  row->event_code = 1;
  row->record_id = event.record_id;
  return true;
}

}  // namespace quarry::ingest
