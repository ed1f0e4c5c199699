// The EVTX writer (tests/support/evtx_writer.h) and quarry_write_evtx: our own event XML
// fixtures written as EVTX read back by Quarry's reader exactly as Quarry reads the XML; the
// layout checked field by field, and its hashing rules against a file Windows wrote; python-evtx
// and libevtx's evtxexport as independent oracles; damage made at the offsets the writer
// reports, which the reader must survive and name. Complements evtx_test.cpp (public files).
#include "tests/support/evtx_writer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include "ingest/decode.h"
#include "ingest/event_xml.h"
#include "ingest/event_xml_scanner.h"
#include "ingest/evtx.h"
#include "ingest/input_file.h"
#include "tests/support/event_xml_to_evtx.h"
#include "tests/test_util.h"

namespace quarry::testing {
namespace {

namespace fs = std::filesystem;

// ---- Events as Quarry decodes them ----

// A WinEvent with its own strings.
struct Fields {
  std::string provider, channel, computer, system_time, user_id;
  std::optional<std::int64_t> event_id, version, record_id;
  std::vector<std::pair<std::string, std::string>> data;
};

Fields Own(const ingest::WinEvent& e) {
  Fields f;
  f.provider = e.provider;
  f.channel = e.channel;
  f.computer = e.computer;
  f.system_time = e.system_time;
  f.user_id = e.security_user_id;
  f.event_id = e.event_id;
  f.version = e.version;
  f.record_id = e.record_id;
  for (const auto& [name, value] : e.data) f.data.emplace_back(name, value);
  return f;
}

// SystemTime compared as the instant it names (the EVTX path renders nine fraction digits,
// XML may have seven); text that is no time is compared as text.
std::string TimeKey(const std::string& text) {
  std::optional<std::uint64_t> ticks = ParseFileTime(text);
  return ticks ? "ticks " + std::to_string(*ticks) : "text '" + text + "'";
}

std::string Opt(const std::optional<std::int64_t>& v) { return v ? std::to_string(*v) : "null"; }
std::string Opt(const std::optional<std::string>& v) { return v ? "'" + *v + "'" : "null"; }

// One event a paragraph, every field named, for readable diffs.
std::string Describe(const std::vector<Fields>& events, bool with_time = true) {
  std::ostringstream out;
  for (const Fields& f : events) {
    out << "provider '" << f.provider << "' channel '" << f.channel << "' computer '" << f.computer
        << "' event_id " << Opt(f.event_id) << " version " << Opt(f.version) << " record_id "
        << Opt(f.record_id) << " user_id '" << f.user_id << "'";
    if (with_time) out << " time " << TimeKey(f.system_time);
    out << "\n";
    for (const auto& [name, value] : f.data) out << "  " << name << "='" << value << "'\n";
  }
  return out.str();
}

// The events of an event XML file that Quarry's XML decoder reads.
std::vector<Fields> XmlEvents(const std::string& path) {
  std::vector<Fields> out;
  Result<ingest::SniffResult> sniff = ingest::SniffFile(path);
  EXPECT_TRUE(sniff.ok() && sniff->format == "event_xml") << path;
  if (!sniff.ok()) return out;
  auto reader = ingest::Utf8Reader::Open(path, sniff->encoding, sniff->bom_bytes);
  EXPECT_TRUE(reader.ok()) << path;
  if (!reader.ok()) return out;
  ingest::EventXmlScanner scanner(std::move(reader).value(), std::size_t{64} << 20);
  ingest::EventXmlParser parser;
  ingest::WinEvent event;
  ingest::XmlRecord record;
  std::vector<ingest::IngestWarning> problems;
  std::string scratch, error;
  while (scanner.Next(&record, &problems)) {
    if (record.size == 0) continue;
    scratch.assign(record.data, record.size);
    if (parser.Parse(scratch.data(), scratch.size(), &event, &error)) out.push_back(Own(event));
  }
  return out;
}

std::vector<Fields> XmlTextEvents(const std::string& text) {
  TempDir dir;
  WriteFile(dir.File("events.xml"), text);
  return XmlEvents(dir.File("events.xml"));
}

// The events Quarry's EVTX reader reads, and how many records it left out as damaged.
std::vector<Fields> EvtxEvents(const std::string& path, std::int64_t* damaged = nullptr) {
  std::vector<Fields> out;
  Status status = ingest::VisitEvtxRecords(
      path, false,
      [&](std::int64_t, const ingest::WinEvent& e, std::string_view) {
        out.push_back(Own(e));
        return true;
      },
      damaged);
  EXPECT_TRUE(status.ok()) << status.message();
  return out;
}

std::vector<std::int64_t> RecordIds(const std::vector<Fields>& events) {
  std::vector<std::int64_t> ids;
  for (const Fields& f : events) ids.push_back(f.record_id.value_or(-1));
  return ids;
}

// A normalized row without what depends on the input's form (offset, line, raw text).
std::string RowText(const ingest::ProcessEvent& r) {
  std::ostringstream out;
  out << r.time_us << " dest " << Opt(r.dest) << " user " << Opt(r.user) << " user_id "
      << Opt(r.user_id) << " process " << Opt(r.process) << " name " << Opt(r.process_name)
      << " path " << Opt(r.process_path) << " pid " << Opt(r.process_id) << " guid "
      << Opt(r.process_guid) << " hash " << Opt(r.process_hash) << " integrity "
      << Opt(r.process_integrity_level) << " cwd " << Opt(r.process_current_directory) << " ofn "
      << Opt(r.original_file_name) << " parent " << Opt(r.parent_process) << " parent_name "
      << Opt(r.parent_process_name) << " parent_path " << Opt(r.parent_process_path) << " ppid "
      << Opt(r.parent_process_id) << " parent_guid " << Opt(r.parent_process_guid)
      << " parent_user " << Opt(r.parent_user) << " vendor '" << r.vendor_product << "' action '"
      << r.action << "' data_source '" << r.data_source << "' sourcetype '" << r.sourcetype
      << "' source '" << r.source << "' event_code " << Opt(r.event_code) << " record_id "
      << Opt(r.record_id) << " log_time_us " << Opt(r.log_time_us) << "\n";
  return out.str();
}

std::string Rows(const std::vector<ingest::ProcessEvent>& rows) {
  std::string all;
  for (const auto& row : rows) all += RowText(row);
  return all;
}

// The warnings tied to a record (normalizer level), as "id severity reason" with any
// "record N: " prefix dropped, sorted.
std::vector<std::string> RecordWarnings(const Decoded& d) {
  std::vector<std::string> out;
  for (const auto& w : d.warnings) {
    if (!w.record_id) continue;
    std::string reason = w.reason;
    std::string prefix = "record " + std::to_string(*w.record_id) + ": ";
    if (reason.rfind(prefix, 0) == 0) reason.erase(0, prefix.size());
    out.push_back(
        std::to_string(*w.record_id) +
        (w.severity == ingest::IngestWarning::Severity::kRejected ? " rejected " : " field ") +
        reason);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// ---- Synthetic events: what the writer is given is what a reader must give back ----

struct Spec {
  std::string provider = "Microsoft-Windows-Sysmon";
  std::string guid = "{5770385f-c22a-43e0-bf4c-06f5698ffbd9}";  // lower case, as some tools
  std::string event_id = "1", qualifiers, version = "5", level = "4", task = "1", opcode = "0";
  std::string keywords = "0x8000000000000000";
  std::string time, record_id, activity_id, pid = "3180", tid;
  std::string channel = "Microsoft-Windows-Sysmon/Operational";
  std::string computer;
  std::string user_id = "S-1-5-18";
  std::vector<std::pair<std::string, std::string>> data;
};

constexpr const char* kComputers[] = {"WKS-ÜBER-01.corp.example", "srv-db-02.corp.example"};

std::string Padded(std::int64_t v, int width) {
  std::string s = std::to_string(v);
  return std::string(static_cast<std::size_t>(std::max(0, width - static_cast<int>(s.size()))),
                     '0') +
         s;
}

// Event `i` of a deterministic mix: two computers, a non-process event every 7th, a missing
// UserID every 5th, Qualifiers every 11th, an ActivityID every 4th, an empty value every
// 10th, an unnamed Data every 13th, text that needs escaping, non-ASCII and a surrogate pair,
// long command lines, and one command line so long that its record needs a chunk of its own.
Spec MakeSpec(int i) {
  Spec s;
  s.computer = kComputers[i % 2];
  s.record_id = std::to_string(5000 + i);
  std::string clock =
      Padded(10 + i / 3600, 2) + ":" + Padded(i / 60 % 60, 2) + ":" + Padded(i % 60, 2);
  s.time = "2026-03-14T" + clock + "." + Padded((i * 7919) % 10000000, 7) + "Z";
  s.tid = std::to_string(4000 + 4 * i);
  if (i % 5 == 4) s.user_id.clear();
  if (i % 11 == 3) s.qualifiers = "16384";
  if (i % 4 == 1) s.activity_id = "{11111111-2222-3333-4444-" + Padded(i, 12) + "}";
  std::string user = "CORP\\user" + std::to_string(i % 37);
  if (i % 7 == 6) {
    s.event_id = "3";
    s.task = "3";
    s.data = {{"RuleName", "-"},
              {"UtcTime", "2026-03-14 " + clock + ".000"},
              {"DestinationIp", "10.0." + std::to_string(i % 256) + ".7"}};
    return s;
  }
  std::string command = "cmd.exe /c echo <" + std::to_string(i) + "> & \"quoted\" 'single'";
  if (i % 3 == 0) command += " Zoë – 日本語 😀";
  if (i % 17 == 0) command += " " + std::string(1500 + 10 * (i % 50), 'A');
  if (i == 250) command = std::string(29000, 'x');  // about 58 KB: a record alone in a chunk
  if (i % 10 == 5) command.clear();
  s.data = {{"RuleName", i % 9 == 0 ? "technique_id=T1059,technique_name=<Cmd & Co>" : "-"},
            {"UtcTime", "2026-03-14 " + clock + "." + Padded(i % 1000, 3)},
            {"ProcessGuid", "{0d0d0d0d-" + Padded(i % 10000, 4) + "-6a91-0001-000000003300}"},
            {"ProcessId", std::to_string(100 + i)},
            {"Image", "C:\\Windows\\System32\\cmd.exe"},
            {"CommandLine", command},
            {"CurrentDirectory", "C:\\Windows\\system32\\"},
            {"User", user},
            {"IntegrityLevel", "Medium"},
            {"Hashes", "SHA256=" + std::string(64, 'B')},
            {"ParentProcessGuid", "{0d0d0d0d-0000-6a91-0001-000000003300}"},
            {"ParentProcessId", std::to_string(90 + i)},
            {"ParentImage", "C:\\Windows\\explorer.exe"},
            {"ParentCommandLine", "C:\\Windows\\Explorer.EXE"}};
  if (i % 13 == 12) s.data.emplace_back("", "positional value");
  return s;
}

EvtxEvent ToEvtx(const Spec& s) {
  auto v = [](EvtxType type, const std::string& text) { return EvtxValue::FromText(type, text); };
  EvtxEvent e;
  e.provider_name = v(EvtxType::kString, s.provider);
  e.provider_guid = v(EvtxType::kGuid, s.guid);
  e.event_id = v(EvtxType::kUInt16, s.event_id);
  e.qualifiers = v(EvtxType::kUInt16, s.qualifiers);
  e.version = v(EvtxType::kUInt8, s.version);
  e.level = v(EvtxType::kUInt8, s.level);
  e.task = v(EvtxType::kUInt16, s.task);
  e.opcode = v(EvtxType::kUInt8, s.opcode);
  e.keywords = v(EvtxType::kHexInt64, s.keywords);
  e.time_created = v(EvtxType::kFileTime, s.time);
  e.record_id = v(EvtxType::kUInt64, s.record_id);
  e.activity_id = v(EvtxType::kGuid, s.activity_id);
  e.process_id = v(EvtxType::kUInt32, s.pid);
  e.thread_id = v(EvtxType::kUInt32, s.tid);
  e.channel = v(EvtxType::kString, s.channel);
  e.computer = s.computer;
  e.user_id = v(EvtxType::kSid, s.user_id);
  for (const auto& [name, value] : s.data) e.data.push_back({name, EvtxValue::String(value)});
  return e;
}

// What a reader must give back for `s`.
Fields Expected(const Spec& s) {
  Fields f;
  f.provider = s.provider;
  f.channel = s.channel;
  f.computer = s.computer;
  f.system_time = s.time;
  f.user_id = s.user_id;
  f.event_id = std::stoll(s.event_id);
  f.version = std::stoll(s.version);
  f.record_id = std::stoll(s.record_id);
  f.data = s.data;
  return f;
}

constexpr int kSyntheticEvents = 600;

// Writes the synthetic events to `path`; the writer's layout goes to `records` / `chunks`.
void WriteSynthetic(const std::string& path, std::vector<EvtxRecordInfo>* records = nullptr,
                    std::vector<EvtxChunkInfo>* chunks = nullptr, int count = kSyntheticEvents) {
  auto writer = EvtxWriter::Create(path);
  ASSERT_TRUE(writer.ok()) << writer.status().message();
  for (int i = 0; i < count; ++i) {
    Status status = (*writer)->Add(ToEvtx(MakeSpec(i)));
    ASSERT_TRUE(status.ok()) << i << ": " << status.message();
  }
  ASSERT_TRUE((*writer)->Finish().ok());
  if (records) *records = (*writer)->records();
  if (chunks) *chunks = (*writer)->chunks();
}

std::vector<Fields> ExpectedSynthetic(int count = kSyntheticEvents) {
  std::vector<Fields> out;
  for (int i = 0; i < count; ++i) out.push_back(Expected(MakeSpec(i)));
  return out;
}

// ---- Bytes ----

std::uint32_t U8At(const std::string& b, std::size_t at) {
  return static_cast<unsigned char>(b.at(at));
}
std::uint32_t U16At(const std::string& b, std::size_t at) {
  return U8At(b, at) | (U8At(b, at + 1) << 8);
}
std::uint32_t U32At(const std::string& b, std::size_t at) {
  return U16At(b, at) | (U16At(b, at + 2) << 16);
}
std::uint64_t U64At(const std::string& b, std::size_t at) {
  return U32At(b, at) | (static_cast<std::uint64_t>(U32At(b, at + 4)) << 32);
}

std::uint32_t Hash65599(const std::string& b, std::size_t at, std::size_t units) {
  std::uint32_t h = 0;
  for (std::size_t i = 0; i < units; ++i) h = h * 65599u + U16At(b, at + 2 * i);
  return h;
}

// The string and template tables of the chunk at file offset `chunk`, walked the way
// python-evtx loads them, with Windows' hashing rules checked on every entry.
struct Tables {
  std::multiset<std::string> names;   // ASCII names (others as '?')
  std::set<std::uint32_t> templates;  // chunk offsets of definitions
  std::string problems;
};

Tables WalkTables(const std::string& b, std::size_t chunk) {
  Tables t;
  for (std::size_t bucket = 0; bucket < 64; ++bucket) {
    int guard = 0;
    for (std::uint32_t ofs = U32At(b, chunk + 128 + 4 * bucket); ofs != 0;
         ofs = U32At(b, chunk + ofs)) {
      if (++guard > 1000 || ofs + 8 > 65536) {
        t.problems += "name chain of bucket " + std::to_string(bucket) + " is broken\n";
        break;
      }
      std::size_t units = U16At(b, chunk + ofs + 6);
      std::string name;
      for (std::size_t i = 0; i < units; ++i) {
        std::uint32_t u = U16At(b, chunk + ofs + 8 + 2 * i);
        name.push_back(u < 128 ? static_cast<char>(u) : '?');
      }
      std::uint32_t hash = U16At(b, chunk + ofs + 4);
      if (hash != (Hash65599(b, chunk + ofs + 8, units) & 0xFFFF)) {
        t.problems += "name " + name + ": hash is not 65599 over its UTF-16\n";
      }
      if (hash % 64 != bucket) t.problems += "name " + name + ": in the wrong bucket\n";
      if (U16At(b, chunk + ofs + 8 + 2 * units) != 0) t.problems += name + ": no terminator\n";
      t.names.insert(name);
    }
  }
  for (std::size_t bucket = 0; bucket < 32; ++bucket) {
    int guard = 0;
    for (std::uint32_t ofs = U32At(b, chunk + 384 + 4 * bucket); ofs != 0;
         ofs = U32At(b, chunk + ofs)) {
      if (++guard > 1000 || ofs < 522 || ofs + 25 > 65536) {
        t.problems += "template chain of bucket " + std::to_string(bucket) + " is broken\n";
        break;
      }
      std::string where = "template at " + std::to_string(ofs) + ": ";
      // python-evtx's check: the definition follows its template instance token.
      if (U8At(b, chunk + ofs - 10) != 0x0c || U32At(b, chunk + ofs - 4) != ofs) {
        t.problems += where + "not right after a template instance\n";
      }
      if (U32At(b, chunk + ofs - 8) != U32At(b, chunk + ofs + 4)) {
        t.problems += where + "id is not the GUID's first 4 bytes\n";
      }
      if (Hash65599(b, chunk + ofs + 4, 8) % 32 != bucket) {
        t.problems += where + "in the wrong bucket\n";
      }
      if (U8At(b, chunk + ofs + 24) != 0x0f) t.problems += where + "no fragment header\n";
      t.templates.insert(ofs);
    }
  }
  return t;
}

// The value types of the System substitution array of the record at file offset `record`,
// whose template is defined elsewhere.
std::vector<std::uint32_t> SystemSubstitutionTypes(const std::string& b, std::size_t record) {
  std::size_t array = record + 24 + 4 + 10;
  std::vector<std::uint32_t> types;
  std::uint32_t count = U32At(b, array);
  for (std::uint32_t i = 0; i < count && i < 64; ++i) types.push_back(U8At(b, array + 6 + 4 * i));
  return types;
}

// ---- Tests ----

TEST(EvtxWriterValueTest, Crc32IsZlibs) {
  EXPECT_EQ(EvtxCrc32("123456789", 9), 0xCBF43926u);
  EXPECT_EQ(EvtxCrc32("6789", 4, EvtxCrc32("12345", 5)), 0xCBF43926u);
  EXPECT_EQ(EvtxCrc32("", 0), 0u);
}

TEST(EvtxWriterValueTest, TextBecomesTheTypeWindowsUsesOrStaysText) {
  auto bytes = [](const EvtxValue& v) {
    std::string hex;
    for (unsigned char c : v.bytes())
      hex += "0123456789abcdef"[c >> 4], hex += "0123456789abcdef"[c & 15];
    return hex;
  };
  EvtxValue id = EvtxValue::FromText(EvtxType::kUInt16, "4688");
  EXPECT_EQ(id.type(), EvtxType::kUInt16);
  EXPECT_EQ(bytes(id), "5012");
  EXPECT_EQ(EvtxValue::FromText(EvtxType::kUInt16, "70000").type(), EvtxType::kString);
  EXPECT_EQ(EvtxValue::FromText(EvtxType::kUInt16, " 1").type(), EvtxType::kString);
  EXPECT_EQ(EvtxValue::FromText(EvtxType::kUInt8, "").type(), EvtxType::kNull);
  EXPECT_EQ(bytes(EvtxValue::FromText(EvtxType::kHexInt64, "0x8000000000000000")),
            "0000000000000080");
  EXPECT_EQ(bytes(EvtxValue::FromText(EvtxType::kGuid, "{5770385F-C22A-43E0-BF4C-06F5698FFBD9}")),
            "5f3870572ac2e043bf4c06f5698ffbd9");
  EXPECT_EQ(EvtxValue::FromText(EvtxType::kGuid, "{5770385F-C22A-43E0-BF4C-06F5698FFBDZ}").type(),
            EvtxType::kString);
  EXPECT_EQ(bytes(EvtxValue::FromText(EvtxType::kSid, "S-1-5-21-7-4294967295")),
            "010300000000000515000000"
            "07000000"
            "ffffffff");
  EXPECT_EQ(EvtxValue::FromText(EvtxType::kSid, "S-1-5-018").type(), EvtxType::kString);
  EXPECT_EQ(EvtxValue::FromText(EvtxType::kSid, "NT AUTHORITY\\SYSTEM").type(), EvtxType::kString);
  EXPECT_EQ(bytes(EvtxValue::String("aé😀")), "6100e9003dd800de");
  EXPECT_EQ(bytes(EvtxValue::String("a\xff")), "6100fdff");  // not UTF-8: U+FFFD

  EXPECT_EQ(ParseFileTime("1601-01-01T00:00:00Z"), 0u);
  EXPECT_EQ(ParseFileTime("1970-01-01T00:00:00Z"), 116444736000000000u);
  EXPECT_EQ(ParseFileTime("2000-01-01T00:00:00.0000001Z"), 125911584000000001u);
  EXPECT_EQ(ParseFileTime("2000-01-01T00:00:00.123456700Z"), 125911584001234567u);
  EXPECT_EQ(FileTimeFromMicros(946684800000000, 7), 125911584000000007u);
  EXPECT_FALSE(ParseFileTime("2000-01-01T00:00:00.123456789Z"));  // finer than 100 ns
  EXPECT_FALSE(ParseFileTime("2026-02-30T08:00:00Z"));
  EXPECT_FALSE(ParseFileTime("soon"));
  EXPECT_FALSE(ParseFileTime("2026-03-14 09:17:00"));
  EXPECT_EQ(EvtxValue::FromText(EvtxType::kFileTime, "soon").type(), EvtxType::kString);
}

// (a) Each of our XML fixtures, written as EVTX, decodes to the same events and the same
// normalized rows as the XML itself.
class EvtxWriterFixtureTest : public ::testing::TestWithParam<const char*> {};

TEST_P(EvtxWriterFixtureTest, QuarryReadsTheEvtxAsItReadsTheXml) {
  std::string xml = SourcePath(std::string("fixtures/ingest/") + GetParam());
  TempDir dir;
  std::string evtx = dir.File("fixture.evtx");
  Result<XmlToEvtxSummary> summary = ConvertEventXmlToEvtx({xml}, evtx);
  ASSERT_TRUE(summary.ok()) << summary.status().message();

  std::vector<Fields> from_xml = XmlEvents(xml);
  std::int64_t damaged = 0;
  std::vector<Fields> from_evtx = EvtxEvents(evtx, &damaged);
  ASSERT_GT(from_xml.size(), 0u);
  EXPECT_EQ(summary->records, static_cast<std::int64_t>(from_xml.size()));
  EXPECT_EQ(damaged, 0);
  EXPECT_EQ(Describe(from_evtx), Describe(from_xml));

  Decoded x = DecodeInput(xml);
  Decoded e = DecodeEvtx(evtx);
  ASSERT_TRUE(x.status.ok()) << x.status.message();
  ASSERT_TRUE(e.status.ok()) << e.status.message();
  EXPECT_GT(e.loaded + e.skipped, 0);
  EXPECT_EQ(e.loaded, x.loaded);
  EXPECT_EQ(e.skipped, x.skipped);
  EXPECT_EQ(Rows(e.rows), Rows(x.rows));
  // Problems of the events themselves are the same; damage of the XML text never got in.
  EXPECT_EQ(RecordWarnings(e), RecordWarnings(x));
  std::int64_t record_rejections = 0;
  for (const auto& w : x.warnings) {
    if (w.record_id && w.severity == ingest::IngestWarning::Severity::kRejected) {
      ++record_rejections;
    }
  }
  EXPECT_EQ(e.rejected, record_rejections) << e.Reasons();
  EXPECT_EQ(e.warnings.size(), RecordWarnings(x).size()) << e.Reasons();
}

INSTANTIATE_TEST_SUITE_P(OurFixtures, EvtxWriterFixtureTest,
                         ::testing::Values("sysmon_damaged.xml", "sysmon_event_viewer_saved.xml",
                                           "sysmon_evtrender_lines.xml", "sysmon_utf16le_bom.xml",
                                           "sysmon_wevtutil_concatenated.xml",
                                           "security_4688_versions.xml",
                                           "security_4688_splunk_rendering.xml",
                                           "not_process_events.xml"));

TEST(EvtxWriterTest, SyntheticEventsReadBackExactlyAcrossChunks) {
  TempDir dir;
  std::string path = dir.File("synthetic.evtx");
  std::vector<EvtxRecordInfo> records;
  std::vector<EvtxChunkInfo> chunks;
  WriteSynthetic(path, &records, &chunks);
  ASSERT_EQ(records.size(), static_cast<std::size_t>(kSyntheticEvents));
  EXPECT_GE(chunks.size(), 10u);
  std::int64_t damaged = 0;
  EXPECT_EQ(Describe(EvtxEvents(path, &damaged)), Describe(ExpectedSynthetic()));
  EXPECT_EQ(damaged, 0);
  Decoded d = DecodeEvtx(path);
  ASSERT_TRUE(d.status.ok());
  EXPECT_TRUE(d.warnings.empty()) << d.Reasons();  // checksums, sizes and tables as expected
  EXPECT_EQ(d.loaded + d.skipped, kSyntheticEvents);
  // The record too big to share a chunk starts one and fills most of it.
  const EvtxRecordInfo& big = records[250];
  EXPECT_EQ(big.file_offset, kEvtxFileHeaderSize + big.chunk * kEvtxChunkSize + 512);
  EXPECT_GT(big.size, 58000u);

  // Values are typed as Windows types them: the renderings show it.
  std::string xml;
  ASSERT_TRUE(ingest::RenderEvtxFileAsXml(path, &xml).ok());
  EXPECT_NE(xml.find("Guid=\"{5770385F-C22A-43E0-BF4C-06F5698FFBD9}\""), std::string::npos)
      << "the lower-case GUID text should have become a GUID value";
  EXPECT_NE(xml.find("<Keywords>0x8000000000000000</Keywords>"), std::string::npos);
  EXPECT_NE(xml.find("<EventID Qualifiers=\"16384\">1</EventID>"), std::string::npos);
  EXPECT_NE(xml.find("<Correlation ActivityID=\"{11111111-2222-3333-4444-000000000001}\"/>"),
            std::string::npos);
  EXPECT_NE(xml.find("<Security/>"), std::string::npos);
  EXPECT_NE(xml.find("<Data>positional value</Data>"), std::string::npos);
  EXPECT_NE(xml.find("<Computer>WKS-ÜBER-01.corp.example</Computer>"), std::string::npos);
}

TEST(EvtxWriterTest, LayoutIsWhatWindowsWrites) {
  TempDir dir;
  std::string path = dir.File("layout.evtx");
  std::vector<EvtxRecordInfo> records;
  std::vector<EvtxChunkInfo> chunks;
  WriteSynthetic(path, &records, &chunks);
  std::string b = ReadFile(path);
  ASSERT_EQ(b.size(), 4096 + 65536 * chunks.size());

  // File header.
  EXPECT_EQ(b.substr(0, 8), std::string("ElfFile\0", 8));
  EXPECT_EQ(U64At(b, 8), 0u);                         // first chunk
  EXPECT_EQ(U64At(b, 16), chunks.size() - 1);         // last chunk
  EXPECT_EQ(U64At(b, 24), 5000u + kSyntheticEvents);  // next record id
  EXPECT_EQ(U32At(b, 32), 128u);
  EXPECT_EQ(U16At(b, 36), 1u);  // version 3.1
  EXPECT_EQ(U16At(b, 38), 3u);
  EXPECT_EQ(U16At(b, 40), 4096u);
  EXPECT_EQ(U16At(b, 42), chunks.size());
  EXPECT_EQ(U32At(b, 120), 0u);  // clean
  EXPECT_EQ(U32At(b, 124), EvtxCrc32(b.data(), 120));

  // Chunks, and the records the writer says are in each.
  std::size_t next_record = 0;
  for (std::size_t k = 0; k < chunks.size(); ++k) {
    SCOPED_TRACE("chunk " + std::to_string(k));
    const EvtxChunkInfo& info = chunks[k];
    std::size_t c = 4096 + 65536 * k;
    ASSERT_EQ(info.file_offset, static_cast<std::int64_t>(c));
    EXPECT_EQ(b.substr(c, 8), std::string("ElfChnk\0", 8));
    EXPECT_EQ(U64At(b, c + 8), info.first_record_id);
    EXPECT_EQ(U64At(b, c + 16), info.last_record_id);
    EXPECT_EQ(U64At(b, c + 24), info.first_record_id);
    EXPECT_EQ(U64At(b, c + 32), info.last_record_id);
    EXPECT_EQ(U32At(b, c + 40), 128u);
    EXPECT_EQ(U32At(b, c + 48), info.free_space_offset);
    EXPECT_EQ(U32At(b, c + 52), EvtxCrc32(b.data() + c + 512, info.free_space_offset - 512));
    EXPECT_EQ(U32At(b, c + 124), EvtxCrc32(b.data() + c + 128, 384, EvtxCrc32(b.data() + c, 120)));
    EXPECT_TRUE(std::all_of(b.begin() + static_cast<std::ptrdiff_t>(c + info.free_space_offset),
                            b.begin() + static_cast<std::ptrdiff_t>(c + 65536),
                            [](char x) { return x == 0; }));
    // Records back to back from offset 512 to the free space.
    std::size_t pos = c + 512;
    std::set<std::string> computers, shapes;
    int defining = 0;
    for (std::int64_t r = 0; r < info.records; ++r, ++next_record) {
      ASSERT_LT(next_record, records.size());
      const EvtxRecordInfo& rec = records[next_record];
      EXPECT_EQ(rec.file_offset, static_cast<std::int64_t>(pos));
      EXPECT_EQ(rec.chunk, static_cast<std::int64_t>(k));
      EXPECT_EQ(b.substr(pos, 4), std::string("**\0\0", 4));
      EXPECT_EQ(U32At(b, pos + 4), rec.size);
      EXPECT_EQ(rec.size % 8, 0u);
      EXPECT_EQ(U32At(b, pos + rec.size - 4), rec.size);  // the size copy
      EXPECT_EQ(U64At(b, pos + 8), rec.record_id);
      Spec spec = MakeSpec(static_cast<int>(rec.record_id - 5000));
      EXPECT_EQ(U64At(b, pos + 16), *ParseFileTime(spec.time));  // written time
      if (r == info.records - 1) {
        EXPECT_EQ(U32At(b, c + 44), pos - c);  // the last record's offset
      }
      bool first_of_computer = computers.insert(spec.computer).second;
      EXPECT_EQ(rec.defines_template, first_of_computer) << "record " << rec.record_id;
      defining += rec.defines_template;
      std::string shape;
      for (const auto& [name, value] : spec.data) shape += (name.empty() ? "-" : name) + ",";
      shapes.insert(shape);
      pos += rec.size;
    }
    EXPECT_EQ(pos - c, info.free_space_offset);
    EXPECT_EQ(defining, static_cast<int>(computers.size()));
    // Each name once in the chunk's string table; one template per computer (System) and per
    // EventData shape.
    Tables t = WalkTables(b, c);
    EXPECT_EQ(t.problems, "");
    for (const char* name :
         {"Event",      "xmlns",      "System",      "Provider",   "Name",          "Guid",
          "EventID",    "Qualifiers", "TimeCreated", "SystemTime", "EventRecordID", "Correlation",
          "ActivityID", "Execution",  "ProcessID",   "Channel",    "Computer",      "Security",
          "UserID",     "EventData",  "Data"}) {
      EXPECT_EQ(t.names.count(name), 1u) << name;
    }
    for (const std::string& name : t.names) EXPECT_EQ(t.names.count(name), 1u) << name;
    EXPECT_EQ(t.templates.size(), computers.size() + shapes.size());
  }
  EXPECT_EQ(next_record, records.size());

  // The System substitution array of a record that uses its chunk's template: the order and
  // types of a record Windows wrote (record 2 of a Sysmon sample: no Qualifiers, ActivityID or
  // RelatedActivityID; a UserID).
  const std::vector<std::uint32_t> kWindows = {0x04, 0x04, 0x06, 0x06, 0x00, 0x15,
                                               0x11, 0x00, 0x08, 0x08, 0x0a, 0x04,
                                               0x13, 0x00, 0x01, 0x0f, 0x01, 0x21};
  std::string windows =
      ReadFile(SharedPath("realdata/evtx/EVTX-ATTACK-SAMPLES/AutomatedTestingTools/Malware/"
                          "rundll32_cmd_schtask.evtx"));
  ASSERT_GT(windows.size(), 4096u + 65536u - 1);
  EXPECT_EQ(SystemSubstitutionTypes(windows, 4096 + 4384), kWindows);
  const EvtxRecordInfo& ours = records[2];  // the template was defined by record 0
  ASSERT_FALSE(ours.defines_template);
  ASSERT_EQ(MakeSpec(2).qualifiers + MakeSpec(2).activity_id + "|" + MakeSpec(2).user_id,
            "|S-1-5-18");
  EXPECT_EQ(SystemSubstitutionTypes(b, static_cast<std::size_t>(ours.file_offset)), kWindows);

  // The hashing rules the checks above apply hold for the tables Windows wrote.
  Tables w = WalkTables(windows, 4096);
  EXPECT_EQ(w.problems, "");
  EXPECT_GT(w.names.size(), 20u);
  EXPECT_GT(w.templates.size(), 1u);
}

TEST(EvtxWriterTest, EmptyAndDirtyFiles) {
  TempDir dir;
  EvtxWriterOptions options;
  options.file_flags = 1;
  options.first_record_id = 77;
  auto writer = EvtxWriter::Create(dir.File("empty.evtx"), options);
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->Finish().ok());
  EXPECT_EQ((*writer)->Add(EvtxEvent()).code(), StatusCode::kInvalidArgument);
  std::string b = ReadFile(dir.File("empty.evtx"));
  ASSERT_EQ(b.size(), 4096u);
  EXPECT_EQ(U16At(b, 42), 0u);
  EXPECT_EQ(U64At(b, 24), 77u);
  EXPECT_EQ(U32At(b, 120), 1u);
  Decoded d = DecodeEvtx(dir.File("empty.evtx"));
  EXPECT_TRUE(d.status.ok());
  EXPECT_EQ(d.loaded + d.skipped + d.rejected, 0);
  EXPECT_TRUE(d.warnings.empty()) << d.Reasons();

  // Events without a record id are numbered from first_record_id.
  auto numbered = EvtxWriter::Create(dir.File("numbered.evtx"), options);
  ASSERT_TRUE(numbered.ok());
  EvtxEvent event = ToEvtx(MakeSpec(0));
  event.record_id = EvtxValue();
  ASSERT_TRUE((*numbered)->Add(event).ok());
  ASSERT_TRUE((*numbered)->Add(event).ok());
  ASSERT_TRUE((*numbered)->Finish().ok());
  EXPECT_EQ((*numbered)->records().at(1).record_id, 78u);
  EXPECT_EQ(U64At(ReadFile(dir.File("numbered.evtx")), 24), 79u);
}

TEST(EvtxWriterTest, ATooLargeRecordIsRefusedAndTheFileStaysValid) {
  TempDir dir;
  std::string path = dir.File("large.evtx");
  auto writer = EvtxWriter::Create(path);
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->Add(ToEvtx(MakeSpec(0))).ok());
  EvtxEvent huge = ToEvtx(MakeSpec(1));
  huge.data[5].value = EvtxValue::String(std::string(33000, 'x'));  // 66,000 bytes
  Status status = (*writer)->Add(huge);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("CommandLine"), std::string::npos) << status.message();
  EvtxEvent big = ToEvtx(MakeSpec(2));  // its EventData fits a value, the record no chunk
  big.data[5].value = EvtxValue::String(std::string(30000, 'x'));
  big.data[13].value = EvtxValue::String(std::string(1800, 'y'));
  status = (*writer)->Add(big);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("do not fit in a chunk"), std::string::npos) << status.message();
  ASSERT_TRUE((*writer)->Add(ToEvtx(MakeSpec(3))).ok());
  ASSERT_TRUE((*writer)->Finish().ok());
  EXPECT_EQ((*writer)->record_count(), 2);
  std::int64_t damaged = 0;
  EXPECT_EQ(RecordIds(EvtxEvents(path, &damaged)), (std::vector<std::int64_t>{5000, 5003}));
  EXPECT_EQ(damaged, 0);
}

