// ingest/sysmon and event_xml: every mapped Sysmon EID 1 field, including the awkward ones.
#include "ingest/sysmon.h"

#include <gtest/gtest.h>

#include "ingest/event_xml.h"
#include "tests/test_util.h"

namespace quarry::ingest {
namespace {

struct Normalized {
  bool ok = false;
  ProcessEvent row;
  std::vector<std::string> problems;
};

std::string Event(const std::string& data, const std::string& system_extra = "",
                  const std::string& provider = "Microsoft-Windows-Sysmon", int event_id = 1) {
  return "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System>"
         "<Provider Name='" +
         provider + "'/><EventID>" + std::to_string(event_id) +
         "</EventID><TimeCreated SystemTime='2026-03-14T09:12:03.5191234Z'/>"
         "<EventRecordID>4242</EventRecordID><Channel>Microsoft-Windows-Sysmon/Operational</"
         "Channel>"
         "<Computer>wks-01.corp.example</Computer><Security UserID='S-1-5-18'/>" +
         system_extra + "</System><EventData>" + data + "</EventData></Event>";
}

std::string D(const std::string& name, const std::string& value) {
  return "<Data Name='" + name + "'>" + value + "</Data>";
}

Normalized Normalize(std::string xml) {
  EventXmlParser parser;
  WinEvent event;
  std::string error;
  Normalized out;
  EXPECT_TRUE(parser.Parse(xml.data(), xml.size(), &event, &error)) << error;
  EXPECT_TRUE(IsSysmonProcessCreate(event));
  out.ok = NormalizeSysmonProcessCreate(event, &out.row, &out.problems);
  return out;
}

const std::string kFull =
    D("RuleName", "-") + D("UtcTime", "2026-03-14 09:12:03.517") +
    D("ProcessGuid", "{7d1b2c44-0a13-6a8f-2c04-000000000900}") + D("ProcessId", "6412") +
    D("Image", "C:\\Windows\\System32\\cmd.exe") + D("FileVersion", "10.0") +
    D("Description", "Windows Command Processor") + D("Product", "Windows") +
    D("Company", "Microsoft Corporation") + D("OriginalFileName", "Cmd.Exe") +
    D("CommandLine", "cmd.exe /c echo %%TEMP%% &amp; dir &lt;x&gt;") +
    D("CurrentDirectory", "C:\\Users\\a\\") + D("User", "CORP\\a.user") +
    D("LogonGuid", "{7d1b2c44-0000-0000-0000-000000000000}") + D("LogonId", "0x5d31a") +
    D("TerminalSessionId", "1") + D("IntegrityLevel", "High") +
    D("Hashes", "SHA1=AA,MD5=BB,SHA256=CC,IMPHASH=DD") +
    D("ParentProcessGuid", "{7d1b2c44-0a0f-6a8f-1f04-000000000900}") +
    D("ParentProcessId", "5120") + D("ParentImage", "C:\\Program Files\\Office\\WINWORD.EXE") +
    D("ParentCommandLine", "\"WINWORD.EXE\" /n") + D("ParentUser", "CORP\\a.user");

TEST(SysmonTest, MapsEveryField) {
  Normalized n = Normalize(Event(kFull));
  ASSERT_TRUE(n.ok);
  EXPECT_TRUE(n.problems.empty());
  const ProcessEvent& r = n.row;
  EXPECT_EQ(r.time_us, 1773479523517000);
  EXPECT_EQ(r.log_time_us, 1773479523519123);
  EXPECT_EQ(r.dest, "wks-01.corp.example");
  EXPECT_EQ(r.user, "CORP\\a.user");
  EXPECT_EQ(r.user_id, std::nullopt);  // Security/@UserID is the Sysmon service, not the user
  EXPECT_EQ(r.process, "cmd.exe /c echo %%TEMP%% & dir <x>");
  EXPECT_EQ(r.process_path, "C:\\Windows\\System32\\cmd.exe");
  EXPECT_EQ(r.process_name, "cmd.exe");
  EXPECT_EQ(r.process_id, 6412);
  EXPECT_EQ(r.process_guid, "{7d1b2c44-0a13-6a8f-2c04-000000000900}");
  EXPECT_EQ(r.process_hash, "SHA1=AA,MD5=BB,SHA256=CC,IMPHASH=DD");
  EXPECT_EQ(r.process_integrity_level, "high");
  EXPECT_EQ(r.process_current_directory, "C:\\Users\\a\\");
  EXPECT_EQ(r.original_file_name, "Cmd.Exe");
  EXPECT_EQ(r.parent_process, "\"WINWORD.EXE\" /n");
  EXPECT_EQ(r.parent_process_path, "C:\\Program Files\\Office\\WINWORD.EXE");
  EXPECT_EQ(r.parent_process_name, "WINWORD.EXE");
  EXPECT_EQ(r.parent_process_id, 5120);
  EXPECT_EQ(r.parent_process_guid, "{7d1b2c44-0a0f-6a8f-1f04-000000000900}");
  EXPECT_EQ(r.parent_user, "CORP\\a.user");
  EXPECT_EQ(r.vendor_product, "Microsoft Sysmon");
  EXPECT_EQ(r.action, "allowed");
  EXPECT_EQ(r.data_source, "Sysmon EventID 1");
  EXPECT_EQ(r.sourcetype, "XmlWinEventLog");
  EXPECT_EQ(r.source, "XmlWinEventLog:Microsoft-Windows-Sysmon/Operational");
  EXPECT_EQ(r.event_code, 1);
  EXPECT_EQ(r.record_id, 4242);
}

TEST(SysmonTest, DoubleQuotesAndIndentationReadTheSame) {
  std::string single = Event(kFull);
  std::string indented = testing::EventViewerRendering(single);
  Normalized a = Normalize(single);
  Normalized b = Normalize(indented);
  ASSERT_TRUE(a.ok && b.ok);
  EXPECT_EQ(a.row.process, b.row.process);
  EXPECT_EQ(a.row.user, b.row.user);
  EXPECT_EQ(a.row.process_id, b.row.process_id);
  EXPECT_EQ(a.row.parent_process_guid, b.row.parent_process_guid);
  EXPECT_EQ(a.row.time_us, b.row.time_us);
}

TEST(SysmonTest, PlaceholdersAreNull) {
  Normalized n =
      Normalize(Event(D("UtcTime", "2026-03-14 09:12:03.517") + D("OriginalFileName", "-") +
                      D("ParentProcessGuid", "{00000000-0000-0000-0000-000000000000}") +
                      D("ParentCommandLine", "") + D("Image", "C:\\x.exe") + D("ParentUser", "-")));
  ASSERT_TRUE(n.ok);
  EXPECT_EQ(n.row.original_file_name, std::nullopt);
  EXPECT_EQ(n.row.parent_process_guid, std::nullopt);
  EXPECT_EQ(n.row.parent_process, std::nullopt);
  EXPECT_EQ(n.row.parent_user, std::nullopt);
  EXPECT_EQ(n.row.process_id, std::nullopt);  // absent
}

TEST(SysmonTest, OldSchemaWithoutOriginalFileNameOrRuleName) {
  // Sysmon schema 3.x/4.0 events have neither field; names, not positions, decide.
  Normalized n =
      Normalize(Event(D("UtcTime", "2018-11-02 22:01:40.003") + D("ProcessId", "2236") +
                      D("Image", "C:\\Windows\\System32\\PING.EXE") +
                      D("CommandLine", "ping  -n 6 127.0.0.1 ") + D("ParentProcessId", "1840")));
  ASSERT_TRUE(n.ok);
  EXPECT_EQ(n.row.original_file_name, std::nullopt);
  EXPECT_EQ(n.row.process_name, "PING.EXE");
  EXPECT_EQ(n.row.process, "ping  -n 6 127.0.0.1 ");  // spaces kept
  EXPECT_EQ(n.row.parent_process_id, 1840);
}

TEST(SysmonTest, FieldOrderDoesNotMatter) {
  Normalized n = Normalize(Event(D("ParentProcessId", "7") + D("User", "U") + D("ProcessId", "8") +
                                 D("UtcTime", "2026-03-14 09:12:03.517")));
  ASSERT_TRUE(n.ok);
  EXPECT_EQ(n.row.process_id, 8);
  EXPECT_EQ(n.row.parent_process_id, 7);
  EXPECT_EQ(n.row.user, "U");
}

TEST(SysmonTest, NewlinesInsideACommandLineAreKeptExactly) {
  Normalized n = Normalize(Event(D("UtcTime", "2026-03-14 09:12:03.517") +
                                 D("CommandLine", "powershell -c \"a\r\nb\n c\"") +
                                 D("CurrentDirectory", "   ")));
  ASSERT_TRUE(n.ok);
  EXPECT_EQ(n.row.process, "powershell -c \"a\r\nb\n c\"");
  EXPECT_EQ(n.row.process_current_directory, "   ");
}

TEST(SysmonTest, ProcessNameFallsBackToTheCommandLine) {
  Normalized n = Normalize(Event(D("UtcTime", "2026-03-14 09:12:03.517") +
                                 D("CommandLine", "\"C:\\Program Files\\A B\\tool.exe\" -x") +
                                 D("ParentCommandLine", "C:\\Windows\\explorer.exe /factory")));
  ASSERT_TRUE(n.ok);
  EXPECT_EQ(n.row.process_path, std::nullopt);
  EXPECT_EQ(n.row.process_name, "tool.exe");
  EXPECT_EQ(n.row.parent_process_name, "explorer.exe");
}

TEST(SysmonTest, DamagedNumbersAreNullWithAProblem) {
  Normalized n = Normalize(Event(D("UtcTime", "2026-03-14 09:12:03.517") + D("ProcessId", "12a") +
                                 D("ParentProcessId", "99999999999999999999999")));
  ASSERT_TRUE(n.ok);
  EXPECT_EQ(n.row.process_id, std::nullopt);
  EXPECT_EQ(n.row.parent_process_id, std::nullopt);
  EXPECT_EQ(n.problems.size(), 2u);
}

TEST(SysmonTest, UnreadableUtcTimeFallsBackToTimeCreated) {
  Normalized n = Normalize(Event(D("UtcTime", "2026-02-30 00:00:00.000")));
  ASSERT_TRUE(n.ok);
  EXPECT_EQ(n.row.time_us, 1773479523519123);
  ASSERT_EQ(n.problems.size(), 1u);
  EXPECT_NE(n.problems[0].find("UtcTime"), std::string::npos);
}

TEST(SysmonTest, NoTimeAtAllIsRejected) {
  std::string xml = Event(D("UtcTime", "x"));
  std::size_t at = xml.find("2026-03-14T09:12:03.5191234Z");
  xml.replace(at, 28, "never");
  Normalized n = Normalize(xml);
  EXPECT_FALSE(n.ok);
  EXPECT_EQ(n.problems.size(), 1u);
}

TEST(SysmonTest, OnlySysmonEventIdOneIsAProcessCreation) {
  EventXmlParser parser;
  WinEvent event;
  std::string error;
  struct Case {
    std::string xml;
    bool expected;
  };
  std::vector<Case> cases = {
      {Event(kFull), true},
      {Event(kFull, "", "Microsoft-Windows-Sysmon", 3), false},
      {Event(kFull, "", "Microsoft-Windows-Security-Auditing", 4688), false},
      {Event(kFull, "", "Linux-Sysmon", 1), true},  // channel says Windows Sysmon here
  };
  cases[3].xml.replace(cases[3].xml.find("Microsoft-Windows-Sysmon/Operational"), 36,
                       "Linux-Sysmon/Operational");
  cases[3].expected = false;
  for (Case& c : cases) {
    ASSERT_TRUE(parser.Parse(c.xml.data(), c.xml.size(), &event, &error)) << error;
    EXPECT_EQ(IsSysmonProcessCreate(event), c.expected) << c.xml.substr(0, 200);
  }
}

TEST(EventXmlParserTest, RejectsMalformedXmlAndOtherRoots) {
  EventXmlParser parser;
  WinEvent event;
  std::string error;
  std::string bad = "<Event><System></Event>";
  EXPECT_FALSE(parser.Parse(bad.data(), bad.size(), &event, &error));
  EXPECT_NE(error.find("not well-formed"), std::string::npos);
  std::string other = "<Record/>";
  EXPECT_FALSE(parser.Parse(other.data(), other.size(), &event, &error));
}

TEST(EventXmlParserTest, DoesNotExpandDtdEntities) {
  EventXmlParser parser;
  WinEvent event;
  std::string error;
  std::string xml =
      "<!DOCTYPE Event [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;\">]>"
      "<Event><EventData><Data Name='CommandLine'>&b;</Data></EventData></Event>";
  // pugixml skips the DTD and leaves unknown entity references as written.
  ASSERT_TRUE(parser.Parse(xml.data(), xml.size(), &event, &error)) << error;
  EXPECT_EQ(event.Find("CommandLine"), "&b;");
}

}  // namespace
}  // namespace quarry::ingest
