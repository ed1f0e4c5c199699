// Opening and migrating case databases; Statement over the SQLite C API.
#include "schema/case_db.h"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Exception.h>
#include <sqlite3.h>
#include <sys/resource.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>

#include "schema/embedded_file.h"
#include "schema/raw_record.h"

namespace quarry::schema {

extern const EmbeddedFile kEmbeddedFiles[];
extern const int kEmbeddedFileCount;

namespace {

// How long a statement waits for another connection's lock. Readers give up after 10 s. A
// writer (ingest, detect) waits for a report or dry run holding a read snapshot of a case at rest
// (rollback journal: the reader's shared lock keeps writers out until it ends).
constexpr int kBusyTimeoutMs = 10000;
constexpr int kWriterBusyTimeoutMs = 600000;
// The page cache of a read-write connection (ingest's; SQLite's default is 2,000 KiB). A file is
// one transaction; with the default cache SQLite keeps spilling index pages into the WAL and
// reading them back. 16 and 64 MiB loaded 1,000,000 Sysmon events equally fast, 2 MB took 1.6
// times as long (docs/performance.md, "The writer's page cache").
constexpr int kWriterCacheKiB = 32 * 1024;
// The page size of a new case (SQLite's default is 4,096). A file is one transaction, and every
// page it writes after the first spill is looked up in the WAL index, whose hash tables are
// searched back to the transaction's start: with 4 KiB pages that search was 10 % of inserting
// 3,000,000 Sysmon rows and grew with the transaction. Pages four times larger make four times
// fewer frames in a quarter of the tables, and the case about a tenth smaller. The cost: a
// commit writes whole pages, so many small files are slower (1,000 files of 1,000 Sysmon
// events, 54.3 s at 4 KiB and 64.7 s at 16 KiB). docs/performance.md, "Page size, checkpoints
// and many files". A case keeps the page size it was created with.
constexpr int kNewCasePageSize = 16384;
// How many bytes of committed transactions the WAL gathers before SQLite moves them into the
// case (SQLite's default is 1,000 pages). Each move syncs the WAL and the case to disk; with
// many small files at the default it came after nearly every file: 1,000 files of 1,000 Sysmon
// events took 84.7 s at 4 MB (4 KiB pages) and 54.3 s at 64 MiB (docs/performance.md, "Page
// size, checkpoints and many files"). Set in bytes, whatever the case's page size.
constexpr std::int64_t kWalAutoCheckpointBytes = std::int64_t{64} << 20;

// The operating system's reason for an I/O failure, as " (File too large)", or "" for any other
// failure. SQLite says "disk I/O error" whether the disk is full, a file size limit is reached or
// the device fails, and sometimes "database or disk is full" for ENOSPC; the errno of the system
// call that failed tells a responder which, and whether freeing space will help.
std::string SystemCause(sqlite3* db) {
  int primary = sqlite3_extended_errcode(db) & 0xff;
  if (primary != SQLITE_IOERR && primary != SQLITE_FULL && primary != SQLITE_CANTOPEN) return {};
  int error = sqlite3_system_errno(db);
  if (error != 0) return std::string(" (") + std::strerror(error) + ")";
  if (primary != SQLITE_IOERR) return {};
  const int extended = sqlite3_extended_errcode(db);
  const bool writing = extended == SQLITE_IOERR_WRITE || extended == SQLITE_IOERR_FSYNC ||
                       extended == SQLITE_IOERR_TRUNCATE || extended == SQLITE_IOERR;
  // SQLite does not keep the errno of every failed write (a commit of a WAL transaction loses
  // it). A file of the case at the process's file size limit (ulimit -f) explains it; otherwise
  // say what usually lies behind an I/O error rather than nothing.
  struct rlimit limit {};
  const char* main_file = sqlite3_db_filename(db, "main");
  if (writing && main_file != nullptr && *main_file != '\0' &&
      getrlimit(RLIMIT_FSIZE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) {
    for (const char* suffix : {"", "-wal", "-journal"}) {
      std::string file = std::string(main_file) + suffix;
      std::error_code ec;
      std::uintmax_t size = std::filesystem::file_size(file, ec);
      // A write that crosses the limit stops at it; the next one fails.
      if (!ec && size <= limit.rlim_cur && size + 65536 >= limit.rlim_cur) {
        return " (" + std::string(std::strerror(EFBIG)) + ": " + file + " is " +
               std::to_string(size) + " bytes, at the file size limit of " +
               std::to_string(limit.rlim_cur) + " bytes; the system's own reason was lost)";
      }
    }
  }
  return " (no reason from the system; a full disk or a file size limit is the usual one)";
}

Status SqliteError(sqlite3* db, std::string_view what) {
  int code = sqlite3_extended_errcode(db);
  std::string message = std::string(what) + ": " + sqlite3_errmsg(db) + SystemCause(db);
  if ((code & 0xff) == SQLITE_READONLY) return {StatusCode::kReadOnly, message};
  if ((code & 0xff) == SQLITE_NOTADB || (code & 0xff) == SQLITE_CORRUPT) {
    return {StatusCode::kCorrupt, message};
  }
  if ((code & 0xff) == SQLITE_FULL || (code & 0xff) == SQLITE_IOERR) {
    return {StatusCode::kIoError, message};
  }
  return {StatusCode::kInvalidArgument, message};
}

// A read-only case allows reading and nothing else: no ATTACH (which could create a file), no
// VACUUM INTO, no writes even where SQLite's own read-only flag would let a statement through.
int ReadOnlyAuthorizer(void*, int action, const char* arg1, const char*, const char*, const char*) {
  switch (action) {
    case SQLITE_SELECT:
    case SQLITE_READ:
    case SQLITE_FUNCTION:
    case SQLITE_RECURSIVE:
      return SQLITE_OK;
    // BEGIN, COMMIT and ROLLBACK, so that a reader can keep one snapshot across statements
    // (CaseDb::BeginRead). The kind of BEGIN is not told apart here, and need not be: BEGIN
    // IMMEDIATE or EXCLUSIVE asks for a write lock, which query_only and the read-only open
    // refuse. SAVEPOINT stays refused.
    case SQLITE_TRANSACTION:
      return SQLITE_OK;
    case SQLITE_PRAGMA: {  // not query_only, which guards the connection, in any spelling
      if (arg1 == nullptr) return SQLITE_DENY;
      std::string name(arg1);
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      return name == "query_only" ? SQLITE_DENY : SQLITE_OK;
    }
    default:
      return SQLITE_DENY;
  }
}

// `quarry detect` may write its own tables and nothing else: the evidence (process events, input
// files, warnings, lookups) stays as ingest left it whatever SQL runs on this connection.
int ResultsAuthorizer(void*, int action, const char* arg1, const char*, const char*, const char*) {
  switch (action) {
    case SQLITE_SELECT:
    case SQLITE_READ:
    case SQLITE_FUNCTION:
    case SQLITE_RECURSIVE:
    case SQLITE_TRANSACTION:
    case SQLITE_SAVEPOINT:
      return SQLITE_OK;
    case SQLITE_INSERT:
    case SQLITE_UPDATE:
    case SQLITE_DELETE: {
      if (arg1 == nullptr) return SQLITE_DENY;
      std::string_view table(arg1);
      return table == "detection_runs" || table == "detection_results" || table == "risk_events" ||
                     table == "risk_incidents"
                 ? SQLITE_OK
                 : SQLITE_DENY;
    }
    default:
      return SQLITE_DENY;
  }
}

}  // namespace

int LatestSchemaVersion() { return kEmbeddedFileCount; }

std::string_view MigrationText(int version) {
  return version >= 1 && version <= kEmbeddedFileCount ? kEmbeddedFiles[version - 1].text
                                                       : std::string_view();
}

// ---- Statement ----

Statement::Statement(Statement&& other) noexcept : stmt_(other.stmt_) { other.stmt_ = nullptr; }

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(stmt_);
    stmt_ = other.stmt_;
    other.stmt_ = nullptr;
  }
  return *this;
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

void Statement::BindText(int index, std::string_view value) {
  sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_STATIC, SQLITE_UTF8);
}