// (b) python-evtx and evtxexport read what the writer wrote: the same records, the same
// values.
class EvtxWriterOracleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::vector<std::string> fixtures;
    for (const char* name :
         {"sysmon_damaged.xml", "sysmon_event_viewer_saved.xml", "sysmon_evtrender_lines.xml",
          "sysmon_utf16le_bom.xml", "sysmon_wevtutil_concatenated.xml",
          "security_4688_versions.xml", "security_4688_splunk_rendering.xml"}) {
      fixtures.push_back(SourcePath(std::string("fixtures/ingest/") + name));
      for (Fields& f : XmlEvents(fixtures.back())) fixture_events_.push_back(std::move(f));
    }
    Result<XmlToEvtxSummary> summary = ConvertEventXmlToEvtx(fixtures, dir_.File("fixtures.evtx"));
    ASSERT_TRUE(summary.ok()) << summary.status().message();
    WriteSynthetic(dir_.File("synthetic.evtx"));
  }
  // python-evtx's SystemTime goes through a float: compare it within 4 us, the rest exactly.
  static void ExpectSameEvents(const std::vector<Fields>& theirs, const std::vector<Fields>& ours,
                               bool exact_time) {
    ASSERT_EQ(theirs.size(), ours.size());
    int shown = 0;
    for (std::size_t i = 0; i < ours.size() && shown < 3; ++i) {
      std::string a = Describe({theirs[i]}, exact_time), b = Describe({ours[i]}, exact_time);
      if (a != b) ++shown;
      EXPECT_EQ(a, b) << "event " << i;
    }
    if (exact_time) return;
    for (std::size_t i = 0; i < ours.size(); ++i) {
      auto a = ParseFileTime(theirs[i].system_time), b = ParseFileTime(ours[i].system_time);
      if (!a || !b) {
        EXPECT_EQ(theirs[i].system_time, ours[i].system_time) << "event " << i;
        continue;
      }
      EXPECT_LE(*a > *b ? *a - *b : *b - *a, 40u)
          << "event " << i << ": " << theirs[i].system_time << " vs " << ours[i].system_time;
    }
  }
  TempDir dir_;
  std::vector<Fields> fixture_events_;
};

