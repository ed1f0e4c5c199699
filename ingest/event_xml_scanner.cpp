// Record splitting for event XML; see event_xml_scanner.h.
#include "ingest/event_xml_scanner.h"

#include <algorithm>
#include <cstring>

namespace quarry::ingest {
namespace {

constexpr std::size_t kChunkBytes = 1 << 20;
constexpr std::string_view kStartTag = "<Event";
constexpr std::string_view kEndTag = "</Event>";

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::size_t Find(const std::string& buffer, std::string_view needle, std::size_t from) {
  if (from >= buffer.size()) return std::string::npos;
  const void* hit = memmem(buffer.data() + from, buffer.size() - from, needle.data(), needle.size());
  return hit ? static_cast<std::size_t>(static_cast<const char*>(hit) - buffer.data())
             : std::string::npos;
}

// Skips markup that may legally stand between events: white space, the XML declaration and
// processing instructions, comments, a DOCTYPE, and the <Events> wrapper's tags. Returns the
// position of the first byte that is none of these, or `end`.
std::size_t SkipMarkup(std::string_view text, std::size_t pos, std::size_t end) {
  while (pos < end) {
    if (IsSpace(text[pos])) {
      ++pos;
      continue;
    }
    std::string_view rest = text.substr(pos, end - pos);
    std::string_view close;
    if (rest.starts_with("<?")) {
      close = "?>";
    } else if (rest.starts_with("<!--")) {
      close = "-->";
    } else if (rest.starts_with("<!DOCTYPE") || rest.starts_with("</Events>") ||
               (rest.starts_with("<Events") && rest.size() > 7 &&
                (rest[7] == '>' || IsSpace(rest[7])))) {
      close = ">";
    } else {
      return pos;
    }
    std::size_t stop = rest.find(close);
    if (stop == std::string_view::npos) return pos;
    pos += stop + close.size();
  }
  return end;
}

}  // namespace

EventXmlScanner::EventXmlScanner(std::unique_ptr<Utf8Reader> reader, std::size_t max_record_bytes)
    : reader_(std::move(reader)), max_record_bytes_(max_record_bytes) {
  pos_offset_ = reader_->bom_bytes();
}

bool EventXmlScanner::Fill() {
  if (eof_ || !status_.ok()) return false;
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

std::size_t EventXmlScanner::FindStart(std::size_t from) const {
  for (std::size_t at = Find(buffer_, kStartTag, from); at != std::string::npos;
       at = Find(buffer_, kStartTag, at + 1)) {
    if (at + kStartTag.size() >= buffer_.size()) return std::string::npos;  // need more bytes
    char next = buffer_[at + kStartTag.size()];
    if (next == '>' || next == '/' || IsSpace(next)) return at;
  }
  return std::string::npos;
}

void EventXmlScanner::Advance(std::size_t to) {
  std::string_view span(buffer_.data() + pos_, to - pos_);
  pos_offset_ += reader_->SourceBytes(span);
  pos_line_ += std::count(span.begin(), span.end(), '\n');
  pos_ = to;
}

IngestWarning EventXmlScanner::Problem(std::size_t at, std::size_t size, std::string reason) const {
  // Called with at >= pos_ before advancing: compute the place of `at`.
  std::string_view before(buffer_.data() + pos_, at - pos_);
  IngestWarning warning;
  warning.severity = IngestWarning::Severity::kRejected;
  warning.byte_offset = pos_offset_ + reader_->SourceBytes(before);
  warning.line = pos_line_ + std::count(before.begin(), before.end(), '\n');
  warning.reason = std::move(reason);
  warning.excerpt = WarningExcerpt(std::string_view(buffer_).substr(at, size));
  return warning;
}

void EventXmlScanner::CheckGap(std::size_t begin, std::size_t end,
                               std::vector<IngestWarning>* problems) {
  if (skipping_) return;
  std::size_t bad = SkipMarkup(buffer_, begin, end);
  if (bad < end) {
    problems->push_back(Problem(bad, end - bad, "text between events that is not an <Event> element"));
  }
}

bool EventXmlScanner::Next(XmlRecord* record, std::vector<IngestWarning>* problems) {
  std::size_t start_search = pos_;
  while (true) {
    std::size_t start = FindStart(start_search);
    if (start == std::string::npos) {
      if (eof_) {
        CheckGap(pos_, buffer_.size(), problems);
        Advance(buffer_.size());
        return false;
      }
      // Keep the last few bytes: a start tag may straddle the chunk boundary.
      std::size_t keep_from = buffer_.size() > kStartTag.size() ? buffer_.size() - kStartTag.size() : 0;
      if (keep_from > pos_ && keep_from - pos_ > max_record_bytes_) {
        CheckGap(pos_, keep_from, problems);
        Advance(keep_from);
      }
      std::size_t old_pos = pos_;
      if (!Fill()) continue;  // at end: the loop reports the tail
      start_search = keep_from > old_pos ? keep_from - old_pos : 0;
      continue;
    }
    CheckGap(pos_, start, problems);
    Advance(start);
    skipping_ = false;
    // pos_ == start now; find this record's end and the next record's start.
    std::size_t end_search = pos_ + kStartTag.size();
    std::size_t next_search = end_search;
    while (true) {
      std::size_t end = Find(buffer_, kEndTag, end_search);
      std::size_t next = FindStart(next_search);
      if (next != std::string::npos && (end == std::string::npos || next < end)) {
        problems->push_back(Problem(pos_, next - pos_, "record cut short: no </Event> before the next <Event>"));
        Advance(next);
        break;  // scan from the next start
      }
      if (end != std::string::npos) {
        std::size_t stop = end + kEndTag.size();
        record->data = buffer_.data() + pos_;
        record->size = stop - pos_;
        record->byte_offset = pos_offset_;
        record->line = pos_line_;
        Advance(stop);
        return true;
      }
      if (buffer_.size() - pos_ > max_record_bytes_) {
        problems->push_back(Problem(pos_, buffer_.size() - pos_,
                                    "record larger than " + std::to_string(max_record_bytes_) +
                                        " bytes; skipped"));
        skipping_ = true;
        Advance(buffer_.size() - kStartTag.size());
        break;
      }
      if (eof_) {
        problems->push_back(Problem(pos_, buffer_.size() - pos_, "record cut short at end of file"));
        Advance(buffer_.size());
        return false;
      }
      std::size_t searched = buffer_.size() - pos_;
      if (!Fill()) continue;  // eof_ is set now; the next pass reports the tail
      // Fill moved the record to the front of the buffer; search only the new bytes again.
      end_search = std::max(kStartTag.size(), searched - std::min(searched, kEndTag.size()));
      next_search = std::max(kStartTag.size(), searched - std::min(searched, kStartTag.size()));
    }
    start_search = pos_;
  }
}

}  // namespace quarry::ingest