void Statement::BindTextCopy(int index, std::string_view value) {
  sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
}

void Statement::BindBlob(int index, std::string_view value) {
  sqlite3_bind_blob64(stmt_, index, value.data(), value.size(), SQLITE_STATIC);
}

void Statement::BindDouble(int index, double value) { sqlite3_bind_double(stmt_, index, value); }

void Statement::BindInt(int index, std::int64_t value) { sqlite3_bind_int64(stmt_, index, value); }

void Statement::BindNull(int index) { sqlite3_bind_null(stmt_, index); }

void Statement::BindText(int index, const std::optional<std::string>& value) {
  if (value) {
    BindText(index, std::string_view(*value));
  } else {
    BindNull(index);
  }
}

void Statement::BindInt(int index, const std::optional<std::int64_t>& value) {
  if (value) {
    BindInt(index, *value);
  } else {
    BindNull(index);
  }
}

Result<bool> Statement::Step() {
  if (stmt_ == nullptr) return false;
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return SqliteError(sqlite3_db_handle(stmt_), "SQL failed");
}

Status Statement::Run() {
  while (true) {
    Result<bool> row = Step();
    if (!row.ok()) {
      Reset();
      return row.status();
    }
    if (!*row) break;
  }
  Reset();
  return Status::Ok();
}

