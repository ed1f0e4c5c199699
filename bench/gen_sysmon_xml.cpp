// quarry_gen_sysmon_xml: writes a deterministic, synthetic file of process-creation events of
// any size for the ingest benchmark, one event per line, in one of three formats: Sysmon Event
// ID 1 event XML (the default), Windows Security 4688 event XML (both EvtRender-style <Event>
// elements), or CrowdStrike FDR ProcessRollup2 JSON lines. All three describe the same kind of
// activity: the same hosts, users, programs, command lines and timestamps from the same draws.
//
// Usage:
//   quarry_gen_sysmon_xml --events 1000000 --out /tmp/quarry-bench/sysmon.xml [--seed 1]
//                         [--format sysmon-xml|security-xml|fdr-jsonl|sysmon-evtx|security-evtx]
//
// sysmon-evtx and security-evtx write the events of sysmon-xml and security-xml, value for
// value, as an EVTX file through tests/support/evtx_writer (streamed a 64 KiB chunk at a time).
//
// Every value comes from the program's own splitmix64 generator, so the same seed and event
// count give a byte-identical file on every machine, and the first N events of a longer run
// are the N events of a shorter one. Events average about 2 KB: all 22 EID 1 Data fields of
// Sysmon schema 4.21+, a few hundred hosts, thousands of users, short service command lines
// mixed with long encoded PowerShell and Java class paths, increasing timestamps, values that
// need XML escaping, and one `at.exe \\HOST ...` event in every 10,000.
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "query/text_escape.h"
#include "schema/time_util.h"
#include "tests/support/evtx_writer.h"

namespace quarry::bench {
namespace {

constexpr std::uint64_t kDefaultSeed = 1;
constexpr std::size_t kHostCount = 420;
constexpr std::size_t kUserCount = 3600;
constexpr std::uint64_t kAtEveryEvents = 10000;  // default: one at.exe event per this many
constexpr std::string_view kDomain = "fabrikam-labs.net";
constexpr std::string_view kNetbios = "FABRIKAM";

// ---- Deterministic randomness ----

// splitmix64 (Steele, Lea, Flood 2014): tiny, fast, and identical everywhere.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed) {}

  std::uint64_t Next() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  // Uniform enough in [0, n) for n far below 2^64 (the modulo bias is below 1e-12).
  std::uint64_t Below(std::uint64_t n) { return Next() % n; }
  // Uniform in [lo, hi].
  std::uint64_t Between(std::uint64_t lo, std::uint64_t hi) { return lo + Below(hi - lo + 1); }
  // True `per_thousand` times in a thousand.
  bool Chance(std::uint64_t per_thousand) { return Below(1000) < per_thousand; }
  template <typename T, std::size_t N>
  const T& Pick(const T (&items)[N]) {
    return items[Below(N)];
  }

 private:
  std::uint64_t state_;
};

// A value derived from a few numbers (not from the event stream), for per-host constants.
std::uint64_t Mix(std::uint64_t a, std::uint64_t b) {
  Rng rng(a * 0xD1B54A32D192ED03ULL ^ b);
  rng.Next();
  return rng.Next();
}

void AppendHex(std::uint64_t value, int digits, std::string* out) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (int shift = (digits - 1) * 4; shift >= 0; shift -= 4) {
    out->push_back(kHex[(value >> shift) & 15]);
  }
}

void AppendRandomHex(Rng& rng, int digits, std::string* out) {
  while (digits > 0) {
    int now = digits > 16 ? 16 : digits;
    AppendHex(rng.Next(), now, out);
    digits -= now;
  }
}

void AppendNumber(std::uint64_t value, std::string* out) { *out += std::to_string(value); }

void AppendPadded(std::uint64_t value, int width, std::string* out) {
  char text[24];
  std::snprintf(text, sizeof text, "%0*llu", width, static_cast<unsigned long long>(value));
  *out += text;
}

// Text as XML character data the way EvtRender escapes it: & < > and the single quote.
void AppendEscaped(std::string_view text, std::string* out) {
  for (char c : text) {
    switch (c) {
      case '&':
        *out += "&amp;";
        break;
      case '<':
        *out += "&lt;";
        break;
      case '>':
        *out += "&gt;";
        break;
      case '\'':
        *out += "&apos;";
        break;
      default:
        out->push_back(c);
    }
  }
}

// Standard base64 of `bytes`.
std::string Base64(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  auto byte = [&](std::size_t at) {
    return static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[at]));
  };
  for (; i + 2 < bytes.size(); i += 3) {
    std::uint32_t v = byte(i) << 16 | byte(i + 1) << 8 | byte(i + 2);
    for (int shift = 18; shift >= 0; shift -= 6) out.push_back(kAlphabet[(v >> shift) & 63]);
  }
  if (i + 1 == bytes.size()) {
    std::uint32_t v = byte(i) << 16;
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out += "==";
  } else if (i + 2 == bytes.size()) {
    std::uint32_t v = byte(i) << 16 | byte(i + 1) << 8;
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
    out += "=";
  }
  return out;
}

// ---- Time ----

// "2024-05-06 08:00:00.123" (Sysmon UtcTime, milliseconds), from Quarry's own ISO formatting.
void AppendUtcTime(std::int64_t time_us, std::string* out) {
  std::string iso = quarry::schema::FormatIsoUtc(time_us);  // 2024-05-06T08:00:00.123456Z
  out->append(iso, 0, 10).append(" ").append(iso, 11, 12);
}

// "2024-05-06T08:00:00.123456700Z" (TimeCreated/@SystemTime, 100 ns ticks as 9 digits).
void AppendSystemTime(std::int64_t time_us, unsigned ticks, std::string* out) {
  std::string iso = quarry::schema::FormatIsoUtc(time_us);
  out->append(iso, 0, 26).append(std::to_string(ticks % 10)).append("00Z");
}

// ---- The population: hosts and users ----

constexpr std::string_view kFirstNames[] = {
    "Aaliyah", "Adam",    "Aiko",    "Alejandro", "Amara",  "Anders", "Anika",   "Arjun",
    "Beatriz", "Björn",   "Camille", "Carlos",    "Chen",   "Chloe",  "Dariusz", "David",
    "Deepa",   "Elena",   "Emeka",   "Erik",      "Fatima", "Felix",  "Grace",   "Hannah",
    "Hiro",    "Ibrahim", "Ines",    "Isabel",    "Jamal",  "Jana",   "José",    "Julia",
    "Kai",     "Karin",   "Kwame",   "Laila",     "Lars",   "Leah",   "Liam",    "Lucía",
    "Malik",   "Maria",   "Mateo",   "Mei",       "Mikko",  "Nadia",  "Naveen",  "Nora",
    "Olga",    "Omar",    "Priya",   "Rafael",    "Rosa",   "Samir",  "Sofia",   "Sven",
    "Tariq",   "Thea",    "Tomás",   "Valentina", "Wei",    "Yara",   "Yusuf",   "Zoë"};
constexpr std::string_view kLastNames[] = {
    "Abbott",    "Acosta",    "Adeyemi",  "Alvarez",  "Andersen",  "Baker",    "Banerjee",
    "Becker",    "Bianchi",   "Brennan",  "Castillo", "Chowdhury", "Costa",    "Dubois",
    "Eriksson",  "Fischer",   "Fujimoto", "Garcia",   "Gonzalez",  "Gupta",    "Haddad",
    "Hansen",    "Ivanova",   "Jansen",   "Kaplan",   "Kim",       "Kowalski", "Larsen",
    "Lefebvre",  "Lindqvist", "Lopez",    "Mbeki",    "Meyer",     "Moreau",   "Nakamura",
    "Nguyen",    "Novak",     "Okafor",   "Olsen",    "Ortiz",     "Park",     "Patel",
    "Petrov",    "Quinn",     "Rahman",   "Reyes",    "Rossi",     "Sato",     "Schmidt",
    "Silva",     "Singh",     "Sokolov",  "Suzuki",   "Tanaka",    "Torres",   "Varga",
    "Vogel",     "Wagner",    "Walsh",    "Weber",    "Yamamoto",  "Yilmaz",   "Zhang",
    "Zimmermann"};
constexpr std::string_view kDepartments[] = {"FIN", "HR", "ENG", "OPS", "MKT",
                                             "LEG", "IT", "SAL", "RND", "SUP"};
constexpr std::string_view kServerRoles[] = {"DC", "SQL", "WEB", "FS", "APP", "EXCH", "CA", "BLD"};
constexpr std::string_view kSites[] = {"AMS", "BOS", "FRA", "SIN", "SYD", "TOR"};

struct Host {
  std::string name;        // fully qualified, as System/Computer
  std::string short_name;  // NetBIOS-style, upper case
  bool server = false;
  std::uint32_t guid_prefix = 0;  // first group of every Sysmon GUID on this host
  std::uint64_t sysmon_pid = 0;
  std::uint64_t next_record_id = 0;
  std::size_t primary_user = 0;
  // CrowdStrike FDR (--format fdr-jsonl).
  std::string aid;                        // 32 hex digits, the sensor's id
  std::string aip;                        // the host's public address as Falcon saw it
  std::uint64_t next_falcon_id = 0;       // TargetProcessId counter
  std::vector<std::uint64_t> recent_ids;  // TargetProcessIds of recent events, parent candidates
  std::size_t recent_next = 0;            // where the next id goes in recent_ids
};

