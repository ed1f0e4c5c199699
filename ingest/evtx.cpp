// EVTX decoding, written from the public format descriptions (libyal's "Windows XML Event Log
// (EVTX)" document, [MS-EVEN6]): file header -> 64 KiB chunks -> event records -> binary XML
// (tokens, templates with substitution arrays, typed values) -> a flat list of start / attribute
// / text / end items, from which WinEvent is filled and, for rows only, event XML is rendered.
#include "ingest/evtx.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "ingest/batcher.h"
#include "ingest/normalize_util.h"
#include "ingest/windows_events.h"

namespace quarry::ingest {
namespace {

constexpr std::size_t kFileHeaderSize = 4096;  // bytes before the first chunk
constexpr std::size_t kChunkSize = 65536;      // bytes per chunk, header included
constexpr std::size_t kChunkHeaderSize = 512;  // bytes before the first record of a chunk
constexpr std::size_t kRecordHeaderSize = 24;  // signature, size, id, written time
constexpr std::size_t kRecordTrailerSize = 4;  // copy of the size
constexpr int kMaxDepth = 64;                  // nesting of elements, templates, BinXml values
constexpr std::size_t kMaxTokens = 1 << 18;    // tokens walked per record, templates included
constexpr std::size_t kMaxExpandedBytes = 16 << 20;  // rendered text per record, bytes

// Binary XML tokens (the 0x40 bit, "more data follows", is masked off).
enum Token : std::uint8_t {
  kEndOfStream = 0x00,
  kOpenStartElement = 0x01,
  kCloseStartElement = 0x02,
  kCloseEmptyElement = 0x03,
  kEndElement = 0x04,
  kValue = 0x05,
  kAttribute = 0x06,
  kCdata = 0x07,
  kCharRef = 0x08,
  kEntityRef = 0x09,
  kPiTarget = 0x0a,
  kPiData = 0x0b,
  kTemplateInstance = 0x0c,
  kSubstitution = 0x0d,
  kOptionalSubstitution = 0x0e,
  kFragmentHeader = 0x0f,
};

// Value types of substitutions and value tokens; 0x80 marks an array of the type.
enum ValueType : std::uint8_t {
  kNull = 0x00,
  kString = 0x01,
  kAnsiString = 0x02,
  kInt8 = 0x03,
  kUInt8 = 0x04,
  kInt16 = 0x05,
  kUInt16 = 0x06,
  kInt32 = 0x07,
  kUInt32 = 0x08,
  kInt64 = 0x09,
  kUInt64 = 0x0a,
  kReal32 = 0x0b,
  kReal64 = 0x0c,
  kBool = 0x0d,
  kBinary = 0x0e,
  kGuid = 0x0f,
  kSizeT = 0x10,
  kFileTime = 0x11,
  kSystemTime = 0x12,
  kSid = 0x13,
  kHexInt32 = 0x14,
  kHexInt64 = 0x15,
  kEvtHandle = 0x20,
  kBinXml = 0x21,
  kEvtXml = 0x23,
  kArrayFlag = 0x80,
};

std::uint16_t U16(const std::uint8_t* p) { return static_cast<std::uint16_t>(p[0] | (p[1] << 8)); }
std::uint32_t U32(const std::uint8_t* p) {
  return static_cast<std::uint32_t>(p[0]) | (static_cast<std::uint32_t>(p[1]) << 8) |
         (static_cast<std::uint32_t>(p[2]) << 16) | (static_cast<std::uint32_t>(p[3]) << 24);
}
std::uint64_t U64(const std::uint8_t* p) {
  return static_cast<std::uint64_t>(U32(p)) | (static_cast<std::uint64_t>(U32(p + 4)) << 32);
}

// CRC-32 (IEEE 802.3, reflected, as zlib), the checksum of file and chunk headers and records.
constexpr std::array<std::uint32_t, 256> MakeCrcTable() {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    table[i] = c;
  }
  return table;
}
constexpr std::array<std::uint32_t, 256> kCrcTable = MakeCrcTable();

// Continues a CRC-32 over `size` more bytes; start with 0.
std::uint32_t Crc32(const std::uint8_t* data, std::size_t size, std::uint32_t crc = 0) {
  crc = ~crc;
  for (std::size_t i = 0; i < size; ++i) crc = kCrcTable[(crc ^ data[i]) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

// Appends `units` UTF-16LE code units at `p` as UTF-8, stopping at the first NUL (Windows
// renders strings as C strings). Unpaired surrogates become U+FFFD. Returns the units read,
// the NUL included.
std::size_t AppendUtf16(const std::uint8_t* p, std::size_t units, std::string* out) {
  std::size_t i = 0;
  while (i < units) {
    std::uint32_t u = U16(p + 2 * i);
    ++i;
    if (u == 0) break;
    if (u >= 0xD800 && u <= 0xDBFF && i < units) {
      std::uint32_t low = U16(p + 2 * i);
      if (low >= 0xDC00 && low <= 0xDFFF) {
        ++i;
        AppendUtf8(0x10000 + ((u - 0xD800) << 10) + (low - 0xDC00), out);
        continue;
      }
    }
    AppendUtf8((u >= 0xD800 && u <= 0xDFFF) ? 0xFFFD : u, out);
  }
  return i;
}

void AppendHex(std::uint64_t value, int min_digits, std::string* out) {
  char buffer[24];
  int n = std::snprintf(buffer, sizeof(buffer), "0x%0*llx", min_digits,
                        static_cast<unsigned long long>(value));
  out->append(buffer, static_cast<std::size_t>(n));
}

template <typename T>
void AppendNumber(T value, std::string* out) {
  char buffer[64];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  if (ec == std::errc()) out->append(buffer, end);
}

// Days since 1970-01-01 -> civil date (proleptic Gregorian), the well-known era algorithm.
void CivilFromDays(std::int64_t days, std::int64_t* year, unsigned* month, unsigned* day) {
  days += 719468;
  std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  auto doe = static_cast<unsigned>(days - era * 146097);
  unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  unsigned mp = (5 * doy + 2) / 153;
  *day = doy - (153 * mp + 2) / 5 + 1;
  *month = mp < 10 ? mp + 3 : mp - 9;
  *year = static_cast<std::int64_t>(yoe) + era * 400 + (*month <= 2 ? 1 : 0);
}

// FILETIME (100 ns ticks since 1601) as Windows renders SystemTime: 2019-04-27T15:57:53.368863200Z.
void AppendFileTime(std::uint64_t ticks, std::string* out) {
  constexpr std::int64_t kEpochDelta = 11644473600;  // seconds from 1601 to 1970
  auto seconds = static_cast<std::int64_t>(ticks / 10000000) - kEpochDelta;
  auto fraction = static_cast<unsigned>(ticks % 10000000);
  std::int64_t days = seconds >= 0 ? seconds / 86400 : (seconds - 86399) / 86400;
  std::int64_t in_day = seconds - days * 86400;
  std::int64_t year;
  unsigned month, day;
  CivilFromDays(days, &year, &month, &day);
  char buffer[64];
  int n = std::snprintf(
      buffer, sizeof(buffer), "%04lld-%02u-%02uT%02lld:%02lld:%02lld.%07u00Z",
      static_cast<long long>(year), month, day, static_cast<long long>(in_day / 3600),
      static_cast<long long>(in_day / 60 % 60), static_cast<long long>(in_day % 60), fraction);
  out->append(buffer, static_cast<std::size_t>(n));
}

void AppendEscaped(std::string_view text, std::string* out) {
  for (char c : text) {
    switch (c) {
      case '&':
        out->append("&amp;");
        break;
      case '<':
        out->append("&lt;");
        break;
      case '>':
        out->append("&gt;");
        break;
      case '"':
        out->append("&quot;");
        break;
      default:
        out->push_back(c);
    }
  }
}

// A stretch of one of the parser's text buffers.
struct Span {
  std::uint32_t begin = 0;
  std::uint32_t size = 0;
};

// The decoded record as a flat document: element starts and ends, attributes and text runs.
enum class ItemKind : std::uint8_t { kStart, kAttribute, kText, kEnd };
struct Item {
  ItemKind kind;
  Span name;   // element or attribute name, in the chunk's name buffer
  Span value;  // attribute value or text, in the record's text buffer
};

// One entry of a template instance's substitution array: where its value lies in the chunk.
struct Substitution {
  std::uint32_t offset;  // chunk offset of the value, bytes
  std::uint32_t size;    // bytes
  std::uint8_t type;     // ValueType
};

// The substitution array in effect: a run of `subs_` entries.
struct SubstitutionScope {
  std::size_t first = 0;
  std::size_t count = 0;
};

// Decodes the binary XML of the records of one chunk. Names and templates are cached per chunk
// by chunk offset; the item list and text buffer are reused from record to record.
class BinXmlParser {
 public:
  void Reset(const std::uint8_t* chunk, std::size_t size) {
    chunk_ = chunk;
    size_ = size;
    names_.clear();
    name_cache_.clear();
    templates_.clear();
  }

  // Decodes the binary XML in chunk bytes [begin, end). False with `error` set when the record
  // cannot be decoded; `problems` lists damaged values of a record that could.
  bool Parse(std::uint32_t begin, std::uint32_t end, std::string* error) {
    items_.clear();
    text_.clear();
    subs_.clear();
    problems_.clear();
    error_.clear();
    tokens_ = 0;
    std::uint32_t pos = begin;
    bool ok = ParseStream(&pos, end, SubstitutionScope(), 0);
    if (ok && items_.empty()) {
      ok = false;
      error_ = "no element in the record";
    }
    if (!ok) *error = error_;
    return ok;
  }

  const std::vector<Item>& items() const { return items_; }
  const std::vector<std::string>& problems() const { return problems_; }
  std::string_view Name(Span span) const {
    return std::string_view(names_).substr(span.begin, span.size);
  }
  std::string_view Text(Span span) const {
    return std::string_view(text_).substr(span.begin, span.size);
  }
  // Joins text runs into one (appends to the buffer; call before taking views).
  Span Concat(Span a, Span b) {
    Span joined{static_cast<std::uint32_t>(text_.size()), a.size + b.size};
    text_.reserve(text_.size() + a.size + b.size);  // no reallocation while copying from itself
    text_.append(text_, a.begin, a.size);
    text_.append(text_, b.begin, b.size);
    return joined;
  }

 private:
  bool Fail(std::string message) {
    if (error_.empty()) error_ = std::move(message);
    return false;
  }
  bool Need(std::uint32_t pos, std::size_t bytes, std::uint32_t end, const char* what) {
    if (pos <= end && bytes <= end - pos) return true;
    return Fail(std::string("truncated ") + what + " at chunk offset " + std::to_string(pos));
  }
  bool CountToken() {
    if (++tokens_ <= kMaxTokens && text_.size() <= kMaxExpandedBytes) return true;
    return Fail("record expands beyond the token or size budget");
  }

  // The name (a chunk string: next offset, hash, count, UTF-16) at chunk offset `offset`.
  bool ReadName(std::uint32_t offset, Span* span) {
    auto found = name_cache_.find(offset);
    if (found != name_cache_.end()) {
      *span = found->second;
      return true;
    }
    if (!Need(offset, 8, static_cast<std::uint32_t>(size_), "name")) return false;
    std::size_t units = U16(chunk_ + offset + 6);
    if (!Need(offset + 8, 2 * units, static_cast<std::uint32_t>(size_), "name")) return false;
    span->begin = static_cast<std::uint32_t>(names_.size());
    AppendUtf16(chunk_ + offset + 8, units, &names_);
    span->size = static_cast<std::uint32_t>(names_.size() - span->begin);
    name_cache_.emplace(offset, *span);
    return true;
  }

  // Reads a name reference at *pos; an inline name (offset == position after it) is skipped.
  bool NameRef(std::uint32_t* pos, std::uint32_t end, Span* span) {
    if (!Need(*pos, 4, end, "name reference")) return false;
    std::uint32_t offset = U32(chunk_ + *pos);
    *pos += 4;
    if (offset == *pos) {
      if (!Need(*pos, 8, end, "inline name")) return false;
      std::size_t units = U16(chunk_ + *pos + 6);
      if (!Need(*pos, 8 + 2 * units + 2, end, "inline name")) return false;
      *pos += static_cast<std::uint32_t>(8 + 2 * units + 2);
    }
    return ReadName(offset, span);
  }

  void PushText(Span span) {
    if (span.size == 0) return;
    if (!items_.empty() && items_.back().kind == ItemKind::kText &&
        items_.back().value.begin + items_.back().value.size == span.begin) {
      items_.back().value.size += span.size;
      return;
    }
    items_.push_back(Item{ItemKind::kText, Span(), span});
  }

  // Top level of a fragment: header, template instance or elements, up to the end of stream.
  bool ParseStream(std::uint32_t* pos, std::uint32_t end, SubstitutionScope scope, int depth) {
    if (depth > kMaxDepth) return Fail("binary XML nested deeper than 64 levels");
    while (*pos < end) {
      if (!CountToken()) return false;
      std::uint8_t token = chunk_[*pos] & 0xBF;
      switch (token) {
        case kEndOfStream:
          ++*pos;
          return true;
        case kFragmentHeader:
          if (!Need(*pos, 4, end, "fragment header")) return false;
          *pos += 4;
          break;
        case kTemplateInstance:
          if (!ParseTemplateInstance(pos, end, depth + 1)) return false;
          break;
        case kOpenStartElement:
          if (!ParseElement(pos, end, scope, depth + 1)) return false;
          break;
        default:
          return Fail("unexpected token 0x" + HexByte(chunk_[*pos]) + " at chunk offset " +
                      std::to_string(*pos));
      }
    }
    return true;  // a value's fragment may end without an end-of-stream token
  }

  static std::string HexByte(std::uint8_t b) {
    static constexpr char kHex[] = "0123456789abcdef";
    return std::string{kHex[b >> 4], kHex[b & 15]};
  }

  bool ParseTemplateInstance(std::uint32_t* pos, std::uint32_t end, int depth) {
    if (depth > kMaxDepth) return Fail("binary XML nested deeper than 64 levels");
    if (!Need(*pos, 10, end, "template instance")) return false;
    std::uint32_t definition = U32(chunk_ + *pos + 6);
    *pos += 10;
    std::uint32_t body_size;
    auto cached = templates_.find(definition);
    if (cached != templates_.end()) {
      body_size = cached->second;
    } else {
      if (definition < kChunkHeaderSize || definition + std::size_t{25} > size_ ||
          U32(chunk_ + definition + 20) > size_ - definition - 24 ||
          (chunk_[definition + 24] & 0xBF) != kFragmentHeader) {
        return Fail("template definition at chunk offset " + std::to_string(definition) +
                    " is missing or damaged");
      }
      body_size = U32(chunk_ + definition + 20);
      templates_.emplace(definition, body_size);
    }
    if (definition == *pos) {  // defined inline: skip the definition
      if (!Need(*pos, 24 + std::size_t{body_size}, end, "template definition")) return false;
      *pos += 24 + body_size;
    }
    // The substitution array: count, (size, type) descriptors, then the values in order.
    if (!Need(*pos, 4, end, "substitution array")) return false;
    std::uint32_t count = U32(chunk_ + *pos);
    *pos += 4;
    if (!Need(*pos, std::size_t{count} * 4, end, "substitution array")) return false;
    SubstitutionScope scope{subs_.size(), count};
    std::uint32_t value = *pos + count * 4;
    for (std::uint32_t i = 0; i < count; ++i) {
      const std::uint8_t* descriptor = chunk_ + *pos + 4 * i;
      std::uint16_t value_size = U16(descriptor);
      if (!Need(value, value_size, end, "substitution value")) return false;
      subs_.push_back(Substitution{value, value_size, descriptor[2]});
      value += value_size;
    }
    *pos = value;
    std::uint32_t body = definition + 24;
    return ParseStream(&body, body + body_size, scope, depth);
  }

  bool ParseElement(std::uint32_t* pos, std::uint32_t end, SubstitutionScope scope, int depth) {
    if (depth > kMaxDepth) return Fail("binary XML nested deeper than 64 levels");
    std::uint8_t token = chunk_[*pos];
    // Token, dependency id (absent outside templates), data size, name offset, [inline name].
    // Tell the two layouts apart by where the name offset points.
    std::uint32_t start = *pos;
    bool with_dependency = true;
    if (start + std::size_t{11} <= end) {
      std::uint32_t with = U32(chunk_ + start + 7);
      std::uint32_t without = U32(chunk_ + start + 5);
      if (with != start + 11 &&
          (without == start + 9 || with >= size_ || (with > start && without < start))) {
        with_dependency = false;
      }
    } else {
      with_dependency = false;
    }
    *pos = start + (with_dependency ? 7 : 5);
    if (*pos > end) return Fail("truncated element at chunk offset " + std::to_string(start));
    Span name;
    if (!NameRef(pos, end, &name)) return false;
    if (token & 0x40) {  // attribute list size
      if (!Need(*pos, 4, end, "attribute list")) return false;
      *pos += 4;
    }
    items_.push_back(Item{ItemKind::kStart, name, Span()});
    // Attributes: name, then value tokens.
    while (*pos < end && (chunk_[*pos] & 0xBF) == kAttribute) {
      if (!CountToken()) return false;
      ++*pos;
      Span attribute;
      if (!NameRef(pos, end, &attribute)) return false;
      Span value{static_cast<std::uint32_t>(text_.size()), 0};
      bool omitted = false;
      bool any = false;
      while (*pos < end) {
        std::uint8_t t = chunk_[*pos] & 0xBF;
        if (t != kValue && t != kSubstitution && t != kOptionalSubstitution && t != kCharRef &&
            t != kEntityRef && t != kCdata) {
          break;
        }
        bool was_null = false;
        if (!ParseText(pos, end, scope, depth, /*in_attribute=*/true, &was_null)) return false;
        if (was_null && t == kOptionalSubstitution) omitted = true;
        any = true;
      }
      if (!any) return Fail("attribute without a value at chunk offset " + std::to_string(*pos));
      value.size = static_cast<std::uint32_t>(text_.size() - value.begin);
      if (!(omitted && value.size == 0)) {
        items_.push_back(Item{ItemKind::kAttribute, attribute, value});
      }
    }
    if (!Need(*pos, 1, end, "element")) return false;
    std::uint8_t close = chunk_[*pos] & 0xBF;
    ++*pos;
    if (close == kCloseEmptyElement || close == kEndElement) {
      items_.push_back(Item{ItemKind::kEnd, name, Span()});
      return true;
    }
    if (close != kCloseStartElement) {
      return Fail("element not closed at chunk offset " + std::to_string(*pos - 1));
    }
    // Content up to the end-element token.
    while (true) {
      if (!Need(*pos, 1, end, "element content")) return false;
      if (!CountToken()) return false;
      std::uint8_t t = chunk_[*pos] & 0xBF;
      switch (t) {
        case kEndElement:
          ++*pos;
          items_.push_back(Item{ItemKind::kEnd, name, Span()});
          return true;
        case kOpenStartElement:
          if (!ParseElement(pos, end, scope, depth + 1)) return false;
          break;
        case kValue:
        case kCdata:
        case kCharRef:
        case kEntityRef:
        case kSubstitution:
        case kOptionalSubstitution: {
          bool was_null = false;
          if (!ParseText(pos, end, scope, depth, /*in_attribute=*/false, &was_null)) return false;
          break;
        }
        case kPiTarget: {
          ++*pos;
          Span ignored;
          if (!NameRef(pos, end, &ignored)) return false;
          break;
        }
        case kPiData: {
          if (!Need(*pos, 3, end, "processing instruction")) return false;
          std::size_t units = U16(chunk_ + *pos + 1);
          if (!Need(*pos, 3 + 2 * units, end, "processing instruction")) return false;
          *pos += static_cast<std::uint32_t>(3 + 2 * units);
          break;
        }
        case kTemplateInstance:
          if (!ParseTemplateInstance(pos, end, depth + 1)) return false;
          break;
        case kFragmentHeader:
          if (!Need(*pos, 4, end, "fragment header")) return false;
          *pos += 4;
          break;
        default:
          return Fail("unexpected token 0x" + HexByte(chunk_[*pos]) +
                      " in element content at chunk offset " + std::to_string(*pos));
      }
    }
  }

  // One text-producing token: value, CDATA, character or entity reference, substitution.
  // Text goes to the buffer (and, outside attributes, becomes a text item); a BinXml value in
  // element content is decoded in place.
  bool ParseText(std::uint32_t* pos, std::uint32_t end, SubstitutionScope scope, int depth,
                 bool in_attribute, bool* was_null) {
    std::uint8_t t = chunk_[*pos] & 0xBF;
    auto begin = static_cast<std::uint32_t>(text_.size());
    switch (t) {
      case kValue: {
        if (!Need(*pos, 2, end, "value")) return false;
        std::uint8_t type = chunk_[*pos + 1];
        *pos += 2;
        if (type == kString) {
          if (!Need(*pos, 2, end, "value")) return false;
          std::size_t units = U16(chunk_ + *pos);
          if (!Need(*pos, 2 + 2 * units, end, "value")) return false;
          AppendUtf16(chunk_ + *pos + 2, units, &text_);
          *pos += static_cast<std::uint32_t>(2 + 2 * units);
        } else {
          std::size_t size = FixedSize(type);
          if (size == 0) return Fail("value token of unsupported type " + std::to_string(type));
          if (!Need(*pos, size, end, "value")) return false;
          RenderValue(type, *pos, static_cast<std::uint32_t>(size), &text_);
          *pos += static_cast<std::uint32_t>(size);
        }
        break;
      }
      case kCdata: {
        if (!Need(*pos, 3, end, "CDATA")) return false;
        std::size_t units = U16(chunk_ + *pos + 1);
        if (!Need(*pos, 3 + 2 * units, end, "CDATA")) return false;
        AppendUtf16(chunk_ + *pos + 3, units, &text_);
        *pos += static_cast<std::uint32_t>(3 + 2 * units);
        break;
      }
      case kCharRef: {
        if (!Need(*pos, 3, end, "character reference")) return false;
        std::uint32_t cp = U16(chunk_ + *pos + 1);
        AppendUtf8(cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF) ? 0xFFFD : cp, &text_);
        *pos += 3;
        break;
      }
      case kEntityRef: {
        ++*pos;
        Span entity;
        if (!NameRef(pos, end, &entity)) return false;
        std::string_view n = Name(entity);
        if (n == "amp")
          text_.push_back('&');
        else if (n == "lt")
          text_.push_back('<');
        else if (n == "gt")
          text_.push_back('>');
        else if (n == "quot")
          text_.push_back('"');
        else if (n == "apos")
          text_.push_back('\'');
        else
          text_.append("&").append(n).append(";");
        break;
      }
      case kSubstitution:
      case kOptionalSubstitution: {
        if (!Need(*pos, 4, end, "substitution")) return false;
        std::uint16_t id = U16(chunk_ + *pos + 1);
        *pos += 4;
        if (id >= scope.count) {
          *was_null = true;
          if (t == kSubstitution) {
            problems_.push_back("substitution " + std::to_string(id) + " of " +
                                std::to_string(scope.count) + " is missing; rendered empty");
          }
          break;
        }
        Substitution sub = subs_[scope.first + id];
        if (sub.type == kNull || sub.size == 0) {
          *was_null = true;
          break;
        }
        if (sub.type == kBinXml) {
          if (in_attribute) break;  // never seen; nothing sensible to render
          std::uint32_t inner = sub.offset;
          return ParseStream(&inner, sub.offset + sub.size, SubstitutionScope(), depth + 1);
        }
        RenderValue(sub.type, sub.offset, sub.size, &text_);
        break;
      }
      default:
        return Fail("unexpected token in text");
    }
    if (!in_attribute) {
      PushText(Span{begin, static_cast<std::uint32_t>(text_.size() - begin)});
    }
    return true;
  }

  static std::size_t FixedSize(std::uint8_t type) {
    switch (type & 0x7F) {
      case kInt8:
      case kUInt8:
        return 1;
      case kInt16:
      case kUInt16:
        return 2;
      case kInt32:
      case kUInt32:
      case kReal32:
      case kBool:
      case kHexInt32:
        return 4;
      case kInt64:
      case kUInt64:
      case kReal64:
      case kFileTime:
      case kHexInt64:
        return 8;
      case kGuid:
      case kSystemTime:
        return 16;
      default:
        return 0;
    }
  }

  // Renders the value of `type` in chunk bytes [offset, offset + size) the way Windows' XML
  // rendering shows it.
  void RenderValue(std::uint8_t type, std::uint32_t offset, std::uint32_t size, std::string* out) {
    const std::uint8_t* p = chunk_ + offset;
    if (type & kArrayFlag) {
      std::uint8_t base = type & 0x7F;
      bool first = true;
      auto separator = [&] {
        if (!first) out->append(", ");
        first = false;
      };
      if (base == kString) {
        std::size_t units = size / 2, i = 0;
        while (i < units) {
          separator();
          i += AppendUtf16(p + 2 * i, units - i, out);
        }
      } else if (base == kAnsiString) {
        std::size_t i = 0;
        while (i < size) {
          separator();
          for (; i < size && p[i] != 0; ++i) AppendUtf8(p[i], out);
          ++i;
        }
      } else {
        std::size_t element = base == kSizeT ? (size % 8 == 0 ? 8 : 4) : FixedSize(base);
        if (element == 0) {
          RenderValue(kBinary, offset, size, out);
          return;
        }
        for (std::uint32_t i = 0; i + element <= size; i += static_cast<std::uint32_t>(element)) {
          separator();
          RenderValue(base, offset + i, static_cast<std::uint32_t>(element), out);
        }
      }
      return;
    }
    std::size_t fixed = FixedSize(type);
    if (fixed != 0 && size < fixed) {
      problems_.push_back("value of type " + std::to_string(type) + " has " + std::to_string(size) +
                          " bytes; rendered as hex");
      type = kBinary;
    }
    switch (type) {
      case kString:
        AppendUtf16(p, size / 2, out);
        return;
      case kAnsiString:
        for (std::uint32_t i = 0; i < size && p[i] != 0; ++i) AppendUtf8(p[i], out);
        return;
      case kInt8:
        AppendNumber(static_cast<std::int8_t>(p[0]) + 0, out);
        return;
      case kUInt8:
        AppendNumber(p[0] + 0u, out);
        return;
      case kInt16:
        AppendNumber(static_cast<std::int16_t>(U16(p)) + 0, out);
        return;
      case kUInt16:
        AppendNumber(U16(p) + 0u, out);
        return;
      case kInt32:
        AppendNumber(static_cast<std::int32_t>(U32(p)), out);
        return;
      case kUInt32:
        AppendNumber(U32(p), out);
        return;
      case kInt64:
        AppendNumber(static_cast<std::int64_t>(U64(p)), out);
        return;
      case kUInt64:
        AppendNumber(U64(p), out);
        return;
      case kReal32: {
        float f;
        std::memcpy(&f, p, 4);
        AppendNumber(f, out);
        return;
      }
      case kReal64: {
        double d;
        std::memcpy(&d, p, 8);
        AppendNumber(d, out);
        return;
      }
      case kBool:
        out->append(U32(p) != 0 ? "true" : "false");
        return;
      case kGuid: {
        char buffer[48];
        int n = std::snprintf(
            buffer, sizeof(buffer), "{%08X-%04X-%04X-%02X%02X-%02X%02X%02X%02X%02X%02X}", U32(p),
            U16(p + 4), U16(p + 6), p[8], p[9], p[10], p[11], p[12], p[13], p[14], p[15]);
        out->append(buffer, static_cast<std::size_t>(n));
        return;
      }
      case kSizeT:
        if (size >= 8) {
          AppendHex(U64(p), 16, out);
        } else if (size >= 4) {
          AppendHex(U32(p), 8, out);
        } else {
          RenderValue(kBinary, offset, size, out);
        }
        return;
      case kFileTime:
        AppendFileTime(U64(p), out);
        return;
      case kSystemTime: {
        char buffer[64];
        int n = std::snprintf(buffer, sizeof(buffer), "%04u-%02u-%02uT%02u:%02u:%02u.%03u000000Z",
                              U16(p), U16(p + 2), U16(p + 6), U16(p + 8), U16(p + 10), U16(p + 12),
                              U16(p + 14));
        out->append(buffer, static_cast<std::size_t>(n));
        return;
      }
      case kSid: {
        if (size < 8 || size < 8u + 4u * p[1]) {
          problems_.push_back("SID of " + std::to_string(size) + " bytes is truncated");
          RenderValue(kBinary, offset, size, out);
          return;
        }
        std::uint64_t authority = 0;
        for (int i = 2; i < 8; ++i) authority = (authority << 8) | p[i];
        out->append("S-");
        AppendNumber(p[0] + 0u, out);
        out->push_back('-');
        if (authority >= (std::uint64_t{1} << 32)) {
          AppendHex(authority, 12, out);
        } else {
          AppendNumber(authority, out);
        }
        for (unsigned i = 0; i < p[1]; ++i) {
          out->push_back('-');
          AppendNumber(U32(p + 8 + 4 * i), out);
        }
        return;
      }
      case kHexInt32:
        AppendHex(U32(p), 8, out);
        return;
      case kHexInt64:
        AppendHex(U64(p), 16, out);
        return;
      default: {  // binary, handles, EvtXml and unknown types: upper-case hex
        static constexpr char kHex[] = "0123456789ABCDEF";
        for (std::uint32_t i = 0; i < size; ++i) {
          out->push_back(kHex[p[i] >> 4]);
          out->push_back(kHex[p[i] & 15]);
        }
        return;
      }
    }
  }

  const std::uint8_t* chunk_ = nullptr;
  std::size_t size_ = 0;
  std::string names_;                                           // UTF-8 names of this chunk
  std::unordered_map<std::uint32_t, Span> name_cache_;          // chunk offset -> name
  std::unordered_map<std::uint32_t, std::uint32_t> templates_;  // definition offset -> body size
  std::vector<Item> items_;
  std::string text_;  // UTF-8 values and text of the current record
  std::vector<Substitution> subs_;
  std::vector<std::string> problems_;
  std::string error_;
  std::size_t tokens_ = 0;
};

std::string_view LocalName(std::string_view name) {
  std::size_t colon = name.find(':');
  return colon == std::string_view::npos ? name : name.substr(colon + 1);
}

// Fills `event` from the decoded items, by element and attribute name as the XML decoder does.
// Views point into `parser`.
void FillWinEvent(BinXmlParser* parser, WinEvent* event) {
  struct Fields {
    Span provider, channel, event_id, version, computer, record_id, system_time, user_id;
  } f;
  std::vector<std::pair<Span, Span>> data;
  std::array<std::string_view, 4> path;  // local names of the open elements, the first four
  int depth = 0;
  Span text;       // text of the current leaf element
  Span data_name;  // Name attribute of the current Data element
  const std::vector<Item>& items = parser->items();
  auto in = [&](std::string_view a, std::string_view b) {
    return depth == 3 && path[0] == "Event" && path[1] == a && path[2] == b;
  };
  for (std::size_t i = 0; i < items.size(); ++i) {
    const Item& item = items[i];
    switch (item.kind) {
      case ItemKind::kStart:
        if (depth < static_cast<int>(path.size())) path[depth] = LocalName(parser->Name(item.name));
        ++depth;
        text = Span();
        data_name = Span();
        break;
      case ItemKind::kAttribute: {
        std::string_view name = parser->Name(item.name);
        if (in("System", "Provider") && name == "Name") f.provider = item.value;
        if (in("System", "TimeCreated") && name == "SystemTime") f.system_time = item.value;
        if (in("System", "Security") && name == "UserID") f.user_id = item.value;
        if (in("EventData", "Data") && name == "Name") data_name = item.value;
        break;
      }
      case ItemKind::kText:
        text = text.size == 0 ? item.value : parser->Concat(text, item.value);
        break;
      case ItemKind::kEnd:
        if (depth == 3 && path[0] == "Event" && path[1] == "System") {
          std::string_view leaf = path[2];
          if (leaf == "Channel")
            f.channel = text;
          else if (leaf == "EventID")
            f.event_id = text;
          else if (leaf == "Version")
            f.version = text;
          else if (leaf == "Computer")
            f.computer = text;
          else if (leaf == "EventRecordID")
            f.record_id = text;
        } else if (in("EventData", "Data")) {
          data.emplace_back(data_name, text);
        }
        --depth;
        text = Span();
        break;
    }
  }
  *event = WinEvent();
  event->provider = parser->Text(f.provider);
  event->channel = parser->Text(f.channel);
  event->event_id = ParseEventInteger(parser->Text(f.event_id));
  event->version = ParseEventInteger(parser->Text(f.version));
  event->computer = parser->Text(f.computer);
  event->record_id = ParseEventInteger(parser->Text(f.record_id));
  event->system_time = parser->Text(f.system_time);
  event->security_user_id = parser->Text(f.user_id);
  event->data.reserve(data.size());
  for (const auto& [name, value] : data) {
    event->data.emplace_back(parser->Text(name), parser->Text(value));
  }
}

// Renders the decoded items as event XML.
void RenderXml(const BinXmlParser& parser, std::string* out) {
  out->clear();
  bool open = false;  // a start tag waits for its '>'
  for (const Item& item : parser.items()) {
    switch (item.kind) {
      case ItemKind::kStart:
        if (open) out->push_back('>');
        out->push_back('<');
        out->append(parser.Name(item.name));
        open = true;
        break;
      case ItemKind::kAttribute:
        out->push_back(' ');
        out->append(parser.Name(item.name));
        out->append("=\"");
        AppendEscaped(parser.Text(item.value), out);
        out->push_back('"');
        break;
      case ItemKind::kText:
        if (open) out->push_back('>');
        open = false;
        AppendEscaped(parser.Text(item.value), out);
        break;
      case ItemKind::kEnd:
        if (open) {
          out->append("/>");
        } else {
          out->append("</");
          out->append(parser.Name(item.name));
          out->push_back('>');
        }
        open = false;
        break;
    }
  }
}

std::string HexExcerpt(const std::uint8_t* p, std::size_t size) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (std::size_t i = 0; i < size && i < 64; ++i) {
    if (i) hex.push_back(' ');
    hex.push_back(kHex[p[i] >> 4]);
    hex.push_back(kHex[p[i] & 15]);
  }
  return hex;
}

// What the file walk reports besides good records.
struct Damage {
  IngestWarning::Severity severity;
  std::int64_t offset;                    // file offset of the damaged structure
  std::optional<std::int64_t> record_id;  // the record's id when known
  std::string reason;
  std::string excerpt;
  bool lost_record;  // a record (or more) is gone
};

// Walks an EVTX file: every chunk slot to the end of the file, every record of each chunk.
// `on_record` gets each decoded record (file offset, record id, parser); false stops the walk.
Status WalkEvtx(ByteSource* file,
                const std::function<bool(std::int64_t, std::int64_t, BinXmlParser*)>& on_record,
                const std::function<void(Damage&&)>& on_damage) {
  std::vector<std::uint8_t> buffer(kChunkSize);
  auto read = [&](std::size_t size) {
    return file->ReadFull(reinterpret_cast<char*>(buffer.data()), size);
  };
  Result<std::size_t> got = read(kFileHeaderSize);
  if (!got.ok()) return got.status();
  std::size_t n = *got;
  if (n < kFileHeaderSize) {
    on_damage({IngestWarning::Severity::kRejected, 0, std::nullopt,
               "file header truncated at " + std::to_string(n) + " bytes; no chunks",
               HexExcerpt(buffer.data(), n), true});
    return Status::Ok();
  }
  if (std::memcmp(buffer.data(), "ElfFile\0", 8) != 0) {
    on_damage({IngestWarning::Severity::kRejected, 0, std::nullopt, "file header: bad signature",
               HexExcerpt(buffer.data(), 16), true});
    return Status::Ok();
  }
  if (Crc32(buffer.data(), 120) != U32(buffer.data() + 124)) {
    on_damage({IngestWarning::Severity::kField, 0, std::nullopt,
               "file header: checksum mismatch; reading on", "", false});
  }
  // The header's chunk count (offset 42) may understate: every chunk slot is read.
  auto header_chunks = static_cast<std::int64_t>(U16(buffer.data() + 42));
  std::vector<Damage> pending;  // bad slots past the header's count, not yet known to be damage
  BinXmlParser parser;
  for (std::int64_t chunk = 0;; ++chunk) {
    std::int64_t chunk_offset = static_cast<std::int64_t>(kFileHeaderSize) + chunk * kChunkSize;
    got = read(kChunkSize);
    if (!got.ok()) return got.status();
    n = *got;
    if (n == 0) break;
    const std::uint8_t* c = buffer.data();
    std::string where = "chunk " + std::to_string(chunk);
    if (n < kChunkHeaderSize || std::memcmp(c, "ElfChnk\0", 8) != 0) {
      bool zero = std::all_of(c, c + n, [](std::uint8_t b) { return b == 0; });
      if (!zero) {
        Damage damage{IngestWarning::Severity::kRejected,
                      chunk_offset,
                      std::nullopt,
                      where +
                          (n < kChunkHeaderSize ? ": truncated chunk header" : ": bad signature") +
                          "; chunk skipped",
                      HexExcerpt(c, std::min<std::size_t>(n, 16)),
                      true};
        // Past the header's count, slots without a signature are usually unused space with old
        // bytes in it: damage only when a real chunk follows.
        if (chunk < header_chunks) {
          on_damage(std::move(damage));
        } else {
          pending.push_back(std::move(damage));
        }
      }
      if (n < kChunkSize) break;
      continue;
    }
    for (Damage& damage : pending) on_damage(std::move(damage));
    pending.clear();
    if (n < kChunkSize) {
      on_damage({IngestWarning::Severity::kField, chunk_offset, std::nullopt,
                 where + ": truncated at " + std::to_string(n) +
                     " bytes (file ends); records after that are lost",
                 "", false});
    }
    std::uint32_t header_crc = Crc32(c, 120);
    header_crc = Crc32(c + 128, kChunkHeaderSize - 128, header_crc);
    if (header_crc != U32(c + 124)) {
      on_damage({IngestWarning::Severity::kField, chunk_offset, std::nullopt,
                 where + ": header checksum mismatch; reading on", "", false});
    }
    std::uint32_t free_space = U32(c + 48);
    std::size_t data_end = n;
    if (free_space < kChunkHeaderSize || free_space > kChunkSize) {
      on_damage({IngestWarning::Severity::kField, chunk_offset, std::nullopt,
                 where + ": free space offset " + std::to_string(free_space) +
                     " out of range; scanning the whole chunk",
                 "", false});
    } else {
      if (free_space <= n &&
          Crc32(c + kChunkHeaderSize, free_space - kChunkHeaderSize) != U32(c + 52)) {
        on_damage({IngestWarning::Severity::kField, chunk_offset, std::nullopt,
                   where + ": record data checksum mismatch; reading on", "", false});
      }
      data_end = std::min<std::size_t>(free_space, n);
    }
    parser.Reset(c, n);

    // A record: "**\0\0", size, id, written time, binary XML, size again.
    auto valid_at = [&](std::size_t at, std::uint32_t* size) {
      if (at + kRecordHeaderSize + kRecordTrailerSize > data_end) return false;
      if (std::memcmp(c + at, "\x2a\x2a\x00\x00", 4) != 0) return false;
      *size = U32(c + at + 4);
      return *size >= kRecordHeaderSize + kRecordTrailerSize && *size <= data_end - at &&
             U32(c + at + *size - 4) == *size;
    };
    auto resync = [&](std::size_t from) {
      std::uint32_t ignored;
      for (std::size_t at = from; at + kRecordHeaderSize <= data_end; ++at) {
        if (c[at] == 0x2a && valid_at(at, &ignored)) return at;
      }
      return data_end;
    };
    std::size_t pos = kChunkHeaderSize;
    while (pos + kRecordHeaderSize <= data_end) {
      std::int64_t record_offset = chunk_offset + static_cast<std::int64_t>(pos);
      std::uint32_t size = 0;
      if (!valid_at(pos, &size)) {
        std::string problem;
        std::optional<std::int64_t> id;
        if (std::memcmp(c + pos, "\x2a\x2a\x00\x00", 4) != 0) {
          if (std::all_of(c + pos, c + data_end, [](std::uint8_t b) { return b == 0; })) break;
          problem = "no record signature at chunk offset " + std::to_string(pos);
        } else {
          size = U32(c + pos + 4);
          id = static_cast<std::int64_t>(U64(c + pos + 8));
          if (size == 0) {
            problem = "record size is zero";
          } else if (size < kRecordHeaderSize + kRecordTrailerSize) {
            problem = "record size " + std::to_string(size) + " is too small";
          } else if (size > data_end - pos) {
            problem = "record size " + std::to_string(size) + " runs past the chunk's data (" +
                      std::to_string(data_end - pos) + " bytes left)";
          } else {
            problem = "record size " + std::to_string(size) + " does not match its copy " +
                      std::to_string(U32(c + pos + size - 4));
            // Only the trailing copy is off: the record may still decode whole.
            std::string error;
            if (parser.Parse(static_cast<std::uint32_t>(pos + kRecordHeaderSize),
                             static_cast<std::uint32_t>(pos + size - kRecordTrailerSize), &error)) {
              on_damage({IngestWarning::Severity::kField, record_offset, id,
                         where + ": record " + std::to_string(*id) + ": " + problem +
                             "; the record decoded and was read",
                         "", false});
              if (!on_record(record_offset, *id, &parser)) return Status::Ok();
              pos += size;
              continue;
            }
          }
        }
        std::size_t next = resync(pos + 1);
        on_damage({IngestWarning::Severity::kRejected, record_offset, id,
                   where + ": record " + (id ? std::to_string(*id) : std::string("?")) + ": " +
                       problem + "; skipped " + std::to_string(next - pos) +
                       " bytes to the next record",
                   HexExcerpt(c + pos, std::min<std::size_t>(32, data_end - pos)), true});
        pos = next;
        continue;
      }
      auto record_id = static_cast<std::int64_t>(U64(c + pos + 8));
      std::string error;
      if (!parser.Parse(static_cast<std::uint32_t>(pos + kRecordHeaderSize),
                        static_cast<std::uint32_t>(pos + size - kRecordTrailerSize), &error)) {
        on_damage({IngestWarning::Severity::kRejected, record_offset, record_id,
                   where + ": record " + std::to_string(record_id) + ": " + error,
                   HexExcerpt(c + pos + kRecordHeaderSize,
                              std::min<std::size_t>(32, size - kRecordHeaderSize)),
                   true});
      } else if (!on_record(record_offset, record_id, &parser)) {
        return Status::Ok();
      }
      pos += size;
    }
    if (n < kChunkSize) break;
  }
  return Status::Ok();
}

}  // namespace

