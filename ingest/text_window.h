// The part of a text file being scanned: its unconsumed UTF-8 text, refilled a chunk at a time,
// and the place (byte offset in the original file, line) of the first unconsumed byte. Shared by
// the event XML and JSON-lines record splitters.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "ingest/input_file.h"
#include "ingest/process_event.h"
#include "schema/status.h"

namespace quarry::ingest {

class TextWindow {
 public:
  explicit TextWindow(std::unique_ptr<Utf8Reader> reader);

  /// Drops the consumed text and appends one more chunk. Returns false, reading nothing, at the
  /// end of the input or after a read error (kept in status()).
  bool Fill();
  /// Consumes the text before buffer position `to` (>= pos()), keeping offset and line in step.
  void Advance(std::size_t to);
  /// A rejected-record warning for the `size` bytes at buffer position `at` (>= pos()), with its
  /// place in the original file and an excerpt.
  IngestWarning Problem(std::size_t at, std::size_t size, std::string reason) const;

  std::string& buffer() { return buffer_; }
  const std::string& buffer() const { return buffer_; }
  std::size_t pos() const { return pos_; }          ///< first unconsumed byte of buffer()
  std::int64_t offset() const { return offset_; }   ///< file offset of buffer()[pos()]
  std::int64_t line() const { return line_; }       ///< 1-based line of buffer()[pos()]
  bool eof() const { return eof_; }                 ///< no more input to read
  const Status& status() const { return status_; }  ///< kOk, or the read error that ended input

 private:
  std::unique_ptr<Utf8Reader> reader_;
  std::string buffer_;
  std::size_t pos_ = 0;
  std::int64_t offset_ = 0;
  std::int64_t line_ = 1;
  bool eof_ = false;
  Status status_;
};

}  // namespace quarry::ingest
