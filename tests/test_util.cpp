// Test helpers; see test_util.h.
#include "tests/test_util.h"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

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
  TempDir dir;
  std::string command = ShellQuote(QUARRY_BINARY);
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

std::string EventViewerRendering(const std::string& single_quoted_xml) {
  std::string out;
  for (char c : single_quoted_xml) {
    if (c == '<' && !out.empty() && out.back() == '>') out += "\r\n    ";
    out.push_back(c == '\'' ? '"' : c);
  }
  return out;
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
