// pugixml helpers for reading Windows event XML: the parse options Quarry reads events with, and
// element lookup by local name. Shared by the event XML decoder (ingest/event_xml.cpp) and the
// test EVTX writer (tests/support), which must read XML exactly as the decoder does.
#pragma once

#include <pugixml.hpp>
#include <string_view>

namespace quarry::ingest {

/// Keep text exactly as written (no end-of-line normalisation, keep a Data value made only of
/// spaces), decode character references, never expand DTD entities.
inline constexpr unsigned kEventXmlParseOptions =
    (pugi::parse_default & ~pugi::parse_eol & ~pugi::parse_wconv_attribute) |
    pugi::parse_ws_pcdata_single;

/// The local name of an element: "e:Event" -> "Event".
inline std::string_view LocalName(const pugi::xml_node& node) {
  std::string_view name = node.name();
  std::size_t colon = name.find(':');
  return colon == std::string_view::npos ? name : name.substr(colon + 1);
}

/// The first child element of `parent` whose local name is `local_name`; an empty node when
/// there is none.
inline pugi::xml_node Child(const pugi::xml_node& parent, std::string_view local_name) {
  for (pugi::xml_node child = parent.first_child(); child; child = child.next_sibling()) {
    if (child.type() == pugi::node_element && LocalName(child) == local_name) return child;
  }
  return {};
}

}  // namespace quarry::ingest
