// EVTX decoding, written from the public format descriptions (libyal's "Windows XML Event Log
// (EVTX)" document, [MS-EVEN6]): file header -> 64 KiB chunks -> event records -> binary XML
// (tokens, templates with substitution arrays, typed values) -> a flat list of start / attribute
// / text / end items, from which WinEvent is filled and, for rows only, event XML is rendered.
//
// Speed (docs/performance.md): binary XML is compiled, a template body once per chunk, into ops
// that a record runs with its substitution values, so the records that share a template do not
// walk its tokens again; the ingest path first skims a record (Event/System rendered, the rest
// checked but not rendered) and decodes in full only the events the normalizers take; CRC-32
// uses carry-less multiplication where the CPU has it. None of this changes what is read: the
// compiled ops make the checks a token-by-token decode makes, in the same order.
#include "ingest/evtx.h"

#include <algorithm>
#include <array>
#include <bit>
#include <charconv>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#if defined(__x86_64__) || defined(__SSE2__)
#include <immintrin.h>
#endif

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
// Slicing by 8: table[k][b] is the CRC of byte b followed by k zero bytes, so eight bytes are
// folded per step.
using CrcTables = std::array<std::array<std::uint32_t, 256>, 8>;
constexpr CrcTables MakeCrcTables() {
  CrcTables tables{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    tables[0][i] = c;
  }
  for (std::size_t k = 1; k < 8; ++k) {
    for (std::uint32_t i = 0; i < 256; ++i) {
      std::uint32_t c = tables[k - 1][i];
      tables[k][i] = tables[0][c & 0xFF] ^ (c >> 8);
    }
  }
  return tables;
}
constexpr CrcTables kCrcTables = MakeCrcTables();

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define QUARRY_EVTX_CLMUL 1
// CRC-32 of `size` bytes (a multiple of 16, at least 64) by carry-less multiplication, from
// the running (inverted) value `crc`: four 128-bit lanes folded 64 bytes at a time, folded
// into one, then reduced to 32 bits (Barrett). The method and the constants (bit-reflected
// x^n mod P for the fold distances, P and its Barrett quotient) are those of Gopal, Ozturk
// et al., "Fast CRC Computation for Generic Polynomials Using PCLMULQDQ Instruction", Intel,
// 2009. Checked against the table on random data of every length up to 66,000 bytes.
#define QUARRY_EVTX_CLMUL_TARGET __attribute__((target("pclmul,sse4.1")))
QUARRY_EVTX_CLMUL_TARGET inline __m128i Load128(const std::uint8_t* p) {
  return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
}
// x folded forward by the distance `k` stands for, plus `next`.
QUARRY_EVTX_CLMUL_TARGET inline __m128i Fold128(__m128i x, __m128i k, __m128i next) {
  return _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(x, k, 0x11), next),
                       _mm_clmulepi64_si128(x, k, 0x00));
}
QUARRY_EVTX_CLMUL_TARGET std::uint32_t Crc32Clmul(const std::uint8_t* data, std::size_t size,
                                                  std::uint32_t crc) {
  const __m128i k1k2 = _mm_set_epi64x(0x01c6e41596, 0x0154442bd4);  // fold by 512 bits
  const __m128i k3k4 = _mm_set_epi64x(0x00ccaa009e, 0x01751997d0);  // fold by 128 bits
  const __m128i k5 = _mm_set_epi64x(0, 0x0163cd6124);               // 64 bits to 32
  const __m128i poly = _mm_set_epi64x(0x01f7011641, 0x01db710641);  // P', mu
  __m128i x1 = _mm_xor_si128(Load128(data), _mm_cvtsi32_si128(static_cast<int>(crc)));
  __m128i x2 = Load128(data + 16);
  __m128i x3 = Load128(data + 32);
  __m128i x4 = Load128(data + 48);
  for (data += 64, size -= 64; size >= 64; data += 64, size -= 64) {
    x1 = Fold128(x1, k1k2, Load128(data));
    x2 = Fold128(x2, k1k2, Load128(data + 16));
    x3 = Fold128(x3, k1k2, Load128(data + 32));
    x4 = Fold128(x4, k1k2, Load128(data + 48));
  }
  x1 = Fold128(x1, k3k4, x2);
  x1 = Fold128(x1, k3k4, x3);
  x1 = Fold128(x1, k3k4, x4);
  for (; size >= 16; data += 16, size -= 16) x1 = Fold128(x1, k3k4, Load128(data));
  const __m128i low32 = _mm_setr_epi32(~0, 0, ~0, 0);
  x1 = _mm_xor_si128(_mm_srli_si128(x1, 8), _mm_clmulepi64_si128(x1, k3k4, 0x10));
  x1 = _mm_xor_si128(_mm_clmulepi64_si128(_mm_and_si128(x1, low32), k5, 0x00),
                     _mm_srli_si128(x1, 4));
  __m128i t = _mm_clmulepi64_si128(_mm_and_si128(x1, low32), poly, 0x10);
  t = _mm_clmulepi64_si128(_mm_and_si128(t, low32), poly, 0x00);
  return static_cast<std::uint32_t>(_mm_extract_epi32(_mm_xor_si128(x1, t), 1));
}
#endif

// Continues a CRC-32 over `size` more bytes; start with 0.
std::uint32_t Crc32(const std::uint8_t* data, std::size_t size, std::uint32_t crc = 0) {
  const auto& t = kCrcTables;
  crc = ~crc;
#ifdef QUARRY_EVTX_CLMUL
  static const bool clmul = __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1");
  if (clmul && size >= 64) {
    std::size_t blocks = size & ~std::size_t{15};
    crc = Crc32Clmul(data, blocks, crc);
    data += blocks;
    size -= blocks;
  }
#endif
  for (; size >= 8; size -= 8, data += 8) {
    std::uint32_t lo = U32(data) ^ crc;
    std::uint32_t hi = U32(data + 4);
    crc = t[7][lo & 0xFF] ^ t[6][(lo >> 8) & 0xFF] ^ t[5][(lo >> 16) & 0xFF] ^ t[4][lo >> 24] ^
          t[3][hi & 0xFF] ^ t[2][(hi >> 8) & 0xFF] ^ t[1][(hi >> 16) & 0xFF] ^ t[0][hi >> 24];
  }
  for (; size > 0; --size, ++data) crc = t[0][(crc ^ *data) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

// Appends `units` UTF-16LE code units at `p` as UTF-8, stopping at the first NUL (Windows
// renders strings as C strings). Unpaired surrogates become U+FFFD. Returns the units read,
// the NUL included. Encodes into a stack buffer and appends it in blocks: most text is ASCII,
// one byte a unit, and is converted eight units at a time (SSE2) or four.
std::size_t AppendUtf16(const std::uint8_t* p, std::size_t units, std::string* out) {
  constexpr std::size_t kBlock = 512;
  char buffer[kBlock + 8];
  std::size_t used = 0;
  std::size_t i = 0;
  while (i < units) {
    if (used >= kBlock) {
      out->append(buffer, used);
      used = 0;
    }
#if defined(__SSE2__)
    if (i + 8 <= units) {  // eight ASCII units (none NUL) at once
      __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 2 * i));
      __m128i zero = _mm_setzero_si128();
      __m128i ascii = _mm_cmpeq_epi16(_mm_and_si128(v, _mm_set1_epi16(-128)), zero);  // < 0x80
      __m128i nul = _mm_cmpeq_epi16(v, zero);
      if (_mm_movemask_epi8(_mm_andnot_si128(nul, ascii)) == 0xFFFF) {
        _mm_storel_epi64(reinterpret_cast<__m128i*>(buffer + used), _mm_packus_epi16(v, v));
        used += 8;
        i += 8;
        continue;
      }
    }
#endif
    if constexpr (std::endian::native == std::endian::little) {
      if (i + 4 <= units) {  // four ASCII units (none NUL) at once
        std::uint64_t v;
        std::memcpy(&v, p + 2 * i, 8);
        if ((v & 0xFF80FF80FF80FF80u) == 0 &&
            ((v + 0x007F007F007F007Fu) & 0x0080008000800080u) == 0x0080008000800080u) {
          buffer[used] = static_cast<char>(v);
          buffer[used + 1] = static_cast<char>(v >> 16);
          buffer[used + 2] = static_cast<char>(v >> 32);
          buffer[used + 3] = static_cast<char>(v >> 48);
          used += 4;
          i += 4;
          continue;
        }
      }
    }
    std::uint32_t u = U16(p + 2 * i);
    ++i;
    if (u < 0x80) {
      if (u == 0) break;
      buffer[used++] = static_cast<char>(u);
      continue;
    }
    if (u < 0x800) {
      buffer[used++] = static_cast<char>(0xC0 | (u >> 6));
      buffer[used++] = static_cast<char>(0x80 | (u & 0x3F));
      continue;
    }
    if (u >= 0xD800 && u <= 0xDFFF) {
      std::uint32_t low = i < units ? U16(p + 2 * i) : 0;
      if (u <= 0xDBFF && low >= 0xDC00 && low <= 0xDFFF) {
        ++i;
        std::uint32_t cp = 0x10000 + ((u - 0xD800) << 10) + (low - 0xDC00);
        buffer[used++] = static_cast<char>(0xF0 | (cp >> 18));
        buffer[used++] = static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        buffer[used++] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        buffer[used++] = static_cast<char>(0x80 | (cp & 0x3F));
        continue;
      }
      u = 0xFFFD;
    }
    buffer[used++] = static_cast<char>(0xE0 | (u >> 12));
    buffer[used++] = static_cast<char>(0x80 | ((u >> 6) & 0x3F));
    buffer[used++] = static_cast<char>(0x80 | (u & 0x3F));
  }
  out->append(buffer, used);
  return i;
}

