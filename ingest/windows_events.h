// Chooses the normalizer for a Windows event, whatever rendering it came from.
#pragma once

#include <string>
#include <vector>

#include "ingest/process_event.h"
#include "ingest/win_event.h"

namespace quarry::ingest {

/// What became of one event.
enum class NormalizeOutcome {
  kLoaded,    ///< `row` holds a process-creation event
  kSkipped,   ///< a well-formed event that is not process creation
  kRejected,  ///< a process-creation event that cannot be loaded (reason in the problems)
};

/// Normalizes Sysmon EID 1 and Security 4688; everything else is skipped. Field problems of a
/// loaded event are appended to `problems` too.
NormalizeOutcome NormalizeWindowsEvent(const WinEvent& event, ProcessEvent* row,
                                       std::vector<std::string>* problems);

}  // namespace quarry::ingest