TEST_F(EvtxWriterOracleTest, PythonEvtxReadsTheSameEvents) {
  ASSERT_TRUE(HavePythonEvtx()) << "python-evtx (Debian python3-evtx) is missing";
  ASSERT_TRUE(PythonEvtxToXml(dir_.File("fixtures.evtx"), dir_.File("py1.xml"), true));
  ExpectSameEvents(XmlEvents(dir_.File("py1.xml")), fixture_events_, false);
  ASSERT_TRUE(PythonEvtxToXml(dir_.File("synthetic.evtx"), dir_.File("py2.xml"), true));
  ExpectSameEvents(XmlEvents(dir_.File("py2.xml")), ExpectedSynthetic(), false);
}

// libevtx 20181227 (Debian's evtxexport) decodes UTF-16 surrogate pairs wrongly (U+1F600
// comes out as U+1F201, U+10000 as U+FC01; Quarry and python-evtx read them right): a value
// holding a character past U+FFFF is replaced by the same marker on both sides.
void MaskBeyondBmp(std::vector<Fields>* theirs, std::vector<Fields>* ours) {
  for (std::size_t i = 0; i < ours->size() && i < theirs->size(); ++i) {
    std::vector<std::pair<std::string, std::string>>& a = (*theirs)[i].data;
    std::vector<std::pair<std::string, std::string>>& b = (*ours)[i].data;
    for (std::size_t k = 0; k < b.size() && k < a.size(); ++k) {
      bool beyond = std::any_of(b[k].second.begin(), b[k].second.end(),
                                [](char c) { return static_cast<unsigned char>(c) >= 0xF0; });
      if (beyond) a[k].second = b[k].second = "(characters beyond U+FFFF)";
    }
  }
}

