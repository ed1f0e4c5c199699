// NXLog's JSON rendering of Windows events (one object per line, EventData flattened into the
// top level, as in OTRF/mordor and Splunk attack_data) read as a WinEvent, so that Sysmon and
// Security events normalize exactly as from event XML.
#pragma once

#include "ingest/json_record.h"
#include "ingest/win_event.h"

namespace quarry::ingest {

/// True when the object looks like an NXLog Windows event: EventID with Channel or SourceName.
bool IsNxlogWindowsEvent(const JsonFields& record);

/// Fills `event` from an NXLog record (views into `record`). EventTime, which NXLog writes in
/// the collecting host's local time without a zone, is taken as UTC (docs/normalization.md).
/// EventData's ProcessId, which NXLog drops in favour of its own ProcessID, is recovered from
/// the event's Message text when it is there.
void NxlogToWinEvent(const JsonFields& record, WinEvent* event);

}  // namespace quarry::ingest
