// SHA-256 through OpenSSL's EVP interface; content sniffing; chunked UTF-8 reading.
#include "ingest/input_file.h"

#include <cstring>
#include <vector>

#include "ingest/crowdstrike.h"
#include "ingest/json_record.h"
#include "ingest/normalize_util.h"
#include "ingest/nxlog.h"

namespace quarry::ingest {
namespace {

// Transcodes whole UTF-16LE code units from `in` to `out`; returns how many input bytes were
// used. A high surrogate at the very end is left unconsumed unless `at_end`.
std::size_t Utf16LeToUtf8(std::string_view in, bool at_end, std::string* out) {
  std::size_t i = 0;
  auto unit = [&](std::size_t at) {
    return static_cast<std::uint16_t>(static_cast<unsigned char>(in[at]) |
                                      (static_cast<unsigned char>(in[at + 1]) << 8));
  };
  while (i + 1 < in.size()) {
    std::uint16_t u = unit(i);
    if (u >= 0xD800 && u <= 0xDBFF) {
      if (i + 3 >= in.size()) {
        if (!at_end) break;
        AppendUtf8(0xFFFD, out);
        i += 2;
        continue;
      }
      std::uint16_t low = unit(i + 2);
      if (low >= 0xDC00 && low <= 0xDFFF) {
        AppendUtf8(0x10000 + ((static_cast<std::uint32_t>(u) - 0xD800) << 10) + (low - 0xDC00),
                   out);
        i += 4;
        continue;
      }
      AppendUtf8(0xFFFD, out);
      i += 2;
      continue;
    }
    if (u >= 0xDC00 && u <= 0xDFFF) {
      AppendUtf8(0xFFFD, out);
    } else {
      AppendUtf8(u, out);
    }
    i += 2;
  }
  if (at_end && i < in.size()) {  // a final odd byte
    AppendUtf8(0xFFFD, out);
    i = in.size();
  }
  return i;
}

bool StartsWith(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

// True when `text` holds "<Event" followed by white space, '>' or '/'.
bool HasEventElement(std::string_view text) {
  for (std::size_t pos = text.find("<Event"); pos != std::string_view::npos;
       pos = text.find("<Event", pos + 1)) {
    if (pos + 6 >= text.size()) return false;
    char next = text[pos + 6];
    if (next == '>' || next == ' ' || next == '\t' || next == '\r' || next == '\n' || next == '/') {
      return true;
    }
  }
  return false;
}

}  // namespace

const char* EncodingName(TextEncoding encoding) {
  return encoding == TextEncoding::kUtf16Le ? "utf-16le" : "utf-8";
}

Result<std::string> Sha256OfFile(const std::string& path) {
  Result<std::unique_ptr<ByteSource>> file = OpenFileSource(path);
  if (!file.ok()) return file.status();
  HashingSource hashing(std::move(file).value());
  return hashing.Finish();
}

Result<SniffResult> SniffFile(const std::string& path) {
  Result<std::unique_ptr<ByteSource>> file = OpenFileSource(path);
  if (!file.ok()) return file.status();
  std::string head(kSniffBytes, '\0');
  Result<std::size_t> n = (*file)->ReadFull(head.data(), head.size());
  if (!n.ok()) return n.status();
  head.resize(*n);
  return SniffBytes(head);
}

SniffResult SniffBytes(std::string_view head) {
  SniffResult result;
  if (StartsWith(head, std::string_view("ElfFile\0", 8))) {
    result.format = "evtx";  // binary; the encoding fields do not apply
    return result;
  }
  std::string text;
  if (StartsWith(head, "\xEF\xBB\xBF")) {
    result.bom_bytes = 3;
    text.assign(head.substr(3));
  } else if (StartsWith(head, "\xFF\xFE")) {
    result.encoding = TextEncoding::kUtf16Le;
    result.bom_bytes = 2;
    Utf16LeToUtf8(head.substr(2), true, &text);
  } else if (head.size() >= 2 && head[0] != '\0' && head[1] == '\0') {
    result.encoding = TextEncoding::kUtf16Le;  // UTF-16LE without a BOM: "<\0"
    Utf16LeToUtf8(head, true, &text);
  } else {
    text.assign(head);
  }
  if (head.empty()) {
    result.reason = "not an event source: empty file";
    return result;
  }
  std::size_t first = text.find_first_not_of(" \t\r\n");
  std::string_view body =
      first == std::string::npos ? std::string_view() : std::string_view(text).substr(first);
  bool markup = StartsWith(body, "<?xml") || StartsWith(body, "<!--") ||
                StartsWith(body, "<Events") || StartsWith(body, "<Event");
  if (body.starts_with("{")) {
    // JSON lines: the first line decides. When it is longer than the sniffed bytes, look for
    // the member names that mark each kind instead.
    std::size_t newline = body.find('\n');
    bool known;
    if (newline != std::string_view::npos || head.size() < kSniffBytes) {
      JsonObjectParser parser;
      JsonFields fields;
      std::string error;
      known = parser.Parse(body.substr(0, newline), &fields, &error) &&
              (ClassifyFdrRecord(fields) != FdrRecordKind::kNotFdr || IsNxlogWindowsEvent(fields));
    } else {
      auto has = [&](std::string_view name) { return body.find(name) != std::string_view::npos; };
      known = has("\"event_simpleName\"") || has("\"UserSid_readable\"") ||
              (has("\"aid\"") && has("\"ComputerName\"")) ||
              (has("\"EventID\"") && (has("\"Channel\"") || has("\"SourceName\"")));
    }
    if (known) {
      result.format = "json_lines";
    } else {
      result.reason =
          "not an event source: JSON that is neither CrowdStrike FDR nor NXLog Windows events";
    }
    return result;
  }
  if (body.starts_with("[")) {
    result.reason =
        "not an event source: a JSON array; Quarry reads JSON lines (one object per line), as FDR "
        "delivers them and NXLog writes them";
    return result;
  }
  if (markup && HasEventElement(body)) {
    result.format = "event_xml";
    return result;
  }
  if (markup) {
    result.reason = "not an event source: XML without an <Event> element in its first 64 KiB";
  } else if (body.empty()) {
    result.reason = "not an event source: no text in the first 64 KiB";
  } else {
    result.reason = "not an event source: content does not start with event XML";
  }
  return result;
}

Result<std::unique_ptr<Utf8Reader>> Utf8Reader::Open(const std::string& path, TextEncoding encoding,
                                                     std::size_t bom_bytes) {
  Result<std::unique_ptr<ByteSource>> file = OpenFileSource(path);
  if (!file.ok()) return file.status();
  return FromSource(std::move(file).value(), encoding, bom_bytes);
}

Result<std::unique_ptr<Utf8Reader>> Utf8Reader::FromSource(std::unique_ptr<ByteSource> source,
                                                           TextEncoding encoding,
                                                           std::size_t bom_bytes) {
  std::string bom(bom_bytes, '\0');
  Result<std::size_t> n = source->ReadFull(bom.data(), bom.size());
  if (!n.ok()) return n.status();
  return std::unique_ptr<Utf8Reader>(new Utf8Reader(std::move(source), encoding, bom_bytes));
}

Result<bool> Utf8Reader::ReadChunk(std::string* out, std::size_t max_bytes) {
  read_buffer_.resize(max_bytes);
  Result<std::size_t> read = source_->ReadFull(read_buffer_.data(), max_bytes);
  if (!read.ok()) return read.status();
  std::size_t n = *read;
  bool at_end = n < max_bytes;
  if (encoding_ == TextEncoding::kUtf8) {
    out->append(read_buffer_.data(), n);
    return !at_end;
  }
  raw_.append(read_buffer_.data(), n);
  std::size_t used = Utf16LeToUtf8(raw_, at_end, out);
  raw_.erase(0, used);
  return !at_end;
}

std::int64_t Utf8Reader::SourceBytes(std::string_view utf8) const {
  if (encoding_ == TextEncoding::kUtf8) return static_cast<std::int64_t>(utf8.size());
  // Each UTF-8 sequence came from one UTF-16 unit, or two for a 4-byte sequence.
  std::int64_t units = 0;
  for (char ch : utf8) {
    auto c = static_cast<unsigned char>(ch);
    if ((c & 0xC0) != 0x80) units += (c >= 0xF0) ? 2 : 1;
  }
  return units * 2;
}

}  // namespace quarry::ingest
