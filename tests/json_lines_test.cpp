// ingest/json_record, line_reader, nxlog and JSON sniffing: JSON-lines inputs read exactly.
#include <gtest/gtest.h>

#include "ingest/json_record.h"
#include "ingest/line_reader.h"
#include "ingest/nxlog.h"
#include "ingest/windows_events.h"
#include "schema/time_util.h"
#include "tests/test_util.h"

namespace quarry::testing {
namespace {

using ingest::JsonFields;
using ingest::JsonObjectParser;

TEST(JsonObjectParserTest, ReadsMembersAsText) {
  JsonObjectParser parser;
  JsonFields fields;
  std::string error;
  ASSERT_TRUE(parser.Parse(
      R"( {"s":"C:\\x \"q\" \u00e9","n":4688,"f":-1.5,"b":true,"z":null,"o":{"a":[1, 2]}} )",
      &fields, &error))
      << error;
  EXPECT_EQ(fields.Find("s"), "C:\\x \"q\" \xc3\xa9");
  EXPECT_EQ(fields.Find("n"), "4688");
  EXPECT_EQ(fields.Find("f"), "-1.5");
  EXPECT_EQ(fields.Find("b"), "true");
  EXPECT_EQ(fields.Find("z"), std::nullopt);  // null: absent
  EXPECT_EQ(fields.Find("o"), "{\"a\":[1,2]}");
  EXPECT_EQ(fields.Find("missing"), std::nullopt);
}

TEST(JsonObjectParserTest, RejectsWhatIsNotOneObject) {
  JsonObjectParser parser;
  JsonFields fields;
  std::string error;
  // Bytes that are not UTF-8 are read as U+FFFD, not refused (hostile_input_test.cpp).
  for (const char* bad :
       {"", "[1,2]", "\"s\"", "{\"a\":1} {\"b\":2}", "{\"a\":1", "{'a':1}", "not json"}) {
    EXPECT_FALSE(parser.Parse(bad, &fields, &error)) << bad;
    EXPECT_FALSE(error.empty());
  }
}

std::vector<ingest::TextLine> ReadLines(const std::string& bytes, std::size_t max_line,
                                        std::vector<std::string>* texts,
                                        std::vector<ingest::IngestWarning>* problems) {
  TempDir dir;
  WriteFile(dir.File("f"), bytes);
  auto reader = ingest::Utf8Reader::Open(dir.File("f"), ingest::TextEncoding::kUtf8, 0);
  ingest::LineReader lines(std::move(reader).value(), max_line);
  std::vector<ingest::TextLine> out;
  ingest::TextLine line;
  while (lines.Next(&line, problems)) {
    texts->emplace_back(line.text);
    out.push_back(line);
  }
  return out;
}

TEST(LineReaderTest, SplitsLinesWithTheirPlaces) {
  std::vector<std::string> texts;
  std::vector<ingest::IngestWarning> problems;
  auto lines = ReadLines("a\r\n\nbcd\nlast", 1 << 20, &texts, &problems);
  EXPECT_EQ(texts, (std::vector<std::string>{"a", "", "bcd", "last"}));
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[2].byte_offset, 4);
  EXPECT_EQ(lines[2].line, 3);
  EXPECT_EQ(lines[3].byte_offset, 8);
  EXPECT_TRUE(problems.empty());
}

TEST(LineReaderTest, SkipsAnOverlongLineAndGoesOn) {
  std::vector<std::string> texts;
  std::vector<ingest::IngestWarning> problems;
  std::string big(3 << 20, 'x');
  auto lines = ReadLines("first\n" + big + "\nafter\n", 1 << 20, &texts, &problems);
  EXPECT_EQ(texts, (std::vector<std::string>{"first", "after"}));
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].line, 2);
  EXPECT_EQ(problems[0].byte_offset, 6);
  EXPECT_EQ(lines[1].line, 3);
}

