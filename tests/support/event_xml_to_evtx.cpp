// Event XML -> EVTX records: records are split by Quarry's own event XML scanner (so every
// rendering Quarry reads converts), parsed with pugixml exactly as Quarry's decoder parses them,
// and written through EvtxWriter.
#include "tests/support/event_xml_to_evtx.h"

#include <memory>
#include <pugixml.hpp>

#include "ingest/event_xml_scanner.h"
#include "ingest/input_file.h"
#include "ingest/pugi_util.h"

namespace quarry::testing {
namespace {
using ingest::Child;
using ingest::LocalName;

// The value of `text` as `type`; null when the XML does not have it at all.
EvtxValue Typed(EvtxType type, const char* text, bool present) {
  return present ? EvtxValue::FromText(type, text) : EvtxValue();
}

EvtxValue ElementValue(const pugi::xml_node& system, std::string_view name, EvtxType type) {
  pugi::xml_node node = Child(system, name);
  return Typed(type, node.child_value(), static_cast<bool>(node));
}

EvtxValue AttributeValue(const pugi::xml_node& system, std::string_view element,
                         const char* attribute, EvtxType type) {
  pugi::xml_attribute a = Child(system, element).attribute(attribute);
  return Typed(type, a.value(), static_cast<bool>(a));
}

}  // namespace

bool EvtxEventFromXml(std::string_view xml, EvtxEvent* event, std::vector<std::string>* notes,
                      std::string* error) {
  pugi::xml_document doc;
  pugi::xml_parse_result parsed =
      doc.load_buffer(xml.data(), xml.size(), ingest::kEventXmlParseOptions, pugi::encoding_utf8);
  if (!parsed) {
    *error = std::string("not well-formed XML: ") + parsed.description() + " at byte " +
             std::to_string(parsed.offset) + " of the record";
    return false;
  }
  pugi::xml_node root = doc.document_element();
  if (LocalName(root) != "Event") {
    *error = "root element is not <Event>";
    return false;
  }
  *event = EvtxEvent();
  pugi::xml_node system = Child(root, "System");
  event->provider_name = AttributeValue(system, "Provider", "Name", EvtxType::kString);
  event->provider_guid = AttributeValue(system, "Provider", "Guid", EvtxType::kGuid);
  event->event_id = ElementValue(system, "EventID", EvtxType::kUInt16);
  event->qualifiers = AttributeValue(system, "EventID", "Qualifiers", EvtxType::kUInt16);
  event->version = ElementValue(system, "Version", EvtxType::kUInt8);
  event->level = ElementValue(system, "Level", EvtxType::kUInt8);
  event->task = ElementValue(system, "Task", EvtxType::kUInt16);
  event->opcode = ElementValue(system, "Opcode", EvtxType::kUInt8);
  event->keywords = ElementValue(system, "Keywords", EvtxType::kHexInt64);
  event->time_created = AttributeValue(system, "TimeCreated", "SystemTime", EvtxType::kFileTime);
  event->record_id = ElementValue(system, "EventRecordID", EvtxType::kUInt64);
  event->activity_id = AttributeValue(system, "Correlation", "ActivityID", EvtxType::kGuid);
  event->related_activity_id =
      AttributeValue(system, "Correlation", "RelatedActivityID", EvtxType::kGuid);
  event->process_id = AttributeValue(system, "Execution", "ProcessID", EvtxType::kUInt32);
  event->thread_id = AttributeValue(system, "Execution", "ThreadID", EvtxType::kUInt32);
  event->channel = ElementValue(system, "Channel", EvtxType::kString);
  event->computer = Child(system, "Computer").child_value();
  event->user_id = AttributeValue(system, "Security", "UserID", EvtxType::kSid);

  static constexpr std::string_view kSystemChildren[] = {
      "Provider",  "EventID",  "Version",     "Level",         "Task",
      "Opcode",    "Keywords", "TimeCreated", "EventRecordID", "Correlation",
      "Execution", "Channel",  "Computer",    "Security"};
  for (pugi::xml_node child = system.first_child(); child; child = child.next_sibling()) {
    if (child.type() != pugi::node_element) continue;
    bool known = false;
    for (std::string_view name : kSystemChildren) known = known || LocalName(child) == name;
    if (!known) notes->push_back("<System><" + std::string(child.name()) + "> left out");
  }
  for (pugi::xml_node child = root.first_child(); child; child = child.next_sibling()) {
    if (child.type() != pugi::node_element) continue;
    std::string_view name = LocalName(child);
    if (name == "System") continue;
    if (name != "EventData") {
      notes->push_back("<" + std::string(child.name()) + "> left out");
      continue;
    }
    for (pugi::xml_node item = child.first_child(); item; item = item.next_sibling()) {
      if (item.type() != pugi::node_element) continue;
      if (LocalName(item) != "Data") {
        notes->push_back("<EventData><" + std::string(item.name()) + "> left out");
        continue;
      }
      event->data.push_back(
          EvtxData{item.attribute("Name").value(), EvtxValue::String(item.child_value())});
    }
  }
  return true;
}

Result<XmlToEvtxSummary> ConvertEventXmlToEvtx(const std::vector<std::string>& inputs,
                                               const std::string& output,
                                               const EvtxWriterOptions& options) {
  Result<std::unique_ptr<EvtxWriter>> writer = EvtxWriter::Create(output, options);
  if (!writer.ok()) return writer.status();
  XmlToEvtxSummary summary;
  EvtxEvent event;
  std::vector<std::string> notes;
  std::string error;
  for (const std::string& input : inputs) {
    Result<ingest::SniffResult> sniff = ingest::SniffFile(input);
    if (!sniff.ok()) return sniff.status();
    if (sniff->format != "event_xml") {
      return Status(StatusCode::kInvalidArgument,
                    input + ": not event XML" +
                        (sniff->reason.empty() ? std::string() : " (" + sniff->reason + ")"));
    }
    Result<std::unique_ptr<ingest::Utf8Reader>> reader =
        ingest::Utf8Reader::Open(input, sniff->encoding, sniff->bom_bytes);
    if (!reader.ok()) return reader.status();
    ingest::EventXmlScanner scanner(std::move(reader).value(), std::size_t{64} << 20);
    ingest::XmlRecord record;
    std::vector<ingest::IngestWarning> problems;
    std::int64_t ordinal = 0;
    auto where = [&](std::int64_t line) {
      return "warning: " + input + ": record " + std::to_string(ordinal) + " (line " +
             std::to_string(line) + "): ";
    };
    while (true) {
      problems.clear();
      bool more = scanner.Next(&record, &problems);
      for (const ingest::IngestWarning& problem : problems) {
        ++summary.skipped;
        summary.messages.push_back("warning: " + input + ": line " +
                                   std::to_string(problem.line.value_or(0)) + ": " +
                                   problem.reason + "; skipped");
      }
      if (!more) break;
      if (record.size == 0) continue;
      ++ordinal;
      notes.clear();
      if (!EvtxEventFromXml(record.text(), &event, &notes, &error)) {
        ++summary.skipped;
        summary.messages.push_back(where(record.line) + error + "; skipped");
        continue;
      }
      for (const std::string& note : notes) summary.messages.push_back(where(record.line) + note);
      QUARRY_RETURN_IF_ERROR((*writer)->Add(event));
      ++summary.records;
    }
    QUARRY_RETURN_IF_ERROR(scanner.status());
  }
  summary.chunks = (*writer)->chunk_count();
  QUARRY_RETURN_IF_ERROR((*writer)->Finish());
  return summary;
}

}  // namespace quarry::testing