// Writes `value` in decimal with at least `min_digits` digits (zero-padded) at `out`; returns
// the end. printf's "%0*llu" without printf.
char* PutDecimal(std::uint64_t value, int min_digits, char* out) {
  char digits[24];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0);
  for (; n < min_digits; --min_digits) *out++ = '0';
  while (n > 0) *out++ = digits[--n];
  return out;
}

// Writes `value` in hex with at least `min_digits` digits at `out`; returns the end.
char* PutHex(std::uint64_t value, int min_digits, const char* alphabet, char* out) {
  char digits[16];
  int n = 0;
  do {
    digits[n++] = alphabet[value & 15];
    value >>= 4;
  } while (value != 0);
  for (; n < min_digits; --min_digits) *out++ = '0';
  while (n > 0) *out++ = digits[--n];
  return out;
}

constexpr char kLowerHex[] = "0123456789abcdef";
constexpr char kUpperHex[] = "0123456789ABCDEF";

// "0x" and at least `min_digits` lower-case hex digits.
void AppendHex(std::uint64_t value, int min_digits, std::string* out) {
  char buffer[24] = {'0', 'x'};
  char* end = PutHex(value, min_digits, kLowerHex, buffer + 2);
  out->append(buffer, static_cast<std::size_t>(end - buffer));
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
  char* o = PutDecimal(static_cast<std::uint64_t>(year), 4, buffer);  // 1601 at the earliest
  *o++ = '-';
  o = PutDecimal(month, 2, o);
  *o++ = '-';
  o = PutDecimal(day, 2, o);
  *o++ = 'T';
  o = PutDecimal(static_cast<std::uint64_t>(in_day / 3600), 2, o);
  *o++ = ':';
  o = PutDecimal(static_cast<std::uint64_t>(in_day / 60 % 60), 2, o);
  *o++ = ':';
  o = PutDecimal(static_cast<std::uint64_t>(in_day % 60), 2, o);
  *o++ = '.';
  o = PutDecimal(fraction, 7, o);
  std::memcpy(o, "00Z", 3);
  o += 3;
  out->append(buffer, static_cast<std::size_t>(o - buffer));
}

// Where the next byte of `text` from `i` on that XML escapes (&, <, > or ") is, or its size:
// sixteen bytes at a time where SSE2 is there (every x86-64), else eight.
std::size_t FindEscape(std::string_view text, std::size_t i) {
#if defined(__SSE2__)
  const __m128i amp = _mm_set1_epi8('&'), lt = _mm_set1_epi8('<'), gt = _mm_set1_epi8('>'),
                quot = _mm_set1_epi8('"');
  for (; i + 16 <= text.size(); i += 16) {
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(text.data() + i));
    __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, amp), _mm_cmpeq_epi8(v, lt)),
                               _mm_or_si128(_mm_cmpeq_epi8(v, gt), _mm_cmpeq_epi8(v, quot)));
    if (int mask = _mm_movemask_epi8(hit))
      return i + static_cast<std::size_t>(std::countr_zero(static_cast<unsigned>(mask)));
  }
#else
  constexpr std::uint64_t kOnes = 0x0101010101010101u;
  constexpr std::uint64_t kHighs = 0x8080808080808080u;
  auto has = [](std::uint64_t v, char c) {  // a byte of v is c
    std::uint64_t x = v ^ (kOnes * static_cast<std::uint8_t>(c));
    return ((x - kOnes) & ~x & kHighs) != 0;
  };
  for (; i + 8 <= text.size(); i += 8) {
    std::uint64_t v;
    std::memcpy(&v, text.data() + i, 8);
    if (has(v, '&') || has(v, '<') || has(v, '>') || has(v, '"')) break;
  }
#endif
  for (; i < text.size(); ++i) {
    char c = text[i];
    if (c == '&' || c == '<' || c == '>' || c == '"') return i;
  }
  return text.size();
}

// Appends `text` with &, <, > and " escaped; the runs between them are copied whole.
void AppendEscaped(std::string_view text, std::string* out) {
  std::size_t run = 0;
  for (std::size_t i = FindEscape(text, 0); i < text.size(); i = FindEscape(text, run)) {
    out->append(text.data() + run, i - run);
    switch (text[i]) {
      case '&':
        out->append("&amp;", 5);
        break;
      case '<':
        out->append("&lt;", 4);
        break;
      case '>':
        out->append("&gt;", 4);
        break;
      default:
        out->append("&quot;", 6);
        break;
    }
    run = i + 1;
  }
  out->append(text.data() + run, text.size() - run);
}

// True when the `size` bytes at `p` are all zero (unused chunk space), a word at a time.
bool AllZero(const std::uint8_t* p, std::size_t size) {
  std::size_t i = 0;
  for (; i + 32 <= size; i += 32) {
    std::uint64_t w[4];
    std::memcpy(w, p + i, 32);
    if ((w[0] | w[1] | w[2] | w[3]) != 0) return false;
  }
  for (; i < size; ++i) {
    if (p[i] != 0) return false;
  }
  return true;
}

// A stretch of one of the parser's text buffers.
struct Span {
  std::uint32_t begin = 0;
  std::uint32_t size = 0;
};