struct User {
  std::string account;  // DOMAIN\first.last
  std::string profile;  // C:\Users\first.last
  std::string sid;      // S-1-5-21-<domain>-<RID>
};

std::vector<Host> MakeHosts(std::uint64_t seed) {
  std::vector<Host> hosts(kHostCount);
  for (std::size_t i = 0; i < hosts.size(); ++i) {
    Host& host = hosts[i];
    Rng rng(Mix(seed, 1000 + i));
    host.server = i % 7 == 3;
    std::string site(rng.Pick(kSites));
    if (host.server) {
      host.short_name = "SRV-" + site + "-" + std::string(rng.Pick(kServerRoles));
      AppendPadded(i / 7, 2, &host.short_name);
    } else {
      host.short_name = "WS-" + site + "-" + std::string(rng.Pick(kDepartments)) + "-";
      AppendPadded(1000 + i * 7, 4, &host.short_name);
    }
    std::string lower = host.short_name;
    for (char& c : lower) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    host.name = lower + "." + std::string(kDomain);
    host.guid_prefix = static_cast<std::uint32_t>(rng.Next());
    host.sysmon_pid = rng.Between(400, 8000) * 4;
    host.next_record_id = rng.Between(1000, 9000000);
    host.primary_user = rng.Below(kUserCount);
    // FDR constants, from their own stream so that the Sysmon values above stay as they were.
    Rng fdr(Mix(seed, 5000 + i));
    host.aid.clear();
    AppendRandomHex(fdr, 32, &host.aid);
    for (char& c : host.aid) c = static_cast<char>(c >= 'A' && c <= 'F' ? c - 'A' + 'a' : c);
    host.aip = std::to_string(fdr.Between(20, 212)) + "." + std::to_string(fdr.Below(256)) + "." +
               std::to_string(fdr.Below(256)) + "." + std::to_string(fdr.Between(1, 254));
    host.next_falcon_id = fdr.Between(1000000000ULL, 90000000000ULL);
  }
  return hosts;
}

// S-1-5-21-x-y-z: the domain's SID, which every domain account's SID starts with.
std::string DomainSid(std::uint64_t seed) {
  return "S-1-5-21-" + std::to_string(Mix(seed, 11) % 4000000000u) + "-" +
         std::to_string(Mix(seed, 12) % 4000000000u) + "-" +
         std::to_string(Mix(seed, 13) % 4000000000u);
}

std::vector<User> MakeUsers(std::uint64_t seed) {
  constexpr std::size_t kFirst = std::size(kFirstNames);
  constexpr std::size_t kLast = std::size(kLastNames);
  std::vector<User> users(kUserCount);
  for (std::size_t i = 0; i < users.size(); ++i) {
    // Walk first x last names in an order the seed shuffles; past 4,096 add a number.
    std::size_t combo = (i * 2654435761u + Mix(seed, 7) % (kFirst * kLast)) % (kFirst * kLast);
    std::string login =
        std::string(kFirstNames[combo % kFirst]) + "." + std::string(kLastNames[combo / kFirst]);
    if (i >= kFirst * kLast) AppendNumber(i / (kFirst * kLast) + 1, &login);
    users[i].account = std::string(kNetbios) + "\\" + login;
    users[i].profile = "C:\\Users\\" + login;
    users[i].sid = DomainSid(seed) + "-" + std::to_string(1104 + i);
  }
  return users;
}

// ---- Programs ----

enum class Kind {
  kSvchost,
  kConhost,
  kCmd,
  kPowerShellEncoded,
  kPowerShellCommand,
  kChrome,
  kMsEdge,
  kWinword,
  kExcel,
  kOutlook,
  kRundll32,
  kBackgroundTaskHost,
  kWmiPrvSe,
  kNet,
  kReg,
  kSchtasks,
  kGit,
  kPython,
  kMpCmdRun,
  kMsiExec,
  kOneDrive,
  kJava,
  kWhoami,
  kTaskHostW,
  kSearchProtocolHost,
  kDropped,
  kAt,
  // Parents only.
  kExplorer,
  kServices,
  kSvchostDcom,
  kSvchostSchedule,
  kChromeBrowser,
  kEdgeBrowser,
  kVsCode,
  kSearchIndexer,
  kMsiExecService,
  kCount,
};

enum class Runs { kSystem, kLocalService, kNetworkService, kUser, kServiceAccount };

struct Program {
  Kind kind;
  std::string_view image;  // "~" stands for the user's profile folder
  std::string_view file_version;
  std::string_view description;
  std::string_view product;
  std::string_view company;
  std::string_view original_file_name;
  Runs runs;
  std::string_view integrity;
  std::uint32_t weight;  // how often it starts, per 1,000 events (0: parent only)
};

constexpr std::string_view kWinVersion = "10.0.19041.1 (WinBuild.160101.0800)";
constexpr std::string_view kWinProduct = "Microsoft® Windows® Operating System";
constexpr std::string_view kMicrosoft = "Microsoft Corporation";
constexpr std::string_view kOffice = "Microsoft Office";

