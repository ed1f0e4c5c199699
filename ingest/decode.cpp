// Event XML file -> batches of ProcessEvent: scan records, parse each, dispatch by source.
#include "ingest/decode.h"

#include "ingest/event_xml.h"
#include "ingest/event_xml_scanner.h"
#include "ingest/sysmon.h"

namespace quarry::ingest {
namespace {

IngestWarning RecordWarning(const XmlRecord& record, IngestWarning::Severity severity,
                            std::optional<std::int64_t> record_id, std::string reason) {
  IngestWarning warning;
  warning.severity = severity;
  warning.byte_offset = record.byte_offset;
  warning.line = record.line;
  warning.record_id = record_id;
  warning.reason = std::move(reason);
  warning.excerpt = WarningExcerpt(record.text());
  return warning;
}

}  // namespace

Status DecodeEventXmlFile(const std::string& path, const SniffResult& sniff,
                          const DecodeOptions& options, const BatchSink& sink) {
  Result<std::unique_ptr<Utf8Reader>> reader = Utf8Reader::Open(path, sniff.encoding, sniff.bom_bytes);
  if (!reader.ok()) return reader.status();
  EventXmlScanner scanner(std::move(reader).value(), options.max_record_bytes);
  EventXmlParser parser;
  WinEvent event;
  XmlRecord record;
  std::string scratch;
  std::string error;
  std::vector<std::string> problems;
  DecodedBatch batch;

  auto flush = [&]() {
    bool go_on = sink(std::move(batch));
    batch = DecodedBatch();
    return go_on;
  };

  while (true) {
    std::size_t warnings_before = batch.warnings.size();
    bool more = scanner.Next(&record, &batch.warnings);
    batch.records_rejected += static_cast<std::int64_t>(batch.warnings.size() - warnings_before);
    if (!more) break;

    scratch.assign(record.data, record.size);  // parse a copy; the record keeps the raw text
    if (!parser.Parse(scratch.data(), scratch.size(), &event, &error)) {
      batch.warnings.push_back(RecordWarning(record, IngestWarning::Severity::kRejected,
                                             std::nullopt, error));
      ++batch.records_rejected;
    } else if (!IsSysmonProcessCreate(event)) {
      ++batch.events_skipped;
    } else {
      ProcessEvent row;
      problems.clear();
      bool ok = NormalizeSysmonProcessCreate(event, &row, &problems);
      for (std::string& problem : problems) {
        batch.warnings.push_back(RecordWarning(
            record, ok ? IngestWarning::Severity::kField : IngestWarning::Severity::kRejected,
            event.record_id, std::move(problem)));
      }
      if (ok) {
        row.record_offset = record.byte_offset;
        row.record_line = record.line;
        row.raw.assign(record.data, record.size);
        batch.events.push_back(std::move(row));
      } else {
        ++batch.records_rejected;
      }
    }
    if (batch.events.size() + batch.warnings.size() >= options.batch_events && !flush()) {
      return Status::Ok();
    }
  }
  flush();
  return scanner.status();
}

}  // namespace quarry::ingest