Status DecodeEvtxStream(ByteSource* source, const DecodeOptions& options, const BatchSink& sink) {
  Batcher batcher(options, sink);
  WinEvent event;
  std::vector<std::string> problems;
  std::string raw;
  bool stopped = false;
  Status status = WalkEvtx(
      source,
      [&](std::int64_t offset, std::int64_t record_id, BinXmlParser* parser) {
        FillWinEvent(parser, &event);
        ProcessEvent row;
        problems.assign(parser->problems().begin(), parser->problems().end());
        for (std::string& problem : problems) {
          problem = "record " + std::to_string(record_id) + ": " + problem;
        }
        NormalizeOutcome outcome = NormalizeWindowsEvent(event, &row, &problems);
        raw.clear();
        if (outcome != NormalizeOutcome::kSkipped) RenderXml(*parser, &raw);
        batcher.AddNormalized(outcome, std::move(row), &problems, offset, std::nullopt, raw,
                              event.record_id ? event.record_id : record_id);
        if (!batcher.MaybeFlush()) {
          stopped = true;
          return false;
        }
        return true;
      },
      [&](Damage&& damage) {
        DecodedBatch& batch = batcher.batch();
        batch.warnings.push_back(RecordWarning(damage.offset, std::nullopt, damage.excerpt,
                                               damage.severity, damage.record_id,
                                               std::move(damage.reason)));
        if (damage.lost_record) ++batch.records_rejected;
      });
  if (!stopped) batcher.Flush();
  return status;
}

