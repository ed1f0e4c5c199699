// Security 4688 normalization; the column-by-column evidence is in FIELD-MAPPINGS.md §3 and
// Quarry's choices in docs/normalization.md "Security 4688".
#include "ingest/security_4688.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ingest/normalize_util.h"

namespace quarry::ingest {
namespace {

constexpr std::string_view kSecurityProvider = "Microsoft-Windows-Security-Auditing";
constexpr std::string_view kSecurityChannel = "Security";
constexpr std::int64_t kProcessCreateEventId = 4688;

/// S-1-0-0, which Windows writes in the Target fields when there is no separate target account.
constexpr std::string_view kNullSid = "S-1-0-0";

/// A SID together with the name Windows gives it; also the text a Splunk forwarder writes into
/// a SID field when it resolves that SID (FIELD-MAPPINGS.md §8).
struct NamedSid {
  std::string_view sid;
  std::string_view name;
};

/// Resolved names that stand for a SID but are not an account Quarry writes as a user.
constexpr NamedSid kResolvedOnly[] = {
    {kNullSid, "NULL SID"},
};

/// MandatoryLabel as a SID and as a forwarder resolves it, with CIM's integrity level.
struct IntegrityLevel {
  std::string_view sid;
  std::string_view name;
  std::string_view cim;
};

constexpr IntegrityLevel kIntegrityLevels[] = {
    {"S-1-16-0", "Mandatory Label\\Untrusted Mandatory Level", "untrusted"},
    {"S-1-16-4096", "Mandatory Label\\Low Mandatory Level", "low"},
    {"S-1-16-8192", "Mandatory Label\\Medium Mandatory Level", "medium"},
    {"S-1-16-8448", "Mandatory Label\\Medium Plus Mandatory Level", "medium high"},
    {"S-1-16-12288", "Mandatory Label\\High Mandatory Level", "high"},
    {"S-1-16-16384", "Mandatory Label\\System Mandatory Level", "system"},
    {"S-1-16-20480", "Mandatory Label\\Protected Process Mandatory Level", "protected process"},
};

/// The EventData names of one account (Subject or Target).
struct AccountFields {
  std::string_view sid;
  std::string_view name;
  std::string_view domain;
};

constexpr AccountFields kSubject = {"SubjectUserSid", "SubjectUserName", "SubjectDomainName"};
constexpr AccountFields kTarget = {"TargetUserSid", "TargetUserName", "TargetDomainName"};

/// True for the text form of a SID: "S-1" followed by one or more "-<digits>".
bool IsSidText(std::string_view text) {
  if (text.substr(0, 4) != "S-1-") return false;
  bool after_dash = true;  // text[3] is the dash before the first sub-authority
  for (char c : text.substr(4)) {
    if (c == '-') {
      if (after_dash) return false;
      after_dash = true;
    } else if (c >= '0' && c <= '9') {
      after_dash = false;
    } else {
      return false;
    }
  }
  return !after_dash;
}

/// A SID field as logged: its text (placeholders already NULL) and the SID it stands for, which
/// is the text itself, the SID of a resolved well-known name, or nothing for any other name.
struct SidField {
  std::optional<std::string> text;
  std::optional<std::string> sid;
};

SidField ReadSidField(const WinEvent& event, std::string_view name) {
  SidField field;
  field.text = ValueOrNull(event.Find(name));
  if (!field.text) return field;
  if (IsSidText(*field.text)) {
    field.sid = field.text;
    return field;
  }
  if (std::optional<std::string_view> sid = WellKnownAccountSid(*field.text))
    field.sid = std::string(*sid);
  for (const NamedSid& known : kResolvedOnly) {
    if (EqualsIgnoreCase(*field.text, known.name)) field.sid = std::string(known.sid);
  }
  return field;
}

/// The Target account is the new process's account when it is logged (v2) and names an account:
/// a SID other than S-1-0-0 ("NULL SID"), or a TargetUserName. Windows logs S-1-0-0 with the
/// real account's name for processes started over a network logon (WMI, e.g. Impacket's
/// wmiexec; services): that account is whose token the process runs with.
bool HasTargetAccount(const WinEvent& event, const SidField& target) {
  if (target.text && target.sid != kNullSid) return true;
  return ValueOrNull(event.Find(kTarget.name)).has_value();
}

/// Fills user and user_id from one account's fields, `sid` being its SID field as read.
void ReadAccount(const WinEvent& event, const AccountFields& fields, const SidField& sid,
                 ProcessEvent* row) {
  row->user_id = sid.sid == kNullSid ? std::nullopt : sid.sid;
  if (sid.sid) {
    if (std::optional<std::string_view> name = WellKnownAccountName(*sid.sid)) {
      row->user = std::string(*name);
      return;
    }
  }
  std::optional<std::string> name = ValueOrNull(event.Find(fields.name));
  std::optional<std::string> domain = ValueOrNull(event.Find(fields.domain));
  if (name) {
    row->user = domain ? *domain + "\\" + *name : *name;
  } else {
    row->user = sid.text;  // no name logged: the SID (or the forwarder's name for it) says who
  }
}

std::optional<std::int64_t> ProcessIdField(const WinEvent& event, std::string_view name,
                                           std::vector<std::string>* problems) {
  std::optional<std::string> text = ValueOrNull(event.Find(name));
  if (!text) return std::nullopt;
  std::optional<std::int64_t> value = ParseInt(*text);
  if (!value) {
    problems->push_back(std::string(name) + " is not a number: '" + *text + "'");
    return std::nullopt;
  }
  return value;
}

std::optional<std::string> IntegrityLevelField(const WinEvent& event,
                                               std::vector<std::string>* problems) {
  std::optional<std::string> label = ValueOrNull(event.Find("MandatoryLabel"));
  if (!label) return std::nullopt;  // v0/v1 have no MandatoryLabel
  for (const IntegrityLevel& level : kIntegrityLevels) {
    if (EqualsIgnoreCase(*label, level.sid) || EqualsIgnoreCase(*label, level.name)) {
      return std::string(level.cim);
    }
  }
  problems->push_back("MandatoryLabel is not a known integrity level: '" + *label + "'");
  return std::nullopt;
}

}  // namespace

bool IsSecurityProcessCreate(const WinEvent& event) {
  return event.event_id == kProcessCreateEventId &&
         (event.provider == kSecurityProvider || event.channel == kSecurityChannel);
}

bool NormalizeSecurityProcessCreate(const WinEvent& event, ProcessEvent* row,
                                    std::vector<std::string>* field_problems) {
  if (!event.problems.empty()) field_problems->emplace_back(event.problems);
  std::optional<std::int64_t> time;
  std::string why;  // why a time that reads was refused (before 1601)
  if (!event.system_time.empty()) time = ParseWindowsTime(event.system_time, &why);
  if (!time) {
    field_problems->push_back("no readable time: TimeCreated '" + std::string(event.system_time) +
                              "'" + (why.empty() ? "" : ": " + why));
    return false;
  }
  row->time_us = *time;
  row->log_time_us = time;

  row->dest = ValueOrNull(event.computer);

  SidField target = ReadSidField(event, kTarget.sid);
  if (HasTargetAccount(event, target)) {
    ReadAccount(event, kTarget, target, row);
  } else {
    ReadAccount(event, kSubject, ReadSidField(event, kSubject.sid), row);
  }

  row->process_path = ValueOrNull(event.Find("NewProcessName"));
  row->process = ValueOrNull(event.Find("CommandLine"));
  if (!row->process) row->process = row->process_path;  // v0, or command-line auditing off
  row->process_name =
      row->process_path ? Basename(row->process_path) : ProcessNameFromCommandLine(row->process);
  row->process_id = ProcessIdField(event, "NewProcessId", field_problems);
  row->process_guid = std::nullopt;
  row->process_hash = std::nullopt;
  row->process_integrity_level = IntegrityLevelField(event, field_problems);
  row->process_current_directory = std::nullopt;
  row->original_file_name = std::nullopt;
  row->parent_process = std::nullopt;  // 4688 logs no parent command line (normalization.md)
  row->parent_process_path = ValueOrNull(event.Find("ParentProcessName"));  // v2 only
  row->parent_process_name = Basename(row->parent_process_path);
  row->parent_process_id = ProcessIdField(event, "ProcessId", field_problems);
  row->parent_process_guid = std::nullopt;
  row->parent_user = std::nullopt;
  row->vendor_product = "Microsoft Windows";
  row->action = "allowed";

  row->data_source = "Windows Event Log Security 4688";
  row->sourcetype = "XmlWinEventLog";
  row->source = "XmlWinEventLog:" + std::string(kSecurityChannel);
  row->event_code = kProcessCreateEventId;
  row->record_id = event.record_id;
  return true;
}

}  // namespace quarry::ingest
