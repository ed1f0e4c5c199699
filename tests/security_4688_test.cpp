// ingest/security_4688: every mapped Security 4688 field and each decision in
// docs/normalization.md "Security 4688", for event versions 0, 1 and 2 and both renderings
// (SIDs as logged, and the Splunk forwarder's resolved names in SID fields).
#include "ingest/security_4688.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ingest/event_xml.h"
#include "tests/test_util.h"

namespace quarry::ingest {
namespace {

struct Normalized {
  bool ok = false;
  ProcessEvent row;
  std::vector<std::string> problems;
};

constexpr char kTime[] = "2026-03-14T09:12:03.5191234Z";
constexpr std::int64_t kTimeUs = 1773479523519123;
constexpr char kUserSid[] = "S-1-5-21-1111111111-2222222222-3333333333-1104";
constexpr char kOtherSid[] = "S-1-5-21-1111111111-2222222222-3333333333-1180";

/// System header fields of a test event.
struct Header {
  std::string provider = "Microsoft-Windows-Security-Auditing";
  std::string channel = "Security";
  int event_id = 4688;
  int version = 2;  ///< no <Version> element when negative
  std::string time = kTime;
};

std::string Event(const std::string& data, const Header& h = Header()) {
  return "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System>"
         "<Provider Name='" +
         h.provider +
         "' Guid='{54849625-5478-4994-A5BA-3E3B0328C30D}'/>"
         "<EventID>" +
         std::to_string(h.event_id) + "</EventID>" +
         (h.version >= 0 ? "<Version>" + std::to_string(h.version) + "</Version>" : "") +
         "<Level>0</Level><Task>13312</Task><Keywords>0x8020000000000000</Keywords>"
         "<TimeCreated SystemTime='" +
         h.time +
         "'/><EventRecordID>987654</EventRecordID>"
         "<Execution ProcessID='4' ThreadID='88'/><Channel>" +
         h.channel +
         "</Channel>"
         "<Computer>wks-07.corp.example</Computer><Security/></System><EventData>" +
         data + "</EventData></Event>";
}

Header Version(int version) {
  Header h;
  h.version = version;
  return h;
}

std::string D(const std::string& name, const std::string& value) {
  return "<Data Name='" + name + "'>" + value + "</Data>";
}

std::string Subject(const std::string& sid, const std::string& name, const std::string& domain) {
  return D("SubjectUserSid", sid) + D("SubjectUserName", name) + D("SubjectDomainName", domain) +
         D("SubjectLogonId", "0x5d31a");
}

std::string Target(const std::string& sid, const std::string& name, const std::string& domain) {
  return D("TargetUserSid", sid) + D("TargetUserName", name) + D("TargetDomainName", domain) +
         D("TargetLogonId", sid == "S-1-0-0" ? "0x0" : "0x6a423");
}

const std::string kNoTarget = Target("S-1-0-0", "-", "-");

/// The process fields every version has, around the Subject/Target accounts under test.
std::string Process(const std::string& new_process_id = "0x1a2c",
                    const std::string& process_id = "0x1400") {
  return D("NewProcessId", new_process_id) + D("NewProcessName", "C:\\Windows\\System32\\cmd.exe") +
         D("TokenElevationType", "%%1937") + D("ProcessId", process_id);
}

/// A version 2 event: Subject, process fields, command line, Target, parent, label.
std::string V2(const std::string& subject, const std::string& target,
               const std::string& label = "S-1-16-12288", const std::string& process = Process()) {
  return subject + process + D("CommandLine", "cmd.exe  /c \"echo %%TEMP%%\" &amp; dir") + target +
         D("ParentProcessName", "C:\\Program Files\\Office\\WINWORD.EXE") +
         D("MandatoryLabel", label);
}

const std::string kUser = Subject(kUserSid, "a.user", "CORP");

Normalized Normalize(const std::string& xml) {
  EventXmlParser parser;
  WinEvent event;
  std::string error;
  Normalized out;
  std::string copy = xml;
  EXPECT_TRUE(parser.Parse(copy.data(), copy.size(), &event, &error)) << error;
  EXPECT_TRUE(IsSecurityProcessCreate(event));
  out.ok = NormalizeSecurityProcessCreate(event, &out.row, &out.problems);
  return out;
}

TEST(Security4688Test, MapsEveryFieldOfVersion2) {
  Normalized n = Normalize(Event(V2(kUser, kNoTarget)));
  ASSERT_TRUE(n.ok);
  EXPECT_TRUE(n.problems.empty());
  const ProcessEvent& r = n.row;
  EXPECT_EQ(r.time_us, kTimeUs);
  EXPECT_EQ(r.log_time_us, kTimeUs);
  EXPECT_EQ(r.dest, "wks-07.corp.example");
  EXPECT_EQ(r.user, "CORP\\a.user");
  EXPECT_EQ(r.user_id, kUserSid);
  EXPECT_EQ(r.process, "cmd.exe  /c \"echo %%TEMP%%\" & dir");  // exactly, not TA 8.1.2's rewrite
  EXPECT_EQ(r.process_path, "C:\\Windows\\System32\\cmd.exe");
  EXPECT_EQ(r.process_name, "cmd.exe");
  EXPECT_EQ(r.process_id, 6700);
  EXPECT_EQ(r.process_guid, std::nullopt);
  EXPECT_EQ(r.process_hash, std::nullopt);
  EXPECT_EQ(r.process_integrity_level, "high");
  EXPECT_EQ(r.process_current_directory, std::nullopt);
  EXPECT_EQ(r.original_file_name, std::nullopt);
  EXPECT_EQ(r.parent_process, std::nullopt);  // no parent command line in 4688; not the path
  EXPECT_EQ(r.parent_process_path, "C:\\Program Files\\Office\\WINWORD.EXE");
  EXPECT_EQ(r.parent_process_name, "WINWORD.EXE");
  EXPECT_EQ(r.parent_process_id, 5120);
  EXPECT_EQ(r.parent_process_guid, std::nullopt);
  EXPECT_EQ(r.parent_user, std::nullopt);
  EXPECT_EQ(r.vendor_product, "Microsoft Windows");
  EXPECT_EQ(r.action, "allowed");
  EXPECT_EQ(r.data_source, "Windows Event Log Security 4688");
  EXPECT_EQ(r.sourcetype, "XmlWinEventLog");
  EXPECT_EQ(r.source, "XmlWinEventLog:Security");
  EXPECT_EQ(r.event_code, 4688);
  EXPECT_EQ(r.record_id, 987654);
}

TEST(Security4688Test, Version0HasNoCommandLineSoProcessIsTheImagePath) {
  Normalized n = Normalize(Event(kUser + Process(), Version(0)));
  ASSERT_TRUE(n.ok);
  EXPECT_TRUE(n.problems.empty());
  EXPECT_EQ(n.row.process, "C:\\Windows\\System32\\cmd.exe");
  EXPECT_EQ(n.row.process_path, "C:\\Windows\\System32\\cmd.exe");
  EXPECT_EQ(n.row.process_name, "cmd.exe");
  EXPECT_EQ(n.row.user, "CORP\\a.user");
  EXPECT_EQ(n.row.user_id, kUserSid);
  EXPECT_EQ(n.row.process_id, 6700);
  EXPECT_EQ(n.row.parent_process_id, 5120);
  EXPECT_EQ(n.row.parent_process_path, std::nullopt);
  EXPECT_EQ(n.row.parent_process_name, std::nullopt);
  EXPECT_EQ(n.row.process_integrity_level, std::nullopt);
}

TEST(Security4688Test, Version1WithCommandLineKeepsItExactly) {
  Normalized n = Normalize(
      Event(kUser + Process() + D("CommandLine", "at  13:20 /interactive cmd "), Version(1)));
  ASSERT_TRUE(n.ok);
  EXPECT_TRUE(n.problems.empty());
  EXPECT_EQ(n.row.process, "at  13:20 /interactive cmd ");
  EXPECT_EQ(n.row.process_path, "C:\\Windows\\System32\\cmd.exe");
  EXPECT_EQ(n.row.user, "CORP\\a.user");
  EXPECT_EQ(n.row.parent_process_path, std::nullopt);
  EXPECT_EQ(n.row.process_integrity_level, std::nullopt);
}

TEST(Security4688Test, CommandLineAuditingOffMeansProcessIsTheImagePath) {
  // v1/v2 keep the element, empty, when "Include command line" is off; "-" reads the same.
  for (const std::string& empty :
       {std::string("<Data Name='CommandLine'/>"), D("CommandLine", ""), D("CommandLine", "-")}) {
    Normalized n = Normalize(Event(kUser + Process() + empty, Version(1)));
    ASSERT_TRUE(n.ok);
    EXPECT_EQ(n.row.process, "C:\\Windows\\System32\\cmd.exe") << empty;
  }
}

TEST(Security4688Test, VersionDoesNotDecideOnlyFieldNamesDo) {
  // A v2 event without <Version>, its fields reordered: read by Name all the same.
  std::string reordered = D("MandatoryLabel", "S-1-16-8192") + D("ProcessId", "0x10") + kNoTarget +
                          D("NewProcessName", "C:\\x\\y.exe") + kUser + D("NewProcessId", "0x20") +
                          D("ParentProcessName", "C:\\p.exe");
  Normalized n = Normalize(Event(reordered, Version(-1)));
  ASSERT_TRUE(n.ok);
  EXPECT_EQ(n.row.process_id, 32);
  EXPECT_EQ(n.row.parent_process_id, 16);
  EXPECT_EQ(n.row.process_name, "y.exe");
  EXPECT_EQ(n.row.parent_process_name, "p.exe");
  EXPECT_EQ(n.row.user, "CORP\\a.user");
  EXPECT_EQ(n.row.process_integrity_level, "medium");
}

TEST(Security4688Test, DoubleQuotesAndIndentationReadTheSame) {
  std::string single = Event(V2(kUser, Target(kOtherSid, "b.admin", "CORP")));
  std::string indented = testing::EventViewerRendering(single);
  Normalized a = Normalize(single);
  Normalized b = Normalize(indented);
  ASSERT_TRUE(a.ok && b.ok);
  EXPECT_EQ(a.row.user, b.row.user);
  EXPECT_EQ(a.row.user_id, b.row.user_id);
  EXPECT_EQ(a.row.process, b.row.process);
  EXPECT_EQ(a.row.process_id, b.row.process_id);
  EXPECT_EQ(a.row.process_integrity_level, b.row.process_integrity_level);
  EXPECT_EQ(a.row.time_us, b.row.time_us);
}

TEST(Security4688Test, NoReadableTimeIsRejected) {
  for (const std::string& time :
       {std::string(""), std::string("never"), std::string("2026-02-30T00:00:00.0000000Z")}) {
    Header h;
    h.time = time;
    Normalized n = Normalize(Event(V2(kUser, kNoTarget), h));
    EXPECT_FALSE(n.ok) << time;
    ASSERT_EQ(n.problems.size(), 1u) << time;
    EXPECT_NE(n.problems[0].find("TimeCreated"), std::string::npos);
  }
}

// --- Process ids ---

TEST(Security4688ProcessIdTest, HexInEveryRenderingIsAnInteger) {
  struct Case {
    std::string text;
    std::int64_t value;
  };
  for (const Case& c : std::vector<Case>{{"0x1a2c", 6700},
                                         {"0x1A2C", 6700},
                                         {"0X1a2C", 6700},
                                         {"0x00000000000015cc", 5580},
                                         {"0x000015CC", 5580},
                                         {"0x0", 0},
                                         {"4242", 4242}}) {
    Normalized n = Normalize(Event(V2(kUser, kNoTarget, "S-1-16-12288", Process(c.text, c.text))));
    ASSERT_TRUE(n.ok);
    EXPECT_TRUE(n.problems.empty()) << c.text;
    EXPECT_EQ(n.row.process_id, c.value) << c.text;
    EXPECT_EQ(n.row.parent_process_id, c.value) << c.text;
  }
}

TEST(Security4688ProcessIdTest, ANonNumberIsNullWithAProblemNamingFieldAndValue) {
  for (const std::string& bad :
       {std::string("0x12g4"), std::string("0x"), std::string("15cc"), std::string("0x-5"),
        std::string("-5"), std::string("0x1ffffffffffffffff")}) {
    Normalized n = Normalize(Event(V2(kUser, kNoTarget, "S-1-16-12288", Process(bad, "0x1400"))));
    ASSERT_TRUE(n.ok) << bad;
    EXPECT_EQ(n.row.process_id, std::nullopt) << bad;
    EXPECT_EQ(n.row.parent_process_id, 5120) << bad;
    ASSERT_EQ(n.problems.size(), 1u) << bad;
    EXPECT_EQ(n.problems[0], "NewProcessId is not a number: '" + bad + "'");
  }
  Normalized n = Normalize(Event(V2(kUser, kNoTarget, "S-1-16-12288", Process("0x1a2c", "0xzz"))));
  ASSERT_TRUE(n.ok);
  EXPECT_EQ(n.row.process_id, 6700);
  EXPECT_EQ(n.row.parent_process_id, std::nullopt);
  ASSERT_EQ(n.problems.size(), 1u);
  EXPECT_EQ(n.problems[0], "ProcessId is not a number: '0xzz'");
}

TEST(Security4688ProcessIdTest, APlaceholderIsNullWithoutAProblem) {
  Normalized n = Normalize(Event(V2(kUser, kNoTarget, "S-1-16-12288", Process("-", ""))));
  ASSERT_TRUE(n.ok);
  EXPECT_EQ(n.row.process_id, std::nullopt);
  EXPECT_EQ(n.row.parent_process_id, std::nullopt);
  EXPECT_TRUE(n.problems.empty());
}

// --- The process's user: Subject or Target ---

TEST(Security4688UserTest, NullSidTargetMeansTheSubjectIsTheUser) {
  Normalized n = Normalize(Event(V2(kUser, kNoTarget)));
  ASSERT_TRUE(n.ok);
  EXPECT_EQ(n.row.user, "CORP\\a.user");
  EXPECT_EQ(n.row.user_id, kUserSid);
}

TEST(Security4688UserTest, NullSidTargetWithANameIsTheUser) {
  // Windows logs S-1-0-0 with the Target name for processes started over a network logon
  // (Impacket's wmiexec: Subject NETWORK SERVICE, Target the attacker's account); the process
  // runs with the Target's token (see normalization.md "Decisions").
  Normalized n = Normalize(Event(V2(kUser, Target("S-1-0-0", "b.admin", "CORP"))));
  ASSERT_TRUE(n.ok);
  EXPECT_EQ(n.row.user, "CORP\\b.admin");
  EXPECT_EQ(n.row.user_id, std::nullopt);  // the Target's SID was not logged
  Normalized resolved = Normalize(Event(V2(kUser, Target("NULL SID", "b.admin", "CORP"))));
  ASSERT_TRUE(resolved.ok);
  EXPECT_EQ(resolved.row.user, "CORP\\b.admin");
  EXPECT_EQ(resolved.row.user_id, std::nullopt);
}

TEST(Security4688UserTest, NullSidTargetWithoutANameMeansTheSubject) {
  Normalized n = Normalize(Event(V2(kUser, Target("S-1-0-0", "-", "-"))));
  ASSERT_TRUE(n.ok);
  EXPECT_EQ(n.row.user, "CORP\\a.user");
  EXPECT_EQ(n.row.user_id, kUserSid);
}

TEST(Security4688UserTest, ARealTargetIsTheUser) {
  Normalized n = Normalize(Event(V2(kUser, Target(kOtherSid, "b.admin", "CORP"))));
  ASSERT_TRUE(n.ok);
  EXPECT_TRUE(n.problems.empty());
  EXPECT_EQ(n.row.user, "CORP\\b.admin");
  EXPECT_EQ(n.row.user_id, kOtherSid);
}

TEST(Security4688UserTest, APlaceholderOrAbsentTargetSidWithANameIsTheTarget) {
  for (const std::string& target :
       {Target("-", "b.admin", "CORP"), Target("", "b.admin", "CORP"),
        D("TargetUserName", "b.admin") + D("TargetDomainName", "CORP")}) {
    Normalized n = Normalize(Event(V2(kUser, target)));
    ASSERT_TRUE(n.ok);
    EXPECT_EQ(n.row.user, "CORP\\b.admin") << target;
    EXPECT_EQ(n.row.user_id, std::nullopt) << target;
  }
}

TEST(Security4688UserTest, NoTargetAtAllMeansTheSubject) {
  for (const std::string& target : {Target("-", "-", "-"), std::string()}) {
    Normalized n = Normalize(Event(V2(kUser, target)));
    ASSERT_TRUE(n.ok);
    EXPECT_EQ(n.row.user, "CORP\\a.user") << target;
    EXPECT_EQ(n.row.user_id, kUserSid) << target;
  }
}

TEST(Security4688UserTest, MachineAccountSubjectIsNtAuthoritySystem) {
  Normalized n = Normalize(Event(
      Subject("S-1-5-18", "PC01$", "EXAMPLE") + Process() + D("CommandLine", ""), Version(1)));
  ASSERT_TRUE(n.ok);
  EXPECT_EQ(n.row.user, "NT AUTHORITY\\SYSTEM");
  EXPECT_EQ(n.row.user_id, "S-1-5-18");
}

TEST(Security4688UserTest, ServiceAccountsAreWrittenAsWindowsNamesThem) {
  struct Case {
    std::string xml;
    std::string user;
    std::string user_id;
  };
  std::vector<Case> cases = {
      // Target LOCAL SERVICE started by SYSTEM (machine account Subject).
      {V2(Subject("S-1-5-18", "FS03$", "CORP"),
          Target("S-1-5-19", "LOCAL SERVICE", "NT AUTHORITY")),
       "NT AUTHORITY\\LOCAL SERVICE", "S-1-5-19"},
      // Subject NETWORK SERVICE is logged with the machine account's name.
      {V2(Subject("S-1-5-20", "FS03$", "CORP"), kNoTarget), "NT AUTHORITY\\NETWORK SERVICE",
       "S-1-5-20"},
      {V2(Subject("S-1-5-19", "LOCAL SERVICE", "NT AUTHORITY"), kNoTarget),
       "NT AUTHORITY\\LOCAL SERVICE", "S-1-5-19"},
      // Target SYSTEM.
      {V2(kUser, Target("S-1-5-18", "FS03$", "CORP")), "NT AUTHORITY\\SYSTEM", "S-1-5-18"},
      // A real Target started by NETWORK SERVICE: the Target wins.
      {V2(Subject("S-1-5-20", "FS03$", "CORP"), Target(kOtherSid, "b.admin", "CORP")),
       "CORP\\b.admin", kOtherSid},
  };
  for (const Case& c : cases) {
    Normalized n = Normalize(Event(c.xml));
    ASSERT_TRUE(n.ok);
    EXPECT_EQ(n.row.user, c.user) << c.xml;
    EXPECT_EQ(n.row.user_id, c.user_id) << c.xml;
  }
}

TEST(Security4688UserTest, ANameWithoutADomainIsJustTheName) {
  for (const std::string& domain : {std::string("-"), std::string("")}) {
    Normalized n = Normalize(Event(V2(Subject(kUserSid, "a.user", domain), kNoTarget)));
    ASSERT_TRUE(n.ok);
    EXPECT_EQ(n.row.user, "a.user") << "domain '" << domain << "'";
    EXPECT_EQ(n.row.user_id, kUserSid);
  }
}

TEST(Security4688UserTest, NoNameLoggedMeansTheSidIsTheUser) {
  Normalized n = Normalize(Event(V2(Subject(kUserSid, "-", "CORP"), kNoTarget)));
  ASSERT_TRUE(n.ok);
  EXPECT_EQ(n.row.user, kUserSid);
  EXPECT_EQ(n.row.user_id, kUserSid);
}

TEST(Security4688UserTest, NoAccountAtAllIsNull) {
  Normalized n = Normalize(Event(Process(), Version(0)));
  ASSERT_TRUE(n.ok);
  EXPECT_EQ(n.row.user, std::nullopt);
  EXPECT_EQ(n.row.user_id, std::nullopt);
  EXPECT_TRUE(n.problems.empty());
}

// --- The Splunk forwarder's rendering: resolved names in SID fields ---

/// The shape of security_content's example_log for 4688 (a Splunk UF with renderXml), with the
/// SID fields either as an EVTX reader gets them or as the forwarder resolved them.
std::string ForwarderEvent(bool resolved) {
  return Event(
      D("SubjectUserSid", resolved ? "NT AUTHORITY\\SYSTEM" : "S-1-5-18") +
      D("SubjectUserName", "AR-WIN-1$") + D("SubjectDomainName", "WORKGROUP") +
      D("SubjectLogonId", "0x3e7") + D("NewProcessId", "0xf84") +
      D("NewProcessName", "C:\\Program Files\\Fwd\\bin\\fwd-powershell.exe") +
      D("TokenElevationType", "%%1936") + D("ProcessId", "0xb2c") +
      D("CommandLine", "\"C:\\Program Files\\Fwd\\bin\\fwd-powershell.exe\" --ps2") +
      Target(resolved ? "NULL SID" : "S-1-0-0", "-", "-") +
      D("ParentProcessName", "C:\\Program Files\\Fwd\\bin\\fwd.exe") +
      D("MandatoryLabel", resolved ? "Mandatory Label\\System Mandatory Level" : "S-1-16-16384"));
}

TEST(Security4688ResolvedTest, ForwarderRenderingReadsLikeTheLoggedSids) {
  Normalized resolved = Normalize(ForwarderEvent(true));
  Normalized logged = Normalize(ForwarderEvent(false));
  ASSERT_TRUE(resolved.ok && logged.ok);
  EXPECT_TRUE(resolved.problems.empty());
  EXPECT_TRUE(logged.problems.empty());
  for (const Normalized* n : {&resolved, &logged}) {
    EXPECT_EQ(n->row.user, "NT AUTHORITY\\SYSTEM");
    EXPECT_EQ(n->row.user_id, "S-1-5-18");
    EXPECT_EQ(n->row.process_integrity_level, "system");
    EXPECT_EQ(n->row.process_id, 3972);
    EXPECT_EQ(n->row.parent_process_id, 2860);
    EXPECT_EQ(n->row.parent_process_name, "fwd.exe");
  }
}

TEST(Security4688ResolvedTest, ResolvedServiceNamesMapBackToTheirSids) {
  struct Case {
    std::string subject_sid;
    std::string target_sid;
    std::string user;
    std::string user_id;
  };
  std::vector<Case> cases = {
      {"NT AUTHORITY\\NETWORK SERVICE", "NULL SID", "NT AUTHORITY\\NETWORK SERVICE", "S-1-5-20"},
      {"NT AUTHORITY\\SYSTEM", "NT AUTHORITY\\LOCAL SERVICE", "NT AUTHORITY\\LOCAL SERVICE",
       "S-1-5-19"},
      {"NT AUTHORITY\\LOCAL SERVICE", "NULL SID", "NT AUTHORITY\\LOCAL SERVICE", "S-1-5-19"},
      {"NT AUTHORITY\\NETWORK SERVICE", "NT AUTHORITY\\SYSTEM", "NT AUTHORITY\\SYSTEM", "S-1-5-18"},
  };
  for (const Case& c : cases) {
    Normalized n = Normalize(
        Event(V2(Subject(c.subject_sid, "FS03$", "CORP"), Target(c.target_sid, "-", "-"))));
    ASSERT_TRUE(n.ok);
    EXPECT_EQ(n.row.user, c.user) << c.subject_sid << " / " << c.target_sid;
    EXPECT_EQ(n.row.user_id, c.user_id) << c.subject_sid << " / " << c.target_sid;
  }
}

TEST(Security4688ResolvedTest, ResolvedNamesAreMatchedIgnoringCase) {
  Normalized n =
      Normalize(Event(V2(Subject("nt authority\\System", "PC01$", "EXAMPLE"),
                         Target("Null Sid", "-", "-"), "MANDATORY LABEL\\high mandatory level")));
  ASSERT_TRUE(n.ok);
  EXPECT_TRUE(n.problems.empty());
  EXPECT_EQ(n.row.user, "NT AUTHORITY\\SYSTEM");
  EXPECT_EQ(n.row.user_id, "S-1-5-18");
  EXPECT_EQ(n.row.process_integrity_level, "high");
}

TEST(Security4688ResolvedTest, OtherResolvedNamesKeepTheNameFieldsAndHaveNoSid) {
  Normalized subject = Normalize(Event(V2(Subject("CORP\\bob", "bob", "CORP"), kNoTarget)));
  ASSERT_TRUE(subject.ok);
  EXPECT_EQ(subject.row.user, "CORP\\bob");
  EXPECT_EQ(subject.row.user_id, std::nullopt);
  EXPECT_TRUE(subject.problems.empty());

  // A resolved Target is a real Target: it is the user.
  Normalized target = Normalize(Event(V2(kUser, Target("CORP\\bob", "bob", "CORP"))));
  ASSERT_TRUE(target.ok);
  EXPECT_EQ(target.row.user, "CORP\\bob");
  EXPECT_EQ(target.row.user_id, std::nullopt);

  // Text that is not a whole SID is not a user_id either.
  for (const std::string& sid : {std::string("S-1-5-21-"), std::string("S-1-5-21-x"),
                                 std::string("S-1--5"), std::string("s-1-5-18")}) {
    Normalized n = Normalize(Event(V2(Subject(sid, "bob", "CORP"), kNoTarget)));
    ASSERT_TRUE(n.ok);
    EXPECT_EQ(n.row.user, "CORP\\bob") << sid;
    EXPECT_EQ(n.row.user_id, std::nullopt) << sid;
  }

  // With no name fields, the resolved name is all there is.
  Normalized bare = Normalize(Event(V2(Subject("CORP\\bob", "-", "-"), kNoTarget)));
  ASSERT_TRUE(bare.ok);
  EXPECT_EQ(bare.row.user, "CORP\\bob");
  EXPECT_EQ(bare.row.user_id, std::nullopt);
}

// --- Integrity level ---

TEST(Security4688IntegrityTest, EveryMandatoryLabelAsSidAndAsResolvedName) {
  struct Case {
    std::string sid;
    std::string resolved;
    std::string level;
  };
  std::vector<Case> cases = {
      {"S-1-16-0", "Mandatory Label\\Untrusted Mandatory Level", "untrusted"},
      {"S-1-16-4096", "Mandatory Label\\Low Mandatory Level", "low"},
      {"S-1-16-8192", "Mandatory Label\\Medium Mandatory Level", "medium"},
      {"S-1-16-8448", "Mandatory Label\\Medium Plus Mandatory Level", "medium high"},
      {"S-1-16-12288", "Mandatory Label\\High Mandatory Level", "high"},
      {"S-1-16-16384", "Mandatory Label\\System Mandatory Level", "system"},
      {"S-1-16-20480", "Mandatory Label\\Protected Process Mandatory Level", "protected process"},
  };
  for (const Case& c : cases) {
    for (const std::string& label : {c.sid, c.resolved}) {
      Normalized n = Normalize(Event(V2(kUser, kNoTarget, label)));
      ASSERT_TRUE(n.ok);
      EXPECT_TRUE(n.problems.empty()) << label;
      EXPECT_EQ(n.row.process_integrity_level, c.level) << label;
    }
  }
}

TEST(Security4688IntegrityTest, AnUnknownLabelIsNullWithAProblem) {
  for (const std::string& label :
       {std::string("S-1-16-9999"), std::string("S-1-16-12288x"), std::string("High"),
        std::string("Mandatory Label\\Unknown Mandatory Level"), std::string("S-1-5-18")}) {
    Normalized n = Normalize(Event(V2(kUser, kNoTarget, label)));
    ASSERT_TRUE(n.ok) << label;
    EXPECT_EQ(n.row.process_integrity_level, std::nullopt) << label;
    ASSERT_EQ(n.problems.size(), 1u) << label;
    EXPECT_EQ(n.problems[0], "MandatoryLabel is not a known integrity level: '" + label + "'");
  }
}

TEST(Security4688IntegrityTest, APlaceholderLabelIsNullWithoutAProblem) {
  Normalized n = Normalize(Event(V2(kUser, kNoTarget, "-")));
  ASSERT_TRUE(n.ok);
  EXPECT_EQ(n.row.process_integrity_level, std::nullopt);
  EXPECT_TRUE(n.problems.empty());
}

// --- Recognition ---

TEST(Security4688RecognitionTest, OnlyEventId4688FromTheSecurityLogIsAProcessCreation) {
  struct Case {
    std::string name;
    Header header;
    bool expected;
  };
  auto with = [](std::string provider, std::string channel, int event_id) {
    Header h;
    h.provider = std::move(provider);
    h.channel = std::move(channel);
    h.event_id = event_id;
    return h;
  };
  std::vector<Case> cases = {
      {"provider and channel", with("Microsoft-Windows-Security-Auditing", "Security", 4688), true},
      {"provider only (forwarded to another log)",
       with("Microsoft-Windows-Security-Auditing", "ForwardedEvents", 4688), true},
      {"channel only", with("Other-Provider", "Security", 4688), true},
      {"4689 process exit", with("Microsoft-Windows-Security-Auditing", "Security", 4689), false},
      {"4624 logon", with("Microsoft-Windows-Security-Auditing", "Security", 4624), false},
      {"Sysmon EID 1", with("Microsoft-Windows-Sysmon", "Microsoft-Windows-Sysmon/Operational", 1),
       false},
      {"4688 from another provider and channel",
       with("Microsoft-Windows-Sysmon", "Microsoft-Windows-Sysmon/Operational", 4688), false},
      {"EventID 1 in the Security log", with("Microsoft-Windows-Security-Auditing", "Security", 1),
       false},
  };
  EventXmlParser parser;
  WinEvent event;
  std::string error;
  for (const Case& c : cases) {
    std::string xml = Event(V2(kUser, kNoTarget), c.header);
    ASSERT_TRUE(parser.Parse(xml.data(), xml.size(), &event, &error)) << error;
    EXPECT_EQ(IsSecurityProcessCreate(event), c.expected) << c.name;
  }

  std::string no_event_id = Event(V2(kUser, kNoTarget));
  no_event_id.replace(no_event_id.find("<EventID>4688</EventID>"), 23, "");
  ASSERT_TRUE(parser.Parse(no_event_id.data(), no_event_id.size(), &event, &error)) << error;
  EXPECT_FALSE(IsSecurityProcessCreate(event));
}

}  // namespace
}  // namespace quarry::ingest