// Indexed by Kind.
constexpr Program kPrograms[] = {
    {Kind::kSvchost, "C:\\Windows\\System32\\svchost.exe", kWinVersion,
     "Host Process for Windows Services", kWinProduct, kMicrosoft, "svchost.exe", Runs::kSystem,
     "System", 110},
    {Kind::kConhost, "C:\\Windows\\System32\\conhost.exe", kWinVersion, "Console Window Host",
     kWinProduct, kMicrosoft, "CONHOST.EXE", Runs::kUser, "Medium", 95},
    {Kind::kCmd, "C:\\Windows\\System32\\cmd.exe", kWinVersion, "Windows Command Processor",
     kWinProduct, kMicrosoft, "Cmd.Exe", Runs::kUser, "Medium", 85},
    {Kind::kPowerShellEncoded, "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
     "10.0.19041.546 (WinBuild.160101.0800)", "Windows PowerShell", kWinProduct, kMicrosoft,
     "PowerShell.EXE", Runs::kSystem, "System", 40},
    {Kind::kPowerShellCommand, "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
     "10.0.19041.546 (WinBuild.160101.0800)", "Windows PowerShell", kWinProduct, kMicrosoft,
     "PowerShell.EXE", Runs::kUser, "High", 35},
    {Kind::kChrome, "C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe", "124.0.6367.91",
     "Google Chrome", "Google Chrome", "Google LLC", "chrome.exe", Runs::kUser, "Low", 95},
    {Kind::kMsEdge, "C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe",
     "124.0.2478.80", "Microsoft Edge", "Microsoft Edge", kMicrosoft, "msedge.exe", Runs::kUser,
     "Low", 50},
    {Kind::kWinword, "C:\\Program Files\\Microsoft Office\\root\\Office16\\WINWORD.EXE",
     "16.0.17531.20140", "Microsoft Word", kOffice, kMicrosoft, "WinWord.exe", Runs::kUser,
     "Medium", 20},
    {Kind::kExcel, "C:\\Program Files\\Microsoft Office\\root\\Office16\\EXCEL.EXE",
     "16.0.17531.20140", "Microsoft Excel", kOffice, kMicrosoft, "Excel.exe", Runs::kUser, "Medium",
     20},
    {Kind::kOutlook, "C:\\Program Files\\Microsoft Office\\root\\Office16\\OUTLOOK.EXE",
     "16.0.17531.20140", "Microsoft Outlook", kOffice, kMicrosoft, "Outlook.exe", Runs::kUser,
     "Medium", 10},
    {Kind::kRundll32, "C:\\Windows\\System32\\rundll32.exe", kWinVersion,
     "Windows host process (Rundll32)", kWinProduct, kMicrosoft, "RUNDLL32.EXE", Runs::kUser,
     "Medium", 40},
    {Kind::kBackgroundTaskHost, "C:\\Windows\\System32\\backgroundTaskHost.exe", kWinVersion,
     "Background Task Host", kWinProduct, kMicrosoft, "backgroundTaskHost.exe", Runs::kUser, "Low",
     40},
    {Kind::kWmiPrvSe, "C:\\Windows\\System32\\wbem\\WmiPrvSE.exe", kWinVersion, "WMI Provider Host",
     kWinProduct, kMicrosoft, "Wmiprvse.exe", Runs::kNetworkService, "System", 25},
    {Kind::kNet, "C:\\Windows\\System32\\net.exe", kWinVersion, "Net Command", kWinProduct,
     kMicrosoft, "net.exe", Runs::kUser, "Medium", 20},
    {Kind::kReg, "C:\\Windows\\System32\\reg.exe", kWinVersion, "Registry Console Tool",
     kWinProduct, kMicrosoft, "reg.exe", Runs::kUser, "High", 15},
    {Kind::kSchtasks, "C:\\Windows\\System32\\schtasks.exe", kWinVersion,
     "Task Scheduler Configuration Tool", kWinProduct, kMicrosoft, "schtasks.exe", Runs::kUser,
     "High", 10},
    {Kind::kGit, "C:\\Program Files\\Git\\cmd\\git.exe", "2.44.0.1", "Git for Windows", "Git",
     "The Git Development Community", "git.exe", Runs::kUser, "Medium", 30},
    {Kind::kPython, "~\\AppData\\Local\\Programs\\Python\\Python311\\python.exe", "3.11.8",
     "Python", "Python", "Python Software Foundation", "python.exe", Runs::kUser, "Medium", 20},
    {Kind::kMpCmdRun,
     "C:\\ProgramData\\Microsoft\\Windows Defender\\Platform\\4.18.24030.9-0\\MpCmdRun.exe",
     "4.18.24030.9 (WinBuild.160101.0800)", "Microsoft Malware Protection Command Line Utility",
     kWinProduct, kMicrosoft, "MpCmdRun.exe", Runs::kSystem, "System", 20},
    {Kind::kMsiExec, "C:\\Windows\\System32\\msiexec.exe", "5.0.19041.1 (WinBuild.160101.0800)",
     "Windows® installer", "Windows Installer - Unicode", kMicrosoft, "msiexec.exe", Runs::kSystem,
     "System", 15},
    {Kind::kOneDrive, "~\\AppData\\Local\\Microsoft\\OneDrive\\OneDrive.exe", "24.066.0331.0003",
     "Microsoft OneDrive", "Microsoft OneDrive", kMicrosoft, "OneDrive.exe", Runs::kUser, "Medium",
     15},
    {Kind::kJava, "C:\\Program Files\\Eclipse Adoptium\\jdk-17.0.10.7-hotspot\\bin\\java.exe",
     "17.0.10.0", "OpenJDK Platform binary", "OpenJDK Platform 17.0.10", "Eclipse Adoptium",
     "java.exe", Runs::kServiceAccount, "High", 12},
    {Kind::kWhoami, "C:\\Windows\\System32\\whoami.exe", kWinVersion,
     "whoami - displays logged on user information", kWinProduct, kMicrosoft, "whoami.exe",
     Runs::kUser, "Medium", 10},
    {Kind::kTaskHostW, "C:\\Windows\\System32\\taskhostw.exe", kWinVersion,
     "Host Process for Windows Tasks", kWinProduct, kMicrosoft, "taskhostw.exe", Runs::kUser,
     "Medium", 30},
    {Kind::kSearchProtocolHost, "C:\\Windows\\System32\\SearchProtocolHost.exe",
     "7.0.19041.3636 (WinBuild.160101.0800)", "Microsoft Windows Search Protocol Host",
     "Windows® Search", kMicrosoft, "SearchProtocolHost.exe", Runs::kSystem, "System", 40},
    {Kind::kDropped, "~\\AppData\\Local\\Temp\\", "-", "-", "-", "-", "-", Runs::kUser, "Medium",
     8},
    {Kind::kAt, "C:\\Windows\\System32\\at.exe", kWinVersion,
     "Schedule service command line interface", kWinProduct, kMicrosoft, "AT.EXE", Runs::kUser,
     "High", 0},
    {Kind::kExplorer, "C:\\Windows\\explorer.exe", kWinVersion, "Windows Explorer", kWinProduct,
     kMicrosoft, "EXPLORER.EXE", Runs::kUser, "Medium", 0},
    {Kind::kServices, "C:\\Windows\\System32\\services.exe", kWinVersion,
     "Services and Controller app", kWinProduct, kMicrosoft, "services.exe", Runs::kSystem,
     "System", 0},
    {Kind::kSvchostDcom, "C:\\Windows\\System32\\svchost.exe", kWinVersion,
     "Host Process for Windows Services", kWinProduct, kMicrosoft, "svchost.exe", Runs::kSystem,
     "System", 0},
    {Kind::kSvchostSchedule, "C:\\Windows\\System32\\svchost.exe", kWinVersion,
     "Host Process for Windows Services", kWinProduct, kMicrosoft, "svchost.exe", Runs::kSystem,
     "System", 0},
    {Kind::kChromeBrowser, "C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe",
     "124.0.6367.91", "Google Chrome", "Google Chrome", "Google LLC", "chrome.exe", Runs::kUser,
     "Medium", 0},
    {Kind::kEdgeBrowser, "C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe",
     "124.0.2478.80", "Microsoft Edge", "Microsoft Edge", kMicrosoft, "msedge.exe", Runs::kUser,
     "Medium", 0},
    {Kind::kVsCode, "~\\AppData\\Local\\Programs\\Microsoft VS Code\\Code.exe", "1.88.1",
     "Visual Studio Code", "Visual Studio Code", kMicrosoft, "electron.exe", Runs::kUser, "Medium",
     0},
    {Kind::kSearchIndexer, "C:\\Windows\\System32\\SearchIndexer.exe",
     "7.0.19041.3636 (WinBuild.160101.0800)", "Microsoft Windows Search Indexer", "Windows® Search",
     kMicrosoft, "SearchIndexer.exe", Runs::kSystem, "System", 0},
    {Kind::kMsiExecService, "C:\\Windows\\System32\\msiexec.exe",
     "5.0.19041.1 (WinBuild.160101.0800)", "Windows® installer", "Windows Installer - Unicode",
     kMicrosoft, "msiexec.exe", Runs::kSystem, "System", 0},
};
static_assert(std::size(kPrograms) == static_cast<std::size_t>(Kind::kCount));

const Program& ProgramOf(Kind kind) { return kPrograms[static_cast<std::size_t>(kind)]; }

// ---- Command lines ----

constexpr std::string_view kWords[] = {
    "inventory", "backup",  "payroll",  "invoice",   "forecast", "audit",  "migration", "release",
    "customer",  "vendor",  "budget",   "roadmap",   "onboard",  "patch",  "metrics",   "billing",
    "contract",  "summary", "capacity", "telemetry", "archive",  "review", "pipeline",  "report"};

constexpr std::string_view kScriptLines[] = {
    "$ErrorActionPreference = 'Stop'",
    "[Console]::InputEncoding = New-Object Text.UTF8Encoding $false",
    "Import-Module ActiveDirectory",
    "$since = (Get-Date).AddDays(-30)",
    "Get-ADUser -Filter {LastLogonDate -lt $since} -Properties LastLogonDate | Select-Object "
    "SamAccountName,LastLogonDate | Export-Csv -NoTypeInformation -Path "
    "C:\\ProgramData\\Fabrikam\\Reports\\stale.csv",
    "Get-ChildItem -Path C:\\Users -Recurse -Include *.docx,*.xlsx -ErrorAction SilentlyContinue | "
    "Measure-Object -Property Length -Sum",
    "$wc = New-Object System.Net.WebClient",
    "$wc.Headers.Add('User-Agent', 'Fabrikam-Agent/3.2')",
    "Invoke-WebRequest -UseBasicParsing -Uri https://updates.fabrikam-labs.net/agent/manifest.json "
    "-OutFile $env:TEMP\\manifest.json",
    "$manifest = Get-Content $env:TEMP\\manifest.json -Raw | ConvertFrom-Json",
    "foreach ($item in $manifest.packages) { if ($item.required) { Write-Output $item.name } }",
    "Get-Service | Where-Object { $_.Status -eq 'Running' -and $_.StartType -eq 'Automatic' } | "
    "Sort-Object Name",
    "Get-WmiObject -Class Win32_QuickFixEngineering | Select-Object HotFixID,InstalledOn",
    "Get-ItemProperty HKLM:\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\* | "
    "Select-Object DisplayName,DisplayVersion",
    "Start-Sleep -Seconds 5",
    "$log = Join-Path $env:ProgramData 'Fabrikam\\Logs\\agent.log'",
    "Add-Content -Path $log -Value (\"{0} inventory done\" -f (Get-Date -Format o))",
    "Get-NetTCPConnection -State Established | Group-Object RemoteAddress | Sort-Object Count "
    "-Descending | Select-Object -First 20",
    "Get-Process | Sort-Object CPU -Descending | Select-Object -First 15 Name,Id,CPU,WorkingSet",
    "Test-NetConnection -ComputerName srv-ams-dc03.fabrikam-labs.net -Port 636",
    "Remove-Item -Path $env:TEMP\\*.tmp -Force -ErrorAction SilentlyContinue",
    "Compress-Archive -Path C:\\ProgramData\\Fabrikam\\Logs\\* -DestinationPath "
    "$env:TEMP\\logs.zip -Force",
    "Get-WinEvent -LogName Security -MaxEvents 200 | Where-Object { $_.Id -in 4624,4625 }",
    "Set-ItemProperty -Path HKCU:\\Software\\Fabrikam\\Agent -Name LastRun -Value "
    "(Get-Date).ToString('s')",
};

// UTF-16LE bytes of ASCII text (PowerShell's -EncodedCommand takes base64 of UTF-16LE).
std::string Utf16Le(std::string_view ascii) {
  std::string out;
  out.reserve(ascii.size() * 2);
  for (char c : ascii) {
    out.push_back(c);
    out.push_back('\0');
  }
  return out;
}

struct EventContext {
  const Host* host;
  const User* user;  // the interactive user (also used in paths)
  const std::vector<Host>* hosts;
};

std::string ImagePath(const Program& program, const EventContext& ctx, Rng& rng) {
  std::string_view image = program.image;
  std::string path;
  if (image.starts_with("~")) {
    path = ctx.user->profile;
    path += image.substr(1);
  } else {
    path = std::string(image);
  }
  if (program.kind == Kind::kDropped) {
    AppendRandomHex(rng, 8, &path);
    path += rng.Chance(500) ? ".exe" : ".tmp.exe";
  }
  return path;
}

std::string PowerShellScript(Rng& rng) {
  std::size_t target = rng.Chance(80) ? rng.Between(900, 2000) : rng.Between(100, 450);
  std::string script;
  while (script.size() < target) {
    if (!script.empty()) script += "; ";
    script += rng.Pick(kScriptLines);
  }
  return script;
}