TEST_F(EvtxWriterOracleTest, EvtxexportReadsTheSameEvents) {
  ASSERT_TRUE(HaveEvtxexport()) << "evtxexport is missing (Debian libevtx-utils)";
  std::vector<Fields> theirs = XmlTextEvents(EvtxexportXml(dir_.File("fixtures.evtx")));
  std::vector<Fields> ours = fixture_events_;
  MaskBeyondBmp(&theirs, &ours);
  ExpectSameEvents(theirs, ours, true);
  theirs = XmlTextEvents(EvtxexportXml(dir_.File("synthetic.evtx")));
  ours = ExpectedSynthetic();
  MaskBeyondBmp(&theirs, &ours);
  ExpectSameEvents(theirs, ours, true);
}

// (c) Damage at known places: the reader reads everything else and names what it lost.
class EvtxWriterDamageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.File("damaged.evtx");
    WriteSynthetic(path_, &records_, &chunks_);
    ASSERT_GE(chunks_.size(), 4u);
    all_ids_ = RecordIds(ExpectedSynthetic());
  }
  // The ids of the records of chunk `k`.
  std::vector<std::int64_t> ChunkIds(std::size_t k) const {
    std::vector<std::int64_t> ids;
    for (const auto& r : records_) {
      if (r.chunk == static_cast<std::int64_t>(k))
        ids.push_back(static_cast<std::int64_t>(r.record_id));
    }
    return ids;
  }
  std::vector<std::int64_t> AllBut(const std::vector<std::int64_t>& lost) const {
    std::vector<std::int64_t> ids;
    for (std::int64_t id : all_ids_) {
      if (std::find(lost.begin(), lost.end(), id) == lost.end()) ids.push_back(id);
    }
    return ids;
  }
  // A record of chunk `k` in the middle that does not define its chunk's template.
  const EvtxRecordInfo& MiddleRecord(std::size_t k) const {
    std::vector<const EvtxRecordInfo*> in;
    for (const auto& r : records_) {
      if (r.chunk == static_cast<std::int64_t>(k) && !r.defines_template) in.push_back(&r);
    }
    EXPECT_GE(in.size(), 3u);
    return *in[in.size() / 2];
  }
  TempDir dir_;
  std::string path_;
  std::vector<EvtxRecordInfo> records_;
  std::vector<EvtxChunkInfo> chunks_;
  std::vector<std::int64_t> all_ids_;
};

