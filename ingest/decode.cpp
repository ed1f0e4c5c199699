// Input file -> batches of ProcessEvent and lookup records: split into records, parse each,
// dispatch by source.
#include "ingest/decode.h"

#include "ingest/batcher.h"
#include "ingest/crowdstrike.h"
#include "ingest/event_xml.h"
#include "ingest/event_xml_scanner.h"
#include "ingest/evtx.h"
#include "ingest/json_record.h"
#include "ingest/line_reader.h"
#include "ingest/nxlog.h"
#include "ingest/windows_events.h"

namespace quarry::ingest {
namespace {

// Reads one FDR lookup record (aidmaster or userinfo) into `records`, or counts it as skipped
// when it lacks its key. What the JSON parser repaired in a record that loads is a field
// warning, as for events.
template <typename Record>
void AddLookup(const JsonFields& fields, const TextLine& line,
               bool (*read)(const JsonFields&, Record*), std::vector<Record>* records,
               std::int64_t* skipped, Batcher* batcher) {
  Record record;
  if (!read(fields, &record)) {
    ++*skipped;
    return;
  }
  if (!fields.repairs.empty()) {
    batcher->batch().warnings.push_back(RecordWarning(line.byte_offset, line.line, line.text,
                                                      IngestWarning::Severity::kField, std::nullopt,
                                                      fields.repairs));
  }
  record.record_offset = line.byte_offset;
  record.raw.assign(line.text);
  batcher->AddBytes(2 * line.text.size());
  records->push_back(std::move(record));
}

// The file's one warning about UTF-16 code units the reader replaced with U+FFFD, added to the
// last batch. It names the first one's byte offset: the text is repaired before it is split
// into records, so no record can be named.
void AddTranscodingWarning(const Utf8Reader& reader, Batcher* batcher) {
  std::optional<std::string> reason = reader.RepairWarning();
  if (!reason) return;
  batcher->batch().warnings.push_back(RecordWarning(reader.repairs().first_offset, std::nullopt, "",
                                                    IngestWarning::Severity::kField, std::nullopt,
                                                    std::move(*reason)));
}

Status DecodeEventXml(std::unique_ptr<ByteSource> source, const SniffResult& sniff,
                      const DecodeOptions& options, const BatchSink& sink) {
  Result<std::unique_ptr<Utf8Reader>> reader =
      Utf8Reader::FromSource(std::move(source), sniff.encoding, sniff.bom_bytes);
  if (!reader.ok()) return reader.status();
  const Utf8Reader* text = reader->get();  // owned by the scanner, which outlives its use here
  EventXmlScanner scanner(std::move(reader).value(), options.max_record_bytes);
  EventXmlParser parser;
  WinEvent event;
  XmlRecord record;
  std::string scratch;
  std::string error;
  std::vector<std::string> problems;
  Batcher batcher(options, sink);

  while (true) {
    DecodedBatch& batch = batcher.batch();
    std::size_t warnings_before = batch.warnings.size();
    bool more = scanner.Next(&record, &batch.warnings);
    batch.records_rejected += static_cast<std::int64_t>(batch.warnings.size() - warnings_before);
    if (!more) break;
    if (record.size == 0) {  // only damage this time
      if (!batcher.MaybeFlush()) return Status::Ok();
      continue;
    }

    scratch.assign(record.data, record.size);  // parse a copy; the record keeps the raw text
    if (!parser.Parse(scratch.data(), scratch.size(), &event, &error)) {
      batch.warnings.push_back(RecordWarning(record.byte_offset, record.line, record.text(),
                                             IngestWarning::Severity::kRejected, std::nullopt,
                                             error));
      ++batch.records_rejected;
    } else {
      ProcessEvent row;
      problems.clear();
      NormalizeOutcome outcome = NormalizeWindowsEvent(event, &row, &problems);
      batcher.AddNormalized(outcome, std::move(row), &problems, record.byte_offset, record.line,
                            record.text(), event.record_id);
    }
    if (!batcher.MaybeFlush()) return Status::Ok();
  }
  AddTranscodingWarning(*text, &batcher);
  batcher.Flush();
  return scanner.status();
}

Status DecodeJsonLines(std::unique_ptr<ByteSource> source, const SniffResult& sniff,
                       const DecodeOptions& options, const BatchSink& sink) {
  Result<std::unique_ptr<Utf8Reader>> reader =
      Utf8Reader::FromSource(std::move(source), sniff.encoding, sniff.bom_bytes);
  if (!reader.ok()) return reader.status();
  const Utf8Reader* text = reader->get();  // owned by `lines`, which outlives its use here
  LineReader lines(std::move(reader).value(), options.max_record_bytes);
  JsonObjectParser parser;
  JsonFields fields;
  WinEvent event;
  TextLine line;
  std::string error;
  std::vector<std::string> problems;
  Batcher batcher(options, sink);

  while (true) {
    DecodedBatch& batch = batcher.batch();
    std::size_t warnings_before = batch.warnings.size();
    bool more = lines.Next(&line, &batch.warnings);
    batch.records_rejected += static_cast<std::int64_t>(batch.warnings.size() - warnings_before);
    if (!more) break;
    if (line.text.find_first_not_of(" \t\r") == std::string_view::npos) continue;  // blank line

    if (!parser.Parse(line.text, &fields, &error)) {
      batch.warnings.push_back(RecordWarning(line.byte_offset, line.line, line.text,
                                             IngestWarning::Severity::kRejected, std::nullopt,
                                             error));
      ++batch.records_rejected;
    } else {
      problems.clear();
      ProcessEvent row;
      switch (ClassifyFdrRecord(fields)) {
        case FdrRecordKind::kProcessEvent: {
          bool ok = NormalizeProcessRollup2(fields, &row, &problems);
          batcher.AddNormalized(ok ? NormalizeOutcome::kLoaded : NormalizeOutcome::kRejected,
                                std::move(row), &problems, line.byte_offset, line.line, line.text,
                                std::nullopt);
          break;
        }
        case FdrRecordKind::kAidMaster:
          AddLookup(fields, line, ReadAidMaster, &batch.hosts, &batch.events_skipped, &batcher);
          break;
        case FdrRecordKind::kUserInfo:
          AddLookup(fields, line, ReadUserInfo, &batch.users, &batch.events_skipped, &batcher);
          break;
        case FdrRecordKind::kOtherEvent:
          ++batch.events_skipped;
          break;
        case FdrRecordKind::kNotFdr:
          if (IsNxlogWindowsEvent(fields)) {
            // What the JSON parser repaired is a field warning of the event, as for FDR (the
            // Windows normalizers only see the members, not how they were read).
            if (!fields.repairs.empty()) problems.push_back(fields.repairs);
            NxlogToWinEvent(fields, &event);
            NormalizeOutcome outcome = NormalizeWindowsEvent(event, &row, &problems);
            batcher.AddNormalized(outcome, std::move(row), &problems, line.byte_offset, line.line,
                                  line.text, event.record_id);
          } else {
            ++batch.events_skipped;
          }
          break;
      }
    }
    if (!batcher.MaybeFlush()) return Status::Ok();
  }
  AddTranscodingWarning(*text, &batcher);
  batcher.Flush();
  return lines.status();
}

}  // namespace

Status DecodeStream(std::unique_ptr<ByteSource> source, const SniffResult& sniff,
                    const DecodeOptions& options, const BatchSink& sink) {
  if (sniff.format == "event_xml") return DecodeEventXml(std::move(source), sniff, options, sink);
  if (sniff.format == "json_lines") return DecodeJsonLines(std::move(source), sniff, options, sink);
  if (sniff.format == "evtx") return DecodeEvtxStream(source.get(), options, sink);
  return Status(StatusCode::kInternal, "no decoder for format '" + sniff.format + "'");
}

Status DecodeFile(const std::string& path, const SniffResult& sniff, const DecodeOptions& options,
                  const BatchSink& sink) {
  Result<std::unique_ptr<ByteSource>> file = OpenFileSource(path);
  if (!file.ok()) return file.status();
  return DecodeStream(std::move(file).value(), sniff, options, sink);
}

Status DecodeEventXmlFile(const std::string& path, const SniffResult& sniff,
                          const DecodeOptions& options, const BatchSink& sink) {
  Result<std::unique_ptr<ByteSource>> file = OpenFileSource(path);
  if (!file.ok()) return file.status();
  return DecodeEventXml(std::move(file).value(), sniff, options, sink);
}

Status DecodeJsonLinesFile(const std::string& path, const SniffResult& sniff,
                           const DecodeOptions& options, const BatchSink& sink) {
  Result<std::unique_ptr<ByteSource>> file = OpenFileSource(path);
  if (!file.ok()) return file.status();
  return DecodeJsonLines(std::move(file).value(), sniff, options, sink);
}

}  // namespace quarry::ingest
