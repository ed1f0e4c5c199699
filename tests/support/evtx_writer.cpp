// EVTX writing, from libyal's "Windows XML Event Log (EVTX)" document and [MS-EVEN6], with the
// details the documents leave open taken from files Windows wrote: the System template's
// substitution order and types, names and templates defined inline at first use in a chunk and
// chained into the chunk's tables newest first (names hashed by 65599 over their UTF-16 units,
// templates over their GUID's eight 16-bit words), records padded to 8 bytes.
#include "tests/support/evtx_writer.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <unordered_map>
#include <utility>

namespace quarry::testing {
namespace {

constexpr std::size_t kFileHeaderSize = 4096;
constexpr std::size_t kChunkSize = 65536;
constexpr std::size_t kChunkHeaderSize = 512;
constexpr std::size_t kStringTable = 128;    // 64 offsets of the common strings
constexpr std::size_t kTemplateTable = 384;  // 32 offsets of template definitions
constexpr std::size_t kRecordHeaderSize = 24;
constexpr std::size_t kMaxRecordSize = kChunkSize - kChunkHeaderSize;
constexpr std::size_t kMaxValueSize = 0xFFFF;

// Binary XML tokens; kMore (0x40) marks "attributes follow" on an element, "another attribute
// follows" on an attribute.
constexpr std::uint8_t kEndOfStream = 0x00;
constexpr std::uint8_t kOpenStartElement = 0x01;
constexpr std::uint8_t kCloseStartElement = 0x02;
constexpr std::uint8_t kCloseEmptyElement = 0x03;
constexpr std::uint8_t kEndElement = 0x04;
constexpr std::uint8_t kValue = 0x05;
constexpr std::uint8_t kAttribute = 0x06;
constexpr std::uint8_t kTemplateInstance = 0x0c;
constexpr std::uint8_t kNormalSubstitution = 0x0d;
constexpr std::uint8_t kOptionalSubstitution = 0x0e;
constexpr std::uint8_t kFragmentHeader = 0x0f;
constexpr std::uint8_t kMore = 0x40;
constexpr std::uint8_t kBinXmlType = 0x21;

constexpr std::string_view kEventNamespace =
    "http://schemas.microsoft.com/win/2004/08/events/event";

constexpr std::uint64_t kEpochTicks = 116444736000000000ULL;  // FILETIME of 1970-01-01

// ---- CRC-32 ----

// Slicing-by-8 tables: table[k][b] is the CRC of byte b followed by k zero bytes.
constexpr std::array<std::array<std::uint32_t, 256>, 8> MakeCrcTables() {
  std::array<std::array<std::uint32_t, 256>, 8> t{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    t[0][i] = c;
  }
  for (std::uint32_t i = 0; i < 256; ++i) {
    for (int s = 1; s < 8; ++s) t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xFF];
  }
  return t;
}
constexpr auto kCrc = MakeCrcTables();

// ---- Little-endian bytes ----

void PutU16(std::uint8_t* p, std::uint16_t v) {
  p[0] = static_cast<std::uint8_t>(v);
  p[1] = static_cast<std::uint8_t>(v >> 8);
}
void PutU32(std::uint8_t* p, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}
void PutU64(std::uint8_t* p, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}
std::uint32_t GetU32(const std::uint8_t* p) {
  return static_cast<std::uint32_t>(p[0]) | (static_cast<std::uint32_t>(p[1]) << 8) |
         (static_cast<std::uint32_t>(p[2]) << 16) | (static_cast<std::uint32_t>(p[3]) << 24);
}
void AppendLe(std::uint64_t v, int bytes, std::string* out) {
  char buffer[8];
  for (int i = 0; i < bytes; ++i) buffer[i] = static_cast<char>((v >> (8 * i)) & 0xFF);
  out->append(buffer, static_cast<std::size_t>(bytes));
}

// ---- Text ----

// Appends `utf8` as UTF-16LE; a byte that does not start a valid sequence becomes U+FFFD.
// Never more than 2 output bytes per input byte, so the output is sized once and trimmed.
void AppendUtf16(std::string_view utf8, std::string* out) {
  const auto* p = reinterpret_cast<const unsigned char*>(utf8.data());
  std::size_t n = utf8.size(), i = 0;
  std::size_t start = out->size();
  out->resize(start + 2 * n);
  auto* o = reinterpret_cast<unsigned char*>(out->data()) + start;
  auto unit = [&o](std::uint32_t u) {
    o[0] = static_cast<unsigned char>(u & 0xFF);
    o[1] = static_cast<unsigned char>(u >> 8);
    o += 2;
  };
  while (i < n) {
    std::uint32_t c = p[i];
    if (c < 0x80) {
      unit(c);
      ++i;
      continue;
    }
    std::size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
    std::uint32_t cp = len == 4 ? c & 0x07 : len == 3 ? c & 0x0F : c & 0x1F;
    bool ok = len != 0 && c < 0xF8 && i + len <= n;
    for (std::size_t k = 1; ok && k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) ok = false;
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    static constexpr std::uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (ok && (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))) ok = false;
    if (!ok) {
      unit(0xFFFD);
      ++i;
      continue;
    }
    if (cp >= 0x10000) {
      cp -= 0x10000;
      unit(0xD800 + (cp >> 10));
      unit(0xDC00 + (cp & 0x3FF));
    } else {
      unit(cp);
    }
    i += len;
  }
  out->resize(static_cast<std::size_t>(o - reinterpret_cast<unsigned char*>(out->data())));
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// A decimal number without sign, leading zeros (except "0") or spaces, or a 0x-hex number.
std::optional<std::uint64_t> ParseUnsigned(std::string_view text) {
  if (text.empty()) return std::nullopt;
  std::uint64_t value = 0;
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    if (text.size() > 18) return std::nullopt;
    for (char c : text.substr(2)) {
      int d = HexDigit(c);
      if (d < 0) return std::nullopt;
      value = value * 16 + static_cast<std::uint64_t>(d);
    }
    return value;
  }
  if (text.size() > 1 && text[0] == '0') return std::nullopt;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::size_t FixedSize(EvtxType type) {
  switch (type) {
    case EvtxType::kUInt8:
      return 1;
    case EvtxType::kUInt16:
      return 2;
    case EvtxType::kUInt32:
    case EvtxType::kHexInt32:
      return 4;
    case EvtxType::kUInt64:
    case EvtxType::kHexInt64:
    case EvtxType::kFileTime:
      return 8;
    default:
      return 0;
  }
}

// Days from 1970-01-01 of a civil date (proleptic Gregorian).
std::int64_t DaysFromCivil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  auto yoe = static_cast<unsigned>(y - era * 400);
  unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

// ---- Hashes ----

// The 65599 string hash Windows uses for the chunk's name table, over UTF-16 units.
std::uint32_t Hash65599(const std::uint8_t* units, std::size_t count) {
  std::uint32_t h = 0;
  for (std::size_t i = 0; i < count; ++i) {
    h = h * 65599u + static_cast<std::uint32_t>(units[2 * i] | (units[2 * i + 1] << 8));
  }
  return h;
}

std::uint64_t Fnv1a(std::string_view text, std::uint64_t seed) {
  std::uint64_t h = 0xcbf29ce484222325ULL ^ seed;
  for (char c : text) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ULL;
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  return h;
}

// Heterogeneous lookup: find by string_view without building a std::string.
struct ViewHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
};
using NameMap = std::unordered_map<std::string, std::uint32_t, ViewHash, std::equal_to<>>;

