// Splits event XML text into one record per <Event> element, whatever the rendering: one event
// per line (EvtRender, Splunk XmlWinEventLog), concatenated events with no root (wevtutil qe
// /f:xml), or an indented <Events> document (Event Viewer "Save As XML"). Streams the file in
// chunks; memory is bounded by the largest record.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ingest/input_file.h"
#include "ingest/process_event.h"
#include "ingest/text_window.h"
#include "schema/status.h"

namespace quarry::ingest {

/// One <Event>...</Event> element as it stands in the file.
struct XmlRecord {
  char* data = nullptr;          ///< the record's bytes (UTF-8); the caller may parse them in place
  std::size_t size = 0;          ///< bytes
  std::int64_t byte_offset = 0;  ///< where the record starts in the original file
  std::int64_t line = 1;         ///< 1-based line of the record's first byte
  std::string_view text() const { return {data, size}; }
};

/// Iterates the records of an event XML file.
class EventXmlScanner {
 public:
  /// `max_record_bytes` bounds one record; a longer one is reported and skipped.
  EventXmlScanner(std::unique_ptr<Utf8Reader> reader, std::size_t max_record_bytes);

  /// Moves to the next record. Returns false at the end of the input or on a read error
  /// (see status()). Damage found on the way (a record cut short, text between events that is
  /// not markup, an oversized record) is appended to `problems` as rejected-record warnings and
  /// scanning resumes at the next <Event>; after a record cut short or oversized, Next returns
  /// true with an empty `record` (size 0), so that damage is handed over a record at a time and
  /// never piles up within one call.
  bool Next(XmlRecord* record, std::vector<IngestWarning>* problems);

  /// kOk, or the read error that ended the scan.
  const Status& status() const { return text_.status(); }

 private:
  std::size_t FindStart(std::size_t from) const;
  std::size_t FindEnd(std::size_t from);  // the next "</Event>" at or after `from`, cached
  bool Refill();                          // TextWindow::Fill, dropping the FindEnd cache
  void CheckGap(std::size_t begin, std::size_t end, std::vector<IngestWarning>* problems);

  TextWindow text_;
  std::size_t max_record_bytes_;
  bool skipping_ = false;  // inside an oversized record: its text is not a gap
  // The last FindEnd: searched [end_cache_from_, end_cache_to_) and found end_cache_hit_.
  std::size_t end_cache_from_ = std::string::npos;
  std::size_t end_cache_to_ = 0;
  std::size_t end_cache_hit_ = std::string::npos;
};

}  // namespace quarry::ingest
