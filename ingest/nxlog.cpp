// NXLog JSON -> WinEvent.
#include "ingest/nxlog.h"

#include "ingest/normalize_util.h"

namespace quarry::ingest {
namespace {

// The value of the line "LABEL: value" in an event's rendered Message (labels may be indented
// with tabs, values separated by tabs or spaces), or nothing.
std::optional<std::string_view> MessageValue(std::string_view message, std::string_view label) {
  for (std::size_t at = message.find(label); at != std::string_view::npos;
       at = message.find(label, at + 1)) {
    std::size_t line_start = at;
    while (line_start > 0 && (message[line_start - 1] == '\t' || message[line_start - 1] == ' ')) {
      --line_start;
    }
    if (line_start != 0 && message[line_start - 1] != '\n') continue;
    std::size_t colon = at + label.size();
    if (colon >= message.size() || message[colon] != ':') continue;
    std::size_t begin = message.find_first_not_of(" \t", colon + 1);
    if (begin == std::string_view::npos) return std::nullopt;
    std::size_t end = message.find_first_of("\r\n", begin);
    return message.substr(begin,
                          end == std::string_view::npos ? std::string_view::npos : end - begin);
  }
  return std::nullopt;
}

}  // namespace

bool IsNxlogWindowsEvent(const JsonFields& record) {
  return record.Find("EventID") && (record.Find("Channel") || record.Find("SourceName"));
}

void NxlogToWinEvent(const JsonFields& record, WinEvent* event) {
  *event = WinEvent();
  event->provider = record.Find("SourceName").value_or("");
  event->channel = record.Find("Channel").value_or("");
  event->event_id = ParseInt(record.Find("EventID").value_or(""));
  event->version = ParseInt(record.Find("Version").value_or(""));
  event->computer = record.Find("Hostname").value_or("");
  event->record_id = ParseInt(record.Find("RecordNumber").value_or(""));
  event->system_time = record.Find("EventTime").value_or("");
  event->security_user_id = record.Find("UserID").value_or("");
  // EventData members stand beside NXLog's own (EventTime, Hostname, ProcessID, ...). The
  // normalizers look fields up by their exact EventData names, which NXLog's own do not share
  // (its ProcessID is the logging process; EventData's ProcessId differs in case), so every
  // member is offered.
  event->data = record.members;
  // NXLog names fields case-insensitively, so EventData's ProcessId is lost behind NXLog's own
  // ProcessID (the logging service's pid). The rendered Message still carries it: Sysmon's
  // "ProcessId: 4412", Security 4688's "Creator Process ID: 0xce4".
  if (!record.Find("ProcessId")) {
    std::string_view message = record.Find("Message").value_or("");
    std::optional<std::string_view> pid;
    if (event->event_id == 1) pid = MessageValue(message, "ProcessId");
    if (event->event_id == 4688) pid = MessageValue(message, "Creator Process ID");
    if (pid) event->data.emplace_back("ProcessId", *pid);
  }
}

}  // namespace quarry::ingest
