// Test helpers; see test_util.h.
#include "tests/test_util.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "ingest/decode.h"
#include "ingest/evtx.h"
#include "ingest/input_file.h"
#include "query/adhoc_query.h"

namespace quarry::testing {
namespace fs = std::filesystem;

std::string SourcePath(const std::string& relative) {
  return std::string(QUARRY_SOURCE_DIR) + "/" + relative;
}

std::string SharedPath(const std::string& relative) {
  return std::string(QUARRY_SHARED_DIR) + "/" + relative;
}

TempDir::TempDir() {
  std::string pattern = (fs::temp_directory_path() / "quarry-test-XXXXXX").string();
  char* made = mkdtemp(pattern.data());
  if (made == nullptr) ADD_FAILURE() << "mkdtemp failed";
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

namespace {
std::string ShellQuote(const std::string& arg) {
  std::string out = "'";
  for (char c : arg) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out.push_back(c);
    }
  }
  return out + "'";
}
}  // namespace

RunResult RunQuarry(const std::vector<std::string>& args, const std::string& stdin_text) {
  return RunProgram(QUARRY_BINARY, args, stdin_text);
}

RunResult RunProgram(const std::string& program, const std::vector<std::string>& args,
                     const std::string& stdin_text) {
  TempDir dir;
  std::string command = ShellQuote(program);
  // append() throughout: GCC 12 at -O3 warns falsely (-Wrestrict) on "literal" + string.
  for (const std::string& arg : args) command.append(" ").append(ShellQuote(arg));
  WriteFile(dir.File("in"), stdin_text);
  command.append(" < ").append(ShellQuote(dir.File("in")));
  command.append(" > ").append(ShellQuote(dir.File("out")));
  command.append(" 2> ").append(ShellQuote(dir.File("err")));
  int status = std::system(command.c_str());
  RunResult result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.out = ReadFile(dir.File("out"));
  result.err = ReadFile(dir.File("err"));
  return result;
}

ChildResult RunQuarryChild(const std::vector<std::string>& args, const ChildOptions& options) {
  TempDir dir;
  const std::string out_path = dir.File("out");
  const std::string err_path = dir.File("err");
  std::vector<std::string> all = {QUARRY_BINARY};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& arg : all) argv.push_back(arg.data());
  argv.push_back(nullptr);
  ChildResult result;
  pid_t pid = fork();
  if (pid < 0) {
    ADD_FAILURE() << "fork failed";
    return result;
  }
  if (pid == 0) {  // the child: only async-signal-safe calls until exec
    int in = open("/dev/null", O_RDONLY);
    int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (in < 0 || out < 0 || err < 0) _exit(126);
    dup2(in, 0);
    dup2(out, 1);
    dup2(err, 2);
    if (options.max_file_bytes >= 0) {
      signal(SIGXFSZ, SIG_IGN);  // kept across exec: writes past the limit fail with EFBIG
      rlimit limit{static_cast<rlim_t>(options.max_file_bytes),
                   static_cast<rlim_t>(options.max_file_bytes)};
      if (setrlimit(RLIMIT_FSIZE, &limit) != 0) _exit(126);
    }
    execv(argv[0], argv.data());
    _exit(127);
  }
  int status = 0;
  rusage usage{};
  while (wait4(pid, &status, 0, &usage) < 0) {
    if (errno != EINTR) {
      ADD_FAILURE() << "wait4 failed";
      return result;
    }
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.peak_rss_bytes = static_cast<std::int64_t>(usage.ru_maxrss) * 1024;  // KiB on Linux
  result.out = ReadFile(out_path);
  result.err = ReadFile(err_path);
  return result;
}

std::string EventViewerRendering(const std::string& single_quoted_xml) {
  std::string out;
  for (char c : single_quoted_xml) {
    if (c == '<' && !out.empty() && out.back() == '>') out += "\r\n    ";
    out.push_back(c == '\'' ? '"' : c);
  }
  return out;
}

std::string Decoded::Reasons() const {
  std::string all;
  for (const auto& w : warnings) all += w.reason + "\n";
  return all;
}

bool Decoded::HasWarning(const std::string& needle) const {
  return Reasons().find(needle) != std::string::npos;
}