std::string CommandLine(Kind kind, const EventContext& ctx, Rng& rng);

std::string HostOf(const EventContext& ctx, Rng& rng) {
  return (*ctx.hosts)[rng.Below(ctx.hosts->size())].short_name;
}

std::string CommandLine(Kind kind, const EventContext& ctx, Rng& rng) {
  std::string c;
  const std::string& home = ctx.user->profile;
  switch (kind) {
    case Kind::kSvchost: {
      static constexpr std::string_view kServices[][2] = {
          {"netsvcs", "Schedule"},
          {"netsvcs", "BITS"},
          {"LocalServiceNetworkRestricted", "Dhcp"},
          {"NetworkService", "Dnscache"},
          {"LocalSystemNetworkRestricted", "SysMain"},
          {"wsappx", "AppXSvc"},
          {"UnistackSvcGroup", "CDPUserSvc"},
          {"netsvcs", "gpsvc"},
          {"LocalService", "EventLog"},
          {"netsvcs", "wuauserv"}};
      const auto& s = rng.Pick(kServices);
      c = "C:\\Windows\\system32\\svchost.exe -k " + std::string(s[0]) + " -p -s " +
          std::string(s[1]);
      break;
    }
    case Kind::kConhost:
      c = "\\??\\C:\\Windows\\system32\\conhost.exe 0xffffffff -ForceV1";
      break;
    case Kind::kCmd:
      switch (rng.Below(7)) {
        case 0:
          c = "\"C:\\Windows\\system32\\cmd.exe\" /c \"ipconfig /all > C:\\Windows\\Temp\\";
          AppendRandomHex(rng, 6, &c);
          c += ".txt 2>&1\"";
          break;
        case 1:
          c = "C:\\Windows\\system32\\cmd.exe /c \"whoami /all & net localgroup administrators\"";
          break;
        case 2:
          c = "C:\\Windows\\system32\\cmd.exe /c sort < \"" + home + "\\Documents\\" +
              std::string(rng.Pick(kWords)) + ".txt\"";
          break;
        case 3:
          c = "\"C:\\Windows\\system32\\cmd.exe\" /d /c \"C:\\Program Files\\Git\\cmd\\git.exe\" "
              "rev-parse --show-toplevel";
          break;
        case 4:
          c = "C:\\Windows\\system32\\cmd.exe /c findstr /s /i 'password' *.config *.xml";
          break;
        case 5:
          c = "\"C:\\Windows\\System32\\cmd.exe\" /c "
              "\"C:\\ProgramData\\Fabrikam\\Agent\\collect.bat\" " +
              ctx.host->short_name + " " + std::string(rng.Pick(kWords));
          break;
        default:
          c = "C:\\Windows\\system32\\cmd.exe /c dir /b /s \"" + home +
              "\\Downloads\" | find /c \".zip\"";
      }
      break;
    case Kind::kPowerShellEncoded:
      c = "\"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe\" -NoProfile "
          "-NonInteractive -ExecutionPolicy Bypass -EncodedCommand " +
          Base64(Utf16Le(PowerShellScript(rng)));
      break;
    case Kind::kPowerShellCommand:
      if (rng.Chance(500)) {
        c = "powershell.exe -NoProfile -Command \"& {" + std::string(rng.Pick(kScriptLines)) +
            "}\"";
      } else {
        c = "\"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe\" -ExecutionPolicy "
            "RemoteSigned -File \"C:\\ProgramData\\Fabrikam\\Scripts\\" +
            std::string(rng.Pick(kWords)) + ".ps1\" -Target " + HostOf(ctx, rng);
      }
      break;
    case Kind::kChrome:
    case Kind::kMsEdge: {
      c = "\"" + std::string(ProgramOf(kind).image) + "\" ";
      std::uint64_t type = rng.Below(4);
      if (type < 2) {
        c += "--type=renderer --display-capture-permissions-policy-allowed --lang=en-US "
             "--device-scale-factor=1 --num-raster-threads=2 --enable-main-frame-before-activation "
             "--renderer-client-id=";
        AppendNumber(rng.Between(5, 400), &c);
        c += " --time-ticks-at-unix-epoch=-";
        AppendNumber(rng.Between(1700000000000000, 1719999999999999), &c);
        c += " --launch-time-ticks=";
        AppendNumber(rng.Between(10000000, 999999999), &c);
      } else if (type == 2) {
        c += "--type=utility --utility-sub-type=network.mojom.NetworkService --lang=en-US "
             "--service-sandbox-type=none";
      } else {
        c += "--type=gpu-process "
             "--gpu-preferences=UAAAAAAAAADgAAAMAAAAAAAAAAAAAAAAAABgAAEAAAA4AAAAAAAAAA"
             "AAAAAAAAAAABAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA "
             "--mojo-platform-channel-handle=";
        AppendNumber(rng.Between(1000, 9999), &c);
      }
      c += " --field-trial-handle=";
      AppendNumber(rng.Between(1000, 9999), &c);
      c += ",i,";
      AppendNumber(rng.Next() >> 1, &c);
      c += ",";
      AppendNumber(rng.Next() >> 1, &c);
      c += ",262144 --variations-seed-version /prefetch:";
      AppendNumber(rng.Between(1, 8), &c);
      break;
    }
    case Kind::kWinword:
      c = "\"C:\\Program Files\\Microsoft Office\\Root\\Office16\\WINWORD.EXE\" /n \"" + home +
          "\\Documents\\" + std::string(rng.Pick(kWords)) + " notes.docx\" /o \"\"";
      break;
    case Kind::kExcel:
      c = "\"C:\\Program Files\\Microsoft Office\\Root\\Office16\\EXCEL.EXE\" "
          "\"\\\\SRV-AMS-FS03\\finance\\Q";
      AppendNumber(rng.Between(1, 4), &c);
      c += " " + std::string(rng.Pick(kWords)) + " & " + std::string(rng.Pick(kWords)) + ".xlsx\"";
      break;
    case Kind::kOutlook:
      c = "\"C:\\Program Files\\Microsoft Office\\Root\\Office16\\OUTLOOK.EXE\" ";
      break;
    case Kind::kRundll32:
      c = rng.Chance(600)
              ? "C:\\Windows\\system32\\rundll32.exe C:\\Windows\\system32\\shell32.dll,"
                "SHCreateLocalServerRunDll {9aa46009-3ce0-458a-a354-715610a075e6} -Embedding"
              : "\"C:\\Windows\\system32\\rundll32.exe\" "
                "C:\\Windows\\system32\\PcaSvc.dll,PcaPatchSdbTask";
      break;
    case Kind::kBackgroundTaskHost:
      c = "\"C:\\Windows\\system32\\backgroundTaskHost.exe\" -ServerName:App.App";
      AppendRandomHex(rng, 24, &c);
      c += ".mca";
      break;
    case Kind::kWmiPrvSe:
      c = rng.Chance(500) ? "C:\\Windows\\system32\\wbem\\wmiprvse.exe -secured -Embedding"
                          : "C:\\Windows\\system32\\wbem\\wmiprvse.exe -Embedding";
      break;
    case Kind::kNet:
      if (rng.Chance(500)) {
        c = "net  use Z: \\\\SRV-AMS-FS03\\" + std::string(rng.Pick(kWords)) + " /persistent:no";
      } else {
        c = "net  group \"Domain Admins\" /domain";
      }
      break;
    case Kind::kReg:
      c = rng.Chance(500)
              ? "reg  query \"HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run\" /s"
              : "reg  add HKCU\\Software\\Fabrikam\\Agent /v " + std::string(rng.Pick(kWords)) +
                    " /t REG_DWORD /d 1 /f";
      break;
    case Kind::kSchtasks:
      c = "schtasks  /create /tn \"Fabrikam\\" + std::string(rng.Pick(kWords)) +
          "\" /tr \"powershell.exe -NoProfile -File C:\\ProgramData\\Fabrikam\\Scripts\\" +
          std::string(rng.Pick(kWords)) + ".ps1\" /sc daily /st 0";
      AppendNumber(rng.Between(1, 9), &c);
      c += ":30 /ru SYSTEM /f";
      break;
    case Kind::kGit:
      c = "\"C:\\Program Files\\Git\\cmd\\git.exe\" -c core.quotepath=false -c color.ui=false "
          "fetch --prune origin refs/heads/feature/" +
          std::string(rng.Pick(kWords)) + "-";
      AppendNumber(rng.Between(100, 9999), &c);
      break;
    case Kind::kPython:
      c = "\"" + home +
          "\\AppData\\Local\\Programs\\Python\\Python311\\python.exe\" -m pytest tests\\test_" +
          std::string(rng.Pick(kWords)) + ".py -q --maxfail=1";
      break;
    case Kind::kMpCmdRun:
      c = "\"C:\\ProgramData\\Microsoft\\Windows "
          "Defender\\platform\\4.18.24030.9-0\\MpCmdRun.exe\" "
          "SignatureUpdate -ScheduleJob -RestrictPrivileges -DailyReinvoke";
      break;
    case Kind::kMsiExec:
      c = "C:\\Windows\\System32\\MsiExec.exe -Embedding ";
      AppendRandomHex(rng, 32, &c);
      c += " E Global\\MSI0000";
      break;
    case Kind::kOneDrive:
      c = "\"" + home + "\\AppData\\Local\\Microsoft\\OneDrive\\OneDrive.exe\" /background";
      break;
    case Kind::kJava: {
      c = "\"C:\\Program Files\\Eclipse Adoptium\\jdk-17.0.10.7-hotspot\\bin\\java.exe\" -Xms512m "
          "-Xmx4g -XX:+UseG1GC -Dfile.encoding=UTF-8 -Dlog4j2.formatMsgNoLookups=true -cp \"";
      std::uint64_t jars = rng.Between(6, 24);
      for (std::uint64_t j = 0; j < jars; ++j) {
        if (j > 0) c += ";";
        c += "C:\\Apps\\Fabrikam\\lib\\" + std::string(kWords[(j * 7 + 3) % std::size(kWords)]) +
             "-core-";
        AppendNumber(1 + j % 5, &c);
        c += ".";
        AppendNumber(j % 13, &c);
        c += ".jar";
      }
      c += "\" com.fabrikam." + std::string(rng.Pick(kWords)) +
           ".Main --config C:\\Apps\\Fabrikam\\conf\\" + std::string(rng.Pick(kWords)) + ".yaml";
      break;
    }
    case Kind::kWhoami:
      c = rng.Chance(500) ? "whoami  /priv" : "whoami  /groups /fo csv";
      break;
    case Kind::kTaskHostW:
      c = "taskhostw.exe {";
      AppendRandomHex(rng, 8, &c);
      c += "-";
      AppendRandomHex(rng, 4, &c);
      c += "-";
      AppendRandomHex(rng, 4, &c);
      c += "-";
      AppendRandomHex(rng, 4, &c);
      c += "-";
      AppendRandomHex(rng, 12, &c);
      c += "}";
      break;
    case Kind::kSearchProtocolHost: {
      std::string n = std::to_string(rng.Between(1, 99));
      c = "\"C:\\Windows\\system32\\SearchProtocolHost.exe\" Global\\UsGthrFltPipeMssGthrPipe" + n +
          "_ Global\\UsGthrCtrlFltPipeMssGthrPipe" + n +
          " 1 -2147483646 \"Software\\Microsoft\\Windows Search\" \"Mozilla/4.0 (compatible; MSIE "
          "6.0; "
          "Windows NT; MS Search 4.0 Robot)\" "
          "\"C:\\ProgramData\\Microsoft\\Search\\Data\\Temp\\usgthrsvc\" "
          "\"DownLevelDaemon\" ";
      break;
    }
    case Kind::kDropped:
      c = "";  // filled by the caller: the image path plus arguments
      break;
    case Kind::kAt: {
      std::string target = HostOf(ctx, rng);
      c = "at.exe \\\\" + target + " 13:20 cmd /c \"copy \\\\" + ctx.host->short_name +
          "\\ADMIN$\\Temp\\";
      AppendRandomHex(rng, 8, &c);
      c += ".exe C:\\Windows\\Temp\\svc.exe & C:\\Windows\\Temp\\svc.exe -install\"";
      break;
    }
    case Kind::kExplorer:
      c = "C:\\Windows\\Explorer.EXE";
      break;
    case Kind::kServices:
      c = "C:\\Windows\\system32\\services.exe";
      break;
    case Kind::kSvchostDcom:
      c = "C:\\Windows\\system32\\svchost.exe -k DcomLaunch -p";
      break;
    case Kind::kSvchostSchedule:
      c = "C:\\Windows\\system32\\svchost.exe -k netsvcs -p -s Schedule";
      break;
    case Kind::kChromeBrowser:
      c = "\"C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe\" ";
      break;
    case Kind::kEdgeBrowser:
      c = "\"C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe\" "
          "--no-startup-window --win-session-start";
      break;
    case Kind::kVsCode:
      c = "\"" + home + "\\AppData\\Local\\Programs\\Microsoft VS Code\\Code.exe\" ";
      break;
    case Kind::kSearchIndexer:
      c = "C:\\Windows\\system32\\SearchIndexer.exe /Embedding";
      break;
    case Kind::kMsiExecService:
      c = "C:\\Windows\\system32\\msiexec.exe /V";
      break;
    case Kind::kCount:
      break;
  }
  return c;
}