// The names FillWinEvent looks for, told apart once per chunk name instead of per record.
enum NameTag : std::uint8_t {
  kOtherName,
  kEventName,
  kSystemName,
  kProviderName,
  kTimeCreatedName,
  kSecurityName,
  kEventDataName,
  kDataName,
  kChannelName,
  kEventIdName,
  kVersionName,
  kComputerName,
  kEventRecordIdName,
  kNameName,
  kSystemTimeName,
  kUserIdName,
};

NameTag TagOf(std::string_view name) {
  static constexpr std::pair<std::string_view, NameTag> kNames[] = {
      {"Event", kEventName},       {"System", kSystemName},
      {"Provider", kProviderName}, {"TimeCreated", kTimeCreatedName},
      {"Security", kSecurityName}, {"EventData", kEventDataName},
      {"Data", kDataName},         {"Channel", kChannelName},
      {"EventID", kEventIdName},   {"Version", kVersionName},
      {"Computer", kComputerName}, {"EventRecordID", kEventRecordIdName},
      {"Name", kNameName},         {"SystemTime", kSystemTimeName},
      {"UserID", kUserIdName},
  };
  for (const auto& [text, tag] : kNames) {
    if (name == text) return tag;
  }
  return kOtherName;
}

std::string_view LocalName(std::string_view name) {
  std::size_t colon = name.find(':');
  return colon == std::string_view::npos ? name : name.substr(colon + 1);
}

// A chunk name, decoded: where its UTF-8 lies in the name buffer, and its tags as an element
// (local name, the prefix dropped) and as an attribute (the whole name).
struct ChunkName {
  Span span;
  NameTag element_tag = kOtherName;
  NameTag attribute_tag = kOtherName;
};

// The decoded record as a flat document: element starts and ends, attributes and text runs.
enum class ItemKind : std::uint8_t { kStart, kAttribute, kText, kEnd };
struct Item {
  ItemKind kind;
  NameTag tag;  // the name's element tag (start, end) or attribute tag (attribute)
  Span name;    // element or attribute name, in the chunk's name buffer
  Span value;   // attribute value or text, in the record's text buffer
};

// An open-addressing map from chunk offsets to small values, for the per-chunk caches (names,
// templates): no allocation once grown, and cleared per chunk.
template <typename V>
class OffsetMap {
 public:
  OffsetMap() : slots_(kInitialSlots) {}

  void Clear() {
    if (used_ == 0) return;
    for (Slot& slot : slots_) slot.key = kEmpty;
    used_ = 0;
  }
  const V* Find(std::uint32_t key) const {
    if (key == kEmpty) return nullptr;
    for (std::size_t i = Hash(key);; i = (i + 1) & (slots_.size() - 1)) {
      const Slot& slot = slots_[i];
      if (slot.key == key) return &slot.value;
      if (slot.key == kEmpty) return nullptr;
    }
  }
  V* FindMutable(std::uint32_t key) { return const_cast<V*>(Find(key)); }
  void Insert(std::uint32_t key, const V& value) {  // key is not in the map
    if (2 * (used_ + 1) > slots_.size()) Grow();
    std::size_t i = Hash(key);
    while (slots_[i].key != kEmpty) i = (i + 1) & (slots_.size() - 1);
    slots_[i] = Slot{key, value};
    ++used_;
  }

 private:
  static constexpr std::uint32_t kEmpty = 0xFFFFFFFF;  // never a chunk offset
  static constexpr std::size_t kInitialSlots = 256;
  struct Slot {
    std::uint32_t key = kEmpty;
    V value{};
  };
  std::size_t Hash(std::uint32_t key) const {
    return static_cast<std::size_t>((key * 0x9E3779B1u) >> 8) & (slots_.size() - 1);
  }
  void Grow() {
    std::vector<Slot> old(slots_.size() * 2);
    old.swap(slots_);
    used_ = 0;
    for (const Slot& slot : old) {
      if (slot.key != kEmpty) Insert(slot.key, slot.value);
    }
  }
  std::vector<Slot> slots_;
  std::size_t used_ = 0;
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

// Decodes the binary XML of the records of one chunk. Names and compiled templates are cached
// per chunk by chunk offset; the item list, text buffer and ops are reused from record to record.
class BinXmlParser {
 public:
  void Reset(const std::uint8_t* chunk, std::size_t size) {
    chunk_ = chunk;
    size_ = size;
    names_.clear();
    name_cache_.Clear();
    templates_.Clear();
    template_ops_.clear();
    literals_.clear();
    messages_.clear();
  }

  // Decodes the binary XML in chunk bytes [begin, end). False with `error` set when the record
  // cannot be decoded; `problems` lists damaged values of a record that could.
  //
  // A skim decodes the whole structure with the same checks, in the same order, so it accepts
  // and rejects exactly the records a full decode does, but renders the text and keeps the
  // items of Event/System only: enough to tell whether the event is wanted at all. The values
  // left out (and their problems) have their rendered size bounded from above; when that bound
  // could break the size budget, the record is decoded fully instead, so the budget decides as
  // it would have. `skimmed()` tells which was done; `ParseFully()` redoes a skimmed record in
  // full.
  bool Parse(std::uint32_t begin, std::uint32_t end, std::string* error, bool skim = false) {
    begin_ = begin;
    end_ = end;
    if (skim && ParseOnce(true)) return true;
    if (skim && !over_bound_) {
      *error = error_;
      return false;
    }
    if (ParseOnce(false)) return true;
    *error = error_;
    return false;
  }
  bool ParseFully(std::string* error) {
    if (!skim_) return true;
    if (ParseOnce(false)) return true;
    *error = error_;
    return false;
  }
  bool skimmed() const { return skim_; }
  // Where a skim found Event/System elements in the items: each from its start to its end.
  struct ItemRange {
    std::size_t begin, end;
  };
  const std::vector<ItemRange>& system_ranges() const { return system_ranges_; }

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
  [[gnu::cold]] bool Fail(std::string message) {
    if (error_.empty()) error_ = std::move(message);
    return false;
  }
  [[gnu::cold, gnu::noinline]] bool FailTruncated(std::uint32_t pos, const char* what) {
    return Fail(std::string("truncated ") + what + " at chunk offset " + std::to_string(pos));
  }
  bool Need(std::uint32_t pos, std::size_t bytes, std::uint32_t end, const char* what) {
    if (pos <= end && bytes <= end - pos) [[likely]]
      return true;
    return FailTruncated(pos, what);
  }
  bool CountTokens(std::uint32_t count) {
    tokens_ += count;
    if (tokens_ <= kMaxTokens && text_.size() + left_out_bound_ <= kMaxExpandedBytes) [[likely]]
      return true;
    if (skim_ && tokens_ <= kMaxTokens && text_.size() <= kMaxExpandedBytes) over_bound_ = true;
    return Fail("record expands beyond the token or size budget");
  }

  bool ParseOnce(bool skim) {
    skim_ = skim;
    over_bound_ = false;
    left_out_bound_ = 0;
    open_depth_ = 0;
    render_ = !skim;
    system_ranges_.clear();
    elements_ = 0;
    items_.clear();
    text_.clear();
    subs_.clear();
    problems_.clear();
    error_.clear();
    tokens_ = 0;
    scratch_ops_.clear();
    CompileStream(begin_, end_, &scratch_ops_);
    bool ok = Run(OpRange{&scratch_ops_, 0, scratch_ops_.size()}, SubstitutionScope(), 0);
    if (ok && elements_ == 0) {
      ok = false;
      error_ = "no element in the record";
    }
    return ok;
  }

