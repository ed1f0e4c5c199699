// quarry_write_evtx: converts Windows event XML into an EVTX file, for fixtures made from the
// project's own XML (we may not commit public .evtx files).
//
// Usage:
//   quarry_write_evtx IN.xml... -o OUT.evtx [--first-record-id N] [--dirty]
//
// Example:
//   quarry_write_evtx fixtures/ingest/sysmon_evtrender_lines.xml -o /tmp/sysmon.evtx
//
// Every <Event> of every input (one event a line, concatenated events, <Events> documents;
// UTF-8 or UTF-16LE) becomes one record, in input order; damaged records are skipped with a
// warning on stderr. Exit status: 0 written (warnings allowed), 1 failure, 2 usage error.
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "tests/support/event_xml_to_evtx.h"

namespace {

constexpr const char* kUsage =
    "usage: quarry_write_evtx IN.xml... -o OUT.evtx [--first-record-id N] [--dirty]\n"
    "Writes every <Event> of the event XML files IN.xml as a record of OUT.evtx, in order.\n"
    "Records without a numeric EventRecordID are numbered from N (default 1). --dirty sets the\n"
    "file header's dirty flag, as in a log Windows still has open.\n"
    "Example: quarry_write_evtx fixtures/ingest/sysmon_evtrender_lines.xml -o /tmp/sysmon.evtx\n";

int Main(int argc, char** argv) {
  std::vector<std::string> inputs;
  std::string output;
  quarry::testing::EvtxWriterOptions options;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (arg == "--dirty") {
      options.file_flags |= 0x1;
      continue;
    }
    if (arg == "-o" || arg == "--out" || arg == "--first-record-id") {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "quarry_write_evtx: %s needs a value\n%s", argv[i], kUsage);
        return 2;
      }
      const char* value = argv[++i];
      if (arg == "--first-record-id") {
        char* end = nullptr;
        errno = 0;
        unsigned long long n = std::strtoull(value, &end, 10);
        if (errno != 0 || end == value || *end != '\0' || value[0] == '-') {
          std::fprintf(stderr, "quarry_write_evtx: bad --first-record-id %s\n%s", value, kUsage);
          return 2;
        }
        options.first_record_id = n;
      } else {
        output = value;
      }
      continue;
    }
    if (!arg.empty() && arg[0] == '-') {
      std::fprintf(stderr, "quarry_write_evtx: unknown option %s\n%s", argv[i], kUsage);
      return 2;
    }
    inputs.emplace_back(arg);
  }
  if (inputs.empty() || output.empty()) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  quarry::Result<quarry::testing::XmlToEvtxSummary> summary =
      quarry::testing::ConvertEventXmlToEvtx(inputs, output, options);
  if (!summary.ok()) {
    std::fprintf(stderr, "error: %s\n", summary.status().message().c_str());
    std::remove(output.c_str());  // never leave a file without a valid header behind
    return 1;
  }
  for (const std::string& message : summary->messages) {
    std::fprintf(stderr, "%s\n", message.c_str());
  }
  std::fprintf(stderr, "quarry_write_evtx: %s: %lld records in %lld chunks, %lld skipped\n",
               output.c_str(), static_cast<long long>(summary->records),
               static_cast<long long>(summary->chunks), static_cast<long long>(summary->skipped));
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return Main(argc, argv); }