void Statement::Reset() {
  if (stmt_ == nullptr) return;
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

int Statement::ColumnCount() const { return stmt_ ? sqlite3_column_count(stmt_) : 0; }

std::string_view Statement::ColumnName(int column) const {
  const char* name = sqlite3_column_name(stmt_, column);
  return name ? name : "";
}

ValueType Statement::ColumnType(int column) const {
  switch (sqlite3_column_type(stmt_, column)) {
    case SQLITE_INTEGER:
      return ValueType::kInteger;
    case SQLITE_FLOAT:
      return ValueType::kReal;
    case SQLITE_TEXT:
      return ValueType::kText;
    case SQLITE_BLOB:
      return ValueType::kBlob;
    default:
      return ValueType::kNull;
  }
}

std::int64_t Statement::ColumnInt(int column) const { return sqlite3_column_int64(stmt_, column); }

double Statement::ColumnDouble(int column) const { return sqlite3_column_double(stmt_, column); }

std::string_view Statement::ColumnText(int column) const {
  const void* data = sqlite3_column_blob(stmt_, column);
  int size = sqlite3_column_bytes(stmt_, column);
  if (data == nullptr) return {};
  return {static_cast<const char*>(data), static_cast<std::size_t>(size)};
}

int Statement::ParameterCount() const { return stmt_ ? sqlite3_bind_parameter_count(stmt_) : 0; }

std::string_view Statement::ParameterName(int index) const {
  const char* name = stmt_ ? sqlite3_bind_parameter_name(stmt_, index) : nullptr;
  return name ? name : "";
}

bool Statement::IsReadOnly() const { return stmt_ == nullptr || sqlite3_stmt_readonly(stmt_) != 0; }

std::string_view Statement::Sql() const {
  const char* sql = stmt_ ? sqlite3_sql(stmt_) : nullptr;
  return sql ? sql : "";
}

// ---- CaseDb ----

CaseDb::CaseDb(std::unique_ptr<SQLite::Database> db, std::string path, OpenMode mode)
    : db_(std::move(db)), path_(std::move(path)), mode_(mode) {}

CaseDb::~CaseDb() {
  // Leave a written case as one file (rollback-journal mode): readers then need no -shm file,
  // so a case on read-only media or in a read-only folder opens, and queries leave nothing
  // behind. Best effort, without waiting: while another connection has the case open it stays
  // in WAL mode, which is as correct. The next ingest switches WAL on again.
  if (mode_ == OpenMode::kReadWrite && path_ != ":memory:" && db_) {
    sqlite3_busy_timeout(db_->getHandle(), 0);
    (void)Exec("PRAGMA journal_mode = DELETE");
  }
}

Result<std::unique_ptr<CaseDb>> CaseDb::Open(const std::string& path, OpenMode mode) {
  bool in_memory = path == ":memory:";
  std::error_code exists_error;
  if (mode != OpenMode::kReadWrite && !in_memory && !std::filesystem::exists(path, exists_error)) {
    return Status(
        StatusCode::kNotFound,
        "no case database at " + path + (exists_error ? " (" + exists_error.message() + ")" : ""));
  }
  std::unique_ptr<SQLite::Database> db;
  try {
    int flags = mode == OpenMode::kReadOnly  ? SQLite::OPEN_READONLY
                : mode == OpenMode::kResults ? SQLite::OPEN_READWRITE
                                             : (SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    db = std::make_unique<SQLite::Database>(
        path, flags, mode == OpenMode::kReadOnly ? kBusyTimeoutMs : kWriterBusyTimeoutMs);
  } catch (const SQLite::Exception& e) {
    return Status(StatusCode::kIoError, "cannot open case database " + path + ": " + e.what());
  }
  std::unique_ptr<CaseDb> cdb(new CaseDb(std::move(db), path, mode));
  QUARRY_RETURN_IF_ERROR(RegisterRawFunctions(cdb->handle()));
  if (mode == OpenMode::kReadOnly) {
    QUARRY_RETURN_IF_ERROR(cdb->CheckIdentity(/*allow_fresh=*/false));
    if (cdb->schema_version_ < LatestSchemaVersion()) {
      return Status(StatusCode::kVersionMismatch,
                    path + " has schema version " + std::to_string(cdb->schema_version_) +
                        "; this quarry reads version " + std::to_string(LatestSchemaVersion()) +
                        ". Run `quarry ingest --db " + path + "` once to upgrade it.");
    }
    QUARRY_RETURN_IF_ERROR(cdb->Exec("PRAGMA query_only = ON"));
    sqlite3_set_authorizer(cdb->db_->getHandle(), ReadOnlyAuthorizer, nullptr);
    return cdb;
  }
  if (mode == OpenMode::kResults) {
    QUARRY_RETURN_IF_ERROR(cdb->CheckIdentity(/*allow_fresh=*/false));
    QUARRY_RETURN_IF_ERROR(cdb->Exec("PRAGMA foreign_keys = ON"));
    QUARRY_RETURN_IF_ERROR(cdb->Migrate());
    sqlite3_set_authorizer(cdb->db_->getHandle(), ResultsAuthorizer, nullptr);
    return cdb;
  }
  QUARRY_RETURN_IF_ERROR(cdb->CheckIdentity(/*allow_fresh=*/true));
  if (cdb->schema_version_ == 0) {
    // Only takes effect before the database's first page is written, and before WAL mode.
    QUARRY_RETURN_IF_ERROR(cdb->Exec("PRAGMA page_size = " + std::to_string(kNewCasePageSize)));
  }
  if (!in_memory) {
    QUARRY_RETURN_IF_ERROR(cdb->Exec("PRAGMA journal_mode = WAL"));
  }
  QUARRY_RETURN_IF_ERROR(cdb->Exec("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON"));
  QUARRY_RETURN_IF_ERROR(cdb->Exec("PRAGMA cache_size = -" + std::to_string(kWriterCacheKiB)));
  QUARRY_RETURN_IF_ERROR(cdb->Migrate());
  Result<std::int64_t> page_size = cdb->QueryInt("PRAGMA page_size");
  if (!page_size.ok()) return page_size.status();
  QUARRY_RETURN_IF_ERROR(
      cdb->Exec("PRAGMA wal_autocheckpoint = " +
                std::to_string(std::max<std::int64_t>(1, kWalAutoCheckpointBytes / *page_size))));
  return cdb;
}

Status CaseDb::CheckIdentity(bool allow_fresh) {
  Result<std::int64_t> app_id = QueryInt("PRAGMA application_id");
  if (!app_id.ok()) {
    return Status(StatusCode::kCorrupt,
                  path_ + " is not a Quarry case database (" + app_id.status().message() + ")");
  }
  Result<std::int64_t> version = QueryInt("PRAGMA user_version");
  if (!version.ok()) return version.status();
  schema_version_ = static_cast<int>(*version);
  if (*app_id == 0) {
    Result<std::int64_t> objects = QueryInt("SELECT count(*) FROM sqlite_schema");
    if (!objects.ok()) return objects.status();
    if (*objects == 0 && allow_fresh) return Status::Ok();
    if (*objects == 0) {
      return Status(StatusCode::kVersionMismatch, path_ + " is an empty database, not a case");
    }
    return Status(StatusCode::kVersionMismatch,
                  path_ + " is an SQLite database but not a Quarry case database");
  }
  if (*app_id != kApplicationId) {
    return Status(
        StatusCode::kVersionMismatch,
        path_ + " is not a Quarry case database (application_id " + std::to_string(*app_id) + ")");
  }
  if (schema_version_ > LatestSchemaVersion()) {
    return Status(StatusCode::kVersionMismatch,
                  path_ + " was written by a newer Quarry (schema version " +
                      std::to_string(schema_version_) + "; this quarry knows versions up to " +
                      std::to_string(LatestSchemaVersion()) + "). Use a newer quarry to open it.");
  }
  return Status::Ok();
}

Status CaseDb::Migrate() {
  for (int version = schema_version_ + 1; version <= LatestSchemaVersion(); ++version) {
    const EmbeddedFile& migration = kEmbeddedFiles[version - 1];
    QUARRY_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
    Status status = Exec(migration.text);
    if (status.ok()) {
      status = Exec("PRAGMA application_id = " + std::to_string(kApplicationId) +
                    "; PRAGMA user_version = " + std::to_string(version));
    }
    if (!status.ok()) {
      (void)Exec("ROLLBACK");
      return Status(StatusCode::kInternal,
                    "migration " + std::string(migration.name) + " failed: " + status.message());
    }
    QUARRY_RETURN_IF_ERROR(Exec("COMMIT"));
    schema_version_ = version;
  }
  return Status::Ok();
}

Status CaseDb::Exec(std::string_view sql) {
  std::string text(sql);
  char* error = nullptr;
  int rc = sqlite3_exec(db_->getHandle(), text.c_str(), nullptr, nullptr, &error);
  if (rc == SQLITE_OK) return Status::Ok();
  std::string message = (error ? error : sqlite3_errstr(rc)) + SystemCause(db_->getHandle());
  sqlite3_free(error);
  Status status = SqliteError(db_->getHandle(), "SQL failed");
  return Status(status.code(), "SQL failed: " + message);
}

Status CaseDb::BeginRead() {
  QUARRY_RETURN_IF_ERROR(Exec("BEGIN DEFERRED"));
  // A deferred transaction takes its snapshot at its first read: read now, so that the
  // snapshot is the case as it is at this call rather than at the caller's first statement.
  Result<std::int64_t> read = QueryInt("SELECT count(*) FROM sqlite_schema");
  if (!read.ok()) {
    (void)Exec("ROLLBACK");
    return read.status();
  }
  return Status::Ok();
}

Status CaseDb::EndRead() { return Exec("COMMIT"); }

Result<Statement> CaseDb::Prepare(std::string_view sql, std::string_view* tail) {
  sqlite3_stmt* stmt = nullptr;
  const char* rest = nullptr;
  if (sql.size() > static_cast<std::size_t>(INT32_MAX)) {
    return Status(StatusCode::kInvalidArgument, "SQL text too long");
  }
  int rc =
      sqlite3_prepare_v2(db_->getHandle(), sql.data(), static_cast<int>(sql.size()), &stmt, &rest);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(stmt);
    return SqliteError(db_->getHandle(), "SQL error");
  }
  if (tail != nullptr) {
    *tail = sql.substr(static_cast<std::size_t>(rest - sql.data()));
  }
  return Statement(stmt);
}

Result<std::int64_t> CaseDb::QueryInt(std::string_view sql) {
  Result<Statement> stmt = Prepare(sql);
  if (!stmt.ok()) return stmt.status();
  Result<bool> row = stmt->Step();
  if (!row.ok()) return row.status();
  if (!*row) return Status(StatusCode::kInternal, "query returned no row: " + std::string(sql));
  return stmt->ColumnInt(0);
}

sqlite3* CaseDb::handle() const { return db_->getHandle(); }

std::int64_t CaseDb::LastInsertRowId() const { return sqlite3_last_insert_rowid(db_->getHandle()); }

}  // namespace quarry::schema
