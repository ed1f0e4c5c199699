// SHA-256 through OpenSSL's EVP interface; content sniffing; chunked UTF-8 reading.
#include "ingest/input_file.h"

#include <cctype>
#include <cstring>
#include <vector>

#include "ingest/crowdstrike.h"
#include "ingest/json_record.h"
#include "ingest/normalize_util.h"
#include "ingest/nxlog.h"

namespace quarry::ingest {
namespace {

// Transcodes whole UTF-16LE code units from `in` to `out`; returns how many input bytes were
// used. A high surrogate at the very end is left unconsumed unless `at_end`. Each replacement
// (an unpaired surrogate, a final odd byte) is counted in `repairs` when given, its offset
// taken relative to `in` plus `base_offset`.
std::size_t Utf16LeToUtf8(std::string_view in, bool at_end, std::string* out,
                          Utf16Repairs* repairs = nullptr, std::int64_t base_offset = 0) {
  std::size_t i = 0;
  auto unit = [&](std::size_t at) {
    return static_cast<std::uint16_t>(static_cast<unsigned char>(in[at]) |
                                      (static_cast<unsigned char>(in[at + 1]) << 8));
  };
  auto replace = [&](std::int64_t Utf16Repairs::*count) {
    AppendUtf8(0xFFFD, out);
    if (repairs == nullptr) return;
    ++(repairs->*count);
    if (repairs->first_offset < 0) {
      repairs->first_offset = base_offset + static_cast<std::int64_t>(i);
    }
  };
  constexpr auto surrogates = &Utf16Repairs::unpaired_surrogates;
  constexpr auto odd_bytes = &Utf16Repairs::odd_final_bytes;
  while (i + 1 < in.size()) {
    std::uint16_t u = unit(i);
    if (u >= 0xD800 && u <= 0xDBFF) {
      if (i + 3 >= in.size()) {
        if (!at_end) break;
        replace(surrogates);
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
      replace(surrogates);
      i += 2;
      continue;
    }
    if (u >= 0xDC00 && u <= 0xDFFF) {
      replace(surrogates);
    } else {
      AppendUtf8(u, out);
    }
    i += 2;
  }
  if (at_end && i < in.size()) {  // a final odd byte
    replace(odd_bytes);
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

// True when `text`, the first line of a file cut by the sniff window, is the well-formed start
// of one JSON object: `{`, then members ("name": value, values of any JSON type, nested at
// most kMaxDepth deep) that are valid as far as they go, and no end of that object before the
// cut (a line that went on after its object is not JSON lines). Bytes that are not UTF-8 are
// let through, as the JSON-lines reader repairs them; control characters are not, in strings
// or out.
bool IsCutJsonObject(std::string_view text) {
  constexpr std::size_t kMaxDepth = 32;
  enum class Expect { kFirstName, kName, kColon, kFirstValue, kValue, kNext };
  std::string open;  // '{' and '[' of the containers the cut is inside
  Expect expect = Expect::kValue;
  std::size_t i = text.find_first_not_of(" \t\r");
  if (i == std::string_view::npos || text[i] != '{') return false;
  // The end of the string that starts at `at` (its closing quote), npos when the text ends
  // first, or `bad` on an invalid escape or a control character.
  constexpr std::size_t bad = std::string_view::npos - 1;
  auto string_end = [&](std::size_t at) -> std::size_t {
    for (std::size_t j = at + 1; j < text.size(); ++j) {
      auto c = static_cast<unsigned char>(text[j]);
      if (c == '"') return j;
      if (c < 0x20) return bad;
      if (c != '\\') continue;
      if (++j == text.size()) return std::string_view::npos;
      if (std::string_view("\"\\/bfnrt").find(text[j]) != std::string_view::npos) continue;
      if (text[j] != 'u') return bad;
      for (int k = 0; k < 4; ++k) {
        if (++j == text.size()) return std::string_view::npos;
        if (!std::isxdigit(static_cast<unsigned char>(text[j]))) return bad;
      }
    }
    return std::string_view::npos;
  };
  while (true) {
    i = text.find_first_not_of(" \t\r", i);
    if (i == std::string_view::npos) return !open.empty();  // cut here: as far as it goes, good
    char c = text[i];
    if ((expect == Expect::kFirstName && c == '}') || (expect == Expect::kFirstValue && c == ']') ||
        (expect == Expect::kNext && (c == '}' || c == ']'))) {
      if (open.back() != (c == '}' ? '{' : '[')) return false;
      open.pop_back();
      if (open.empty()) return false;  // the object ended, and the line goes on
      expect = Expect::kNext;
      ++i;
      continue;
    }
    switch (expect) {
      case Expect::kFirstName:
      case Expect::kName: {
        if (c != '"') return false;
        std::size_t end = string_end(i);
        if (end == std::string_view::npos) return true;
        if (end == bad) return false;
        i = end + 1;
        expect = Expect::kColon;
        break;
      }
      case Expect::kColon:
        if (c != ':') return false;
        ++i;
        expect = Expect::kValue;
        break;
      case Expect::kFirstValue:
      case Expect::kValue:
        if (c == '{' || c == '[') {
          if (open.size() == kMaxDepth) return false;
          open.push_back(c);
          expect = c == '{' ? Expect::kFirstName : Expect::kFirstValue;
          ++i;
        } else if (c == '"') {
          std::size_t end = string_end(i);
          if (end == std::string_view::npos) return true;
          if (end == bad) return false;
          i = end + 1;
          expect = Expect::kNext;
        } else if (c == '-' || std::isdigit(static_cast<unsigned char>(c))) {
          i = text.find_first_not_of("0123456789+-.eE", i);
          if (i == std::string_view::npos) return true;
          expect = Expect::kNext;
        } else if (c == 't' || c == 'f' || c == 'n') {
          std::string_view word = c == 't' ? "true" : c == 'f' ? "false" : "null";
          std::string_view written = text.substr(i, word.size());
          if (word.substr(0, written.size()) != written) return false;
          i += written.size();
          expect = Expect::kNext;
        } else {
          return false;
        }
        break;
      case Expect::kNext:
        if (c != ',') return false;
        ++i;
        expect = open.back() == '{' ? Expect::kName : Expect::kValue;
        break;
    }
  }
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
    // the member names that mark each kind instead; when they come only after the cut (an FDR
    // ProcessRollup2 with a long CommandLine before its event_simpleName), the line must at
    // least be the well-formed start of a JSON object. The reader then judges every line as
    // it does in any JSON-lines file: an object of no known kind is counted as skipped, so a
    // foreign JSON-lines file taken this way is a loaded file with no events, never rows.
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
              (has("\"EventID\"") && (has("\"Channel\"") || has("\"SourceName\""))) ||
              IsCutJsonObject(body);
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
  std::size_t used = Utf16LeToUtf8(raw_, at_end, out, &repairs_, raw_offset_);
  raw_.erase(0, used);
  raw_offset_ += static_cast<std::int64_t>(used);
  return !at_end;
}

std::optional<std::string> Utf8Reader::RepairWarning() const {
  if (repairs_.unpaired_surrogates == 0 && repairs_.odd_final_bytes == 0) return std::nullopt;
  std::string reason;
  if (repairs_.unpaired_surrogates > 0) {
    reason = std::to_string(repairs_.unpaired_surrogates) + " unpaired UTF-16 surrogate" +
             (repairs_.unpaired_surrogates == 1 ? "" : "s");
  }
  if (repairs_.odd_final_bytes > 0) {
    reason += std::string(reason.empty() ? "" : " and ") + "a final odd byte";
  }
  return reason + " read as U+FFFD (the first at byte " + std::to_string(repairs_.first_offset) +
         "; the file keeps what was written)";
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
