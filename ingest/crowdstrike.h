// CrowdStrike Falcon Data Replicator (FDR) records: ProcessRollup2 -> CIM Endpoint.Processes,
// and the aidmaster / userinfo lookup records (FIELD-MAPPINGS.md §4, DESIGN.md "Normalization").
#pragma once

#include <string>
#include <vector>

#include "ingest/json_record.h"
#include "ingest/process_event.h"

namespace quarry::ingest {

/// What an FDR JSON record is.
enum class FdrRecordKind {
  kProcessEvent,  ///< ProcessRollup2 or SyntheticProcessRollup2
  kOtherEvent,    ///< any other event_simpleName
  kAidMaster,     ///< aidmaster: aid + ComputerName, no event_simpleName
  kUserInfo,      ///< userinfo: UserSid_readable
  kNotFdr,        ///< none of these
};

FdrRecordKind ClassifyFdrRecord(const JsonFields& record);

/// Fills `row` from a ProcessRollup2 (any platform). dest and user are provisional: the
/// aidmaster and userinfo lookups, and the parent's RawProcessId, are applied in the case after
/// ingest (crowdstrike_events). Returns false, with the reason, when the event has no readable
/// time (neither ProcessStartTime nor timestamp).
bool NormalizeProcessRollup2(const JsonFields& record, ProcessEvent* row,
                             std::vector<std::string>* field_problems);

/// Reads an aidmaster record; false when it has no aid.
bool ReadAidMaster(const JsonFields& record, CrowdStrikeHost* host);

/// Reads a userinfo record; false when it has no UserSid_readable.
bool ReadUserInfo(const JsonFields& record, CrowdStrikeUser* user);

}  // namespace quarry::ingest