TEST(NxlogTest, SysmonEventReadsAsFromXml) {
  JsonObjectParser parser;
  JsonFields fields;
  std::string error;
  ASSERT_TRUE(parser.Parse(
      R"({"EventTime":"2026-05-02 06:49:15","Hostname":"dc1.example","EventID":1,"SourceName":"Microsoft-Windows-Sysmon",)"
      R"("Channel":"Microsoft-Windows-Sysmon/Operational","RecordNumber":829,"ProcessID":2928,"UserID":"S-1-5-18",)"
      R"("UtcTime":"2026-05-02 06:48:59.131","ProcessId":"4412","Image":"C:\\Windows\\System32\\at.exe",)"
      R"("CommandLine":"at \\\\h 1:00 x","User":"EX\\a","ParentProcessId":"3300"})",
      &fields, &error))
      << error;
  ASSERT_TRUE(ingest::IsNxlogWindowsEvent(fields));
  ingest::WinEvent event;
  ingest::NxlogToWinEvent(fields, &event);
  ingest::ProcessEvent row;
  std::vector<std::string> problems;
  ASSERT_EQ(ingest::NormalizeWindowsEvent(event, &row, &problems),
            ingest::NormalizeOutcome::kLoaded);
  EXPECT_EQ(row.dest, "dc1.example");
  EXPECT_EQ(row.process_id, 4412);  // EventData ProcessId, not NXLog's own ProcessID
  EXPECT_EQ(row.parent_process_id, 3300);
  EXPECT_EQ(row.process_name, "at.exe");
  EXPECT_EQ(row.user, "EX\\a");
  EXPECT_EQ(row.record_id, 829);
  EXPECT_EQ(row.time_us, schema::ParseUtcTimestamp("2026-05-02 06:48:59.131"));
  EXPECT_EQ(row.log_time_us, schema::ParseUtcTimestamp("2026-05-02 06:49:15"));
}

TEST(NxlogTest, ProcessIdLostByNxlogIsRecoveredFromTheMessage) {
  // NXLog keeps its own ProcessID (the logging service) and drops EventData's ProcessId.
  JsonObjectParser parser;
  JsonFields fields;
  std::string error;
  for (
      auto [json, expected] : std::vector<std::pair<std::string, std::int64_t>>{
          {R"({"EventTime":"2026-05-02 06:49:15","Hostname":"h","EventID":1,"Channel":"Microsoft-Windows-Sysmon/Operational",)"
           R"("ProcessID":2928,"UtcTime":"2026-05-02 06:48:59.131","ParentProcessId":"852",)"
           R"("Message":"Process Create:\r\nRuleName: \r\nProcessId: 4412\r\nParentProcessId: 852"})",
           4412},
          {R"({"EventTime":"2026-05-02 06:48:59","Hostname":"h","EventID":4688,"Channel":"Security","ProcessID":4,)"
           R"("NewProcessId":"0x113c","NewProcessName":"C:\\x.exe","SubjectUserSid":"S-1-5-18",)"
           R"("Message":"Process Information:\r\n\tNew Process ID:\t\t0x113c\r\n\tCreator Process ID:\t0xce4\r\n"})",
           0xce4}}) {
    ASSERT_TRUE(parser.Parse(json, &fields, &error)) << error << "\n" << json;
    ingest::WinEvent event;
    ingest::NxlogToWinEvent(fields, &event);
    ingest::ProcessEvent row;
    std::vector<std::string> problems;
    ASSERT_EQ(ingest::NormalizeWindowsEvent(event, &row, &problems),
              ingest::NormalizeOutcome::kLoaded);
    if (row.event_code == 1) {
      EXPECT_EQ(row.process_id, expected);
      EXPECT_EQ(row.parent_process_id, 852);
    } else {
      EXPECT_EQ(row.parent_process_id, expected);
      EXPECT_EQ(row.process_id, 0x113c);
    }
  }
}

TEST(EpochTimeTest, ParsesCrowdStrikeTimes) {
  EXPECT_EQ(schema::ParseEpochSeconds("1682368414.719"), 1682368414719000);
  EXPECT_EQ(schema::ParseEpochSeconds("1682368414"), 1682368414000000);
  EXPECT_EQ(schema::ParseEpochSeconds("1682368414719"), 1682368414719000);  // milliseconds
  EXPECT_EQ(schema::ParseEpochMillis("1713805173418"), 1713805173418000);
  for (const char* bad : {"", ".5", "1.", "12a", "-5", "1.2.3"}) {
    EXPECT_FALSE(schema::ParseEpochSeconds(bad).has_value()) << bad;
  }
  EXPECT_FALSE(schema::ParseEpochMillis("17138.05").has_value());
  // Values whose microseconds would overflow are refused, not wrapped.
  EXPECT_FALSE(schema::ParseEpochSeconds("99999999999999.5").has_value());
  EXPECT_FALSE(schema::ParseEpochSeconds("999999999999999").has_value());
  EXPECT_FALSE(schema::ParseEpochMillis("999999999999999999").has_value());
}

