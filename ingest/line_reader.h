// Reads a text file one line at a time (JSON lines), streaming, with each line's place in the
// original file. Memory is bounded by the longest line allowed.
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

/// One line without its line break ("\n" or "\r\n").
struct TextLine {
  std::string_view text;         ///< valid until the next Next()
  std::int64_t byte_offset = 0;  ///< where the line starts in the original file
  std::int64_t line = 1;         ///< 1-based line number
};

/// Iterates the lines of a text file.
class LineReader {
 public:
  /// `max_line_bytes` bounds one line; a longer one is reported and skipped.
  LineReader(std::unique_ptr<Utf8Reader> reader, std::size_t max_line_bytes);

  /// Moves to the next line (empty lines included). Returns false at the end of the input or on
  /// a read error (see status()). A line longer than the bound is appended to `problems` as a
  /// rejected record and skipped.
  bool Next(TextLine* line, std::vector<IngestWarning>* problems);

  /// kOk, or the read error that ended reading.
  const Status& status() const { return text_.status(); }

 private:
  TextWindow text_;
  std::size_t max_line_bytes_;
};

}  // namespace quarry::ingest