Kind ParentOf(Kind kind, Rng& rng) {
  switch (kind) {
    case Kind::kSvchost:
      return Kind::kServices;
    case Kind::kConhost:
      return rng.Chance(850) ? Kind::kCmd : Kind::kPowerShellEncoded;
    case Kind::kCmd:
      return rng.Chance(500)
                 ? Kind::kExplorer
                 : (rng.Chance(500) ? Kind::kPowerShellCommand : Kind::kSvchostSchedule);
    case Kind::kPowerShellEncoded:
      return rng.Chance(400) ? Kind::kWmiPrvSe
                             : (rng.Chance(500) ? Kind::kSvchostSchedule : Kind::kCmd);
    case Kind::kPowerShellCommand:
      return rng.Chance(500) ? Kind::kExplorer : Kind::kCmd;
    case Kind::kChrome:
      return Kind::kChromeBrowser;
    case Kind::kMsEdge:
      return Kind::kEdgeBrowser;
    case Kind::kWinword:
    case Kind::kExcel:
      return rng.Chance(800) ? Kind::kExplorer : Kind::kOutlook;
    case Kind::kOutlook:
    case Kind::kOneDrive:
      return Kind::kExplorer;
    case Kind::kRundll32:
    case Kind::kBackgroundTaskHost:
    case Kind::kWmiPrvSe:
      return Kind::kSvchostDcom;
    case Kind::kNet:
    case Kind::kReg:
    case Kind::kWhoami:
      return rng.Chance(850) ? Kind::kCmd : Kind::kPowerShellEncoded;
    case Kind::kSchtasks:
      return rng.Chance(500) ? Kind::kCmd : Kind::kPowerShellCommand;
    case Kind::kGit:
    case Kind::kPython:
      return rng.Chance(500) ? Kind::kVsCode : Kind::kCmd;
    case Kind::kMpCmdRun:
    case Kind::kTaskHostW:
      return Kind::kSvchostSchedule;
    case Kind::kMsiExec:
      return Kind::kMsiExecService;
    case Kind::kJava:
      return rng.Chance(500) ? Kind::kServices : Kind::kCmd;
    case Kind::kSearchProtocolHost:
      return Kind::kSearchIndexer;
    case Kind::kDropped:
      return rng.Chance(400) ? Kind::kOutlook
                             : (rng.Chance(500) ? Kind::kWinword : Kind::kExplorer);
    case Kind::kAt:
      return Kind::kCmd;
    default:
      return Kind::kServices;
  }
}

// ---- Events ----

std::string MakeHashes(Rng& rng) {
  std::string h = "SHA1=";
  AppendRandomHex(rng, 40, &h);
  h += ",MD5=";
  AppendRandomHex(rng, 32, &h);
  h += ",SHA256=";
  AppendRandomHex(rng, 64, &h);
  h += ",IMPHASH=";
  AppendRandomHex(rng, 32, &h);
  return h;
}

// {PREFIX-XXXX-XXXX-XXXX-XXXXXXXXXXXX}, Sysmon's shape: the first group names the machine.
void AppendGuid(std::uint32_t prefix, Rng& rng, std::string* out) {
  out->push_back('{');
  AppendHex(prefix, 8, out);
  out->push_back('-');
  AppendRandomHex(rng, 4, out);
  out->push_back('-');
  AppendRandomHex(rng, 4, out);
  out->push_back('-');
  AppendRandomHex(rng, 4, out);
  out->push_back('-');
  AppendRandomHex(rng, 12, out);
  out->push_back('}');
}

// A LogonGuid carries the logon id little-endian in its last two groups, as Sysmon writes it.
void AppendLogonGuid(std::uint32_t prefix, std::uint64_t logon_id, Rng& rng, std::string* out) {
  out->push_back('{');
  AppendHex(prefix, 8, out);
  out->push_back('-');
  AppendRandomHex(rng, 4, out);
  out->push_back('-');
  AppendRandomHex(rng, 4, out);
  out->push_back('-');
  for (int i = 0; i < 4; ++i) {
    AppendHex((logon_id >> (8 * i)) & 0xFF, 2, out);
    if (i == 1) out->push_back('-');
  }
  *out += "00000000}";
}

enum class Format { kSysmonXml, kSecurityXml, kFdrJsonl, kSysmonEvtx, kSecurityEvtx };

void AppendLowerHex(std::uint64_t value, std::string* out) {
  char hex[24];
  std::snprintf(hex, sizeof hex, "%llx", static_cast<unsigned long long>(value));
  *out += hex;
}

// "0x3e7": how the Security log writes ids and logon ids.
std::string Hex0x(std::uint64_t value) {
  std::string text = "0x";
  AppendLowerHex(value, &text);
  return text;
}

// The value after `key=` in a Sysmon Hashes string, in lower case (FDR writes hashes so).
std::string HashOf(std::string_view hashes, std::string_view key) {
  std::size_t at = hashes.find(key);
  if (at == std::string_view::npos) return "";
  at += key.size();
  std::string value(hashes.substr(at, hashes.find(',', at) - at));
  for (char& c : value) c = static_cast<char>(c >= 'A' && c <= 'F' ? c - 'A' + 'a' : c);
  return value;
}

// The mandatory label's RID of a Sysmon IntegrityLevel.
std::uint64_t IntegrityRid(std::string_view integrity) {
  if (integrity == "Low") return 4096;
  if (integrity == "High") return 12288;
  if (integrity == "System") return 16384;
  return 8192;
}

