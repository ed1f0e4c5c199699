// Streaming line splitting; see line_reader.h.
#include "ingest/line_reader.h"

#include <cstring>

namespace quarry::ingest {

LineReader::LineReader(std::unique_ptr<Utf8Reader> reader, std::size_t max_line_bytes)
    : text_(std::move(reader)), max_line_bytes_(max_line_bytes) {}

bool LineReader::Next(TextLine* line, std::vector<IngestWarning>* problems) {
  std::string& buffer = text_.buffer();  // the same string throughout; Fill changes its text
  std::size_t searched = 0;              // bytes after pos() already known to hold no line break
  bool skipping = false;                 // inside an over-long line
  while (true) {
    std::size_t pos = text_.pos();
    const void* newline =
        std::memchr(buffer.data() + pos + searched, '\n', buffer.size() - pos - searched);
    if (newline == nullptr && !text_.eof() && buffer.size() - pos <= max_line_bytes_) {
      std::size_t unconsumed = buffer.size() - pos;
      text_.Fill();
      searched = unconsumed;  // Fill moved the unconsumed text to the front
      continue;
    }
    if (newline == nullptr && !text_.eof()) {  // longer than allowed: report once, drop it
      if (!skipping) {
        problems->push_back(text_.Problem(
            pos, buffer.size() - pos,
            "line longer than " + std::to_string(max_line_bytes_) + " bytes; skipped"));
        skipping = true;
      }
      text_.Advance(buffer.size());
      searched = 0;
      text_.Fill();
      continue;
    }
    std::size_t end =
        newline ? static_cast<std::size_t>(static_cast<const char*>(newline) - buffer.data())
                : buffer.size();
    if (skipping) {  // the rest of the over-long line
      text_.Advance(newline ? end + 1 : end);
      if (!newline) return false;
      skipping = false;
      searched = 0;
      continue;
    }
    if (!newline && pos == buffer.size()) return false;  // end of input
    std::size_t text_end = end;
    if (text_end > pos && buffer[text_end - 1] == '\r') --text_end;
    line->text = std::string_view(buffer.data() + pos, text_end - pos);
    line->byte_offset = text_.offset();
    line->line = text_.line();
    text_.Advance(newline ? end + 1 : end);
    return true;
  }
}

}  // namespace quarry::ingest
