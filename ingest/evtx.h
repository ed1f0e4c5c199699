// Native reader of Windows XML Event Log files (.evtx): the file header, 64 KiB chunks, event
// records and their binary XML, decoded straight into WinEvent for the Windows normalizers.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "ingest/decode.h"
#include "ingest/input_file.h"
#include "ingest/win_event.h"
#include "schema/status.h"

namespace quarry::ingest {

/// Decodes an EVTX file chunk by chunk (memory stays flat in the file size). Every chunk slot up
/// to the end of the file is read, whatever the header's chunk count says. Damage never stops the
/// file: a chunk with a bad signature is skipped, a checksum mismatch is a field warning and the
/// data is read anyway, a record with a bad size is rejected and reading resumes at the next
/// record signature, a record whose binary XML cannot be decoded (missing template, unknown
/// token, too deep, too long) is rejected. Each warning names the chunk and the record. Rows
/// carry the record's file offset and, as `raw`, the record rendered as event XML. The returned
/// Status is a read error that cut the file short (what was read before has gone to `sink`).
Status DecodeEvtxFile(const std::string& path, const SniffResult& sniff,
                      const DecodeOptions& options, const BatchSink& sink);

/// The same from a stream positioned at the file's first byte (an archive entry).
Status DecodeEvtxStream(ByteSource* source, const DecodeOptions& options, const BatchSink& sink);

/// Calls `visit` with each readable record: its byte offset in the file, the decoded event, and
/// its event XML when `with_xml` (else empty); `visit` returns false to stop. Damaged records are
/// left out and counted in `*damaged` when given. For tools such as `quarry evtx-dump`.
Status VisitEvtxRecords(
    const std::string& path, bool with_xml,
    const std::function<bool(std::int64_t, const WinEvent&, std::string_view)>& visit,
    std::int64_t* damaged = nullptr);

/// Renders every record of an EVTX file as event XML, one record a line, to `out` (for tests
/// and tools); damaged records are left out and counted in `*damaged` when given.
Status RenderEvtxFileAsXml(const std::string& path, std::string* out,
                           std::int64_t* damaged = nullptr);

}  // namespace quarry::ingest