TEST_F(EvtxWriterDamageTest, UndamagedBaseline) {
  Decoded d = DecodeEvtx(path_);
  ASSERT_TRUE(d.status.ok());
  EXPECT_TRUE(d.warnings.empty()) << d.Reasons();
  EXPECT_EQ(RecordIds(EvtxEvents(path_)), all_ids_);
}

TEST_F(EvtxWriterDamageTest, HeaderUnderstatingTheChunkCountLosesNothing) {
  ASSERT_TRUE(SetEvtxHeaderChunkCount(path_, 1).ok());
  EXPECT_EQ(U16At(ReadFile(path_), 42), 1u);
  Decoded d = DecodeEvtx(path_);
  ASSERT_TRUE(d.status.ok());
  EXPECT_TRUE(d.warnings.empty()) << d.Reasons();  // common in files Windows wrote: no damage
  EXPECT_EQ(RecordIds(EvtxEvents(path_)), all_ids_);
}

TEST_F(EvtxWriterDamageTest, BadChunkSignatureLosesThatChunkOnly) {
  ASSERT_TRUE(BreakEvtxChunkSignature(path_, chunks_[1]).ok());
  Decoded d = DecodeEvtx(path_);
  ASSERT_TRUE(d.status.ok());
  EXPECT_TRUE(d.HasWarning("chunk 1: bad signature")) << d.Reasons();
  EXPECT_EQ(d.warnings.size(), 1u) << d.Reasons();
  EXPECT_EQ(d.rejected, 1);
  std::int64_t damaged = 0;
  EXPECT_EQ(RecordIds(EvtxEvents(path_, &damaged)), AllBut(ChunkIds(1)));
  EXPECT_EQ(damaged, 1);
}

