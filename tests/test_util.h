// Helpers shared by the tests: paths, temporary folders, running the quarry binary.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "schema/case_db.h"

namespace quarry::testing {

/// The project's source tree, ../shared beside it, and a fixture's path.
std::string SourcePath(const std::string& relative);
std::string SharedPath(const std::string& relative);

/// A fresh empty folder under the system temp folder, removed with its contents on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

/// Writes `bytes` to `path`, replacing it.
void WriteFile(const std::string& path, const std::string& bytes);
/// The whole file, or "" when it cannot be read.
std::string ReadFile(const std::string& path);

/// The outcome of one run of the quarry executable.
struct RunResult {
  int exit_code = -1;
  std::string out;  ///< standard output
  std::string err;  ///< standard error
};

/// Runs the quarry binary with `args` (each passed as one argument), optionally with `stdin_text`.
RunResult RunQuarry(const std::vector<std::string>& args, const std::string& stdin_text = "");

/// The Event Viewer "Save As XML" rendering of an EvtRender-style event: double quotes instead of
/// single ones, and a line break with indentation between elements.
std::string EventViewerRendering(const std::string& single_quoted_xml);

/// Opens a case (fails the test when it cannot) and runs an integer query on it.
std::unique_ptr<schema::CaseDb> OpenCase(const std::string& path, schema::OpenMode mode);
std::int64_t QueryInt(schema::CaseDb* db, const std::string& sql);
/// The rows of `sql` as JSON lines (query/ ad hoc output), for compact assertions.
std::string QueryJsonl(schema::CaseDb* db, const std::string& sql);

}  // namespace quarry::testing
