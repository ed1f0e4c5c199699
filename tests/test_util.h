// Helpers shared by the tests: paths, temporary folders, running the quarry binary.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "ingest/process_event.h"
#include "schema/case_db.h"
#include "schema/status.h"

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
/// The same for any program (a path to an executable).
RunResult RunProgram(const std::string& program, const std::vector<std::string>& args,
                     const std::string& stdin_text = "");

/// How RunQuarryChild runs the quarry binary.
struct ChildOptions {
  /// RLIMIT_FSIZE in bytes, or -1 for none. SIGXFSZ is ignored in the child, so a write past the
  /// limit fails with EFBIG, as a write to a full disk fails with ENOSPC.
  std::int64_t max_file_bytes = -1;
};

/// The outcome of RunQuarryChild.
struct ChildResult {
  int exit_code = -1;               ///< -1 when a signal ended the process
  std::string out;                  ///< standard output
  std::string err;                  ///< standard error
  std::int64_t peak_rss_bytes = 0;  ///< the process's peak resident memory (wait4 ru_maxrss)
};

/// Runs the quarry binary with `args` (standard input empty) as a direct child, so that its own
/// peak memory is measured and a file size limit applies to it alone.
ChildResult RunQuarryChild(const std::vector<std::string>& args, const ChildOptions& options = {});

/// The Event Viewer "Save As XML" rendering of an EvtRender-style event: double quotes instead of
/// single ones, and a line break with indentation between elements.
std::string EventViewerRendering(const std::string& single_quoted_xml);

/// What decoding one file with Quarry gave, without a database.
struct Decoded {
  Status status;
  std::int64_t loaded = 0;
  std::int64_t skipped = 0;
  std::int64_t rejected = 0;
  std::vector<ingest::IngestWarning> warnings;
  std::vector<ingest::ProcessEvent> rows;

  /// Every warning's reason, one a line.
  std::string Reasons() const;
  bool HasWarning(const std::string& needle) const;
};

/// Decodes an EVTX file with Quarry's reader (ingest::DecodeEvtxFile).
Decoded DecodeEvtx(const std::string& path);
/// Decodes any input file as `quarry ingest` would (sniffed, then ingest::DecodeFile).
Decoded DecodeInput(const std::string& path);

/// True when python-evtx (Debian python3-evtx) imports under /usr/bin/python3.
bool HavePythonEvtx();
/// Renders every record python-evtx reads from `evtx` into the event XML file `xml`: an
/// <Events> document, one record a line (newlines inside a record dropped) unless
/// `keep_newlines`, with SystemTime turned from python-evtx's "2016-06-29 15:24:34.345999" into
/// the ISO form Windows writes, so that Quarry's XML path reads it. False when the script fails.
bool PythonEvtxToXml(const std::string& evtx, const std::string& xml, bool keep_newlines = false);

/// True when libevtx's evtxexport (Debian libevtx-utils) runs.
bool HaveEvtxexport();
/// `evtxexport -f xml` of `evtx` (stderr dropped) from its first <Event on, without the banner
/// line: concatenated event XML that Quarry's XML path reads. Empty when nothing was exported.
std::string EvtxexportXml(const std::string& evtx);

/// Opens a case (fails the test when it cannot) and runs an integer query on it.
std::unique_ptr<schema::CaseDb> OpenCase(const std::string& path, schema::OpenMode mode);
std::int64_t QueryInt(schema::CaseDb* db, const std::string& sql);
/// The rows of `sql` as JSON lines (query/ ad hoc output), for compact assertions.
std::string QueryJsonl(schema::CaseDb* db, const std::string& sql);

}  // namespace quarry::testing