TEST_F(EvtxWriterDamageTest, ChecksumMismatchesAreNamedAndEverythingIsRead) {
  ASSERT_TRUE(PatchEvtxU32(path_, 124, U32At(ReadFile(path_), 124) ^ 0x10).ok());
  ASSERT_TRUE(BreakEvtxChunkChecksum(path_, chunks_[0], /*header=*/false).ok());
  ASSERT_TRUE(BreakEvtxChunkChecksum(path_, chunks_[2], /*header=*/true).ok());
  Decoded d = DecodeEvtx(path_);
  ASSERT_TRUE(d.status.ok());
  EXPECT_TRUE(d.HasWarning("file header: checksum mismatch")) << d.Reasons();
  EXPECT_TRUE(d.HasWarning("chunk 0: record data checksum mismatch")) << d.Reasons();
  EXPECT_TRUE(d.HasWarning("chunk 2: header checksum mismatch")) << d.Reasons();
  EXPECT_EQ(d.warnings.size(), 3u) << d.Reasons();
  EXPECT_EQ(d.rejected, 0);
  EXPECT_EQ(RecordIds(EvtxEvents(path_)), all_ids_);
}

TEST_F(EvtxWriterDamageTest, ShortenedRecordIsLostAndNamed) {
  const EvtxRecordInfo& victim = MiddleRecord(1);
  ASSERT_TRUE(ShortenEvtxRecord(path_, victim, victim.size / 2 / 8 * 8).ok());
  Decoded d = DecodeEvtx(path_);
  ASSERT_TRUE(d.status.ok());
  std::string named = "chunk 1: record " + std::to_string(victim.record_id) + ": ";
  EXPECT_TRUE(d.HasWarning(named)) << d.Reasons();
  EXPECT_GE(d.rejected, 1);
  std::int64_t damaged = 0;
  EXPECT_EQ(RecordIds(EvtxEvents(path_, &damaged)),
            AllBut({static_cast<std::int64_t>(victim.record_id)}));
  EXPECT_GE(damaged, 1);
  for (const auto& w : d.warnings) EXPECT_NE(w.reason.find("chunk 1: "), std::string::npos);
}