  // Element starts and ends go through here: a skim follows where it is, to render and keep
  // items only under Event/System (the rest is walked and checked all the same).
  void PushStart(const ChunkName& name) {
    if (open_depth_ < 2) open_tags_[open_depth_] = name.element_tag;
    ++open_depth_;
    ++elements_;
    UpdateRender();
    if (render_) {
      if (skim_ && open_depth_ == 2) system_begin_ = items_.size();
      items_.push_back(Item{ItemKind::kStart, name.element_tag, name.span, Span()});
    }
  }
  void PushEnd(const ChunkName& name) {
    if (render_) {
      items_.push_back(Item{ItemKind::kEnd, name.element_tag, name.span, Span()});
      if (skim_ && open_depth_ == 2) system_ranges_.push_back({system_begin_, items_.size()});
    }
    --open_depth_;
    UpdateRender();
  }
  void UpdateRender() {
    render_ =
        !skim_ || (open_depth_ >= 2 && open_tags_[0] == kEventName && open_tags_[1] == kSystemName);
  }
  // What a value left out of a skim could render to, at most: 3 UTF-8 bytes a UTF-16 unit; 6
  // characters a byte and 32 more for the other types ("-128, " for each byte of an Int8 array
  // is the worst; a SID, a GUID, a FILETIME, a float take under 6 a byte plus 32).
  static std::size_t RenderedBound(std::uint8_t type, std::size_t size) {
    return (type & 0x7F) == kString ? size / 2 * 3 : 6 * size + 32;
  }

  // The name (a chunk string: next offset, hash, count, UTF-16) at chunk offset `offset`.
  bool ReadName(std::uint32_t offset, ChunkName* name) {
    if (const ChunkName* found = name_cache_.Find(offset)) {
      *name = *found;
      return true;
    }
    if (!Need(offset, 8, static_cast<std::uint32_t>(size_), "name")) return false;
    std::size_t units = U16(chunk_ + offset + 6);
    if (!Need(offset + 8, 2 * units, static_cast<std::uint32_t>(size_), "name")) return false;
    Span& span = name->span;
    span.begin = static_cast<std::uint32_t>(names_.size());
    AppendUtf16(chunk_ + offset + 8, units, &names_);
    span.size = static_cast<std::uint32_t>(names_.size() - span.begin);
    std::string_view text = Name(span);
    name->element_tag = TagOf(LocalName(text));
    name->attribute_tag = TagOf(text);
    name_cache_.Insert(offset, *name);
    return true;
  }

  // Reads a name reference at *pos; an inline name (offset == position after it) is skipped.
  bool NameRef(std::uint32_t* pos, std::uint32_t end, ChunkName* name) {
    if (!Need(*pos, 4, end, "name reference")) return false;
    std::uint32_t offset = U32(chunk_ + *pos);
    *pos += 4;
    if (offset == *pos) {
      if (!Need(*pos, 8, end, "inline name")) return false;
      std::size_t units = U16(chunk_ + *pos + 6);
      if (!Need(*pos, 8 + 2 * units + 2, end, "inline name")) return false;
      *pos += static_cast<std::uint32_t>(8 + 2 * units + 2);
    }
    return ReadName(offset, name);
  }

  void PushText(Span span) {
    if (span.size == 0 || !render_) return;
    if (!items_.empty() && items_.back().kind == ItemKind::kText &&
        items_.back().value.begin + items_.back().value.size == span.begin) {
      items_.back().value.size += span.size;
      return;
    }
    items_.push_back(Item{ItemKind::kText, kOtherName, Span(), span});
  }

  // Compiling. A stream of binary XML (a record, a template body, a BinXml value) is checked
  // and turned into ops once, then run with a substitution array: a template body is compiled
  // the first time a record of the chunk uses it, so the records after it skip the token
  // walk, the bounds checks and the name lookups. The compiler makes every structural check a
  // token-by-token decode makes, in the same order, and where one fails it leaves an op that
  // fails the same way at that point of the run; what depends on the record (the values, the
  // nesting depth, the token and size budget) is decided by the run.
  enum class OpKind : std::uint8_t {
    kCount,              // nothing but the tokens to count
    kDepth,              // fail when `depth` levels below the stream is too deep
    kFail,               // fail with messages_[a]
    kProblem,            // add messages_[a] to the problems
    kStart,              // element `name` starts (checking the depth first)
    kEnd,                // element `name` ends
    kAttribute,          // attribute `name`: its value is the text the ops up to kAttributeEnd add
    kAttributeEnd,       //
    kConstantAttribute,  // attribute `name` with the value of a kLiteral
    kLiteral,            // text literals_[a, a + b); kLeftOut: a string value, c the skim's bound
    kSubstitution,       // substitution a; kOptional; kInAttribute; BinXml values one level down
    kTemplate,           // template instance: definition a, c values described at chunk offset b
  };
  static constexpr std::uint8_t kOptional = 1;     // an optional substitution
  static constexpr std::uint8_t kInAttribute = 2;  // in an attribute value (no text item)
  static constexpr std::uint8_t kLeftOut = 4;      // a string value a skim may leave out
  struct Op {
    OpKind kind = OpKind::kCount;
    std::uint8_t flags = 0;
    std::uint16_t depth = 0;   // levels below the stream's own depth
    std::uint32_t tokens = 0;  // tokens to count before the op
    std::uint32_t a = 0, b = 0, c = 0;
    ChunkName name;
  };
  // A template definition of the chunk: its body, and its ops once compiled.
  struct Template {
    std::uint32_t body_size = 0;
    std::uint32_t first_op = 0;  // in template_ops_
    std::uint32_t op_count = 0;
    bool compiled = false;
  };
  struct OpRange {
    std::vector<Op>* ops;
    std::size_t first;
    std::size_t count;
  };

  Op& Emit(std::vector<Op>* out, OpKind kind, int depth = 0) {
    Op op;
    op.kind = kind;
    op.depth = static_cast<std::uint16_t>(depth);
    op.tokens = pending_tokens_;
    pending_tokens_ = 0;
    out->push_back(op);
    return out->back();
  }

  // Compiles the stream in chunk bytes [begin, end), as its own depth, onto `out`.
  void CompileStream(std::uint32_t begin, std::uint32_t end, std::vector<Op>* out) {
    pending_tokens_ = 0;
    std::uint32_t pos = begin;
    if (!CompileStreamTokens(&pos, end, out)) {  // the failure becomes the last op
      Op& fail = Emit(out, OpKind::kFail);
      fail.a = static_cast<std::uint32_t>(messages_.size());
      messages_.push_back(std::move(error_));
      error_.clear();
      return;
    }
    if (pending_tokens_ != 0) Emit(out, OpKind::kCount);
  }

  // Top level of a fragment: header, template instance or elements, up to the end of stream.
  bool CompileStreamTokens(std::uint32_t* pos, std::uint32_t end, std::vector<Op>* out) {
    while (*pos < end) {
      ++pending_tokens_;
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
          if (!CompileTemplateInstance(pos, end, 1, out)) return false;
          break;
        case kOpenStartElement:
          if (!CompileElement(pos, end, 1, out)) return false;
          break;
        default:
          return Fail("unexpected token 0x" + HexByte(chunk_[*pos]) + " at chunk offset " +
                      std::to_string(*pos));
      }
    }
    return true;  // a value's fragment may end without an end-of-stream token
  }

  static std::string HexByte(std::uint8_t b) {
    return std::string{kLowerHex[b >> 4], kLowerHex[b & 15]};
  }