Status DecodeEvtxFile(const std::string& path, const SniffResult& sniff,
                      const DecodeOptions& options, const BatchSink& sink) {
  (void)sniff;
  Result<std::unique_ptr<ByteSource>> file = OpenFileSource(path);
  if (!file.ok()) return file.status();
  return DecodeEvtxStream(file->get(), options, sink);
}

Status VisitEvtxRecords(
    const std::string& path, bool with_xml,
    const std::function<bool(std::int64_t, const WinEvent&, std::string_view)>& visit,
    std::int64_t* damaged) {
  Result<std::unique_ptr<ByteSource>> file = OpenFileSource(path);
  if (!file.ok()) return file.status();
  WinEvent event;
  std::string xml;
  return WalkEvtx(
      file->get(),
      [&](std::int64_t offset, std::int64_t, BinXmlParser* parser) {
        FillWinEvent(parser, &event);
        xml.clear();
        if (with_xml) RenderXml(*parser, &xml);
        return visit(offset, event, xml);
      },
      [&](Damage&& damage) {
        if (damaged && damage.lost_record) ++*damaged;
      });
}

Status RenderEvtxFileAsXml(const std::string& path, std::string* out, std::int64_t* damaged) {
  Result<std::unique_ptr<ByteSource>> file = OpenFileSource(path);
  if (!file.ok()) return file.status();
  std::string xml;
  return WalkEvtx(
      file->get(),
      [&](std::int64_t, std::int64_t, BinXmlParser* parser) {
        RenderXml(*parser, &xml);
        out->append(xml);
        out->push_back('\n');
        return true;
      },
      [&](Damage&& damage) {
        if (damaged && damage.lost_record) ++*damaged;
      });
}

}  // namespace quarry::ingest