TEST_F(EvtxWriterDamageTest, FileCutInsideARecordKeepsWhatCameBefore) {
  std::size_t last = chunks_.size() - 1;
  const EvtxRecordInfo& victim = MiddleRecord(last);
  ASSERT_TRUE(TruncateEvtxFile(path_, victim.file_offset + victim.size / 2).ok());
  Decoded d = DecodeEvtx(path_);
  ASSERT_TRUE(d.status.ok());
  std::string chunk = "chunk " + std::to_string(last) + ": ";
  EXPECT_TRUE(d.HasWarning(chunk + "truncated at")) << d.Reasons();
  EXPECT_TRUE(d.HasWarning(chunk + "record " + std::to_string(victim.record_id) + ": "))
      << d.Reasons();
  std::vector<std::int64_t> lost;
  for (const auto& r : records_) {
    if (r.file_offset >= victim.file_offset) lost.push_back(static_cast<std::int64_t>(r.record_id));
  }
  EXPECT_EQ(RecordIds(EvtxEvents(path_)), AllBut(lost));
}

TEST_F(EvtxWriterDamageTest, MissingTemplateLosesOneRecordAndNamesIt) {
  const EvtxRecordInfo& victim = MiddleRecord(2);
  ASSERT_TRUE(PointEvtxTemplateAt(path_, victim, 300).ok());  // inside the chunk header
  Decoded d = DecodeEvtx(path_);
  ASSERT_TRUE(d.status.ok());
  EXPECT_TRUE(d.HasWarning("chunk 2: record " + std::to_string(victim.record_id) +
                           ": template definition at chunk offset 300 is missing"))
      << d.Reasons();
  EXPECT_EQ(d.warnings.size(), 1u) << d.Reasons();
  EXPECT_EQ(d.rejected, 1);
  EXPECT_EQ(RecordIds(EvtxEvents(path_)), AllBut({static_cast<std::int64_t>(victim.record_id)}));
}

// When the header understates the chunk count (as files Windows wrote often do), a bad slot past
// the count is taken for unused space unless it still looks like a chunk (a near-miss signature,
// or a whole record at chunk offset 512) or a good chunk follows. A damaged last chunk is named.
TEST_F(EvtxWriterDamageTest, DamagedLastChunkPastAnUnderstatedCountIsNamed) {
  std::size_t last = chunks_.size() - 1;
  ASSERT_TRUE(SetEvtxHeaderChunkCount(path_, static_cast<std::uint16_t>(last)).ok());
  ASSERT_TRUE(BreakEvtxChunkSignature(path_, chunks_[last]).ok());
  Decoded d = DecodeEvtx(path_);
  ASSERT_TRUE(d.status.ok());
  EXPECT_TRUE(d.HasWarning("chunk " + std::to_string(last) + ": bad signature")) << d.Reasons();
  EXPECT_TRUE(d.HasWarning("from record " + std::to_string(ChunkIds(last).front()) + " on"))
      << d.Reasons();
  ASSERT_EQ(d.warnings.size(), 1u) << d.Reasons();
  ASSERT_TRUE(d.warnings[0].record_id.has_value());
  EXPECT_EQ(*d.warnings[0].record_id, ChunkIds(last).front());
  EXPECT_EQ(d.rejected, 1);
  EXPECT_EQ(RecordIds(EvtxEvents(path_)), AllBut(ChunkIds(last)));
}

// Past the count, a chunk whose whole header was wiped still holds its records: named too.
TEST_F(EvtxWriterDamageTest, WipedChunkHeaderPastAnUnderstatedCountIsNamed) {
  std::size_t last = chunks_.size() - 1;
  ASSERT_TRUE(SetEvtxHeaderChunkCount(path_, static_cast<std::uint16_t>(last)).ok());
  ASSERT_TRUE(PatchEvtxBytes(path_, chunks_[last].file_offset, std::string(512, '\xA5')).ok());
  Decoded d = DecodeEvtx(path_);
  ASSERT_TRUE(d.status.ok());
  EXPECT_TRUE(d.HasWarning("chunk " + std::to_string(last) + ": bad signature; chunk skipped " +
                           "(its records from record " + std::to_string(ChunkIds(last).front()) +
                           " on are lost)"))
      << d.Reasons();
  EXPECT_EQ(d.warnings.size(), 1u) << d.Reasons();
  EXPECT_EQ(d.rejected, 1);
  EXPECT_EQ(RecordIds(EvtxEvents(path_)), AllBut(ChunkIds(last)));
}

// Unused space past the count stays silent: zeros, and old bytes that are no chunk (no
// signature near `ElfChnk`, no record at offset 512), even with a record signature elsewhere.
// A chunk header the file ends in is named.
TEST_F(EvtxWriterDamageTest, UnusedSpacePastTheCountIsSilentButACutChunkHeaderIsNamed) {
  ASSERT_TRUE(SetEvtxHeaderChunkCount(path_, static_cast<std::uint16_t>(chunks_.size())).ok());
  std::string bytes = ReadFile(path_);
  ASSERT_EQ((bytes.size() - 4096) % 65536, 0u);
  std::string old(65536, '\0');
  std::uint32_t x = 12345;
  for (char& b : old) {
    x = x * 1103515245u + 12345u;
    b = static_cast<char>(x >> 24);
  }
  old.replace(0, 16, std::string(12, '\0') + "Elf!");  // 5 bytes off the signature
  old.replace(4000, 8, std::string("**\0\0\x40\0\0\0", 8));
  std::string cut = std::string("ElfChnk\0", 8) + std::string(292, '\x11');
  WriteFile(path_, bytes + std::string(65536, '\0') + old);
  Decoded silent = DecodeEvtx(path_);
  ASSERT_TRUE(silent.status.ok());
  EXPECT_TRUE(silent.warnings.empty()) << silent.Reasons();
  EXPECT_EQ(RecordIds(EvtxEvents(path_)), all_ids_);

  WriteFile(path_, bytes + std::string(65536, '\0') + old + cut);
  Decoded named = DecodeEvtx(path_);
  ASSERT_TRUE(named.status.ok());
  std::size_t cut_slot = chunks_.size() + 2;
  EXPECT_TRUE(named.HasWarning("chunk " + std::to_string(cut_slot) + ": truncated chunk header"))
      << named.Reasons();
  // The old bytes between are then taken for damage too, as before a good chunk.
  EXPECT_TRUE(named.HasWarning("chunk " + std::to_string(cut_slot - 1) + ": bad signature"))
      << named.Reasons();
  EXPECT_EQ(named.warnings.size(), 2u) << named.Reasons();
  EXPECT_EQ(RecordIds(EvtxEvents(path_)), all_ids_);
}