// What every format says about one process start: drawn first, in the same order for all
// formats, so that they describe the same activity.
struct Draw {
  Host* host = nullptr;
  Kind kind = Kind::kSvchost;
  const Program* program = nullptr;
  const User* user = nullptr;
  Runs runs = Runs::kSystem;
  std::string account;
  std::uint64_t logon_id = 0;
  std::uint64_t session = 0;
  std::string image, command, hashes;
  Kind parent_kind = Kind::kServices;
  std::string parent_image, parent_command;
};

// The System values of one source that never change.
struct SystemSource {
  std::string_view provider;
  std::string_view provider_guid;
  std::uint16_t event_id;
  std::uint8_t version;
  std::uint8_t level;
  std::uint16_t task;
  std::uint64_t keywords;
  std::string_view channel;
  std::string_view user_id;  // System/Security/@UserID; empty: none
};
constexpr SystemSource kSysmonSystem = {
    "Microsoft-Windows-Sysmon", "{5770385F-C22A-43E0-BF4C-06F5698FFBD9}", 1,         5, 4, 1,
    0x8000000000000000ULL,      "Microsoft-Windows-Sysmon/Operational",   "S-1-5-18"};
constexpr SystemSource kSecuritySystem = {"Microsoft-Windows-Security-Auditing",
                                          "{54849625-5478-4994-A5BA-3E3B0328C30D}",
                                          4688,
                                          2,
                                          0,
                                          13312,
                                          0x8020000000000000ULL,
                                          "Security",
                                          ""};

// The System values of one event.
struct SystemFields {
  const SystemSource* source = nullptr;
  std::int64_t log_us = 0;  // TimeCreated, microseconds since 1970
  unsigned ticks = 0;       // and 100 ns steps (0-9)
  std::uint64_t record_id = 0;
  std::uint64_t process_id = 0;
  std::uint64_t thread_id = 0;
  const std::string* computer = nullptr;
};

// Renders an event as EvtRender-style event XML, one event a line.
class XmlSink {
 public:
  explicit XmlSink(std::string* out) : e_(*out) {}
  void System(const SystemFields& s) {
    const SystemSource& src = *s.source;
    e_ +=
        "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System>"
        "<Provider Name='";
    e_ += src.provider;
    e_ += "' Guid='";
    e_ += src.provider_guid;
    e_ += "'/><EventID>";
    AppendNumber(src.event_id, &e_);
    e_ += "</EventID><Version>";
    AppendNumber(src.version, &e_);
    e_ += "</Version><Level>";
    AppendNumber(src.level, &e_);
    e_ += "</Level><Task>";
    AppendNumber(src.task, &e_);
    e_ += "</Task><Opcode>0</Opcode><Keywords>0x";
    AppendHex(src.keywords, 16, &e_);
    e_ += "</Keywords><TimeCreated SystemTime='";
    AppendSystemTime(s.log_us, s.ticks, &e_);
    e_ += "'/><EventRecordID>";
    AppendNumber(s.record_id, &e_);
    e_ += "</EventRecordID><Correlation/><Execution ProcessID='";
    AppendNumber(s.process_id, &e_);
    e_ += "' ThreadID='";
    AppendNumber(s.thread_id, &e_);
    e_ += "'/><Channel>";
    e_ += src.channel;
    e_ += "</Channel><Computer>";
    e_ += *s.computer;
    e_ += "</Computer>";
    if (src.user_id.empty()) {
      e_ += "<Security/>";
    } else {
      e_ += "<Security UserID='";
      e_ += src.user_id;
      e_ += "'/>";
    }
    e_ += "</System><EventData>";
  }
  void Data(std::string_view name, std::string_view value) {
    e_ += "<Data Name='";
    e_ += name;
    e_ += "'>";
    AppendEscaped(value, &e_);
    e_ += "</Data>";
  }
  void End() { e_ += "</EventData></Event>\n"; }

 private:
  std::string& e_;
};

// Fills an EvtxEvent for the EVTX writer with the types Windows uses, reusing its buffers.
class EvtxSink {
 public:
  explicit EvtxSink(quarry::testing::EvtxEvent* event) : e_(*event) {}
  void System(const SystemFields& s) {
    using quarry::testing::EvtxType;
    using quarry::testing::EvtxValue;
    const SystemSource& src = *s.source;
    if (source_ != &src) {  // the constant part, once per change of source
      source_ = &src;
      e_.provider_name.SetString(src.provider);
      e_.provider_guid = *EvtxValue::Guid(src.provider_guid);
      e_.event_id.SetNumber(EvtxType::kUInt16, src.event_id);
      e_.version.SetNumber(EvtxType::kUInt8, src.version);
      e_.level.SetNumber(EvtxType::kUInt8, src.level);
      e_.task.SetNumber(EvtxType::kUInt16, src.task);
      e_.opcode.SetNumber(EvtxType::kUInt8, 0);
      e_.keywords.SetNumber(EvtxType::kHexInt64, src.keywords);
      e_.channel.SetString(src.channel);
      e_.user_id = src.user_id.empty() ? EvtxValue() : *EvtxValue::Sid(src.user_id);
    }
    e_.time_created.SetNumber(EvtxType::kFileTime,
                              quarry::testing::FileTimeFromMicros(s.log_us, s.ticks));
    e_.record_id.SetNumber(EvtxType::kUInt64, s.record_id);
    e_.process_id.SetNumber(EvtxType::kUInt32, s.process_id);
    e_.thread_id.SetNumber(EvtxType::kUInt32, s.thread_id);
    e_.computer = *s.computer;
    used_ = 0;
  }
  void Data(std::string_view name, std::string_view value) {
    if (used_ == e_.data.size()) e_.data.emplace_back();
    quarry::testing::EvtxData& d = e_.data[used_++];
    d.name.assign(name);
    d.value.SetString(value);
  }
  void End() { e_.data.resize(used_); }

 private:
  quarry::testing::EvtxEvent& e_;
  const SystemSource* source_ = nullptr;
  std::size_t used_ = 0;
};

class Generator {
 public:
  Generator(std::uint64_t seed, Format format, std::uint64_t at_every)
      : at_every_(at_every),
        format_(format),
        rng_(seed),
        hosts_(MakeHosts(seed)),
        users_(MakeUsers(seed)),
        domain_sid_(DomainSid(seed)) {
    Rng hash_rng(Mix(seed, 99));
    for (std::size_t i = 0; i < std::size(kPrograms); ++i) hashes_.push_back(MakeHashes(hash_rng));
    for (const Program& program : kPrograms) {
      for (std::uint32_t w = 0; w < program.weight; ++w) wheel_.push_back(program.kind);
    }
    time_us_ = *quarry::schema::ParseUtcTimestamp("2024-05-06 08:00:00");
    Rng fdr(Mix(seed, 4999));
    AppendRandomHex(fdr, 32, &cid_);
    for (char& c : cid_) c = static_cast<char>(c >= 'A' && c <= 'F' ? c - 'A' + 'a' : c);
  }

  std::size_t host_count() const { return hosts_.size(); }
  std::size_t user_count() const { return users_.size(); }
  std::uint64_t at_events() const { return at_events_; }

  // Appends event number `index` (0-based) and a newline to `out` (the text formats).
  void Append(std::uint64_t index, std::string* out) {
    Draw d = DrawEvent(index);
    XmlSink xml(out);
    switch (format_) {
      case Format::kSysmonXml:
        EmitSysmon(d, xml);
        break;
      case Format::kSecurityXml:
        EmitSecurity(d, xml);
        break;
      case Format::kFdrJsonl:
        AppendFdr(d, out);
        break;
      case Format::kSysmonEvtx:
      case Format::kSecurityEvtx:
        break;  // see Fill
    }
  }

  // Fills `event` with event number `index` (the EVTX formats): the event the matching XML
  // format writes, value for value.
  void Fill(std::uint64_t index, EvtxSink* sink) {
    Draw d = DrawEvent(index);
    if (format_ == Format::kSecurityEvtx) {
      EmitSecurity(d, *sink);
    } else {
      EmitSysmon(d, *sink);
    }
  }

