// Chunked text with its place in the original file; see text_window.h.
#include "ingest/text_window.h"

#include <algorithm>

namespace quarry::ingest {
namespace {
constexpr std::size_t kChunkBytes = 1 << 20;
}  // namespace

TextWindow::TextWindow(std::unique_ptr<Utf8Reader> reader)
    : reader_(std::move(reader)), offset_(reader_->bom_bytes()) {}

bool TextWindow::Fill() {
  if (eof_) return false;
  if (pos_ > 0) {  // drop consumed bytes before growing the buffer
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

void TextWindow::Advance(std::size_t to) {
  std::string_view span(buffer_.data() + pos_, to - pos_);
  offset_ += reader_->SourceBytes(span);
  line_ += static_cast<std::int64_t>(std::count(span.begin(), span.end(), '\n'));
  pos_ = to;
}

IngestWarning TextWindow::Problem(std::size_t at, std::size_t size, std::string reason) const {
  std::string_view before(buffer_.data() + pos_, at - pos_);
  IngestWarning warning;
  warning.severity = IngestWarning::Severity::kRejected;
  warning.byte_offset = offset_ + reader_->SourceBytes(before);
  warning.line = line_ + static_cast<std::int64_t>(std::count(before.begin(), before.end(), '\n'));
  warning.reason = std::move(reason);
  warning.excerpt = WarningExcerpt(std::string_view(buffer_).substr(at, size));
  return warning;
}

}  // namespace quarry::ingest