TEST_F(EvtxWriterDamageTest, EveryDamageAtOnce) {
  // Each kind in its own chunk, and a header that understates the count: each is named once,
  // everything else is read.
  ASSERT_TRUE(SetEvtxHeaderChunkCount(path_, 2).ok());
  ASSERT_TRUE(BreakEvtxChunkSignature(path_, chunks_[1]).ok());
  const EvtxRecordInfo& shortened = MiddleRecord(2);
  const EvtxRecordInfo& orphan = MiddleRecord(3);
  ASSERT_TRUE(ShortenEvtxRecord(path_, shortened, 64).ok());
  ASSERT_TRUE(PointEvtxTemplateAt(path_, orphan, 0xFFF0).ok());
  ASSERT_TRUE(BreakEvtxChunkChecksum(path_, chunks_[0], false).ok());  // after the refreshes
  Decoded d = DecodeEvtx(path_);
  ASSERT_TRUE(d.status.ok());
  EXPECT_TRUE(d.HasWarning("chunk 0: record data checksum mismatch")) << d.Reasons();
  EXPECT_TRUE(d.HasWarning("chunk 1: bad signature")) << d.Reasons();
  EXPECT_TRUE(d.HasWarning("chunk 2: record " + std::to_string(shortened.record_id)))
      << d.Reasons();
  EXPECT_TRUE(d.HasWarning("chunk 3: record " + std::to_string(orphan.record_id) +
                           ": template definition at chunk offset 65520 is missing"))
      << d.Reasons();
  std::vector<std::int64_t> lost = ChunkIds(1);
  lost.push_back(static_cast<std::int64_t>(shortened.record_id));
  lost.push_back(static_cast<std::int64_t>(orphan.record_id));
  EXPECT_EQ(RecordIds(EvtxEvents(path_)), AllBut(lost));
}

// A record that ends at a chunk's last byte: valid, and Quarry reads it; by default the writer
// leaves 8 bytes free because libevtx 20181227 drops such a record and python-evtx 0.6.1 reads
// past the end of the file when it is in the last chunk (both seen with this very file).
TEST(EvtxWriterTest, FullChunkReadsInQuarryAndIsAvoidedByDefault) {
  auto make = [](int id, std::size_t length) {
    EvtxEvent e;
    e.provider_name = EvtxValue::String("P");
    e.event_id = EvtxValue::Number(EvtxType::kUInt16, 1);
    e.record_id = EvtxValue::Number(EvtxType::kUInt64, static_cast<std::uint64_t>(id));
    e.computer = "H";
    e.data.push_back({"a", EvtxValue::String(std::string(length, 'q'))});
    return e;
  };
  TempDir dir;
  std::string full = dir.File("full.evtx"), spare = dir.File("spare.evtx");
  EvtxWriterOptions tight;
  tight.chunk_tail_bytes = 0;
  std::size_t length = 30000;
  for (; length < 33000; ++length) {  // the second record's value that fills chunk 0 exactly
    auto writer = EvtxWriter::Create(full, tight);
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE((*writer)->Add(make(1, 100)).ok());
    ASSERT_TRUE((*writer)->Add(make(2, length)).ok());
    ASSERT_TRUE((*writer)->Finish().ok());
    if ((*writer)->chunks().at(0).free_space_offset == 65536) break;
  }
  ASSERT_LT(length, 33000u);
  Decoded d = DecodeEvtx(full);
  EXPECT_TRUE(d.warnings.empty()) << d.Reasons();
  EXPECT_EQ(RecordIds(EvtxEvents(full)), (std::vector<std::int64_t>{1, 2}));

  auto writer = EvtxWriter::Create(spare);
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->Add(make(1, 100)).ok());
  ASSERT_TRUE((*writer)->Add(make(2, length)).ok());
  ASSERT_TRUE((*writer)->Finish().ok());
  ASSERT_EQ((*writer)->chunks().size(), 2u);  // the second record went to a chunk of its own
  EXPECT_LE((*writer)->chunks()[0].free_space_offset, 65536u - 8);
  EXPECT_EQ(RecordIds(EvtxEvents(spare)), (std::vector<std::int64_t>{1, 2}));
  ASSERT_TRUE(HavePythonEvtx());
  ASSERT_TRUE(PythonEvtxToXml(spare, dir.File("python.xml")));
  EXPECT_EQ(XmlEvents(dir.File("python.xml")).size(), 2u);
  EXPECT_EQ(XmlTextEvents(EvtxexportXml(spare)).size(), 2u);
}

// quarry_write_evtx, the command-line tool.
TEST(QuarryWriteEvtxTest, ConvertsFixturesAndReportsDamage) {
  TempDir dir;
  std::string out = dir.File("out.evtx");
  RunResult run = RunProgram(QUARRY_WRITE_EVTX_BINARY,
                             {SourcePath("fixtures/ingest/sysmon_damaged.xml"),
                              SourcePath("fixtures/ingest/sysmon_evtrender_lines.xml"), "-o", out});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.err.find("9 records in 1 chunks, 3 skipped"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("sysmon_damaged.xml: line 2: record cut short"), std::string::npos)
      << run.err;
  Result<ingest::SniffResult> sniff = ingest::SniffFile(out);
  ASSERT_TRUE(sniff.ok());
  EXPECT_EQ(sniff->format, "evtx");
  EXPECT_EQ(EvtxEvents(out).size(), 9u);

  EXPECT_EQ(RunProgram(QUARRY_WRITE_EVTX_BINARY, {"-o", out}).exit_code, 2);
  EXPECT_EQ(RunProgram(QUARRY_WRITE_EVTX_BINARY, {"x.xml"}).exit_code, 2);
  EXPECT_EQ(RunProgram(QUARRY_WRITE_EVTX_BINARY, {"x.xml", "-o", out, "--bogus"}).exit_code, 2);
  std::string missing = dir.File("missing.evtx");
  RunResult bad = RunProgram(QUARRY_WRITE_EVTX_BINARY,
                             {SourcePath("fixtures/ingest/not_event_xml.txt"), "-o", missing});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("not event XML"), std::string::npos) << bad.err;
  EXPECT_FALSE(fs::exists(missing));
  EXPECT_EQ(RunProgram(QUARRY_WRITE_EVTX_BINARY, {dir.File("nope.xml"), "-o", missing}).exit_code,
            1);
}

#ifdef QUARRY_GEN_BINARY
// The benchmark generator's EVTX formats hold the events of its XML formats, value for value.
TEST(GeneratorEvtxTest, EvtxFormatsHoldTheXmlFormatsEvents) {
  TempDir dir;
  for (const std::string kind : {"sysmon", "security"}) {
    SCOPED_TRACE(kind);
    std::string xml = dir.File(kind + ".xml"), evtx = dir.File(kind + ".evtx");
    std::vector<std::pair<std::string, std::string>> outputs = {{kind + "-xml", xml},
                                                                {kind + "-evtx", evtx}};
    for (const auto& [format, out] : outputs) {
      RunResult run =
          RunProgram(QUARRY_GEN_BINARY, {"--events", "3000", "--seed", "5", "--at-every", "700",
                                         "--format", format, "--out", out});
      ASSERT_EQ(run.exit_code, 0) << run.err;
    }
    std::int64_t damaged = 0;
    std::vector<Fields> from_evtx = EvtxEvents(evtx, &damaged);
    EXPECT_EQ(from_evtx.size(), 3000u);
    EXPECT_EQ(damaged, 0);
    EXPECT_EQ(Describe(from_evtx), Describe(XmlEvents(xml)));
    Decoded x = DecodeInput(xml), e = DecodeEvtx(evtx);
    EXPECT_EQ(e.loaded, 3000);
    EXPECT_TRUE(e.warnings.empty()) << e.Reasons();
    EXPECT_EQ(Rows(e.rows), Rows(x.rows));
  }
}
#endif

}  // namespace
}  // namespace quarry::testing