  // A template instance `depth` levels down: the definition (checked and cached by offset the
  // first time), skipped when inline, then the substitution array: count, (size, type)
  // descriptors, the values in order.
  bool CompileTemplateInstance(std::uint32_t* pos, std::uint32_t end, int depth,
                               std::vector<Op>* out) {
    Emit(out, OpKind::kDepth, depth);
    if (!Need(*pos, 10, end, "template instance")) return false;
    std::uint32_t definition = U32(chunk_ + *pos + 6);
    *pos += 10;
    std::uint32_t body_size;
    if (const Template* cached = templates_.Find(definition)) {
      body_size = cached->body_size;
    } else {
      if (definition < kChunkHeaderSize || definition + std::size_t{25} > size_ ||
          U32(chunk_ + definition + 20) > size_ - definition - 24 ||
          (chunk_[definition + 24] & 0xBF) != kFragmentHeader) {
        return Fail("template definition at chunk offset " + std::to_string(definition) +
                    " is missing or damaged");
      }
      body_size = U32(chunk_ + definition + 20);
      Template added;
      added.body_size = body_size;
      templates_.Insert(definition, added);
    }
    if (definition == *pos) {  // defined inline: skip the definition
      if (!Need(*pos, 24 + std::size_t{body_size}, end, "template definition")) return false;
      *pos += 24 + body_size;
    }
    if (!Need(*pos, 4, end, "substitution array")) return false;
    std::uint32_t count = U32(chunk_ + *pos);
    *pos += 4;
    if (!Need(*pos, std::size_t{count} * 4, end, "substitution array")) return false;
    std::uint32_t descriptors = *pos;
    std::uint32_t value = *pos + count * 4;
    for (std::uint32_t i = 0; i < count; ++i) {
      std::uint16_t value_size = U16(chunk_ + descriptors + 4 * i);
      if (!Need(value, value_size, end, "substitution value")) return false;
      value += value_size;
    }
    *pos = value;
    Op& op = Emit(out, OpKind::kTemplate, depth);
    op.a = definition;
    op.b = descriptors;
    op.c = count;
    return true;
  }