 private:
  std::uint64_t at_every_;
  Draw DrawEvent(std::uint64_t index) {
    Draw d;
    time_us_ += static_cast<std::int64_t>(rng_.Between(1000, 400000));
    d.host = &hosts_[rng_.Below(hosts_.size())];
    Host& host = *d.host;
    d.kind = (index % at_every_ == at_every_ - 1) ? Kind::kAt : wheel_[rng_.Below(wheel_.size())];
    const Kind kind = d.kind;
    if (kind == Kind::kAt) ++at_events_;
    d.program = &ProgramOf(kind);
    const Program& program = *d.program;

    d.user = &users_[rng_.Chance(700) ? host.primary_user : rng_.Below(users_.size())];
    const User* user = d.user;
    EventContext ctx{&host, user, &hosts_};
    d.runs = program.runs;
    if (d.runs == Runs::kSystem && kind == Kind::kSvchost && rng_.Chance(300)) {
      d.runs = rng_.Chance(500) ? Runs::kLocalService : Runs::kNetworkService;
    }
    switch (d.runs) {
      case Runs::kSystem:
        d.account = "NT AUTHORITY\\SYSTEM";
        d.logon_id = 0x3E7;
        break;
      case Runs::kLocalService:
        d.account = "NT AUTHORITY\\LOCAL SERVICE";
        d.logon_id = 0x3E5;
        break;
      case Runs::kNetworkService:
        d.account = "NT AUTHORITY\\NETWORK SERVICE";
        d.logon_id = 0x3E4;
        break;
      case Runs::kServiceAccount:
        d.account = std::string(kNetbios) + "\\svc_" + std::string(ServiceWord(host));
        d.logon_id = 0x100000 + Mix(host.guid_prefix, 5) % 0xEFFFFF;
        break;
      case Runs::kUser:
        d.account = user->account;
        d.logon_id = 0x100000 + Mix(host.guid_prefix, user - users_.data()) % 0xEFFFFF;
        d.session = 1 + (user - users_.data()) % 2;
        break;
    }

    d.image = ImagePath(program, ctx, rng_);
    d.command = CommandLine(kind, ctx, rng_);
    if (kind == Kind::kDropped) {
      d.command = "\"" + d.image + "\" -s " + std::to_string(rng_.Between(1, 9999));
      d.hashes = MakeHashes(rng_);
    } else {
      d.hashes = hashes_[static_cast<std::size_t>(kind)];
    }
    d.parent_kind = ParentOf(kind, rng_);
    const Program& parent = ProgramOf(d.parent_kind);
    d.parent_image = ImagePath(parent, ctx, rng_);
    d.parent_command = CommandLine(d.parent_kind, ctx, rng_);
    return d;
  }

  static std::string_view ServiceWord(const Host& host) {
    return kWords[Mix(host.guid_prefix, 3) % std::size(kWords)];
  }

  // The SID of the account a process runs as.
  std::string SidOf(const Draw& d) const {
    switch (d.runs) {
      case Runs::kSystem:
        return "S-1-5-18";
      case Runs::kLocalService:
        return "S-1-5-19";
      case Runs::kNetworkService:
        return "S-1-5-20";
      case Runs::kServiceAccount:
        return domain_sid_ + "-" +
               std::to_string(5000 + Mix(d.host->guid_prefix, 3) % std::size(kWords));
      case Runs::kUser:
        return d.user->sid;
    }
    return "S-1-0-0";
  }

  // Sysmon Event ID 1 (schema 4.21+), handed to `sink` field by field: the same draws in the
  // same order for the XML and the EVTX rendering.
  template <typename Sink>
  void EmitSysmon(const Draw& d, Sink& sink) {
    Host& host = *d.host;
    const Kind kind = d.kind;
    const Program& program = *d.program;
    const User* user = d.user;
    const Runs runs = d.runs;
    const std::string& account = d.account;
    const std::uint64_t logon_id = d.logon_id;
    const std::uint64_t session = d.session;
    const std::string& image = d.image;
    const std::string& command = d.command;
    const std::string& hashes = d.hashes;
    const std::string& parent_image = d.parent_image;
    const std::string& parent_command = d.parent_command;

    SystemFields s;
    s.source = &kSysmonSystem;
    s.log_us = time_us_ + static_cast<std::int64_t>(rng_.Below(900));
    s.ticks = static_cast<unsigned>(rng_.Below(10));
    s.record_id = host.next_record_id++;
    s.process_id = host.sysmon_pid;
    s.thread_id = rng_.Between(100, 9000) * 4;
    s.computer = &host.name;
    sink.System(s);

    auto data = [&sink](std::string_view name, std::string_view value) { sink.Data(name, value); };
    data("RuleName", kind == Kind::kPowerShellEncoded || kind == Kind::kAt
                         ? (kind == Kind::kAt ? "technique_id=T1053.002,technique_name=At"
                                              : "technique_id=T1059.001,technique_name=PowerShell")
                         : "-");
    std::string text;
    AppendUtcTime(time_us_, &text);
    data("UtcTime", text);
    text.clear();
    AppendGuid(host.guid_prefix, rng_, &text);
    data("ProcessGuid", text);
    data("ProcessId", std::to_string(rng_.Between(100, 16000) * 4));
    data("Image", image);
    data("FileVersion", program.file_version);
    data("Description", program.description);
    data("Product", program.product);
    data("Company", program.company);
    data("OriginalFileName", program.original_file_name);
    data("CommandLine", command);
    data("CurrentDirectory",
         runs == Runs::kUser ? user->profile + "\\" : "C:\\Windows\\system32\\");
    data("User", account);
    text.clear();
    AppendLogonGuid(host.guid_prefix, logon_id, rng_, &text);
    data("LogonGuid", text);
    text = "0x";
    char hex[24];
    std::snprintf(hex, sizeof hex, "%llx", static_cast<unsigned long long>(logon_id));
    text += hex;
    data("LogonId", text);
    data("TerminalSessionId", std::to_string(session));
    data("IntegrityLevel", program.integrity);
    data("Hashes", hashes);
    text.clear();
    AppendGuid(host.guid_prefix, rng_, &text);
    data("ParentProcessGuid", text);
    data("ParentProcessId", std::to_string(rng_.Between(100, 16000) * 4));
    data("ParentImage", parent_image);
    data("ParentCommandLine", parent_command);
    sink.End();
  }

  // Windows Security 4688 version 2, handed to `sink` field by field.
  template <typename Sink>
  void EmitSecurity(const Draw& d, Sink& sink) {
    Host& host = *d.host;
    SystemFields s;
    s.source = &kSecuritySystem;
    s.log_us = time_us_ + static_cast<std::int64_t>(rng_.Below(900));
    s.ticks = static_cast<unsigned>(rng_.Below(10));
    s.record_id = host.next_record_id++;
    s.process_id = 4;
    s.thread_id = rng_.Between(20, 400) * 4;
    s.computer = &host.name;
    sink.System(s);

    auto data = [&sink](std::string_view name, std::string_view value) { sink.Data(name, value); };
    // Subject: the account that started the process. Services start as the machine account;
    // LOCAL SERVICE and NETWORK SERVICE then appear as the Target.
    bool machine =
        d.runs == Runs::kSystem || d.runs == Runs::kLocalService || d.runs == Runs::kNetworkService;
    std::string_view name = d.account;
    name = name.substr(name.find('\\') + 1);
    data("SubjectUserSid", machine ? "S-1-5-18" : SidOf(d));
    data("SubjectUserName", machine ? host.short_name + "$" : std::string(name));
    data("SubjectDomainName", kNetbios);
    data("SubjectLogonId", Hex0x(machine ? 0x3E7 : d.logon_id));
    data("NewProcessId", Hex0x(rng_.Between(100, 16000) * 4));
    data("NewProcessName", d.image);
    std::uint64_t rid = IntegrityRid(d.program->integrity);
    data("TokenElevationType", machine || d.runs == Runs::kServiceAccount
                                   ? "%%1936"
                                   : (rid >= 12288 ? "%%1937" : "%%1938"));
    data("ProcessId", Hex0x(rng_.Between(100, 16000) * 4));
    data("CommandLine", d.command);
    bool target = d.runs == Runs::kLocalService || d.runs == Runs::kNetworkService;
    data("TargetUserSid", target ? SidOf(d) : "S-1-0-0");
    data("TargetUserName", target ? name : "-");
    data("TargetDomainName", target ? "NT AUTHORITY" : "-");
    data("TargetLogonId", Hex0x(target ? d.logon_id : 0));
    data("ParentProcessName", d.parent_image);
    data("MandatoryLabel", "S-1-16-" + std::to_string(rid));
    sink.End();
  }

