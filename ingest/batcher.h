// The batching shared by the decoders: records collect into DecodedBatch values that go to the
// sink when full, and a bad record becomes an IngestWarning. Internal to ingest/.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ingest/decode.h"
#include "ingest/windows_events.h"

namespace quarry::ingest {

/// A warning about the record at `offset` (`line` for text formats), keeping an excerpt of
/// `text`.
inline IngestWarning RecordWarning(std::int64_t offset, std::optional<std::int64_t> line,
                                   std::string_view text, IngestWarning::Severity severity,
                                   std::optional<std::int64_t> record_id, std::string reason) {
  IngestWarning warning;
  warning.severity = severity;
  warning.byte_offset = offset;
  warning.line = line;
  warning.record_id = record_id;
  warning.reason = std::move(reason);
  warning.excerpt = WarningExcerpt(text);
  return warning;
}

/// Collects records into batches and hands full ones to the sink.
class Batcher {
 public:
  Batcher(const DecodeOptions& options, const BatchSink& sink) : options_(options), sink_(sink) {}

  DecodedBatch& batch() { return batch_; }

  // Hands the batch over when it is full, by records or by bytes (so memory stays bounded
  // however large the records are); false when the sink wants no more.
  bool MaybeFlush() {
    std::size_t size =
        batch_.events.size() + batch_.warnings.size() + batch_.hosts.size() + batch_.users.size();
    return (size < options_.batch_events && bytes_ < options_.batch_bytes) || Flush();
  }
  bool Flush() {
    bool go_on = sink_(std::move(batch_));
    batch_ = DecodedBatch();
    bytes_ = 0;
    return go_on;
  }
  // Counts raw bytes kept by the batch (records, lookup records, excerpts).
  void AddBytes(std::size_t bytes) { bytes_ += bytes; }

  // Records the outcome of one process-creation candidate.
  void AddNormalized(NormalizeOutcome outcome, ProcessEvent&& row,
                     std::vector<std::string>* problems, std::int64_t offset,
                     std::optional<std::int64_t> line, std::string_view raw,
                     std::optional<std::int64_t> record_id) {
    if (outcome == NormalizeOutcome::kSkipped) {
      ++batch_.events_skipped;
      return;
    }
    bool loaded = outcome == NormalizeOutcome::kLoaded;
    for (std::string& problem : *problems) {
      batch_.warnings.push_back(RecordWarning(
          offset, line, raw,
          loaded ? IngestWarning::Severity::kField : IngestWarning::Severity::kRejected, record_id,
          std::move(problem)));
    }
    if (!loaded) {
      ++batch_.records_rejected;
      return;
    }
    row.record_offset = offset;
    row.record_line = line;
    row.raw.assign(raw);
    bytes_ += 2 * raw.size();  // the raw text, and about as much again in normalized fields
    batch_.events.push_back(std::move(row));
  }

 private:
  const DecodeOptions& options_;
  const BatchSink& sink_;
  DecodedBatch batch_;
  std::size_t bytes_ = 0;
};

}  // namespace quarry::ingest
