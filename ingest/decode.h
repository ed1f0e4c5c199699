// Turning one input file into normalized process events and warnings, without touching a
// database: the part of ingest that the writer overlaps with and the benchmark measures alone.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "ingest/input_file.h"
#include "ingest/process_event.h"
#include "schema/status.h"

namespace quarry::ingest {

/// Tunables of decoding; the defaults are what `quarry ingest` uses.
struct DecodeOptions {
  std::size_t batch_events = 1024;          ///< records per batch handed to the sink, at most
  std::size_t batch_bytes = 8 << 20;        ///< raw bytes per batch, at most (about)
  std::size_t max_record_bytes = 64 << 20;  ///< a larger record is rejected, bytes
};

/// A run of consecutive records of one file, decoded.
struct DecodedBatch {
  std::vector<ProcessEvent> events;     ///< process-creation events, in file order
  std::vector<CrowdStrikeHost> hosts;   ///< FDR aidmaster records
  std::vector<CrowdStrikeUser> users;   ///< FDR userinfo records
  std::vector<IngestWarning> warnings;  ///< rejected records and field problems
  std::int64_t events_skipped = 0;      ///< well-formed records that are neither process
                                        ///< creation nor lookup data
  std::int64_t records_rejected = 0;    ///< records that produced no row
};

/// Called with each batch; return false to stop decoding early.
using BatchSink = std::function<bool(DecodedBatch&&)>;

/// Decodes a file of the format `sniff` recognised (event XML, JSON lines or EVTX).
Status DecodeFile(const std::string& path, const SniffResult& sniff, const DecodeOptions& options,
                  const BatchSink& sink);

/// The same from a stream positioned at the file's first byte (a file, an archive entry).
Status DecodeStream(std::unique_ptr<ByteSource> source, const SniffResult& sniff,
                    const DecodeOptions& options, const BatchSink& sink);

/// Decodes an event XML file (`sniff` says its encoding). Malformed records become warnings in
/// the batches and decoding goes on; the returned Status is a read error that cut the file
/// short (whatever was read before it has been handed to `sink`).
Status DecodeEventXmlFile(const std::string& path, const SniffResult& sniff,
                          const DecodeOptions& options, const BatchSink& sink);

/// Decodes a JSON-lines file: CrowdStrike FDR events and aidmaster / userinfo records, and
/// NXLog renderings of Windows events, told apart line by line. A line that is not a JSON
/// object is a rejected-record warning; a JSON object of no known kind is counted as skipped.
Status DecodeJsonLinesFile(const std::string& path, const SniffResult& sniff,
                           const DecodeOptions& options, const BatchSink& sink);

}  // namespace quarry::ingest
