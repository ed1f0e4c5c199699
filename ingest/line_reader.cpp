// Streaming line splitting; see line_reader.h.
#include "ingest/line_reader.h"

#include <algorithm>
#include <cstring>

namespace quarry::ingest {
namespace {
constexpr std::size_t kChunkBytes = 1 << 20;
}  // namespace

LineReader::LineReader(std::unique_ptr<Utf8Reader> reader, std::size_t max_line_bytes)
    : reader_(std::move(reader)), max_line_bytes_(max_line_bytes) {
  pos_offset_ = reader_->bom_bytes();
}

bool LineReader::Fill() {
  if (eof_) return false;
  if (pos_ > 0) {
    buffer_.erase(0, pos_);
    pos_ = 0;
  }
  Result<bool> more = reader_->ReadChunk(&buffer_, kChunkBytes);
  if (!more.ok()) {
    status_ = more.status();
    eof_ = true;
    return false;
  }
  if (!*more) eof_ = true;
  return true;
}

void LineReader::Advance(std::size_t to) {
  std::string_view span(buffer_.data() + pos_, to - pos_);
  pos_offset_ += reader_->SourceBytes(span);
  pos_line_ += static_cast<std::int64_t>(std::count(span.begin(), span.end(), '\n'));
  pos_ = to;
}

bool LineReader::Next(TextLine* line, std::vector<IngestWarning>* problems) {
  std::size_t searched = 0;  // bytes after pos_ already known to hold no line break
  bool skipping = false;     // inside an over-long line
  while (true) {
    const char* begin = buffer_.data() + pos_ + searched;
    const void* newline = std::memchr(begin, '\n', buffer_.size() - pos_ - searched);
    if (newline == nullptr && !eof_ && buffer_.size() - pos_ <= max_line_bytes_) {
      searched = buffer_.size() - pos_;
      if (Fill()) continue;
      searched = buffer_.size() - pos_;  // Fill may have failed after erasing; nothing new
      continue;
    }
    if (newline == nullptr && !eof_) {  // longer than allowed: report once, drop what we have
      if (!skipping) {
        IngestWarning warning;
        warning.byte_offset = pos_offset_;
        warning.line = pos_line_;
        warning.reason = "line longer than " + std::to_string(max_line_bytes_) + " bytes; skipped";
        warning.excerpt = WarningExcerpt(std::string_view(buffer_).substr(pos_));
        problems->push_back(std::move(warning));
        skipping = true;
      }
      Advance(buffer_.size());
      searched = 0;
      Fill();
      continue;
    }
    std::size_t end = newline ? static_cast<std::size_t>(static_cast<const char*>(newline) - buffer_.data())
                              : buffer_.size();
    if (skipping) {  // the rest of the over-long line
      Advance(newline ? end + 1 : end);
      if (!newline) return false;
      skipping = false;
      searched = 0;
      continue;
    }
    if (!newline && pos_ == buffer_.size()) return false;  // end of input
    std::size_t text_end = end;
    if (text_end > pos_ && buffer_[text_end - 1] == '\r') --text_end;
    line->text = std::string_view(buffer_.data() + pos_, text_end - pos_);
    line->byte_offset = pos_offset_;
    line->line = pos_line_;
    Advance(newline ? end + 1 : end);
    return true;
  }
}

}  // namespace quarry::ingest