TEST(JsonSniffTest, RecognisesKnownJsonAndSkipsOtherJson) {
  TempDir dir;
  struct Case {
    std::string bytes;
    std::string format;
  };
  for (const Case& c : std::vector<Case>{
           {"{\"event_simpleName\":\"ProcessRollup2\"}\n", "json_lines"},
           {"{\"aid\":\"a\",\"ComputerName\":\"H\"}\n", "json_lines"},
           {"{\"UserSid_readable\":\"S-1-5-18\"}", "json_lines"},
           {"{\"EventID\":4688,\"Channel\":\"Security\"}\r\n{}", "json_lines"},
           {"{\"name\":\"package.json\",\"version\":\"1.0.0\"}\n", ""},
           {"{\"broken\": \n", ""},
           {"[{\"event_simpleName\":\"ProcessRollup2\"}]", ""},
       }) {
    WriteFile(dir.File("f"), c.bytes);
    Result<ingest::SniffResult> sniff = ingest::SniffFile(dir.File("f"));
    ASSERT_TRUE(sniff.ok());
    EXPECT_EQ(sniff->format, c.format) << c.bytes;
  }
}

TEST(JsonSniffTest, AFirstLineLongerThanTheWindowIsJudgedByItsStart) {
  // FDR writes CommandLine before event_simpleName: with a long command line the member that
  // names the kind comes after the 64 KiB the sniff sees. A cut line that is the well-formed
  // start of a JSON object is taken as JSON lines (the reader then judges each line); anything
  // else that starts with `{` is not.
  TempDir dir;
  const std::string text(100 * 1024, 'a');
  std::string deep;
  for (int i = 0; i < 40; ++i) deep += R"({"a": )";
  struct Case {
    std::string first_line;
    std::string format;
  };
  for (const Case& c : std::vector<Case>{
           {R"({"CommandLine": "cmd.exe /c )" + text + R"(", "event_simpleName": "PR2"})",
            "json_lines"},
           {R"({"Message": "Process Create:\r\n)" + text + R"(", "EventID": 1})", "json_lines"},
           {R"( {"n": -1.5e3, "t": true, "z": null, "o": {"a": [1, "\u00e9\\", {}]}, "s": ")" +
                text + R"("})",
            "json_lines"},
           {R"({")" + text + R"(": 1})", "json_lines"},  // cut inside a member name
           {"{" + text + "}", ""},                       // not a member name
           {R"({"a": 1} )" + text, ""},                  // the object ends, the line goes on
           {R"({"a": 1}{"b": ")" + text + R"("})", ""},
           {"{\"a\": \"x\x01y" + text + "\"}", ""},           // a control character in a string
           {R"({"a": "\q)" + text + R"("})", ""},             // an escape JSON does not have
           {R"({"a" 1, "s": ")" + text + R"("})", ""},        // no colon
           {R"({"a": tru, "s": ")" + text + R"("})", ""},     // a broken literal
           {R"({"a": [1, 2}, "s": ")" + text + R"("})", ""},  // brackets that do not match
           {std::string(40, '{') + text, ""},
           {deep + "\"" + text, ""},  // nested deeper than any event source writes
       }) {
    WriteFile(dir.File("f"), c.first_line + "\n{\"event_simpleName\": \"ProcessRollup2\"}\n");
    Result<ingest::SniffResult> sniff = ingest::SniffFile(dir.File("f"));
    ASSERT_TRUE(sniff.ok());
    EXPECT_EQ(sniff->format, c.format) << c.first_line.substr(0, 60);
    if (c.format.empty()) {
      EXPECT_NE(sniff->reason.find("not an event source"), std::string::npos);
    }
  }
}

}  // namespace
}  // namespace quarry::testing