struct TemplateRef {
  std::uint32_t offset = 0;  // chunk offset of the definition
  std::uint32_t id = 0;      // first 4 bytes of its GUID
};
using TemplateMap = std::unordered_map<std::string, TemplateRef, ViewHash, std::equal_to<>>;

// The System template's substitutions, in the order and with the types Windows uses.
enum SystemSlot : std::uint16_t {
  kLevel = 0,
  kOpcode,
  kTask,
  kEventId,
  kQualifiers,
  kKeywords,
  kSystemTime,
  kActivityId,
  kProcessId,
  kThreadId,
  kEventRecordId,
  kVersion,
  kUserId,
  kRelatedActivityId,
  kProviderName,
  kProviderGuid,
  kChannel,
  kEventData,
  kSystemSlots,
};
constexpr EvtxType kSystemTypes[kEventData] = {
    EvtxType::kUInt8,  EvtxType::kUInt8,    EvtxType::kUInt16,   EvtxType::kUInt16,
    EvtxType::kUInt16, EvtxType::kHexInt64, EvtxType::kFileTime, EvtxType::kGuid,
    EvtxType::kUInt32, EvtxType::kUInt32,   EvtxType::kUInt64,   EvtxType::kUInt8,
    EvtxType::kSid,    EvtxType::kGuid,     EvtxType::kString,   EvtxType::kGuid,
    EvtxType::kString};

std::array<const EvtxValue*, kEventData> SystemValues(const EvtxEvent& e) {
  return {&e.level,         &e.opcode,
          &e.task,          &e.event_id,
          &e.qualifiers,    &e.keywords,
          &e.time_created,  &e.activity_id,
          &e.process_id,    &e.thread_id,
          &e.record_id,     &e.version,
          &e.user_id,       &e.related_activity_id,
          &e.provider_name, &e.provider_guid,
          &e.channel};
}

// The type a substitution token declares: the value's, or for a null value the field's own.
std::uint8_t DeclaredType(const EvtxValue& value, EvtxType field_type) {
  return static_cast<std::uint8_t>(value.is_null() ? field_type : value.type());
}

}  // namespace

// ---- EvtxValue ----

EvtxValue EvtxValue::String(std::string_view utf8) {
  EvtxValue v;
  v.SetString(utf8);
  return v;
}

EvtxValue EvtxValue::Number(EvtxType type, std::uint64_t value) {
  EvtxValue v;
  v.SetNumber(type, value);
  return v;
}

void EvtxValue::SetNull() {
  type_ = EvtxType::kNull;
  bytes_.clear();
}

void EvtxValue::SetString(std::string_view utf8) {
  type_ = EvtxType::kString;
  bytes_.clear();
  AppendUtf16(utf8, &bytes_);
}

void EvtxValue::SetNumber(EvtxType type, std::uint64_t value) {
  std::size_t size = FixedSize(type);
  if (size == 0) {  // not a number type: a programmer error; keep the value visible
    SetString(std::to_string(value));
    return;
  }
  type_ = type;
  bytes_.clear();
  AppendLe(value, static_cast<int>(size), &bytes_);
}

std::uint64_t EvtxValue::number() const {
  if (FixedSize(type_) == 0) return 0;
  std::uint64_t v = 0;
  for (std::size_t i = bytes_.size(); i-- > 0;)
    v = (v << 8) | static_cast<unsigned char>(bytes_[i]);
  return v;
}

