// Record splitting for event XML; see event_xml_scanner.h.
#include "ingest/event_xml_scanner.h"

#include <algorithm>
#include <cstring>

namespace quarry::ingest {
namespace {

constexpr std::string_view kStartTag = "<Event";
constexpr std::string_view kEndTag = "</Event>";

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::size_t Find(const std::string& buffer, std::string_view needle, std::size_t from) {
  if (from >= buffer.size()) return std::string::npos;
  const void* hit =
      memmem(buffer.data() + from, buffer.size() - from, needle.data(), needle.size());
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
    : text_(std::move(reader)), max_record_bytes_(max_record_bytes) {}

std::size_t EventXmlScanner::FindStart(std::size_t from) const {
  for (std::size_t at = Find(text_.buffer(), kStartTag, from); at != std::string::npos;
       at = Find(text_.buffer(), kStartTag, at + 1)) {
    if (at + kStartTag.size() >= text_.buffer().size())
      return std::string::npos;  // need more bytes
    char next = text_.buffer()[at + kStartTag.size()];
    if (next == '>' || next == '/' || IsSpace(next)) return at;
  }
  return std::string::npos;
}

bool EventXmlScanner::Refill() {
  end_cache_from_ = std::string::npos;  // Fill moves the text: cached positions are stale
  return text_.Fill();
}

std::size_t EventXmlScanner::FindEnd(std::size_t from) {
  const std::string& buffer = text_.buffer();
  // A run of start tags with no end tag would otherwise search the same bytes once per start.
  bool cached = end_cache_from_ != std::string::npos && from >= end_cache_from_ &&
                (end_cache_hit_ != std::string::npos ? from <= end_cache_hit_
                                                     : buffer.size() == end_cache_to_);
  if (!cached) {
    end_cache_from_ = from;
    end_cache_to_ = buffer.size();
    end_cache_hit_ = Find(buffer, kEndTag, from);
  }
  return end_cache_hit_;
}

void EventXmlScanner::CheckGap(std::size_t begin, std::size_t end,
                               std::vector<IngestWarning>* problems) {
  if (skipping_) return;
  std::size_t bad = SkipMarkup(text_.buffer(), begin, end);
  if (bad < end) {
    problems->push_back(
        text_.Problem(bad, end - bad, "text between events that is not an <Event> element"));
  }
}

bool EventXmlScanner::Next(XmlRecord* record, std::vector<IngestWarning>* problems) {
  std::string& buffer = text_.buffer();  // the same string throughout; Fill changes its text
  std::size_t start_search = text_.pos();
  while (true) {
    std::size_t start = FindStart(start_search);
    if (start == std::string::npos) {
      if (text_.eof()) {
        CheckGap(text_.pos(), buffer.size(), problems);
        text_.Advance(buffer.size());
        return false;
      }
      // Keep the last few bytes: a start tag may straddle the chunk boundary.
      std::size_t keep_from =
          buffer.size() > kStartTag.size() ? buffer.size() - kStartTag.size() : 0;
      if (keep_from > text_.pos() && keep_from - text_.pos() > max_record_bytes_) {
        CheckGap(text_.pos(), keep_from, problems);
        text_.Advance(keep_from);
      }
      std::size_t old_pos = text_.pos();
      if (!Refill()) continue;  // at end: the loop reports the tail
      start_search = keep_from > old_pos ? keep_from - old_pos : 0;
      continue;
    }
    CheckGap(text_.pos(), start, problems);
    text_.Advance(start);
    skipping_ = false;
    // pos() == start now; find this record's end and the next record's start.
    std::size_t end_search = text_.pos() + kStartTag.size();
    std::size_t next_search = end_search;
    while (true) {
      std::size_t end = FindEnd(end_search);
      std::size_t next = FindStart(next_search);
      if (next != std::string::npos && (end == std::string::npos || next < end)) {
        problems->push_back(text_.Problem(text_.pos(), next - text_.pos(),
                                          "record cut short: no </Event> before the next <Event>"));
        text_.Advance(next);
        *record =
            XmlRecord();  // a problem, no record: the caller takes the warning and calls again
        return true;
      }
      if (end != std::string::npos) {
        std::size_t stop = end + kEndTag.size();
        record->data = buffer.data() + text_.pos();
        record->size = stop - text_.pos();
        record->byte_offset = text_.offset();
        record->line = text_.line();
        text_.Advance(stop);
        return true;
      }
      if (buffer.size() - text_.pos() > max_record_bytes_) {
        problems->push_back(text_.Problem(
            text_.pos(), buffer.size() - text_.pos(),
            "record larger than " + std::to_string(max_record_bytes_) + " bytes; skipped"));
        skipping_ = true;
        text_.Advance(buffer.size() - kStartTag.size());
        *record = XmlRecord();
        return true;
      }
      if (text_.eof()) {
        problems->push_back(text_.Problem(text_.pos(), buffer.size() - text_.pos(),
                                          "record cut short at end of file"));
        text_.Advance(buffer.size());
        return false;
      }
      std::size_t searched = buffer.size() - text_.pos();
      if (!Refill()) continue;  // eof() is set now; the next pass reports the tail
      // Fill moved the record to the front of the buffer; search only the new bytes again.
      end_search = std::max(kStartTag.size(), searched - std::min(searched, kEndTag.size()));
      next_search = std::max(kStartTag.size(), searched - std::min(searched, kStartTag.size()));
    }
    start_search = text_.pos();
  }
}

}  // namespace quarry::ingest
