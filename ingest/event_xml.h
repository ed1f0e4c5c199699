// Decodes one <Event> element of Windows event XML into a WinEvent (pugixml behind the scenes).
#pragma once

#include <memory>
#include <string>

#include "ingest/win_event.h"

namespace quarry::ingest {

/// Parses event XML records one at a time, reusing its document between records.
class EventXmlParser {
 public:
  EventXmlParser();
  ~EventXmlParser();

  /// Parses the `size` bytes at `data` in place (the bytes are modified) and fills `event`,
  /// whose views stay valid until the next Parse. Returns false and sets `error` when the bytes
  /// are not well-formed XML or the root is not <Event>; DTD entities are never expanded.
  /// Element names are matched without a namespace prefix; single and double quotes, indentation
  /// and upper- or lower-case hex all read the same. Bytes that are not UTF-8, NUL bytes and
  /// character references to no character (&#0;, surrogates, past U+10FFFF) are read as U+FFFD
  /// and listed in event->problems, so that no value is cut short or holds bytes that are not
  /// UTF-8; so is an EventRecordID that is not a number (record_id is then empty).
  bool Parse(char* data, std::size_t size, WinEvent* event, std::string* error);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace quarry::ingest
