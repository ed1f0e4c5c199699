// The case database: opening, creating and migrating it, and a small statement API over SQLite
// that turns SQLite's failures into Status values (the only place SQLite exceptions are caught).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "schema/status.h"

struct sqlite3;
struct sqlite3_stmt;
namespace SQLite {
class Database;
}

namespace quarry::schema {

/// `PRAGMA application_id` of every Quarry case database ("QRRY").
inline constexpr std::int32_t kApplicationId = 0x51525259;

/// The schema version this binary creates and reads: the number of embedded migrations.
int LatestSchemaVersion();

/// The SQL text of migration `version` (1..LatestSchemaVersion()).
std::string_view MigrationText(int version);

/// How a case database is opened.
enum class OpenMode {
  kReadWrite,  ///< create if missing, migrate to the latest schema (ingest only)
  kReadOnly,   ///< must exist and be at the latest schema; every write fails
  kResults,    ///< must exist; migrated; writes only the detection result tables (detect)
};

/// The type of a result column value.
enum class ValueType { kNull, kInteger, kReal, kText, kBlob };

/// A prepared statement. Bind indexes are 1-based, column indexes 0-based (as in SQLite).
class Statement {
 public:
  Statement() = default;
  explicit Statement(sqlite3_stmt* stmt) : stmt_(stmt) {}
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  /// Binds text without copying: `value` must stay alive until the next Reset().
  void BindText(int index, std::string_view value);
  /// Binds a copy of the text: `value` may go away at once.
  void BindTextCopy(int index, std::string_view value);
  /// Binds bytes as a BLOB without copying, same lifetime rule as BindText.
  void BindBlob(int index, std::string_view value);
  void BindInt(int index, std::int64_t value);
  void BindDouble(int index, double value);
  void BindNull(int index);
  /// Binds the text, or NULL when there is none.
  void BindText(int index, const std::optional<std::string>& value);
  /// Binds the integer, or NULL when there is none.
  void BindInt(int index, const std::optional<std::int64_t>& value);

  /// Executes one step: true when a result row is ready, false when the statement is done.
  /// A constraint violation, a write through a read-only connection or any other SQLite error
  /// is a failed Result with SQLite's message.
  Result<bool> Step();
  /// Steps to the end, then resets; for INSERT/UPDATE statements.
  Status Run();
  /// Makes the statement ready to run again and clears its bindings.
  void Reset();

  int ColumnCount() const;
  std::string_view ColumnName(int column) const;
  ValueType ColumnType(int column) const;
  std::int64_t ColumnInt(int column) const;
  double ColumnDouble(int column) const;
  /// Text (or BLOB bytes) of the column; valid until the next Step or Reset.
  std::string_view ColumnText(int column) const;
  /// How many parameters the SQL has; the largest bind index.
  int ParameterCount() const;
  /// The name of parameter `index` as written (":host", "@user", "$pid"), or "" for "?".
  std::string_view ParameterName(int index) const;
  /// True when the statement cannot change the database (SELECT, most PRAGMA reads).
  bool IsReadOnly() const;
  /// The SQL text the statement was prepared from.
  std::string_view Sql() const;

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

/// An open case database.
class CaseDb {
 public:
  /// Opens `path` (":memory:" works for tests). kReadWrite creates the file when it is missing
  /// and applies missing migrations; kReadOnly refuses a missing file. Either mode refuses,
  /// with kVersionMismatch, a database that is not a Quarry case (foreign application_id or
  /// foreign tables) or that a newer Quarry wrote (user_version above LatestSchemaVersion()).
  static Result<std::unique_ptr<CaseDb>> Open(const std::string& path, OpenMode mode);

  ~CaseDb();
  CaseDb(const CaseDb&) = delete;
  CaseDb& operator=(const CaseDb&) = delete;

  /// Runs one or more statements that return no rows.
  Status Exec(std::string_view sql);
  /// Prepares the first statement of `sql`. When `tail` is given it receives the unparsed rest
  /// (for running a script one statement at a time); an empty statement gives an empty
  /// Statement (ColumnCount 0, Step false).
  Result<Statement> Prepare(std::string_view sql, std::string_view* tail = nullptr);
  /// Runs a query that returns one integer (COUNT(*), PRAGMA user_version).
  Result<std::int64_t> QueryInt(std::string_view sql);

  /// Starts a read transaction and takes its snapshot at once: until EndRead(), every statement
  /// on this connection sees the case as it was at this call, whatever other connections commit
  /// meanwhile. For a reader whose statements must agree with each other (`quarry report`,
  /// `detect --dry-run`); allowed in every mode. While ingest writes (WAL) it costs the writer
  /// nothing; on a case at rest (rollback journal) it holds a shared lock until EndRead(), so an
  /// ingest starting meanwhile waits for it (up to the busy timeout, 10 s). Fails when a
  /// transaction is open already.
  Status BeginRead();
  /// Ends the read transaction BeginRead() started (COMMIT; nothing was written).
  Status EndRead();

  std::int64_t LastInsertRowId() const;
  /// The SQLite connection, for registering SQL functions (query/sql_functions.h).
  sqlite3* handle() const;
  int SchemaVersion() const { return schema_version_; }
  OpenMode mode() const { return mode_; }
  const std::string& path() const { return path_; }

 private:
  CaseDb(std::unique_ptr<SQLite::Database> db, std::string path, OpenMode mode);
  Status Migrate();
  Status CheckIdentity(bool allow_fresh);

  std::unique_ptr<SQLite::Database> db_;
  std::string path_;
  OpenMode mode_;
  int schema_version_ = 0;
};

}  // namespace quarry::schema