  // An element `depth` levels down: start, attributes, content, end.
  bool CompileElement(std::uint32_t* pos, std::uint32_t end, int depth, std::vector<Op>* out) {
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
    ChunkName name;
    bool header = true;
    if (*pos > end) {
      header = Fail("truncated element at chunk offset " + std::to_string(start));
    } else if (!NameRef(pos, end, &name)) {
      header = false;
    } else if (token & 0x40) {  // attribute list size
      header = Need(*pos, 4, end, "attribute list");
      *pos += 4;
    }
    if (!header) {  // the depth is checked before the header is read
      Emit(out, OpKind::kDepth, depth);
      return false;
    }
    Emit(out, OpKind::kStart, depth).name = name;
    // Attributes: name, then value tokens.
    while (*pos < end && (chunk_[*pos] & 0xBF) == kAttribute) {
      ++pending_tokens_;
      ++*pos;
      ChunkName attribute;
      if (!NameRef(pos, end, &attribute)) return false;
      Emit(out, OpKind::kAttribute).name = attribute;
      bool any = false;
      while (*pos < end) {
        std::uint8_t t = chunk_[*pos] & 0xBF;
        if (t != kValue && t != kSubstitution && t != kOptionalSubstitution && t != kCharRef &&
            t != kEntityRef && t != kCdata) {
          break;
        }
        if (!CompileText(pos, end, depth, /*in_attribute=*/true, out)) return false;
        any = true;
      }
      if (!any) return Fail("attribute without a value at chunk offset " + std::to_string(*pos));
      Emit(out, OpKind::kAttributeEnd).name = attribute;
      // The common case, a value that is one literal, runs as one op.
      std::size_t n = out->size();
      if ((*out)[n - 3].kind == OpKind::kAttribute && (*out)[n - 2].kind == OpKind::kLiteral) {
        Op fused = (*out)[n - 2];
        fused.kind = OpKind::kConstantAttribute;
        fused.tokens = (*out)[n - 3].tokens;  // nothing is counted inside a value
        fused.name = attribute;
        out->resize(n - 3);
        out->push_back(fused);
      }
    }
    if (!Need(*pos, 1, end, "element")) return false;
    std::uint8_t close = chunk_[*pos] & 0xBF;
    ++*pos;
    if (close == kCloseEmptyElement || close == kEndElement) {
      Emit(out, OpKind::kEnd).name = name;
      return true;
    }
    if (close != kCloseStartElement) {
      return Fail("element not closed at chunk offset " + std::to_string(*pos - 1));
    }
    // Content up to the end-element token.
    while (true) {
      if (!Need(*pos, 1, end, "element content")) return false;
      ++pending_tokens_;
      std::uint8_t t = chunk_[*pos] & 0xBF;
      switch (t) {
        case kEndElement:
          ++*pos;
          Emit(out, OpKind::kEnd).name = name;
          return true;
        case kOpenStartElement:
          if (!CompileElement(pos, end, depth + 1, out)) return false;
          break;
        case kValue:
        case kCdata:
        case kCharRef:
        case kEntityRef:
        case kSubstitution:
        case kOptionalSubstitution:
          if (!CompileText(pos, end, depth, /*in_attribute=*/false, out)) return false;
          break;
        case kPiTarget: {
          ++*pos;
          ChunkName ignored;
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
          if (!CompileTemplateInstance(pos, end, depth + 1, out)) return false;
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

  // One text-producing token in an element `depth` levels down: a value, CDATA, character or
  // entity reference is rendered now into the literals; a substitution is left to the run.
  bool CompileText(std::uint32_t* pos, std::uint32_t end, int depth, bool in_attribute,
                   std::vector<Op>* out) {
    std::uint8_t t = chunk_[*pos] & 0xBF;
    auto begin = static_cast<std::uint32_t>(literals_.size());
    std::size_t problems = problems_.size();
    std::uint8_t flags = in_attribute ? kInAttribute : 0;
    std::uint32_t bound = 0;
    switch (t) {
      case kValue: {
        if (!Need(*pos, 2, end, "value")) return false;
        std::uint8_t type = chunk_[*pos + 1];
        *pos += 2;
        if (type == kString) {
          if (!Need(*pos, 2, end, "value")) return false;
          std::size_t units = U16(chunk_ + *pos);
          if (!Need(*pos, 2 + 2 * units, end, "value")) return false;
          AppendUtf16(chunk_ + *pos + 2, units, &literals_);
          flags |= kLeftOut;
          bound = static_cast<std::uint32_t>(3 * units);
          *pos += static_cast<std::uint32_t>(2 + 2 * units);
        } else {
          std::size_t size = FixedSize(type);
          if (size == 0) return Fail("value token of unsupported type " + std::to_string(type));
          if (!Need(*pos, size, end, "value")) return false;
          RenderValue(type, *pos, static_cast<std::uint32_t>(size), &literals_);
          *pos += static_cast<std::uint32_t>(size);
        }
        break;
      }
      case kCdata: {
        if (!Need(*pos, 3, end, "CDATA")) return false;
        std::size_t units = U16(chunk_ + *pos + 1);
        if (!Need(*pos, 3 + 2 * units, end, "CDATA")) return false;
        AppendUtf16(chunk_ + *pos + 3, units, &literals_);
        *pos += static_cast<std::uint32_t>(3 + 2 * units);
        break;
      }
      case kCharRef: {
        if (!Need(*pos, 3, end, "character reference")) return false;
        std::uint32_t cp = U16(chunk_ + *pos + 1);
        AppendUtf8(cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF) ? 0xFFFD : cp, &literals_);
        *pos += 3;
        break;
      }
      case kEntityRef: {
        ++*pos;
        ChunkName entity;
        if (!NameRef(pos, end, &entity)) return false;
        std::string_view n = Name(entity.span);
        if (n == "amp")
          literals_.push_back('&');
        else if (n == "lt")
          literals_.push_back('<');
        else if (n == "gt")
          literals_.push_back('>');
        else if (n == "quot")
          literals_.push_back('"');
        else if (n == "apos")
          literals_.push_back('\'');
        else
          literals_.append("&").append(n).append(";");
        break;
      }
      case kSubstitution:
      case kOptionalSubstitution: {
        if (!Need(*pos, 4, end, "substitution")) return false;
        Op& op = Emit(out, OpKind::kSubstitution, depth);
        op.flags = static_cast<std::uint8_t>(flags | (t == kOptionalSubstitution ? kOptional : 0));
        op.a = U16(chunk_ + *pos + 1);
        *pos += 4;
        return true;
      }
      default:
        return Fail("unexpected token in text");
    }
    // Problems rendering a literal (none are known) are replayed by the run.
    for (std::size_t i = problems; i < problems_.size(); ++i) {
      Emit(out, OpKind::kProblem).a = static_cast<std::uint32_t>(messages_.size());
      messages_.push_back(std::move(problems_[i]));
    }
    problems_.resize(problems);
    Op& op = Emit(out, OpKind::kLiteral);
    op.flags = flags;
    op.a = begin;
    op.b = static_cast<std::uint32_t>(literals_.size()) - begin;
    op.c = bound;
    return true;
  }

  // Running. Ops are read by index, and copied for the calls that may compile a template or a
  // BinXml value: that grows the vector they are in.
  bool Run(OpRange range, SubstitutionScope scope, int depth) {
    if (depth > kMaxDepth) return Fail("binary XML nested deeper than 64 levels");
    for (std::size_t i = range.first; i < range.first + range.count; ++i) {
      const Op& op = (*range.ops)[i];  // not used after an op that may compile
      if (op.tokens != 0 && !CountTokens(op.tokens)) return false;
      switch (op.kind) {
        case OpKind::kCount:
          break;
        case OpKind::kDepth:
          if (depth + op.depth > kMaxDepth) return Fail("binary XML nested deeper than 64 levels");
          break;
        case OpKind::kFail:
          return Fail(messages_[op.a]);
        case OpKind::kProblem:
          problems_.push_back(messages_[op.a]);
          break;
        case OpKind::kStart:
          if (depth + op.depth > kMaxDepth) return Fail("binary XML nested deeper than 64 levels");
          PushStart(op.name);
          break;
        case OpKind::kEnd:
          PushEnd(op.name);
          break;
        case OpKind::kAttribute:
          attribute_begin_ = static_cast<std::uint32_t>(text_.size());
          attribute_omitted_ = false;
          break;
        case OpKind::kAttributeEnd: {
          Span value{attribute_begin_, static_cast<std::uint32_t>(text_.size()) - attribute_begin_};
          if (render_ && !(attribute_omitted_ && value.size == 0)) {
            items_.push_back(
                Item{ItemKind::kAttribute, op.name.attribute_tag, op.name.span, value});
          }
          break;
        }
        case OpKind::kConstantAttribute: {
          auto begin = static_cast<std::uint32_t>(text_.size());
          if ((op.flags & kLeftOut) && !render_) {
            left_out_bound_ += op.c;
          } else {
            text_.append(literals_, op.a, op.b);
          }
          Span value{begin, static_cast<std::uint32_t>(text_.size()) - begin};
          if (render_) {
            items_.push_back(
                Item{ItemKind::kAttribute, op.name.attribute_tag, op.name.span, value});
          }
          break;
        }
        case OpKind::kLiteral: {
          auto begin = static_cast<std::uint32_t>(text_.size());
          if ((op.flags & kLeftOut) && !render_) {
            left_out_bound_ += op.c;
          } else {
            text_.append(literals_, op.a, op.b);
          }
          if (!(op.flags & kInAttribute)) {
            PushText(Span{begin, static_cast<std::uint32_t>(text_.size()) - begin});
          }
          break;
        }
        case OpKind::kSubstitution:
          if (!RunSubstitution(Op(op), scope, depth)) return false;
          break;
        case OpKind::kTemplate:
          if (!RunTemplate(Op(op), depth + op.depth)) return false;
          break;
      }
    }
    return true;
  }

  bool RunSubstitution(const Op& op, SubstitutionScope scope, int depth) {
    bool in_attribute = op.flags & kInAttribute;
    auto begin = static_cast<std::uint32_t>(text_.size());
    bool was_null = false;
    if (op.a >= scope.count) {
      was_null = true;
      if (!(op.flags & kOptional)) {
        problems_.push_back("substitution " + std::to_string(op.a) + " of " +
                            std::to_string(scope.count) + " is missing; rendered empty");
      }
    } else {
      Substitution sub = subs_[scope.first + op.a];
      if (sub.type == kNull || sub.size == 0) {
        was_null = true;
      } else if (sub.type == kBinXml) {
        if (in_attribute) return true;  // never seen; nothing sensible to render
        // Decoded in place, one level below the element.
        std::size_t mark = scratch_ops_.size();
        CompileStream(sub.offset, sub.offset + sub.size, &scratch_ops_);
        bool ok = Run(OpRange{&scratch_ops_, mark, scratch_ops_.size() - mark}, SubstitutionScope(),
                      depth + op.depth + 1);
        scratch_ops_.resize(mark);
        return ok;
      } else if (!render_) {
        left_out_bound_ += RenderedBound(sub.type, sub.size);
      } else {
        RenderValue(sub.type, sub.offset, sub.size, &text_);
      }
    }
    if (!in_attribute) {
      PushText(Span{begin, static_cast<std::uint32_t>(text_.size()) - begin});
    } else if (was_null && (op.flags & kOptional)) {
      attribute_omitted_ = true;
    }
    return true;
  }

  // A template instance at `depth`: its values become the substitutions, its body (compiled on
  // first use) runs with them.
  bool RunTemplate(const Op& op, int depth) {
    Template* found = templates_.FindMutable(op.a);  // the compiler put it there
    if (!found->compiled) {
      auto first = static_cast<std::uint32_t>(template_ops_.size());
      std::uint32_t body = op.a + 24;
      CompileStream(body, body + found->body_size, &template_ops_);
      found = templates_.FindMutable(op.a);  // compiling may have added templates
      found->first_op = first;
      found->op_count = static_cast<std::uint32_t>(template_ops_.size()) - first;
      found->compiled = true;
    }
    SubstitutionScope scope{subs_.size(), op.c};
    std::uint32_t value = op.b + op.c * 4;
    for (std::uint32_t i = 0; i < op.c; ++i) {
      const std::uint8_t* descriptor = chunk_ + op.b + 4 * i;
      std::uint16_t value_size = U16(descriptor);
      subs_.push_back(Substitution{value, value_size, descriptor[2]});
      value += value_size;
    }
    return Run(OpRange{&template_ops_, found->first_op, found->op_count}, scope, depth);
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
      case kGuid: {  // {%08X-%04X-%04X-%02X%02X-%02X%02X%02X%02X%02X%02X}
        char buffer[48];
        char* o = buffer;
        *o++ = '{';
        o = PutHex(U32(p), 8, kUpperHex, o);
        *o++ = '-';
        o = PutHex(U16(p + 4), 4, kUpperHex, o);
        *o++ = '-';
        o = PutHex(U16(p + 6), 4, kUpperHex, o);
        *o++ = '-';
        for (int i = 8; i < 16; ++i) {
          if (i == 10) *o++ = '-';
          *o++ = kUpperHex[p[i] >> 4];
          *o++ = kUpperHex[p[i] & 15];
        }
        *o++ = '}';
        out->append(buffer, static_cast<std::size_t>(o - buffer));
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
      case kSystemTime: {  // %04u-%02u-%02uT%02u:%02u:%02u.%03u000000Z
        char buffer[80];
        char* o = PutDecimal(U16(p), 4, buffer);
        *o++ = '-';
        o = PutDecimal(U16(p + 2), 2, o);
        *o++ = '-';
        o = PutDecimal(U16(p + 6), 2, o);
        *o++ = 'T';
        o = PutDecimal(U16(p + 8), 2, o);
        *o++ = ':';
        o = PutDecimal(U16(p + 10), 2, o);
        *o++ = ':';
        o = PutDecimal(U16(p + 12), 2, o);
        *o++ = '.';
        o = PutDecimal(U16(p + 14), 3, o);
        std::memcpy(o, "000000Z", 7);
        o += 7;
        out->append(buffer, static_cast<std::size_t>(o - buffer));
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
        std::size_t at = out->size();
        out->resize(at + 2 * std::size_t{size});
        char* o = out->data() + at;
        for (std::uint32_t i = 0; i < size; ++i) {
          *o++ = kUpperHex[p[i] >> 4];
          *o++ = kUpperHex[p[i] & 15];
        }
        return;
      }
    }
  }

  const std::uint8_t* chunk_ = nullptr;
  std::size_t size_ = 0;
  std::string names_;                  // UTF-8 names of this chunk
  OffsetMap<ChunkName> name_cache_;    // chunk offset -> name
  OffsetMap<Template> templates_;      // definition offset -> template
  std::vector<Op> template_ops_;       // the compiled template bodies of this chunk
  std::string literals_;               // their literal text
  std::vector<std::string> messages_;  // their failures and problems
  std::vector<Op> scratch_ops_;        // the record's stream and BinXml values, compiled
  std::uint32_t pending_tokens_ = 0;   // tokens the compiler has passed since the last op
  std::uint32_t attribute_begin_ = 0;  // the attribute value being run, in text_
  bool attribute_omitted_ = false;     // ... has an optional substitution with no value
  std::vector<Item> items_;
  std::string text_;  // UTF-8 values and text of the current record
  std::vector<Substitution> subs_;
  std::vector<std::string> problems_;
  std::string error_;
  std::size_t tokens_ = 0;
  std::uint32_t begin_ = 0;  // the record's binary XML in the chunk, for ParseFully
  std::uint32_t end_ = 0;
  bool skim_ = false;
  bool render_ = true;              // render text here (always, unless skimming outside System)
  bool over_bound_ = false;         // the skim stopped at its bound, not at the real budget
  std::size_t left_out_bound_ = 0;  // bytes the values a skim left out could render to
  int open_depth_ = 0;              // elements open
  std::size_t elements_ = 0;        // elements started (a skim keeps items for some only)
  std::size_t system_begin_ = 0;    // the item an open Event/System starts at, in a skim
  std::vector<ItemRange> system_ranges_;
  std::array<NameTag, 2> open_tags_{};  // the first two of them
};

// Fills `event` from the decoded items, by element and attribute name as the XML decoder does
// (names compared by their tags). Views point into `parser`; `data` is scratch space. After a
// skim only the Event/System elements are read (what lies between them is balanced, and only
// fills EventData, which a skim leaves empty): the event has no data.
void FillWinEvent(BinXmlParser* parser, WinEvent* event, std::vector<std::pair<Span, Span>>* data) {
  struct Fields {
    Span provider, channel, event_id, version, computer, record_id, system_time, user_id;
  } f;
  data->clear();
  std::array<NameTag, 4> path{};  // tags of the open elements' local names, the first four
  int depth = 0;
  Span text;       // text of the current leaf element
  Span data_name;  // Name attribute of the current Data element
  // At Event/`a`/`b`, three deep?
  auto in = [&](NameTag a, NameTag b) {
    return depth == 3 && path[0] == kEventName && path[1] == a && path[2] == b;
  };
  auto fill = [&](const Item& item) {
    switch (item.kind) {
      case ItemKind::kStart:
        if (depth < static_cast<int>(path.size())) path[depth] = item.tag;
        ++depth;
        text = Span();
        data_name = Span();
        break;
      case ItemKind::kAttribute:
        if (depth != 3 || path[0] != kEventName) break;
        if (item.tag == kNameName && in(kSystemName, kProviderName)) f.provider = item.value;
        if (item.tag == kSystemTimeName && in(kSystemName, kTimeCreatedName)) {
          f.system_time = item.value;
        }
        if (item.tag == kUserIdName && in(kSystemName, kSecurityName)) f.user_id = item.value;
        if (item.tag == kNameName && in(kEventDataName, kDataName)) data_name = item.value;
        break;
      case ItemKind::kText:
        text = text.size == 0 ? item.value : parser->Concat(text, item.value);
        break;
      case ItemKind::kEnd:
        if (depth == 3 && path[0] == kEventName && path[1] == kSystemName) {
          switch (path[2]) {
            case kChannelName:
              f.channel = text;
              break;
            case kEventIdName:
              f.event_id = text;
              break;
            case kVersionName:
              f.version = text;
              break;
            case kComputerName:
              f.computer = text;
              break;
            case kEventRecordIdName:
              f.record_id = text;
              break;
            default:
              break;
          }
        } else if (in(kEventDataName, kDataName)) {
          data->emplace_back(data_name, text);
        }
        --depth;
        text = Span();
        break;
    }
  };
  const std::vector<Item>& items = parser->items();
  if (parser->skimmed()) {
    for (const BinXmlParser::ItemRange& range : parser->system_ranges()) {
      depth = 1;
      path[0] = kEventName;
      for (std::size_t i = range.begin; i < range.end; ++i) fill(items[i]);
    }
    data->clear();
  } else {
    for (const Item& item : items) fill(item);
  }
  std::vector<std::pair<std::string_view, std::string_view>> kept = std::move(event->data);
  *event = WinEvent();
  event->data = std::move(kept);  // keeps its capacity from record to record
  event->data.clear();
  event->provider = parser->Text(f.provider);
  event->channel = parser->Text(f.channel);
  event->event_id = ParseEventInteger(parser->Text(f.event_id));
  event->version = ParseEventInteger(parser->Text(f.version));
  event->computer = parser->Text(f.computer);
  event->record_id = ParseEventInteger(parser->Text(f.record_id));
  event->system_time = parser->Text(f.system_time);
  event->security_user_id = parser->Text(f.user_id);
  event->data.reserve(data->size());
  for (const auto& [name, value] : *data) {
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
        out->append("=\"", 2);
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
          out->append("/>", 2);
        } else {
          out->append("</", 2);
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

// The id of the record that starts a chunk slot (at chunk offset 512) when one is there whole:
// the record signature, a size that fits the slot, and the size's copy at the record's end.
std::optional<std::int64_t> FirstRecordOfSlot(const std::uint8_t* c, std::size_t n) {
  constexpr std::size_t at = kChunkHeaderSize;
  if (n < at + kRecordHeaderSize + kRecordTrailerSize) return std::nullopt;
  if (std::memcmp(c + at, "\x2a\x2a\x00\x00", 4) != 0) return std::nullopt;
  std::uint32_t size = U32(c + at + 4);
  if (size < kRecordHeaderSize + kRecordTrailerSize || size > n - at) return std::nullopt;
  if (U32(c + at + size - 4) != size) return std::nullopt;
  return static_cast<std::int64_t>(U64(c + at + 8));
}

// Whether a chunk slot without a good signature still looks like a chunk that was written (and
// is damaged) rather than unused space: its first 8 bytes are `ElfChnk\0` with at most 2 bytes
// off, or a whole record starts it. Unused space in files Windows wrote is zeros or old bytes
// from the disk, which are neither (as in the 260 real files of realdata/evtx).
bool LooksLikeChunk(const std::uint8_t* c, std::size_t n, bool has_first_record) {
  if (has_first_record) return true;
  if (n < 8) return false;
  int off = 0;
  for (int i = 0; i < 8; ++i) off += c[i] != static_cast<std::uint8_t>("ElfChnk\0"[i]);
  return off <= 2;
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
// While `*skim` (`on_record` may change it), records are skimmed (BinXmlParser::Parse) and
// `on_record` calls ParseFully on those it wants whole.
Status WalkEvtx(ByteSource* file, const bool* skim,
                const std::function<bool(std::int64_t, std::int64_t, BinXmlParser*)>& on_record,
                const std::function<void(Damage&&)>& on_damage) {
  std::unique_ptr<std::uint8_t[]> chunk_buffer(new std::uint8_t[kChunkSize]);  // not zeroed
  std::uint8_t* buffer = chunk_buffer.get();
  auto read = [&](std::size_t size) {
    return file->ReadFull(reinterpret_cast<char*>(buffer), size);
  };
  Result<std::size_t> got = read(kFileHeaderSize);
  if (!got.ok()) return got.status();
  std::size_t n = *got;
  if (n < kFileHeaderSize) {
    on_damage({IngestWarning::Severity::kRejected, 0, std::nullopt,
               "file header truncated at " + std::to_string(n) + " bytes; no chunks",
               HexExcerpt(buffer, n), true});
    return Status::Ok();
  }
  if (std::memcmp(buffer, "ElfFile\0", 8) != 0) {
    on_damage({IngestWarning::Severity::kRejected, 0, std::nullopt, "file header: bad signature",
               HexExcerpt(buffer, 16), true});
    return Status::Ok();
  }
  if (Crc32(buffer, 120) != U32(buffer + 124)) {
    on_damage({IngestWarning::Severity::kField, 0, std::nullopt,
               "file header: checksum mismatch; reading on", "", false});
  }
  // The header's chunk count (offset 42) may understate: every chunk slot is read.
  auto header_chunks = static_cast<std::int64_t>(U16(buffer + 42));
  std::vector<Damage> pending;  // bad slots past the header's count, not yet known to be damage
  BinXmlParser parser;
  for (std::int64_t chunk = 0;; ++chunk) {
    std::int64_t chunk_offset = static_cast<std::int64_t>(kFileHeaderSize) + chunk * kChunkSize;
    got = read(kChunkSize);
    if (!got.ok()) return got.status();
    n = *got;
    if (n == 0) break;
    const std::uint8_t* c = buffer;
    std::string where = "chunk " + std::to_string(chunk);
    if (n < kChunkHeaderSize || std::memcmp(c, "ElfChnk\0", 8) != 0) {
      bool zero = AllZero(c, n);
      if (!zero) {
        std::optional<std::int64_t> first_record = FirstRecordOfSlot(c, n);
        Damage damage{IngestWarning::Severity::kRejected,
                      chunk_offset,
                      first_record,
                      where +
                          (n < kChunkHeaderSize ? ": truncated chunk header" : ": bad signature") +
                          "; chunk skipped" +
                          (first_record ? " (its records from record " +
                                              std::to_string(*first_record) + " on are lost)"
                                        : std::string()),
                      HexExcerpt(c, std::min<std::size_t>(n, 16)),
                      true};
        // Past the header's count, slots without a signature are usually unused space with old
        // bytes in it: damage when the slot still looks like a chunk (LooksLikeChunk) or when a
        // real chunk follows.
        if (chunk < header_chunks || LooksLikeChunk(c, n, first_record.has_value())) {
          for (Damage& earlier : pending) on_damage(std::move(earlier));
          pending.clear();
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
          if (AllZero(c + pos, data_end - pos)) break;
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
                             static_cast<std::uint32_t>(pos + size - kRecordTrailerSize), &error,
                             *skim)) {
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
                        static_cast<std::uint32_t>(pos + size - kRecordTrailerSize), &error,
                        *skim)) {
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

constexpr bool kNoSkim = false;

// Whether to skim the next record: a skim costs a fraction of a full decode and saves the full
// decode of every record the normalizers skip, but a record they take is decoded twice. So
// skim while most recent records were skipped: an average of the last few (about 8) records'
// outcomes, in 1/256ths, compared with one half. A log of process creation and nothing else
// then decodes each record once, a Security log with a few 4688 in it skims nearly all.
class SkimPolicy {
 public:
  void Taken(bool taken) {
    taken_share_ += ((taken ? 256 : 0) - taken_share_) / 8;
    skim_ = taken_share_ < 128;
  }
  const bool* skim() const { return &skim_; }

 private:
  int taken_share_ = 0;
  bool skim_ = true;
};

}  // namespace

Status DecodeEvtxStream(ByteSource* source, const DecodeOptions& options, const BatchSink& sink) {
  Batcher batcher(options, sink);
  WinEvent event;
  std::vector<std::pair<Span, Span>> data;
  std::vector<std::string> problems;
  std::string raw;
  bool stopped = false;
  SkimPolicy policy;
  Status status = WalkEvtx(
      source, policy.skim(),
      [&](std::int64_t offset, std::int64_t record_id, BinXmlParser* parser) {
        // A skim has rendered Event/System, and NormalizeWindowsEvent chooses a normalizer by
        // System fields alone (IsSysmonProcessCreate, IsSecurityProcessCreate): a skimmed event,
        // which has no EventData, is skipped exactly when the whole event would be. The records
        // it takes are decoded in full and normalized again.
        FillWinEvent(parser, &event, &data);
        ProcessEvent row;
        bool skimmed = parser->skimmed();
        if (skimmed) {
          problems.clear();
          bool skipped =
              NormalizeWindowsEvent(event, &row, &problems) == NormalizeOutcome::kSkipped;
          policy.Taken(!skipped);
          if (skipped) {
            batcher.AddNormalized(NormalizeOutcome::kSkipped, std::move(row), &problems, offset,
                                  std::nullopt, {}, record_id);
            if (!batcher.MaybeFlush()) {
              stopped = true;
              return false;
            }
            return true;
          }
          std::string error;
          if (!parser->ParseFully(&error)) {  // never seen: the skim checked the same structure
            DecodedBatch& batch = batcher.batch();
            batch.warnings.push_back(
                RecordWarning(offset, std::nullopt, "", IngestWarning::Severity::kRejected,
                              record_id, "record " + std::to_string(record_id) + ": " + error));
            ++batch.records_rejected;
            return true;
          }
          FillWinEvent(parser, &event, &data);
          row = ProcessEvent();
        }
        problems.assign(parser->problems().begin(), parser->problems().end());
        for (std::string& problem : problems) {
          problem = "record " + std::to_string(record_id) + ": " + problem;
        }
        NormalizeOutcome outcome = NormalizeWindowsEvent(event, &row, &problems);
        if (!skimmed) policy.Taken(outcome != NormalizeOutcome::kSkipped);
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
  std::vector<std::pair<Span, Span>> data;
  std::string xml;
  return WalkEvtx(
      file->get(), &kNoSkim,
      [&](std::int64_t offset, std::int64_t, BinXmlParser* parser) {
        FillWinEvent(parser, &event, &data);
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
      file->get(), &kNoSkim,
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
