// Event XML decoding with pugixml: by element and attribute name, never by position.
#include "ingest/event_xml.h"

#include <charconv>
#include <cstring>
#include <pugixml.hpp>

#include "ingest/normalize_util.h"

namespace quarry::ingest {
namespace {

// pugixml options: keep text exactly as written (no end-of-line normalisation, keep a Data
// value made only of spaces), decode character references, never expand DTD entities.
constexpr unsigned kParseOptions =
    (pugi::parse_default & ~pugi::parse_eol & ~pugi::parse_wconv_attribute) |
    pugi::parse_ws_pcdata_single;

// The local name of an element: "e:Event" -> "Event".
std::string_view LocalName(const pugi::xml_node& node) {
  std::string_view name = node.name();
  std::size_t colon = name.find(':');
  return colon == std::string_view::npos ? name : name.substr(colon + 1);
}

pugi::xml_node Child(const pugi::xml_node& parent, std::string_view local_name) {
  for (pugi::xml_node child = parent.first_child(); child; child = child.next_sibling()) {
    if (child.type() == pugi::node_element && LocalName(child) == local_name) return child;
  }
  return {};
}

}  // namespace

struct EventXmlParser::Impl {
  pugi::xml_document doc;
};

EventXmlParser::EventXmlParser() : impl_(std::make_unique<Impl>()) {}
EventXmlParser::~EventXmlParser() = default;

bool EventXmlParser::Parse(char* data, std::size_t size, WinEvent* event, std::string* error) {
  *event = WinEvent();
  pugi::xml_parse_result parsed =
      impl_->doc.load_buffer_inplace(data, size, kParseOptions, pugi::encoding_utf8);
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
    event->record_id = ParseEventInteger(Child(system, "EventRecordID").child_value());
    event->system_time = Child(system, "TimeCreated").attribute("SystemTime").value();
    event->security_user_id = Child(system, "Security").attribute("UserID").value();
  }
  pugi::xml_node event_data = Child(root, "EventData");
  for (pugi::xml_node item = event_data.first_child(); item; item = item.next_sibling()) {
    if (item.type() != pugi::node_element || LocalName(item) != "Data") continue;
    event->data.emplace_back(item.attribute("Name").value(), item.child_value());
  }
  return true;
}

}  // namespace quarry::ingest