namespace {
ingest::BatchSink CollectInto(Decoded* out) {
  return [out](ingest::DecodedBatch&& batch) {
    out->loaded += static_cast<std::int64_t>(batch.events.size());
    out->skipped += batch.events_skipped;
    out->rejected += batch.records_rejected;
    for (auto& w : batch.warnings) out->warnings.push_back(std::move(w));
    for (auto& e : batch.events) out->rows.push_back(std::move(e));
    return true;
  };
}
}  // namespace

Decoded DecodeEvtx(const std::string& path) {
  Decoded out;
  ingest::SniffResult sniff;
  sniff.format = "evtx";
  out.status = ingest::DecodeEvtxFile(path, sniff, ingest::DecodeOptions(), CollectInto(&out));
  return out;
}

Decoded DecodeInput(const std::string& path) {
  Decoded out;
  Result<ingest::SniffResult> sniff = ingest::SniffFile(path);
  if (!sniff.ok()) {
    out.status = sniff.status();
    return out;
  }
  out.status = ingest::DecodeFile(path, *sniff, ingest::DecodeOptions(), CollectInto(&out));
  return out;
}

bool HavePythonEvtx() {
  return std::system("/usr/bin/python3 -c 'import Evtx.Evtx' 2>/dev/null") == 0;
}

bool PythonEvtxToXml(const std::string& evtx, const std::string& xml, bool keep_newlines) {
  // python-evtx renders SystemTime as "2016-06-29 15:24:34.345999"; the script turns it into
  // the ISO form Windows writes so that Quarry's XML path reads it.
  static constexpr char kScript[] = R"PY(
import re, sys
import Evtx.Evtx as evtx
src, dst, keep = sys.argv[1], sys.argv[2], sys.argv[3] == "keep"
fix = re.compile(r'SystemTime="(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d(?:\.\d+)?)"')
with evtx.Evtx(src) as log, open(dst, "w", encoding="utf-8", newline="") as out:
    out.write('<?xml version="1.0" encoding="utf-8"?>\n<Events>\n')
    for record in log.records():
        try:
            xml = record.xml()
        except Exception as e:
            continue
        xml = fix.sub(r'SystemTime="\1T\2Z"', xml)
        out.write((xml if keep else xml.replace("\n", "")) + "\n")
    out.write("</Events>\n")
)PY";
  TempDir dir;
  WriteFile(dir.File("oracle.py"), kScript);
  std::string command = "/usr/bin/python3 " + ShellQuote(dir.File("oracle.py")) + " " +
                        ShellQuote(evtx) + " " + ShellQuote(xml) + " " +
                        (keep_newlines ? "keep" : "strip");
  return std::system(command.c_str()) == 0;
}

bool HaveEvtxexport() { return std::system("evtxexport -h > /dev/null 2>&1") == 0; }

std::string EvtxexportXml(const std::string& evtx) {
  TempDir dir;
  std::string command = "evtxexport -f xml " + ShellQuote(evtx) + " > " +
                        ShellQuote(dir.File("out")) + " 2> /dev/null";
  (void)std::system(command.c_str());
  std::string text = ReadFile(dir.File("out"));
  std::size_t first = text.find("<Event ");
  return first == std::string::npos ? std::string() : text.substr(first);
}

std::unique_ptr<schema::CaseDb> OpenCase(const std::string& path, schema::OpenMode mode) {
  Result<std::unique_ptr<schema::CaseDb>> db = schema::CaseDb::Open(path, mode);
  EXPECT_TRUE(db.ok()) << db.status().message();
  return db.ok() ? std::move(db).value() : nullptr;
}

std::int64_t QueryInt(schema::CaseDb* db, const std::string& sql) {
  Result<std::int64_t> value = db->QueryInt(sql);
  EXPECT_TRUE(value.ok()) << sql << ": " << value.status().message();
  return value.ok() ? *value : -1;
}

std::string QueryJsonl(schema::CaseDb* db, const std::string& sql) {
  std::ostringstream out;
  Status status = query::RunAdHocQuery(db, sql, query::OutputFormat::kJsonl, out);
  EXPECT_TRUE(status.ok()) << sql << ": " << status.message();
  return out.str();
}

}  // namespace quarry::testing
