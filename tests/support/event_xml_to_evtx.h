// Windows event XML -> EVTX records: what quarry_write_evtx does, as a library for tests, so that
// EVTX fixtures can be made from the project's own event XML fixtures.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "schema/status.h"
#include "tests/support/evtx_writer.h"

namespace quarry::testing {

/// Fills `event` from one <Event> element of event XML (UTF-8 text). System values get the
/// types Windows gives them when their text reads as that type, and are kept as text (String
/// values) when it does not, so that a reader renders what the XML said; EventData/Data
/// elements keep their Name and text. What such a record cannot hold (UserData,
/// RenderingInfo, other System children, EventData children other than Data) is left out and
/// named in `notes`. False with `error` when the text is not well-formed XML or its root is not
/// <Event>.
bool EvtxEventFromXml(std::string_view xml, EvtxEvent* event, std::vector<std::string>* notes,
                      std::string* error);

/// What converting gave.
struct XmlToEvtxSummary {
  std::int64_t records = 0;           ///< records written
  std::int64_t skipped = 0;           ///< damaged records left out
  std::int64_t chunks = 0;            ///< chunks in the output
  std::vector<std::string> messages;  ///< "warning: <file>: record <n> (line <l>): ...", one
                                      ///< per skipped record or left-out part
};

/// Writes every <Event> of the event XML files `inputs` (any rendering Quarry reads: one event
/// a line, concatenated events, <Events> documents; UTF-8 or UTF-16LE) as records of the EVTX
/// file `output`, in input order. A damaged record (not well-formed, cut short) is skipped and
/// reported in the summary. kIoError when an input cannot be read or the output written;
/// kInvalidArgument when an input is not event XML or a record is too large for a chunk.
Result<XmlToEvtxSummary> ConvertEventXmlToEvtx(const std::vector<std::string>& inputs,
                                               const std::string& output,
                                               const EvtxWriterOptions& options = {});

}  // namespace quarry::testing
