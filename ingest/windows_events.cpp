// Dispatch from a WinEvent to the Sysmon or Security normalizer.
#include "ingest/windows_events.h"

#include "ingest/security_4688.h"
#include "ingest/sysmon.h"

namespace quarry::ingest {

NormalizeOutcome NormalizeWindowsEvent(const WinEvent& event, ProcessEvent* row,
                                       std::vector<std::string>* problems) {
  bool ok;
  if (IsSysmonProcessCreate(event)) {
    ok = NormalizeSysmonProcessCreate(event, row, problems);
  } else if (IsSecurityProcessCreate(event)) {
    ok = NormalizeSecurityProcessCreate(event, row, problems);
  } else {
    return NormalizeOutcome::kSkipped;
  }
  return ok ? NormalizeOutcome::kLoaded : NormalizeOutcome::kRejected;
}

}  // namespace quarry::ingest