std::optional<EvtxValue> EvtxValue::Guid(std::string_view text) {
  if (text.size() == 38 && text.front() == '{' && text.back() == '}') {
    text = text.substr(1, 36);
  }
  if (text.size() != 36 || text[8] != '-' || text[13] != '-' || text[18] != '-' ||
      text[23] != '-') {
    return std::nullopt;
  }
  std::array<std::uint8_t, 16> raw{};  // as written: 4-2-2-2-6 bytes
  std::size_t out = 0;
  for (std::size_t i = 0; i < 36; i += 2) {
    if (text[i] == '-') ++i;
    int hi = HexDigit(text[i]), lo = HexDigit(text[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    raw[out++] = static_cast<std::uint8_t>(hi * 16 + lo);
  }
  EvtxValue v;
  v.type_ = EvtxType::kGuid;
  static constexpr int kOrder[16] = {3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15};
  for (int i : kOrder) v.bytes_.push_back(static_cast<char>(raw[i]));
  return v;
}

std::optional<EvtxValue> EvtxValue::Sid(std::string_view text) {
  if (text.substr(0, 2) != "S-") return std::nullopt;
  text.remove_prefix(2);
  std::vector<std::uint64_t> parts;
  while (true) {
    std::size_t dash = text.find('-');
    std::string_view part = text.substr(0, dash);
    if (part.empty() || part.size() > 10 || (part.size() > 1 && part[0] == '0')) {
      return std::nullopt;
    }
    std::uint64_t value = 0;
    auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), value);
    if (ec != std::errc() || end != part.data() + part.size() || value > 0xFFFFFFFFULL) {
      return std::nullopt;
    }
    parts.push_back(value);
    if (dash == std::string_view::npos) break;
    text.remove_prefix(dash + 1);
  }
  // Revision, authority, then up to 15 sub-authorities.
  if (parts.size() < 2 || parts.size() > 17 || parts[0] > 255) return std::nullopt;
  EvtxValue v;
  v.type_ = EvtxType::kSid;
  v.bytes_.push_back(static_cast<char>(parts[0]));
  v.bytes_.push_back(static_cast<char>(parts.size() - 2));
  for (int shift = 40; shift >= 0; shift -= 8) {
    v.bytes_.push_back(static_cast<char>((parts[1] >> shift) & 0xFF));
  }
  for (std::size_t i = 2; i < parts.size(); ++i) AppendLe(parts[i], 4, &v.bytes_);
  return v;
}

EvtxValue EvtxValue::FromText(EvtxType type, std::string_view text) {
  if (type == EvtxType::kString) return String(text);
  if (text.empty()) return EvtxValue();
  switch (type) {
    case EvtxType::kGuid:
      if (auto v = Guid(text)) return std::move(*v);
      break;
    case EvtxType::kSid:
      if (auto v = Sid(text)) return std::move(*v);
      break;
    case EvtxType::kFileTime:
      if (auto ticks = ParseFileTime(text)) return Number(type, *ticks);
      break;
    default: {
      std::size_t size = FixedSize(type);
      std::optional<std::uint64_t> n = ParseUnsigned(text);
      if (size != 0 && n && (size == 8 || *n < (std::uint64_t{1} << (8 * size)))) {
        return Number(type, *n);
      }
      break;
    }
  }
  return String(text);
}

std::uint64_t FileTimeFromMicros(std::int64_t micros, unsigned ticks) {
  return static_cast<std::uint64_t>(static_cast<std::int64_t>(kEpochTicks) + micros * 10) + ticks;
}

std::optional<std::uint64_t> ParseFileTime(std::string_view t) {
  // 2024-05-06T08:00:00[.fraction]Z
  if (t.size() < 20 || t[4] != '-' || t[7] != '-' || t[10] != 'T' || t[13] != ':' || t[16] != ':' ||
      t.back() != 'Z') {
    return std::nullopt;
  }
  auto number = [&](std::size_t at, std::size_t digits, unsigned* out) {
    *out = 0;
    for (std::size_t i = at; i < at + digits; ++i) {
      if (t[i] < '0' || t[i] > '9') return false;
      *out = *out * 10 + static_cast<unsigned>(t[i] - '0');
    }
    return true;
  };
  unsigned year, month, day, hour, minute, second;
  if (!number(0, 4, &year) || !number(5, 2, &month) || !number(8, 2, &day) ||
      !number(11, 2, &hour) || !number(14, 2, &minute) || !number(17, 2, &second)) {
    return std::nullopt;
  }
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (year < 1601 || month < 1 || month > 12 || day < 1 ||
      day > kDays[month - 1] + (month == 2 && leap ? 1 : 0) || hour > 23 || minute > 59 ||
      second > 59) {
    return std::nullopt;
  }
  std::uint64_t fraction = 0;  // 100 ns ticks
  std::string_view rest = t.substr(19, t.size() - 20);
  if (!rest.empty()) {
    if (rest[0] != '.' || rest.size() < 2) return std::nullopt;
    rest.remove_prefix(1);
    for (std::size_t i = 0; i < rest.size(); ++i) {
      if (rest[i] < '0' || rest[i] > '9') return std::nullopt;
      if (i < 7) {
        fraction = fraction * 10 + static_cast<std::uint64_t>(rest[i] - '0');
      } else if (rest[i] != '0') {
        return std::nullopt;  // finer than 100 ns: a FILETIME cannot keep it
      }
    }
    for (std::size_t i = rest.size(); i < 7; ++i) fraction *= 10;
  }
  std::int64_t days = DaysFromCivil(year, month, day) + 134774;  // days from 1601-01-01
  return static_cast<std::uint64_t>(days * 86400 + hour * 3600 + minute * 60 + second) *
             10000000ULL +
         fraction;
}

