// CrowdStrike FDR normalization; Quarry's choices are in docs/normalization.md.
#include "ingest/crowdstrike.h"

#include "ingest/normalize_util.h"
#include "schema/time_util.h"

namespace quarry::ingest {
using schema::ParseEpochMillis;
using schema::ParseEpochSeconds;
namespace {

bool AllZero(std::string_view hex) { return hex.find_first_not_of('0') == std::string_view::npos; }

// "MD5=…,SHA256=…" in Sysmon's order and form, leaving out absent and all-zero hashes, so
// one process_hash pattern serves every source.
std::optional<std::string> Hashes(const JsonFields& record) {
  std::string out;
  for (auto [field, label] : {std::pair{"SHA1HashData", "SHA1"}, std::pair{"MD5HashData", "MD5"},
                              std::pair{"SHA256HashData", "SHA256"}}) {
    std::optional<std::string> value = ValueOrNull(record.Find(field));
    if (!value || AllZero(*value)) continue;
    if (!out.empty()) out += ",";
    out += std::string(label) + "=" + *value;
  }
  if (out.empty()) return std::nullopt;
  return out;
}

std::optional<std::string> IntegrityName(std::string_view rid) {
  static constexpr std::pair<std::string_view, std::string_view> kLevels[] = {
      {"0", "untrusted"},
      {"4096", "low"},
      {"8192", "medium"},
      {"8448", "medium high"},
      {"12288", "high"},
      {"16384", "system"},
      {"20480", "protected process"}};
  for (auto [value, name] : kLevels) {
    if (rid == value) return std::string(name);
  }
  return std::nullopt;
}

}  // namespace

FdrRecordKind ClassifyFdrRecord(const JsonFields& record) {
  if (std::optional<std::string_view> name = record.Find("event_simpleName")) {
    return (*name == "ProcessRollup2" || *name == "SyntheticProcessRollup2")
               ? FdrRecordKind::kProcessEvent
               : FdrRecordKind::kOtherEvent;
  }
  if (record.Find("UserSid_readable")) return FdrRecordKind::kUserInfo;
  if (record.Find("aid") && record.Find("ComputerName")) return FdrRecordKind::kAidMaster;
  return FdrRecordKind::kNotFdr;
}

bool NormalizeProcessRollup2(const JsonFields& record, ProcessEvent* row,
                             std::vector<std::string>* field_problems) {
  if (!record.repairs.empty()) field_problems->push_back(record.repairs);
  std::optional<std::string> start = ValueOrNull(record.Find("ProcessStartTime"));
  std::optional<std::string> timestamp = ValueOrNull(record.Find("timestamp"));
  std::optional<std::int64_t> log_time = timestamp ? ParseEpochMillis(*timestamp) : std::nullopt;
  if (timestamp && !log_time)
    field_problems->push_back("timestamp is not epoch milliseconds: '" + *timestamp + "'");
  std::optional<std::int64_t> time = start ? ParseEpochSeconds(*start) : std::nullopt;
  if (start && !time) {
    field_problems->push_back("ProcessStartTime unreadable ('" + *start + "')" +
                              (log_time ? "; used timestamp" : ""));
  }
  if (!time) time = log_time;
  if (!time) {
    field_problems->push_back("no readable time: neither ProcessStartTime nor timestamp");
    return false;
  }
  row->time_us = *time;
  row->log_time_us = log_time;

  CrowdStrikeRefs refs;
  refs.aid = ValueOrNull(record.Find("aid"));
  refs.computer_name = ValueOrNull(record.Find("ComputerName"));
  refs.user_name = ValueOrNull(record.Find("UserName"));
  refs.fdr_event_id = ValueOrNull(record.Find("id"));

  std::optional<std::string> sid = ValueOrNull(record.Find("UserSid"));
  row->user_id = sid ? sid : ValueOrNull(record.Find("UID"));  // macOS and Linux: the UID
  // Provisional, as the resolution rules give with no lookup data (view crowdstrike_resolution).
  row->dest = refs.computer_name ? refs.computer_name : refs.aid;
  if (refs.user_name) {
    row->user = refs.user_name;
  } else if (std::optional<std::string_view> known =
                 sid ? WellKnownAccountName(*sid) : std::nullopt) {
    row->user = std::string(*known);
  } else {
    row->user = sid;
  }
  row->crowdstrike = std::move(refs);

  row->process = ValueOrNull(record.Find("CommandLine"));
  row->process_path = ValueOrNull(record.Find("ImageFileName"));
  row->process_name =
      row->process_path ? Basename(row->process_path) : ProcessNameFromCommandLine(row->process);
  std::optional<std::string> pid = ValueOrNull(record.Find("RawProcessId"));
  if (pid) {
    row->process_id = ParseInt(*pid);
    if (!row->process_id) field_problems->push_back("RawProcessId is not a number: '" + *pid + "'");
  }
  row->process_guid = ValueOrNull(record.Find("TargetProcessId"));
  row->parent_process_guid = ValueOrNull(record.Find("ParentProcessId"));
  row->parent_process_id = std::nullopt;  // the parent's own RawProcessId, found after ingest
  row->parent_process_name = ValueOrNull(record.Find("ParentBaseFileName"));
  row->process_hash = Hashes(record);
  std::optional<std::string> integrity = ValueOrNull(record.Find("IntegrityLevel"));
  if (integrity) {
    row->process_integrity_level = IntegrityName(*integrity);
    if (!row->process_integrity_level) {
      field_problems->push_back("IntegrityLevel is not a known RID: '" + *integrity + "'");
    }
  }
  row->vendor_product = "CrowdStrike Falcon";
  row->action = "allowed";
  row->data_source = "CrowdStrike ProcessRollup2";
  row->sourcetype = "crowdstrike:events:sensor";
  row->source = "crowdstrike";
  row->event_code = std::nullopt;
  row->record_id = std::nullopt;
  return true;
}

bool ReadAidMaster(const JsonFields& record, CrowdStrikeHost* host) {
  std::optional<std::string> aid = ValueOrNull(record.Find("aid"));
  if (!aid) return false;
  host->aid = *aid;
  host->computer_name = ValueOrNull(record.Find("ComputerName"));
  host->machine_domain = ValueOrNull(record.Find("MachineDomain"));
  host->ou = ValueOrNull(record.Find("OU"));
  host->site_name = ValueOrNull(record.Find("SiteName"));
  host->platform = ValueOrNull(record.Find("event_platform"));
  host->os_version = ValueOrNull(record.Find("Version"));
  std::optional<std::string> time = ValueOrNull(record.Find("Time"));
  host->seen_time_us = time ? ParseEpochSeconds(*time) : std::nullopt;
  return true;
}

bool ReadUserInfo(const JsonFields& record, CrowdStrikeUser* user) {
  std::optional<std::string> sid = ValueOrNull(record.Find("UserSid_readable"));
  if (!sid) return false;
  user->user_sid = *sid;
  user->user = ValueOrNull(record.Find("User"));
  user->user_name = ValueOrNull(record.Find("UserName"));
  user->account_type = ValueOrNull(record.Find("AccountType"));
  user->last_logged_on_host = ValueOrNull(record.Find("LastLoggedOnHost"));
  std::optional<std::string> time = ValueOrNull(record.Find("_time"));
  user->seen_time_us = time ? ParseEpochSeconds(*time) : std::nullopt;
  return true;
}

}  // namespace quarry::ingest
