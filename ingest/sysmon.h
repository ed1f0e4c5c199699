// Sysmon Event ID 1 (process creation) -> CIM Endpoint.Processes, per FIELD-MAPPINGS.md §2.3.
#pragma once

#include <string>
#include <vector>

#include "ingest/process_event.h"
#include "ingest/win_event.h"

namespace quarry::ingest {

/// True for a Sysmon process-creation event: provider Microsoft-Windows-Sysmon (or channel
/// Microsoft-Windows-Sysmon/Operational) and EventID 1.
bool IsSysmonProcessCreate(const WinEvent& event);

/// Fills the CIM fields and the Splunk source fields of `row` from a Sysmon EID 1 event, reading
/// EventData by Name only. A damaged field (a ProcessId that is not a number, an unreadable
/// UtcTime) is left NULL, or falls back as documented, and explained in `field_problems`.
/// Returns false, with the reason in `field_problems`, when no time at all can be read: such
/// an event cannot be placed on a timeline and is rejected.
bool NormalizeSysmonProcessCreate(const WinEvent& event, ProcessEvent* row,
                                  std::vector<std::string>* field_problems);

}  // namespace quarry::ingest
