// Windows Security 4688 (a new process has been created) -> CIM Endpoint.Processes, per
// FIELD-MAPPINGS.md §3 and DESIGN.md "Normalization".
#pragma once

#include <string>
#include <vector>

#include "ingest/process_event.h"
#include "ingest/win_event.h"

namespace quarry::ingest {

/// True for a Security process-creation event: EventID 4688 from provider
/// Microsoft-Windows-Security-Auditing (or channel Security).
bool IsSecurityProcessCreate(const WinEvent& event);

/// Fills the CIM fields and the Splunk source fields of `row` from a 4688 event (versions 0, 1
/// and 2), reading EventData by Name only; SID fields may hold SIDs or a Splunk forwarder's
/// resolved names (docs/normalization.md "Security 4688"). A damaged field (a NewProcessId or
/// ProcessId that is not a number, an unknown MandatoryLabel) is left NULL and explained in
/// `field_problems`. Returns false, with the reason in `field_problems`, when the event has no
/// readable time (System/TimeCreated/@SystemTime): such an event is rejected.
bool NormalizeSecurityProcessCreate(const WinEvent& event, ProcessEvent* row,
                                    std::vector<std::string>* field_problems);

}  // namespace quarry::ingest