std::uint32_t EvtxCrc32(const void* data, std::size_t size, std::uint32_t crc) {
  const auto* p = static_cast<const std::uint8_t*>(data);
  crc = ~crc;
  while (size >= 8) {
    std::uint32_t lo = GetU32(p) ^ crc, hi = GetU32(p + 4);
    crc = kCrc[7][lo & 0xFF] ^ kCrc[6][(lo >> 8) & 0xFF] ^ kCrc[5][(lo >> 16) & 0xFF] ^
          kCrc[4][lo >> 24] ^ kCrc[3][hi & 0xFF] ^ kCrc[2][(hi >> 8) & 0xFF] ^
          kCrc[1][(hi >> 16) & 0xFF] ^ kCrc[0][hi >> 24];
    p += 8;
    size -= 8;
  }
  while (size-- > 0) crc = kCrc[0][(crc ^ *p++) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

// ---- The writer ----

struct EvtxWriter::Impl {
  EvtxWriterOptions options;
  std::string path;
  std::FILE* file = nullptr;
  bool finished = false;

  // The chunk being filled.
  std::vector<std::uint8_t> chunk = std::vector<std::uint8_t>(kChunkSize);
  std::int64_t chunk_index = 0;  // of the chunk being filled
  std::uint32_t free_space = kChunkHeaderSize;
  std::uint32_t last_record_offset = 0;
  std::int64_t chunk_records = 0;
  std::uint64_t first_id = 0, last_id = 0;
  NameMap names;          // name -> chunk offset of its definition
  TemplateMap templates;  // template key -> definition
  std::array<std::uint32_t, 64> string_heads{};
  std::array<std::uint32_t, 32> template_heads{};

  // The record being built, at chunk offset `base`.
  std::string out;
  std::uint32_t base = 0;
  std::vector<std::pair<std::string, std::uint32_t>> new_names;  // defined by this record
  std::vector<std::pair<std::string, TemplateRef>> new_templates;
  std::string key;   // scratch for template keys
  std::string text;  // scratch for UTF-16 names

  // Totals.
  std::int64_t records_written = 0;
  std::int64_t chunks_written = 0;
  std::uint64_t next_id = 1;
  std::uint64_t max_id = 0;
  bool any_record = false;
  std::vector<EvtxRecordInfo> record_infos;
  std::vector<EvtxChunkInfo> chunk_infos;

  std::uint32_t Pos() const { return base + static_cast<std::uint32_t>(out.size()); }
  void U8(std::uint8_t v) { out.push_back(static_cast<char>(v)); }
  void U16(std::uint16_t v) { AppendLe(v, 2, &out); }
  void U32(std::uint32_t v) { AppendLe(v, 4, &out); }
  void PatchU16(std::size_t at, std::size_t v) {
    PutU16(reinterpret_cast<std::uint8_t*>(out.data() + at), static_cast<std::uint16_t>(v));
  }
  void PatchU32(std::size_t at, std::size_t v) {
    PutU32(reinterpret_cast<std::uint8_t*>(out.data() + at), static_cast<std::uint32_t>(v));
  }

  // A reference to a name: its chunk offset, with the name defined right after the reference
  // when this is its first use in the chunk.
  void Name(std::string_view name) {
    auto found = names.find(name);
    if (found != names.end()) {
      U32(found->second);
      return;
    }
    for (const auto& [defined, offset] : new_names) {
      if (defined == name) {
        U32(offset);
        return;
      }
    }
    std::uint32_t offset = Pos() + 4;
    U32(offset);
    new_names.emplace_back(std::string(name), offset);
    text.clear();
    AppendUtf16(name, &text);
    std::size_t units = text.size() / 2;
    U32(0);  // next name of the same hash bucket: set when the record is committed
    U16(static_cast<std::uint16_t>(
        Hash65599(reinterpret_cast<const std::uint8_t*>(text.data()), units)));
    U16(static_cast<std::uint16_t>(units));
    out.append(text);
    U16(0);
  }

  // Element start: token, dependency id (none), data size (set by Close), name, and with
  // attributes the attribute list size (set by EndAttributes). Returns where the size is.
  std::size_t Open(std::string_view name, bool attributes) {
    U8(attributes ? kOpenStartElement | kMore : kOpenStartElement);
    U16(0xFFFF);
    std::size_t size_at = out.size();
    U32(0);
    Name(name);
    if (attributes) U32(0);
    return size_at;
  }
  // The attribute list runs from after its size (the last 4 bytes Open wrote) to here.
  std::size_t AttributesStart() const { return out.size(); }
  void EndAttributes(std::size_t start) { PatchU32(start - 4, out.size() - start); }
  void Attribute(std::string_view name, bool more) {
    U8(more ? kAttribute | kMore : kAttribute);
    Name(name);
  }
  void Close(std::size_t size_at, std::uint8_t token) {
    U8(token);
    PatchU32(size_at, out.size() - (size_at + 4));
  }
  void Text(std::string_view utf8) {
    text.clear();
    AppendUtf16(utf8, &text);
    U8(kValue);
    U8(static_cast<std::uint8_t>(EvtxType::kString));
    U16(static_cast<std::uint16_t>(text.size() / 2));
    out.append(text);
  }
  void Substitution(std::uint8_t token, std::uint16_t index, std::uint8_t type) {
    U8(token);
    U16(index);
    U8(type);
  }
  // <name>substitution</name>
  void SubstitutedElement(std::string_view name, std::uint16_t index, std::uint8_t type) {
    std::size_t size_at = Open(name, false);
    U8(kCloseStartElement);
    Substitution(kOptionalSubstitution, index, type);
    Close(size_at, kEndElement);
  }
  // <name attr="substitution" .../>
  void EmptyElementWithAttributes(std::string_view name,
                                  std::initializer_list<std::pair<std::string_view, int>> attrs,
                                  const std::array<std::uint8_t, kSystemSlots>& types) {
    std::size_t size_at = Open(name, true);
    std::size_t start = AttributesStart();
    std::size_t i = 0;
    for (const auto& [attr, slot] : attrs) {
      Attribute(attr, ++i < attrs.size());
      Substitution(kOptionalSubstitution, static_cast<std::uint16_t>(slot), types[slot]);
    }
    EndAttributes(start);
    Close(size_at, kCloseEmptyElement);
  }

  // A template instance: the template's id and definition offset, with the definition (next
  // offset, GUID, size, body) inline when it is the first use in the chunk. `body` writes the
  // body's fragment. Returns true when the definition was written here.
  template <typename Body>
  bool TemplateInstance(const std::string& template_key, const Body& body) {
    U8(kTemplateInstance);
    U8(1);
    const TemplateRef* ref = nullptr;
    auto found = templates.find(template_key);
    if (found != templates.end()) ref = &found->second;
    for (const auto& [k, r] : new_templates) {
      if (!ref && k == template_key) ref = &r;
    }
    if (ref) {
      U32(ref->id);
      U32(ref->offset);
      return false;
    }
    std::uint64_t a = Fnv1a(template_key, 0x5157), b = Fnv1a(template_key, 0xE7E7);
    TemplateRef made{Pos() + 8, static_cast<std::uint32_t>(a)};
    U32(made.id);
    U32(made.offset);
    U32(0);  // next template of the same hash bucket: set when the record is committed
    AppendLe(a, 8, &out);
    AppendLe(b, 8, &out);
    std::size_t size_at = out.size();
    U32(0);
    body();
    PatchU32(size_at, out.size() - (size_at + 4));
    new_templates.emplace_back(template_key, made);
    return true;
  }

  void FragmentHeader() {
    U8(kFragmentHeader);
    U8(1);
    U8(1);
    U8(0);
  }

  // The System template's body, for `computer` and the declared `types`.
  void SystemBody(std::string_view computer, const std::array<std::uint8_t, kSystemSlots>& t) {
    FragmentHeader();
    std::size_t event = Open("Event", true);
    std::size_t attrs = AttributesStart();
    Attribute("xmlns", false);
    Text(kEventNamespace);
    EndAttributes(attrs);
    U8(kCloseStartElement);
    std::size_t system = Open("System", false);
    U8(kCloseStartElement);
    EmptyElementWithAttributes("Provider", {{"Name", kProviderName}, {"Guid", kProviderGuid}}, t);
    std::size_t event_id = Open("EventID", true);
    attrs = AttributesStart();
    Attribute("Qualifiers", false);
    Substitution(kOptionalSubstitution, kQualifiers, t[kQualifiers]);
    EndAttributes(attrs);
    U8(kCloseStartElement);
    Substitution(kOptionalSubstitution, kEventId, t[kEventId]);
    Close(event_id, kEndElement);
    SubstitutedElement("Version", kVersion, t[kVersion]);
    SubstitutedElement("Level", kLevel, t[kLevel]);
    SubstitutedElement("Task", kTask, t[kTask]);
    SubstitutedElement("Opcode", kOpcode, t[kOpcode]);
    SubstitutedElement("Keywords", kKeywords, t[kKeywords]);
    EmptyElementWithAttributes("TimeCreated", {{"SystemTime", kSystemTime}}, t);
    SubstitutedElement("EventRecordID", kEventRecordId, t[kEventRecordId]);
    EmptyElementWithAttributes(
        "Correlation", {{"ActivityID", kActivityId}, {"RelatedActivityID", kRelatedActivityId}}, t);
    EmptyElementWithAttributes("Execution", {{"ProcessID", kProcessId}, {"ThreadID", kThreadId}},
                               t);
    SubstitutedElement("Channel", kChannel, t[kChannel]);
    std::size_t computer_at = Open("Computer", false);
    if (computer.empty()) {
      Close(computer_at, kCloseEmptyElement);
    } else {
      U8(kCloseStartElement);
      Text(computer);
      Close(computer_at, kEndElement);
    }
    EmptyElementWithAttributes("Security", {{"UserID", kUserId}}, t);
    Close(system, kEndElement);
    Substitution(kOptionalSubstitution, kEventData, t[kEventData]);
    Close(event, kEndElement);
    U8(kEndOfStream);
  }

  void EventDataBody(const std::vector<EvtxData>& data) {
    FragmentHeader();
    std::size_t event_data = Open("EventData", false);
    if (data.empty()) {
      Close(event_data, kCloseEmptyElement);
    } else {
      U8(kCloseStartElement);
      for (std::size_t i = 0; i < data.size(); ++i) {
        bool named = !data[i].name.empty();
        std::size_t item = Open("Data", named);
        if (named) {
          std::size_t attrs = AttributesStart();
          Attribute("Name", false);
          Text(data[i].name);
          EndAttributes(attrs);
        }
        U8(kCloseStartElement);
        Substitution(kNormalSubstitution, static_cast<std::uint16_t>(i),
                     DeclaredType(data[i].value, EvtxType::kString));
        Close(item, kEndElement);
      }
      Close(event_data, kEndElement);
    }
    U8(kEndOfStream);
  }

  // Substitution array descriptors (size, type) for `count` values; returns where they start.
  std::size_t Descriptors(std::size_t count) {
    U32(static_cast<std::uint32_t>(count));
    std::size_t at = out.size();
    out.append(4 * count, '\0');
    return at;
  }
  bool Value(std::size_t descriptors, std::size_t index, const EvtxValue& value) {
    if (value.bytes().size() > kMaxValueSize) return false;
    PatchU16(descriptors + 4 * index, value.bytes().size());
    out[descriptors + 4 * index + 2] = static_cast<char>(value.type());
    out.append(value.bytes());
    return true;
  }

  // Builds the record for `event` at chunk offset `base` into `out`. False with `error` when
  // a value is too long.
  bool Build(const EvtxEvent& event, std::uint64_t id, std::uint64_t written, bool* defines,
             std::string* error) {
    out.clear();
    new_names.clear();
    new_templates.clear();
    out.append("**\0\0", 4);
    U32(0);  // size, set below
    AppendLe(id, 8, &out);
    AppendLe(written, 8, &out);
    FragmentHeader();

    std::array<const EvtxValue*, kEventData> values = SystemValues(event);
    std::array<std::uint8_t, kSystemSlots> types{};
    for (std::size_t i = 0; i < kEventData; ++i) {
      types[i] = DeclaredType(*values[i], kSystemTypes[i]);
    }
    types[kEventData] = kBinXmlType;
    key.assign("S");
    key.append(reinterpret_cast<const char*>(types.data()), types.size());
    key.append(event.computer);
    *defines = TemplateInstance(key, [&] { SystemBody(event.computer, types); });

    std::size_t descriptors = Descriptors(kSystemSlots);
    for (std::size_t i = 0; i < kEventData; ++i) {
      if (!Value(descriptors, i, *values[i])) {
        *error = "a System value is longer than 65,535 bytes";
        return false;
      }
    }
    // EventData: a nested fragment with its own template instance.
    std::size_t data_start = out.size();
    FragmentHeader();
    key.assign("D");
    for (const EvtxData& d : event.data) {
      key.push_back(d.name.empty() ? '-' : '+');
      key.push_back(static_cast<char>(DeclaredType(d.value, EvtxType::kString)));
      key.append(d.name);
      key.push_back('\0');
    }
    TemplateInstance(key, [&] { EventDataBody(event.data); });
    std::size_t data_descriptors = Descriptors(event.data.size());
    for (std::size_t i = 0; i < event.data.size(); ++i) {
      if (!Value(data_descriptors, i, event.data[i].value)) {
        *error = "EventData value " + std::to_string(i) + " (" + event.data[i].name +
                 ") is longer than 65,535 bytes";
        return false;
      }
    }
    U8(kEndOfStream);
    std::size_t data_size = out.size() - data_start;
    if (data_size > kMaxValueSize) {
      *error = "the EventData is longer than 65,535 bytes";
      return false;
    }
    PatchU16(descriptors + 4 * kEventData, data_size);
    out[descriptors + 4 * kEventData + 2] = static_cast<char>(kBinXmlType);
    U8(kEndOfStream);
    while ((out.size() + 4) % 8 != 0) U8(0);
    std::size_t size = out.size() + 4;
    U32(static_cast<std::uint32_t>(size));
    PatchU32(4, size);
    return true;
  }

  // Adds the record in `out` to the chunk: copies it, chains its new names and templates into
  // the chunk's tables (newest first), updates the chunk header fields.
  void Commit(std::uint64_t id, bool defines) {
    std::memcpy(chunk.data() + base, out.data(), out.size());
    for (auto& [name, offset] : new_names) {
      const std::uint8_t* s = chunk.data() + offset;
      std::size_t bucket = (s[4] | (s[5] << 8)) % 64;
      PutU32(chunk.data() + offset, string_heads[bucket]);
      string_heads[bucket] = offset;
      PutU32(chunk.data() + kStringTable + 4 * bucket, offset);
      names.emplace(std::move(name), offset);
    }
    for (auto& [k, ref] : new_templates) {
      const std::uint8_t* guid = chunk.data() + ref.offset + 4;
      std::size_t bucket = Hash65599(guid, 8) % 32;
      PutU32(chunk.data() + ref.offset, template_heads[bucket]);
      template_heads[bucket] = ref.offset;
      PutU32(chunk.data() + kTemplateTable + 4 * bucket, ref.offset);
      templates.emplace(std::move(k), ref);
    }
    if (chunk_records == 0) first_id = id;
    last_id = id;
    ++chunk_records;
    last_record_offset = base;
    free_space = base + static_cast<std::uint32_t>(out.size());
    if (options.keep_layout) {
      EvtxRecordInfo info;
      info.file_offset = static_cast<std::int64_t>(kFileHeaderSize) +
                         chunk_index * static_cast<std::int64_t>(kChunkSize) + base;
      info.chunk = chunk_index;
      info.size = static_cast<std::uint32_t>(out.size());
      info.record_id = id;
      info.template_ref_offset = info.file_offset + kRecordHeaderSize + 4 + 6;
      info.defines_template = defines;
      record_infos.push_back(info);
    }
    ++records_written;
  }

  // Writes the chunk out (when it holds records) and starts an empty one.
  Status FlushChunk() {
    if (chunk_records == 0) return Status::Ok();
    std::uint8_t* c = chunk.data();
    std::memcpy(c, "ElfChnk\0", 8);
    PutU64(c + 8, first_id);  // record numbers: the ids, as in a log that never wrapped
    PutU64(c + 16, last_id);
    PutU64(c + 24, first_id);
    PutU64(c + 32, last_id);
    PutU32(c + 40, 128);  // header size
    PutU32(c + 44, last_record_offset);
    PutU32(c + 48, free_space);
    PutU32(c + 52, EvtxCrc32(c + kChunkHeaderSize, free_space - kChunkHeaderSize));
    std::uint32_t crc = EvtxCrc32(c, 120);
    PutU32(c + 124, EvtxCrc32(c + 128, kChunkHeaderSize - 128, crc));
    if (std::fwrite(c, 1, kChunkSize, file) != kChunkSize) {
      return Status(StatusCode::kIoError,
                    path + ": write failed: " + std::string(std::strerror(errno)));
    }
    if (options.keep_layout) {
      chunk_infos.push_back(EvtxChunkInfo{static_cast<std::int64_t>(kFileHeaderSize) +
                                              chunk_index * static_cast<std::int64_t>(kChunkSize),
                                          first_id, last_id, chunk_records, free_space});
    }
    ++chunks_written;
    ++chunk_index;
    std::memset(c, 0, kChunkSize);
    free_space = kChunkHeaderSize;
    last_record_offset = 0;
    chunk_records = 0;
    names.clear();
    templates.clear();
    string_heads.fill(0);
    template_heads.fill(0);
    return Status::Ok();
  }

  Status WriteFileHeader() {
    std::array<std::uint8_t, kFileHeaderSize> h{};
    std::memcpy(h.data(), "ElfFile\0", 8);
    PutU64(h.data() + 8, 0);  // first chunk number
    PutU64(h.data() + 16, chunks_written > 0 ? static_cast<std::uint64_t>(chunks_written - 1) : 0);
    PutU64(h.data() + 24, any_record ? max_id + 1 : options.first_record_id);
    PutU32(h.data() + 32, 128);  // header size
    PutU16(h.data() + 36, 1);    // minor version
    PutU16(h.data() + 38, 3);    // major version
    PutU16(h.data() + 40, static_cast<std::uint16_t>(kFileHeaderSize));
    // The count is 16 bits: larger files (past 4 GiB) say 65535 and readers go by file size.
    PutU16(h.data() + 42,
           static_cast<std::uint16_t>(std::min<std::int64_t>(chunks_written, 0xFFFF)));
    PutU32(h.data() + 120, options.file_flags);
    PutU32(h.data() + 124, EvtxCrc32(h.data(), 120));
    if (std::fseek(file, 0, SEEK_SET) != 0 ||
        std::fwrite(h.data(), 1, h.size(), file) != h.size()) {
      return Status(StatusCode::kIoError,
                    path + ": write failed: " + std::string(std::strerror(errno)));
    }
    return Status::Ok();
  }
};

EvtxWriter::EvtxWriter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

EvtxWriter::~EvtxWriter() {
  if (impl_->file) std::fclose(impl_->file);
}

Result<std::unique_ptr<EvtxWriter>> EvtxWriter::Create(const std::string& path,
                                                       const EvtxWriterOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->path = path;
  impl->next_id = options.first_record_id;
  impl->file = std::fopen(path.c_str(), "wb");
  if (!impl->file) {
    return Status(StatusCode::kIoError, path + ": cannot create: " + std::strerror(errno));
  }
  std::array<std::uint8_t, kFileHeaderSize> placeholder{};  // the header is written by Finish
  if (std::fwrite(placeholder.data(), 1, placeholder.size(), impl->file) != placeholder.size()) {
    return Status(StatusCode::kIoError, path + ": write failed: " + std::strerror(errno));
  }
  return std::unique_ptr<EvtxWriter>(new EvtxWriter(std::move(impl)));
}

Status EvtxWriter::Add(const EvtxEvent& event) {
  Impl& w = *impl_;
  if (w.finished) return Status(StatusCode::kInvalidArgument, w.path + ": already finished");
  std::uint64_t id = FixedSize(event.record_id.type()) != 0 ? event.record_id.number() : w.next_id;
  std::uint64_t written =
      event.time_created.type() == EvtxType::kFileTime ? event.time_created.number() : 0;
  std::string error;
  bool defines = false;
  for (int attempt = 0; attempt < 2; ++attempt) {
    w.base = w.free_space;
    if (!w.Build(event, id, written, &defines, &error)) {
      return Status(StatusCode::kInvalidArgument,
                    w.path + ": record " + std::to_string(id) + ": " + error);
    }
    if (w.base + w.out.size() + w.options.chunk_tail_bytes <= kChunkSize) {
      w.Commit(id, defines);
      w.next_id = id + 1;
      w.max_id = w.any_record ? std::max(w.max_id, id) : id;
      w.any_record = true;
      return Status::Ok();
    }
    if (w.chunk_records == 0) break;
    QUARRY_RETURN_IF_ERROR(w.FlushChunk());  // the record starts a new chunk
  }
  std::size_t max_record =
      kMaxRecordSize - std::min<std::size_t>(w.options.chunk_tail_bytes, kMaxRecordSize);
  return Status(StatusCode::kInvalidArgument,
                w.path + ": record " + std::to_string(id) + ": " + std::to_string(w.out.size()) +
                    " bytes do not fit in a chunk (at most " + std::to_string(max_record) + ")");
}

Status EvtxWriter::Finish() {
  Impl& w = *impl_;
  if (w.finished) return Status::Ok();
  w.finished = true;
  Status status = w.FlushChunk();
  if (status.ok()) status = w.WriteFileHeader();
  if (std::fclose(w.file) != 0 && status.ok()) {
    status = Status(StatusCode::kIoError, w.path + ": close failed: " + std::strerror(errno));
  }
  w.file = nullptr;
  return status;
}

std::int64_t EvtxWriter::record_count() const { return impl_->records_written; }
std::int64_t EvtxWriter::chunk_count() const {
  return impl_->chunks_written + (impl_->chunk_records > 0 ? 1 : 0);
}
const std::vector<EvtxRecordInfo>& EvtxWriter::records() const { return impl_->record_infos; }
const std::vector<EvtxChunkInfo>& EvtxWriter::chunks() const { return impl_->chunk_infos; }

// ---- Damage ----

namespace {

Status ReadWhole(const std::string& path, std::string* bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status(StatusCode::kIoError, path + ": cannot open");
  bytes->assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return Status::Ok();
}

Status WriteWhole(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) return Status(StatusCode::kIoError, path + ": write failed");
  return Status::Ok();
}

}  // namespace

Status PatchEvtxBytes(const std::string& path, std::int64_t offset, std::string_view bytes) {
  std::string data;
  QUARRY_RETURN_IF_ERROR(ReadWhole(path, &data));
  if (offset < 0 || static_cast<std::size_t>(offset) + bytes.size() > data.size()) {
    return Status(StatusCode::kInvalidArgument,
                  path + ": patch at " + std::to_string(offset) + " runs past the end of the file");
  }
  data.replace(static_cast<std::size_t>(offset), bytes.size(), bytes);
  return WriteWhole(path, data);
}

Status PatchEvtxU16(const std::string& path, std::int64_t offset, std::uint16_t value) {
  std::string bytes;
  AppendLe(value, 2, &bytes);
  return PatchEvtxBytes(path, offset, bytes);
}

Status PatchEvtxU32(const std::string& path, std::int64_t offset, std::uint32_t value) {
  std::string bytes;
  AppendLe(value, 4, &bytes);
  return PatchEvtxBytes(path, offset, bytes);
}

Status TruncateEvtxFile(const std::string& path, std::int64_t size) {
  std::error_code ec;
  std::filesystem::resize_file(path, static_cast<std::uintmax_t>(size), ec);
  if (ec) return Status(StatusCode::kIoError, path + ": cannot truncate: " + ec.message());
  return Status::Ok();
}

Status RefreshEvtxChecksums(const std::string& path) {
  std::string data;
  QUARRY_RETURN_IF_ERROR(ReadWhole(path, &data));
  auto* bytes = reinterpret_cast<std::uint8_t*>(data.data());
  if (data.size() >= 128) PutU32(bytes + 124, EvtxCrc32(bytes, 120));
  for (std::size_t at = kFileHeaderSize; at + kChunkHeaderSize <= data.size(); at += kChunkSize) {
    std::uint8_t* c = bytes + at;
    if (std::memcmp(c, "ElfChnk\0", 8) != 0) continue;
    std::size_t available = std::min(kChunkSize, data.size() - at);
    std::uint32_t free_space = GetU32(c + 48);
    if (free_space >= kChunkHeaderSize && free_space <= available) {
      PutU32(c + 52, EvtxCrc32(c + kChunkHeaderSize, free_space - kChunkHeaderSize));
    }
    PutU32(c + 124, EvtxCrc32(c + 128, kChunkHeaderSize - 128, EvtxCrc32(c, 120)));
  }
  return WriteWhole(path, data);
}

Status SetEvtxHeaderChunkCount(const std::string& path, std::uint16_t count) {
  QUARRY_RETURN_IF_ERROR(PatchEvtxU16(path, 42, count));
  std::string data;
  QUARRY_RETURN_IF_ERROR(ReadWhole(path, &data));
  if (data.size() < 128) return Status(StatusCode::kInvalidArgument, path + ": no file header");
  return PatchEvtxU32(path, 124, EvtxCrc32(data.data(), 120));
}

Status BreakEvtxChunkSignature(const std::string& path, const EvtxChunkInfo& chunk) {
  return PatchEvtxBytes(path, chunk.file_offset + 6, "X");
}

Status BreakEvtxChunkChecksum(const std::string& path, const EvtxChunkInfo& chunk, bool header) {
  std::string data;
  QUARRY_RETURN_IF_ERROR(ReadWhole(path, &data));
  auto c = static_cast<std::size_t>(chunk.file_offset);
  if (c + kChunkHeaderSize > data.size()) {
    return Status(StatusCode::kInvalidArgument, path + ": no such chunk");
  }
  auto* p = reinterpret_cast<std::uint8_t*>(data.data()) + c;
  if (header) {
    p[124] ^= 0x01;
  } else {
    p[52] ^= 0x01;  // inside the header's checksummed bytes: keep the header's checksum right
    PutU32(p + 124, EvtxCrc32(p + 128, kChunkHeaderSize - 128, EvtxCrc32(p, 120)));
  }
  return WriteWhole(path, data);
}

Status ShortenEvtxRecord(const std::string& path, const EvtxRecordInfo& record,
                         std::uint32_t new_size) {
  if (new_size < kRecordHeaderSize + 4 || new_size >= record.size) {
    return Status(StatusCode::kInvalidArgument,
                  path + ": a shortened record needs 28 bytes to its old size");
  }
  QUARRY_RETURN_IF_ERROR(PatchEvtxU32(path, record.file_offset + 4, new_size));
  QUARRY_RETURN_IF_ERROR(PatchEvtxU32(path, record.file_offset + new_size - 4, new_size));
  return RefreshEvtxChecksums(path);
}

Status PointEvtxTemplateAt(const std::string& path, const EvtxRecordInfo& record,
                           std::uint32_t chunk_offset) {
  QUARRY_RETURN_IF_ERROR(PatchEvtxU32(path, record.template_ref_offset, chunk_offset));
  return RefreshEvtxChecksums(path);
}

}  // namespace quarry::testing