  // CrowdStrike FDR ProcessRollup2 (Windows), one JSON object per line, every value a string.
  void AppendFdr(const Draw& d, std::string* out) {
    Host& host = *d.host;
    std::string& e = *out;
    bool first = true;
    auto field = [&e, &first](std::string_view key, std::string_view value) {
      e += first ? "{\"" : ",\"";
      first = false;
      e += key;
      e += "\":";
      quarry::query::AppendJsonString(value, &e);
    };
    // Falcon process ids: each new process gets the host's next id; its parent is most of the
    // time a process of an earlier event on the same host, so that parents resolve.
    host.next_falcon_id += rng_.Between(1000, 400000);
    std::uint64_t target_id = host.next_falcon_id;
    std::uint64_t parent_id = 0;
    if (!host.recent_ids.empty() && rng_.Chance(900)) {
      parent_id = host.recent_ids[rng_.Below(host.recent_ids.size())];
    } else {
      parent_id = host.next_falcon_id - rng_.Between(400001, 90000000);  // from before the log
    }
    constexpr std::size_t kRecent = 32;
    if (host.recent_ids.size() < kRecent) {
      host.recent_ids.push_back(target_id);
    } else {
      host.recent_ids[host.recent_next] = target_id;
      host.recent_next = (host.recent_next + 1) % kRecent;
    }
    std::uint64_t rid = IntegrityRid(d.program->integrity);
    std::int64_t log_ms =
        (time_us_ + static_cast<std::int64_t>(rng_.Between(20000, 300000))) / 1000;
    std::string text;

    field("event_simpleName", "ProcessRollup2");
    field("name", "ProcessRollup2V19");
    field("event_platform", "Win");
    field("aid", host.aid);
    field("cid", cid_);
    field("aip", host.aip);
    text.clear();  // a random (version 4) UUID
    AppendRandomHex(rng_, 8, &text);
    text += "-";
    AppendRandomHex(rng_, 4, &text);
    text += "-4";
    AppendRandomHex(rng_, 3, &text);
    text += "-";
    AppendHex(8 + rng_.Below(4), 1, &text);
    AppendRandomHex(rng_, 3, &text);
    text += "-";
    AppendRandomHex(rng_, 12, &text);
    for (char& c : text) c = static_cast<char>(c >= 'A' && c <= 'F' ? c - 'A' + 'a' : c);
    field("id", text);
    field("timestamp", std::to_string(log_ms));
    char start[48];
    std::snprintf(start, sizeof start, "%lld.%03lld", static_cast<long long>(time_us_ / 1000000),
                  static_cast<long long>(time_us_ / 1000 % 1000));
    field("ProcessStartTime", start);
    field("ProcessEndTime", "");
    field("ImageFileName", "\\Device\\HarddiskVolume3" + d.image.substr(2));
    field("CommandLine", d.command);
    field("RawProcessId", std::to_string(rng_.Between(100, 16000) * 4));
    field("TargetProcessId", std::to_string(target_id));
    field("ParentProcessId", std::to_string(parent_id));
    field("SourceProcessId", std::to_string(parent_id));
    field("SourceThreadId", std::to_string(rng_.Between(1000000000ULL, 90000000000ULL)));
    field("ParentBaseFileName", d.parent_image.substr(d.parent_image.rfind('\\') + 1));
    field("UserSid", SidOf(d));
    field("IntegrityLevel", std::to_string(rid));
    field("SHA256HashData", HashOf(d.hashes, "SHA256="));
    field("MD5HashData", HashOf(d.hashes, "MD5="));
    field("SHA1HashData", "0000000000000000000000000000000000000000");
    field("SessionId", std::to_string(d.session));
    field("AuthenticationId", std::to_string(d.logon_id));
    field("ParentAuthenticationId", std::to_string(d.logon_id));
    field("TokenType", d.runs == Runs::kUser && rid >= 12288 ? "2" : "1");
    field("ProcessCreateFlags", d.runs == Runs::kUser ? "67634196" : "525332");
    field("ImageSubsystem", d.kind == Kind::kConhost || d.kind == Kind::kCmd ? "3" : "2");
    field("EventOrigin", "1");
    field("ConfigBuild", "1007.3.0017706.1");
    field("ConfigStateHash", std::to_string(Mix(host.guid_prefix, 17) % 4000000000u));
    field("Entitlements", "15");
    field("Tags", "25, 27, 40, 151, 874, 924");
    e += "}\n";
  }

  Format format_;
  Rng rng_;
  std::vector<Host> hosts_;
  std::vector<User> users_;
  std::string domain_sid_;
  std::string cid_;
  std::vector<std::string> hashes_;  // per Kind
  std::vector<Kind> wheel_;          // kinds repeated by weight
  std::int64_t time_us_ = 0;
  std::uint64_t at_events_ = 0;
};

// ---- Command line ----

struct Flags {
  std::uint64_t events = 0;
  std::string out;
  std::uint64_t seed = kDefaultSeed;
  Format format = Format::kSysmonXml;
  std::uint64_t at_every = kAtEveryEvents;
};

bool ParseCount(const char* text, std::uint64_t* value) {
  char* end = nullptr;
  errno = 0;
  unsigned long long parsed = std::strtoull(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || text[0] == '-') return false;
  *value = parsed;
  return true;
}

constexpr const char* kUsage =
    "usage: quarry_gen_sysmon_xml --events N --out FILE [--seed S] [--at-every K]\n"
    "         [--format sysmon-xml|security-xml|fdr-jsonl|sysmon-evtx|security-evtx]\n"
    "Writes N synthetic process-creation events to FILE, one per line: Sysmon Event ID 1 event\n"
    "XML (the default, about 2.2 KB each), Windows Security 4688 event XML, or CrowdStrike FDR\n"
    "ProcessRollup2 JSON lines; or the Sysmon or Security events as an EVTX file (the same\n"
    "events as the XML format). The same N, seed and format always give the same bytes.\n"
    "Every K-th event (default 10000) is a remote at.exe run, for detection benchmarks.\n";

// The EVTX formats: the events of the matching XML format through the EVTX writer, a chunk at
// a time (memory stays flat whatever the event count).
int WriteEvtx(const Flags& flags) {
  quarry::testing::EvtxWriterOptions options;
  options.keep_layout = false;
  auto writer = quarry::testing::EvtxWriter::Create(flags.out, options);
  if (!writer.ok()) {
    std::fprintf(stderr, "quarry_gen_sysmon_xml: %s\n", writer.status().message().c_str());
    return 1;
  }
  Generator generator(flags.seed, flags.format, flags.at_every);
  quarry::testing::EvtxEvent event;
  EvtxSink sink(&event);
  quarry::Status status;
  for (std::uint64_t i = 0; i < flags.events && status.ok(); ++i) {
    generator.Fill(i, &sink);
    status = (*writer)->Add(event);
  }
  std::int64_t chunks = (*writer)->chunk_count();
  if (status.ok()) status = (*writer)->Finish();
  if (!status.ok()) {
    std::fprintf(stderr, "quarry_gen_sysmon_xml: %s\n", status.message().c_str());
    return 1;
  }
  std::error_code ec;
  auto bytes = static_cast<unsigned long long>(std::filesystem::file_size(flags.out, ec));
  std::fprintf(stderr,
               "quarry_gen_sysmon_xml: %s: %llu events, %llu bytes (%.0f bytes/event), %lld "
               "chunks, %zu hosts, %zu users, %llu at.exe events, seed %llu\n",
               flags.out.c_str(), static_cast<unsigned long long>(flags.events), bytes,
               flags.events ? static_cast<double>(bytes) / static_cast<double>(flags.events) : 0.0,
               static_cast<long long>(chunks), generator.host_count(), generator.user_count(),
               static_cast<unsigned long long>(generator.at_events()),
               static_cast<unsigned long long>(flags.seed));
  return 0;
}

int Main(int argc, char** argv) {
  Flags flags;
  bool have_events = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "quarry_gen_sysmon_xml: %s needs a value\n%s", argv[i], kUsage);
      return 2;
    }
    const char* value = argv[++i];
    if (arg == "--events" && ParseCount(value, &flags.events)) {
      have_events = true;
    } else if (arg == "--seed" && ParseCount(value, &flags.seed)) {
    } else if (arg == "--at-every" && ParseCount(value, &flags.at_every) && flags.at_every > 0) {
    } else if (arg == "--out") {
      flags.out = value;
    } else if (arg == "--format" && std::string_view(value) == "sysmon-xml") {
      flags.format = Format::kSysmonXml;
    } else if (arg == "--format" && std::string_view(value) == "security-xml") {
      flags.format = Format::kSecurityXml;
    } else if (arg == "--format" && std::string_view(value) == "fdr-jsonl") {
      flags.format = Format::kFdrJsonl;
    } else if (arg == "--format" && std::string_view(value) == "sysmon-evtx") {
      flags.format = Format::kSysmonEvtx;
    } else if (arg == "--format" && std::string_view(value) == "security-evtx") {
      flags.format = Format::kSecurityEvtx;
    } else {
      std::fprintf(stderr, "quarry_gen_sysmon_xml: bad argument %s %s\n%s", argv[i - 1], value,
                   kUsage);
      return 2;
    }
  }
  if (!have_events || flags.out.empty()) {
    std::fputs(kUsage, stderr);
    return 2;
  }

  if (flags.format == Format::kSysmonEvtx || flags.format == Format::kSecurityEvtx) {
    return WriteEvtx(flags);
  }
  std::FILE* file = std::fopen(flags.out.c_str(), "wb");
  if (file == nullptr) {
    std::fprintf(stderr, "quarry_gen_sysmon_xml: cannot create %s: %s\n", flags.out.c_str(),
                 std::strerror(errno));
    return 1;
  }
  Generator generator(flags.seed, flags.format, flags.at_every);
  std::string buffer;
  constexpr std::size_t kFlushBytes = 4 << 20;
  buffer.reserve(kFlushBytes + (64 << 10));
  std::uint64_t bytes = 0;
  bool ok = true;
  for (std::uint64_t i = 0; i < flags.events && ok; ++i) {
    generator.Append(i, &buffer);
    if (buffer.size() >= kFlushBytes || i + 1 == flags.events) {
      ok = std::fwrite(buffer.data(), 1, buffer.size(), file) == buffer.size();
      bytes += buffer.size();
      buffer.clear();
    }
  }
  if (std::fclose(file) != 0) ok = false;
  if (!ok) {
    std::fprintf(stderr, "quarry_gen_sysmon_xml: writing %s failed: %s\n", flags.out.c_str(),
                 std::strerror(errno));
    return 1;
  }
  std::fprintf(stderr,
               "quarry_gen_sysmon_xml: %s: %llu events, %llu bytes (%.0f bytes/event), "
               "%zu hosts, %zu users, %llu at.exe events, seed %llu\n",
               flags.out.c_str(), static_cast<unsigned long long>(flags.events),
               static_cast<unsigned long long>(bytes),
               flags.events ? static_cast<double>(bytes) / static_cast<double>(flags.events) : 0.0,
               generator.host_count(), generator.user_count(),
               static_cast<unsigned long long>(generator.at_events()),
               static_cast<unsigned long long>(flags.seed));
  return 0;
}

}  // namespace
}  // namespace quarry::bench

int main(int argc, char** argv) { return quarry::bench::Main(argc, argv); }
