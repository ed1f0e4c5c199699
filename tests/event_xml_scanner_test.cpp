// ingest/event_xml_scanner and input_file: splitting every XML rendering into records, with
// offsets and lines that point back into the original file, and surviving damage.
#include "ingest/event_xml_scanner.h"

#include <gtest/gtest.h>

#include "ingest/input_file.h"
#include "tests/test_util.h"

namespace quarry::testing {
namespace {

using ingest::EventXmlScanner;
using ingest::IngestWarning;
using ingest::XmlRecord;

struct Scanned {
  std::vector<std::string> texts;
  std::vector<std::int64_t> offsets;
  std::vector<std::int64_t> lines;
  std::vector<IngestWarning> problems;
};

Scanned Scan(const std::string& path, std::size_t max_record = 1 << 20) {
  Result<ingest::SniffResult> sniff = ingest::SniffFile(path);
  EXPECT_TRUE(sniff.ok());
  auto reader = ingest::Utf8Reader::Open(path, sniff->encoding, sniff->bom_bytes);
  EXPECT_TRUE(reader.ok());
  EventXmlScanner scanner(std::move(reader).value(), max_record);
  Scanned out;
  XmlRecord record;
  while (scanner.Next(&record, &out.problems)) {
    if (record.size == 0) continue;  // damage only
    out.texts.emplace_back(record.text());
    out.offsets.push_back(record.byte_offset);
    out.lines.push_back(record.line);
  }
  EXPECT_TRUE(scanner.status().ok());
  return out;
}

Scanned ScanText(const std::string& bytes, std::size_t max_record = 1 << 20) {
  TempDir dir;
  WriteFile(dir.File("events.xml"), bytes);
  return Scan(dir.File("events.xml"), max_record);
}

const std::string kA = "<Event xmlns='x'><System><EventID>1</EventID></System></Event>";
const std::string kB = "<Event><EventData><Data Name=\"a\">b</Data></EventData></Event>";

TEST(EventXmlScannerTest, OneEventPerLine) {
  Scanned s = ScanText(kA + "\n" + kB + "\n");
  EXPECT_EQ(s.texts, (std::vector<std::string>{kA, kB}));
  EXPECT_EQ(s.offsets, (std::vector<std::int64_t>{0, static_cast<std::int64_t>(kA.size() + 1)}));
  EXPECT_EQ(s.lines, (std::vector<std::int64_t>{1, 2}));
  EXPECT_TRUE(s.problems.empty());
}

TEST(EventXmlScannerTest, ConcatenatedWithoutRoot) {
  Scanned s = ScanText(kA + kB + kA);
  EXPECT_EQ(s.texts, (std::vector<std::string>{kA, kB, kA}));
  EXPECT_TRUE(s.problems.empty());
}

TEST(EventXmlScannerTest, EventsWrapperWithDeclarationCommentsAndIndentation) {
  std::string text =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<!-- saved -->\r\n<Events>\r\n  " + kA +
      "\r\n  " + kB + "\r\n</Events>\r\n";
  Scanned s = ScanText(text);
  EXPECT_EQ(s.texts, (std::vector<std::string>{kA, kB}));
  EXPECT_EQ(s.lines, (std::vector<std::int64_t>{4, 5}));
  EXPECT_EQ(s.offsets[0], static_cast<std::int64_t>(text.find(kA)));
  EXPECT_TRUE(s.problems.empty());
}

TEST(EventXmlScannerTest, ElementsNamedLikeEventAreNotRecords) {
  // <EventData>, <EventID> and <Events> start with "<Event" but are not <Event> elements.
  Scanned s = ScanText("<Events>" + kB + "</Events>");
  EXPECT_EQ(s.texts, (std::vector<std::string>{kB}));
}

TEST(EventXmlScannerTest, Utf16OffsetsPointIntoTheOriginalFile) {
  // "\xc3\xa9" (U+00E9) is one UTF-16 unit, the emoji two: offsets count original bytes.
  std::string utf8 = "<Events>\xc3\xa9\xf0\x9f\x98\x80\n" + kA + "</Events>";
  std::string utf16 = "\xFF\xFE";
  for (std::size_t i = 0; i < utf8.size();) {
    auto c = static_cast<unsigned char>(utf8[i]);
    std::uint32_t cp;
    int n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    cp = n == 1 ? c : n == 2 ? (c & 0x1F) : n == 3 ? (c & 0x0F) : (c & 0x07);
    for (int k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(utf8[i + k]) & 0x3F);
    i += n;
    auto put = [&](std::uint32_t u) {
      utf16.push_back(static_cast<char>(u & 0xFF));
      utf16.push_back(static_cast<char>(u >> 8));
    };
    if (cp >= 0x10000) {
      put(0xD800 + ((cp - 0x10000) >> 10));
      put(0xDC00 + ((cp - 0x10000) & 0x3FF));
    } else {
      put(cp);
    }
  }
  Scanned s = ScanText(utf16);
  ASSERT_EQ(s.texts.size(), 1u);
  EXPECT_EQ(s.texts[0], kA);
  EXPECT_EQ(s.offsets[0], 2 + 2 * (8 + 1 + 2 + 1));  // BOM, "<Events>", é, 😀 (2 units), \n
  EXPECT_EQ(s.lines[0], 2);
}

TEST(EventXmlScannerTest, RecordsAcrossChunkBoundariesAreWhole) {
  std::string text;
  std::vector<std::string> expected;
  for (int i = 0; i < 3000; ++i) {  // ~1.5 MiB: crosses the 1 MiB read chunk
    std::string event = "<Event><EventData><Data Name='n'>" + std::to_string(i) +
                        std::string(static_cast<std::size_t>(400 + i % 97), 'x') +
                        "</Data></EventData></Event>";
    expected.push_back(event);
    text += event + "\n";
  }
  Scanned s = ScanText(text);
  EXPECT_EQ(s.texts, expected);
  EXPECT_EQ(s.lines.back(), 3000);
  EXPECT_TRUE(s.problems.empty());
}

TEST(EventXmlScannerTest, RecordCutShortIsReportedAndTheNextOneRead) {
  std::string cut = kA.substr(0, 30);
  Scanned s = ScanText(kA + "\n" + cut + "\n" + kB + "\n");
  EXPECT_EQ(s.texts, (std::vector<std::string>{kA, kB}));
  ASSERT_EQ(s.problems.size(), 1u);
  EXPECT_EQ(s.problems[0].line, 2);
  EXPECT_EQ(s.problems[0].byte_offset, static_cast<std::int64_t>(kA.size() + 1));
  EXPECT_EQ(s.problems[0].severity, IngestWarning::Severity::kRejected);
  EXPECT_NE(s.problems[0].reason.find("cut short"), std::string::npos);
}

TEST(EventXmlScannerTest, ManyUnclosedStartTagsAreReportedOneAtATime) {
  // Hostile input: start tags and no end tag. Each call hands over at most one cut-short
  // record, so warnings never pile up inside one call, and the end tag is not searched again
  // for every start (this file would take minutes if it were).
  std::string text;
  for (int i = 0; i < 200000; ++i) text += "<Event ";
  text += kA;
  TempDir dir;
  WriteFile(dir.File("events.xml"), text);
  auto reader = ingest::Utf8Reader::Open(dir.File("events.xml"), ingest::TextEncoding::kUtf8, 0);
  ingest::EventXmlScanner scanner(std::move(reader).value(), 1 << 20);
  XmlRecord record;
  std::vector<IngestWarning> problems;
  std::size_t most_per_call = 0;
  std::vector<std::string> records;
  while (true) {
    std::size_t before = problems.size();
    if (!scanner.Next(&record, &problems)) break;
    most_per_call = std::max(most_per_call, problems.size() - before);
    if (record.size > 0) records.emplace_back(record.text());
  }
  EXPECT_LE(most_per_call, 2u);
  EXPECT_EQ(problems.size(), 200000u);
  EXPECT_EQ(records, (std::vector<std::string>{kA}));
}

TEST(EventXmlScannerTest, TruncatedLastRecordIsReported) {
  Scanned s = ScanText(kA + "\n" + kB.substr(0, 20));
  EXPECT_EQ(s.texts, (std::vector<std::string>{kA}));
  ASSERT_EQ(s.problems.size(), 1u);
  EXPECT_NE(s.problems[0].reason.find("end of file"), std::string::npos);
}

TEST(EventXmlScannerTest, TextBetweenEventsIsReportedWithAnExcerpt) {
  Scanned s = ScanText(kA + "\nnot an event\n" + kB);
  EXPECT_EQ(s.texts.size(), 2u);
  ASSERT_EQ(s.problems.size(), 1u);
  EXPECT_EQ(s.problems[0].excerpt, "not an event\n");
  EXPECT_EQ(s.problems[0].line, 2);
}

TEST(EventXmlScannerTest, OversizedRecordIsSkippedAndScanningGoesOn) {
  std::string big = "<Event><EventData><Data Name='x'>" + std::string(3 << 20, 'A') +
                    "</Data></EventData></Event>";
  Scanned s = ScanText(kA + "\n" + big + "\n" + kB + "\n", /*max_record=*/1 << 20);
  EXPECT_EQ(s.texts, (std::vector<std::string>{kA, kB}));
  ASSERT_EQ(s.problems.size(), 1u);
  EXPECT_NE(s.problems[0].reason.find("larger than"), std::string::npos) << s.problems[0].reason;
  EXPECT_EQ(s.problems[0].line, 2);
  EXPECT_EQ(s.problems[0].excerpt.size(), ingest::kWarningExcerptBytes);
  EXPECT_EQ(ingest::WarningExcerpt(std::string(199, 'a') + "\xe6\x96\x87" + "tail"),
            std::string(199, 'a'));
  EXPECT_EQ(ingest::WarningExcerpt(std::string(198, 'a') + "\xc3\xa9" + "tail"),
            std::string(198, 'a') + "\xc3\xa9");
}

TEST(SniffTest, RecognisesRenderingsAndRejectsOtherFiles) {
  TempDir dir;
  struct Case {
    std::string bytes;
    std::string format;
    ingest::TextEncoding encoding;
  };
  std::vector<Case> cases = {
      {kA, "event_xml", ingest::TextEncoding::kUtf8},
      {"\xEF\xBB\xBF" + kA, "event_xml", ingest::TextEncoding::kUtf8},
      {"<?xml version='1.0'?>\n<Events>" + kA + "</Events>", "event_xml",
       ingest::TextEncoding::kUtf8},
      {std::string("\xFF\xFE<\0E\0v\0e\0n\0t\0>\0<\0/\0E\0v\0e\0n\0t\0>\0", 32), "event_xml",
       ingest::TextEncoding::kUtf16Le},
      {std::string("<\0E\0v\0e\0n\0t\0 \0/\0>\0", 18), "event_xml", ingest::TextEncoding::kUtf16Le},
      {"{\"EventID\": 1}\n", "", ingest::TextEncoding::kUtf8},
      {"<html><body>Event</body></html>", "", ingest::TextEncoding::kUtf8},
      {"<?xml version='1.0'?><config/>", "", ingest::TextEncoding::kUtf8},
      {"", "", ingest::TextEncoding::kUtf8},
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    std::string path = dir.File(std::string("f") + std::to_string(i));
    WriteFile(path, cases[i].bytes);
    Result<ingest::SniffResult> sniff = ingest::SniffFile(path);
    ASSERT_TRUE(sniff.ok());
    EXPECT_EQ(sniff->format, cases[i].format) << i;
    if (cases[i].format.empty()) {
      EXPECT_FALSE(sniff->reason.empty()) << i;
    } else {
      EXPECT_EQ(sniff->encoding, cases[i].encoding) << i;
    }
  }
}

TEST(Sha256Test, MatchesAKnownDigest) {
  TempDir dir;
  WriteFile(dir.File("abc"), "abc");
  EXPECT_EQ(ingest::Sha256OfFile(dir.File("abc")).value(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_FALSE(ingest::Sha256OfFile(dir.File("missing")).ok());
}

}  // namespace
}  // namespace quarry::testing
