// Event XML decoding with pugixml: by element and attribute name, never by position.
#include "ingest/event_xml.h"

#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <pugixml.hpp>

#include "ingest/normalize_util.h"
#include "ingest/pugi_util.h"

namespace quarry::ingest {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD in UTF-8

// What RepairRecord replaced, as bits.
constexpr unsigned kNotUtf8 = 1;
constexpr unsigned kNulByte = 2;
constexpr unsigned kNoCharacter = 4;

// When text[at] starts a character reference that pugixml would decode ("&#123;", "&#x7b;")
// to no Unicode character (U+0000, which would end the value there, a surrogate, or past
// U+10FFFF, which it writes as bytes that are not UTF-8), the reference's length; else 0.
std::size_t BadCharacterReferenceLength(std::string_view text, std::size_t at) {
  if (text.substr(at, 2) != "&#") return 0;
  std::size_t pos = at + 2;
  const bool hex = pos < text.size() && text[pos] == 'x';  // pugixml reads only a small x
  if (hex) ++pos;
  std::uint64_t value = 0;
  std::size_t digits = 0;
  for (; pos < text.size(); ++pos, ++digits) {
    char c = text[pos];
    int digit;
    if (c >= '0' && c <= '9') {
      digit = c - '0';
    } else if (hex && (c | ' ') >= 'a' && (c | ' ') <= 'f') {
      digit = (c | ' ') - 'a' + 10;
    } else {
      break;
    }
    value = std::min<std::uint64_t>(value * (hex ? 16 : 10) + static_cast<unsigned>(digit),
                                    0x110000);  // saturate: anything larger is as bad
  }
  if (digits == 0 || pos >= text.size() || text[pos] != ';') return 0;  // not decoded
  bool bad = value == 0 || (value >= 0xD800 && value <= 0xDFFF) || value > 0x10FFFF;
  return bad ? pos + 1 - at : 0;
}

// Copies `text` to `out` with U+FFFD for each byte that is not part of UTF-8, each NUL byte and
// each character reference to no character outside CDATA sections; returns what it replaced
// (0: nothing, and `out` is untouched).
unsigned RepairRecord(std::string_view text, std::string* out) {
  // Almost every record is valid UTF-8 without NUL or "&#": three vectorised scans say so
  // before the byte-by-byte one below.
  if (simdjson::validate_utf8(text.data(), text.size()) &&
      std::memchr(text.data(), '\0', text.size()) == nullptr &&
      memmem(text.data(), text.size(), "&#", 2) == nullptr) {
    return 0;
  }
  unsigned found = 0;
  std::size_t copied = 0;  // text before this is in `out` (once something was found)
  bool in_cdata = false;
  for (std::size_t at = 0; at < text.size();) {
    auto c = static_cast<unsigned char>(text[at]);
    std::size_t bad = 0;
    unsigned kind = 0;
    if (c == 0) {
      bad = 1;
      kind = kNulByte;
    } else if (c >= 0x80) {
      std::size_t length = Utf8SequenceLength(text, at);
      if (length == 0) {
        bad = 1;
        kind = kNotUtf8;
      } else {
        at += length;
        continue;
      }
    } else if (c == '&' && !in_cdata) {
      bad = BadCharacterReferenceLength(text, at);
      kind = kNoCharacter;
    } else if (c == '<' && !in_cdata && text.substr(at, 9) == "<![CDATA[") {
      in_cdata = true;
    } else if (c == ']' && in_cdata && text.substr(at, 3) == "]]>") {
      in_cdata = false;
    }
    if (bad == 0) {
      ++at;
      continue;
    }
    if (found == 0) out->clear();
    out->append(text.substr(copied, at - copied));
    out->append(kReplacement);
    found |= kind;
    at += bad;
    copied = at;
  }
  if (found != 0) out->append(text.substr(copied));
  return found;
}

// The field warning for what RepairRecord replaced.
std::string RepairNote(unsigned found) {
  std::string what;
  auto add = [&](unsigned bit, std::string_view text) {
    if ((found & bit) == 0) return;
    if (!what.empty()) what += ", ";
    what += text;
  };
  add(kNotUtf8, "bytes that are not UTF-8");
  add(kNulByte, "NUL bytes");
  add(kNoCharacter, "character references to no character (&#0;, a surrogate, past U+10FFFF)");
  return "the record holds " + what + "; each was read as U+FFFD (the raw record keeps them)";
}

}  // namespace

struct EventXmlParser::Impl {
  pugi::xml_document doc;
  std::string repaired;  // a record with what pugixml cannot keep replaced
  std::string problems;  // for WinEvent::problems
};

EventXmlParser::EventXmlParser() : impl_(std::make_unique<Impl>()) {}
EventXmlParser::~EventXmlParser() = default;

bool EventXmlParser::Parse(char* data, std::size_t size, WinEvent* event, std::string* error) {
  *event = WinEvent();
  // pugixml keeps bytes that are not UTF-8 as they are, ends a value at a NUL byte or "&#0;"
  // (hiding the rest of a command line) and writes "&#xD800;" as bytes that are not UTF-8:
  // parse a repaired copy instead, and say so.
  impl_->problems.clear();
  if (unsigned found = RepairRecord(std::string_view(data, size), &impl_->repaired)) {
    impl_->problems = RepairNote(found);
    data = impl_->repaired.data();
    size = impl_->repaired.size();
  }
  pugi::xml_parse_result parsed =
      impl_->doc.load_buffer_inplace(data, size, kEventXmlParseOptions, pugi::encoding_utf8);
  if (!parsed) {
    *error = std::string("not well-formed XML: ") + parsed.description() + " at byte " +
             std::to_string(parsed.offset) + " of the record";
    return false;
  }
  pugi::xml_node root = impl_->doc.document_element();
  if (LocalName(root) != "Event") {
    *error = "root element is not <Event>";
    return false;
  }
  pugi::xml_node system = Child(root, "System");
  if (system) {
    event->provider = Child(system, "Provider").attribute("Name").value();
    event->channel = Child(system, "Channel").child_value();
    event->event_id = ParseEventInteger(Child(system, "EventID").child_value());
    event->version = ParseEventInteger(Child(system, "Version").child_value());
    event->computer = Child(system, "Computer").child_value();
    std::string_view record_id = Child(system, "EventRecordID").child_value();
    event->record_id = ParseEventInteger(record_id);
    if (!event->record_id && !record_id.empty()) {
      if (!impl_->problems.empty()) impl_->problems += "; ";
      impl_->problems += "EventRecordID is not a number: '" + std::string(record_id) + "'";
    }
    event->system_time = Child(system, "TimeCreated").attribute("SystemTime").value();
    event->security_user_id = Child(system, "Security").attribute("UserID").value();
  }
  event->problems = impl_->problems;
  pugi::xml_node event_data = Child(root, "EventData");
  for (pugi::xml_node item = event_data.first_child(); item; item = item.next_sibling()) {
    if (item.type() != pugi::node_element || LocalName(item) != "Data") continue;
    event->data.emplace_back(item.attribute("Name").value(), item.child_value());
  }
  return true;
}

}  // namespace quarry::ingest
