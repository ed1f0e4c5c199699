// schema/: creating, identifying, migrating and protecting case databases; the processes view.
#include "schema/case_db.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <string>

#include "ingest/input_file.h"
#include "schema/embedded_file.h"
#include "tests/test_util.h"

namespace quarry::schema {
extern const EmbeddedFile kEmbeddedFiles[];
}

namespace quarry::testing {
namespace {

using schema::CaseDb;
using schema::OpenMode;

TEST(CaseDbTest, CreatesACaseWithIdentityVersionAndWal) {
  TempDir dir;
  auto db = OpenCase(dir.File("case.db"), OpenMode::kReadWrite);
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(QueryInt(db.get(), "PRAGMA application_id"), schema::kApplicationId);
  EXPECT_EQ(QueryInt(db.get(), "PRAGMA user_version"), schema::LatestSchemaVersion());
  Result<schema::Statement> journal = db->Prepare("PRAGMA journal_mode");
  ASSERT_TRUE(journal.ok());
  ASSERT_TRUE(journal->Step().value());
  EXPECT_EQ(journal->ColumnText(0), "wal");
  for (const char* name :
       {"process_events", "input_files", "ingest_warnings", "processes", "process_evidence"}) {
    EXPECT_EQ(QueryInt(db.get(), std::string("SELECT count(*) FROM sqlite_schema WHERE name = '") +
                                     name + "'"),
              1)
        << name;
  }
}

TEST(CaseDbTest, ANewCaseHasLargePagesAndAnOlderCaseKeepsItsOwn) {
  TempDir dir;
  std::string path = dir.File("case.db");
  {
    auto db = OpenCase(path, OpenMode::kReadWrite);
    EXPECT_EQ(QueryInt(db.get(), "PRAGMA page_size"), 16384);
    // The WAL is moved into the case every 64 MiB, whatever the page size.
    EXPECT_EQ(QueryInt(db.get(), "PRAGMA wal_autocheckpoint"), 4096);
  }
  // A case made before new cases had 16 KiB pages: the same schema in 4 KiB pages (VACUUM
  // changes the page size of a database that is not in WAL mode, as a closed case is not).
  {
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &raw), SQLITE_OK);
    EXPECT_EQ(sqlite3_exec(raw, "PRAGMA page_size = 4096; VACUUM", nullptr, nullptr, nullptr),
              SQLITE_OK)
        << sqlite3_errmsg(raw);
    sqlite3_close(raw);
  }
  {
    auto db = OpenCase(path, OpenMode::kReadWrite);
    EXPECT_EQ(QueryInt(db.get(), "PRAGMA page_size"), 4096);
    EXPECT_EQ(QueryInt(db.get(), "PRAGMA wal_autocheckpoint"), 16384);
    ASSERT_TRUE(db->Exec("INSERT INTO input_files (path, sha256, size_bytes, status, ingested_at, "
                         "quarry_version) VALUES ('a', 'b', 1, 'skipped', 'now', 'x')")
                    .ok());
  }
  auto db = OpenCase(path, OpenMode::kReadOnly);
  EXPECT_EQ(QueryInt(db.get(), "PRAGMA page_size"), 4096);
  EXPECT_EQ(QueryInt(db.get(), "SELECT count(*) FROM input_files"), 1);
}

TEST(CaseDbTest, AClosedCaseIsOneFileAndQueriesLeaveNothingBehind) {
  TempDir dir;
  std::string path = dir.File("case.db");
  { auto db = OpenCase(path, OpenMode::kReadWrite); }
  EXPECT_FALSE(std::filesystem::exists(path + "-wal"));
  EXPECT_FALSE(std::filesystem::exists(path + "-shm"));
  {
    auto db = OpenCase(path, OpenMode::kReadOnly);
    EXPECT_EQ(QueryJsonl(db.get(), "SELECT count(*) AS n FROM processes"), "{\"n\": 0}\n");
    Result<schema::Statement> journal = db->Prepare("PRAGMA journal_mode");
    ASSERT_TRUE(journal.ok());
    ASSERT_TRUE(journal->Step().value());
    EXPECT_EQ(journal->ColumnText(0), "delete");
  }
  std::size_t files = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir.path()))
    ++files;
  EXPECT_EQ(files, 1u);
}

TEST(CaseDbTest, MigrationFilesAreNumberedInOrder) {
  ASSERT_GE(schema::LatestSchemaVersion(), 1);
  for (int i = 0; i < schema::LatestSchemaVersion(); ++i) {
    char prefix[16];
    std::snprintf(prefix, sizeof prefix, "%04d_", i + 1);
    EXPECT_TRUE(schema::kEmbeddedFiles[i].name.starts_with(prefix))
        << schema::kEmbeddedFiles[i].name;
  }
}

TEST(CaseDbTest, ReopeningKeepsDataAndDoesNotMigrateAgain) {
  TempDir dir;
  {
    auto db = OpenCase(dir.File("case.db"), OpenMode::kReadWrite);
    ASSERT_TRUE(db->Exec("INSERT INTO input_files (path, sha256, size_bytes, status, ingested_at, "
                         "quarry_version) VALUES ('a', 'b', 1, 'skipped', 'now', 'x')")
                    .ok());
  }
  auto db = OpenCase(dir.File("case.db"), OpenMode::kReadWrite);
  EXPECT_EQ(QueryInt(db.get(), "SELECT count(*) FROM input_files"), 1);
}

TEST(CaseDbTest, RefusesADatabaseFromANewerQuarry) {
  TempDir dir;
  {
    auto db = OpenCase(dir.File("case.db"), OpenMode::kReadWrite);
    ASSERT_TRUE(
        db->Exec("PRAGMA user_version = " + std::to_string(schema::LatestSchemaVersion() + 1))
            .ok());
  }
  for (OpenMode mode : {OpenMode::kReadWrite, OpenMode::kReadOnly}) {
    Result<std::unique_ptr<CaseDb>> db = CaseDb::Open(dir.File("case.db"), mode);
    ASSERT_FALSE(db.ok());
    EXPECT_EQ(db.status().code(), StatusCode::kVersionMismatch);
    EXPECT_NE(db.status().message().find("newer Quarry"), std::string::npos)
        << db.status().message();
  }
}

TEST(CaseDbTest, RefusesForeignDatabasesAndFiles) {
  TempDir dir;
  {
    auto other = OpenCase(":memory:", OpenMode::kReadWrite);  // just to reach SQLite
  }
  // An SQLite database of another application.
  std::string foreign = dir.File("foreign.db");
  {
    Result<std::unique_ptr<CaseDb>> db = CaseDb::Open(foreign, OpenMode::kReadWrite);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->Exec("PRAGMA application_id = 1234").ok());
  }
  Result<std::unique_ptr<CaseDb>> db = CaseDb::Open(foreign, OpenMode::kReadWrite);
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), StatusCode::kVersionMismatch);

  // A text file.
  WriteFile(dir.File("notes.db"), "these are notes, not a database, and long enough to be read\n");
  db = CaseDb::Open(dir.File("notes.db"), OpenMode::kReadWrite);
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(ReadFile(dir.File("notes.db")),
            "these are notes, not a database, and long enough to be read\n");

  // Missing, read-only.
  db = CaseDb::Open(dir.File("missing.db"), OpenMode::kReadOnly);
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), StatusCode::kNotFound);
}

TEST(CaseDbTest, ReadOnlyRefusesEveryWriteAndLeavesTheFileUnchanged) {
  TempDir dir;
  std::string path = dir.File("case.db");
  { auto db = OpenCase(path, OpenMode::kReadWrite); }
  Result<std::string> before = ingest::Sha256OfFile(path);
  ASSERT_TRUE(before.ok());
  auto db = OpenCase(path, OpenMode::kReadOnly);
  for (const char* sql :
       {"INSERT INTO input_files (path, sha256, size_bytes, status, ingested_at, "
        "quarry_version) VALUES ('a', 'b', 1, 'skipped', 'now', 'x')",
        "DELETE FROM process_events", "DROP VIEW processes", "PRAGMA query_only = OFF",
        "PRAGMA QUERY_ONLY = 0", "PRAGMA user_version = 99", "CREATE TABLE t (x)", "SAVEPOINT s",
        "BEGIN IMMEDIATE", "BEGIN EXCLUSIVE"}) {
    EXPECT_FALSE(db->Exec(sql).ok()) << sql;
  }
  EXPECT_FALSE(db->Exec("ATTACH DATABASE '" + dir.File("new.db") + "' AS x").ok());
  EXPECT_FALSE(db->Exec("VACUUM INTO '" + dir.File("copy.db") + "'").ok());
  EXPECT_FALSE(std::filesystem::exists(dir.File("new.db")));
  EXPECT_FALSE(std::filesystem::exists(dir.File("copy.db")));
  // BEGIN is allowed, for one snapshot across statements (BeginRead); a write inside is not.
  EXPECT_FALSE(db->Exec("BEGIN; INSERT INTO input_files (path, sha256, size_bytes, status, "
                        "ingested_at, quarry_version) VALUES ('a', 'b', 1, 'skipped', 'now', 'x')")
                   .ok());
  EXPECT_TRUE(db->Exec("ROLLBACK").ok());
  db.reset();
  EXPECT_EQ(ingest::Sha256OfFile(path).value(), before.value());
}

TEST(CaseDbTest, AReadTransactionSeesOneSnapshotWhileAnotherConnectionCommits) {
  // What `quarry report` and `detect --dry-run` rely on: a read-only connection keeps the case
  // as it was at BeginRead() while ingest (another connection, WAL) commits a file.
  TempDir dir;
  const std::string path = dir.File("case.db");
  auto writer = OpenCase(path, OpenMode::kReadWrite);
  auto add_file = [&](const std::string& sha256) {
    return writer->Exec(
        "INSERT INTO input_files (path, sha256, size_bytes, status, ingested_at, "
        "quarry_version) VALUES ('f', '" +
        sha256 + "', 1, 'loaded', 'now', 'x')");
  };
  ASSERT_TRUE(add_file("a").ok());
  auto reader = OpenCase(path, OpenMode::kReadOnly);
  const std::string count = "SELECT count(*) FROM input_files";

  // Without a read transaction each statement sees the latest commit: the test can tell.
  EXPECT_EQ(QueryInt(reader.get(), count), 1);
  ASSERT_TRUE(add_file("b").ok());
  EXPECT_EQ(QueryInt(reader.get(), count), 2);

  Status begun = reader->BeginRead();
  ASSERT_TRUE(begun.ok()) << begun.message();
  ASSERT_TRUE(add_file("c").ok());  // committed after BeginRead, before the first count
  EXPECT_EQ(QueryInt(reader.get(), count), 2);
  ASSERT_TRUE(writer->Exec("BEGIN IMMEDIATE").ok());  // a file in one transaction, as ingest
  ASSERT_TRUE(add_file("d").ok());
  ASSERT_TRUE(add_file("e").ok());
  ASSERT_TRUE(writer->Exec("COMMIT").ok());
  EXPECT_EQ(QueryInt(reader.get(), count), 2);
  EXPECT_EQ(QueryInt(reader.get(), "SELECT count(*) FROM input_files WHERE sha256 = 'e'"), 0);
  Status ended = reader->EndRead();
  ASSERT_TRUE(ended.ok()) << ended.message();
  EXPECT_EQ(QueryInt(reader.get(), count), 5);

  // Still read-only inside a read transaction: BEGIN is allowed, a write lock and SAVEPOINT
  // are not, and a second BEGIN fails rather than nesting.
  ASSERT_TRUE(reader->BeginRead().ok());
  EXPECT_FALSE(reader->BeginRead().ok());
  EXPECT_FALSE(reader
                   ->Exec("INSERT INTO input_files (path, sha256, size_bytes, status, "
                          "ingested_at, quarry_version) VALUES ('f', 'z', 1, 'loaded', 'n', 'x')")
                   .ok());
  EXPECT_FALSE(reader->Exec("SAVEPOINT s").ok());
  ASSERT_TRUE(reader->EndRead().ok());
  EXPECT_FALSE(reader->Exec("BEGIN IMMEDIATE").ok());
  EXPECT_FALSE(reader->Exec("BEGIN EXCLUSIVE").ok());
  EXPECT_EQ(QueryInt(reader.get(), count), 5);
}

class ProcessesViewTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = OpenCase(":memory:", OpenMode::kReadWrite);
    ASSERT_TRUE(
        db_->Exec("INSERT INTO input_files (file_id, path, sha256, size_bytes, status, "
                  "ingested_at, quarry_version) VALUES (1, 'f', 's', 1, 'loaded', 'n', 'v')")
            .ok());
  }
  void AddEvent(std::int64_t time_us, const std::string& process_name) {
    Result<schema::Statement> insert = db_->Prepare(
        "INSERT INTO process_events (time_us, process_name, vendor_product, action, data_source, "
        "sourcetype, source, event_code, file_id, record_offset, raw) "
        "VALUES (?1, ?2, 'v', 'allowed', 'd', 'st', 's', 1, 1, 0, '')");
    ASSERT_TRUE(insert.ok());
    insert->BindInt(1, time_us);
    insert->BindText(2, std::string_view(process_name));
    ASSERT_TRUE(insert->Run().ok());
  }
  std::unique_ptr<CaseDb> db_;
};

TEST_F(ProcessesViewTest, TimeIsIsoUtcWithMicrosecondsAlsoBefore1970) {
  AddEvent(1773479523517000, "a.exe");    // 2026-03-14T09:12:03.517Z
  AddEvent(-1, "b.exe");                  // one microsecond before the epoch
  AddEvent(-11644473600000000, "c.exe");  // 1601-01-01, the FILETIME epoch
  EXPECT_EQ(QueryJsonl(db_.get(), "SELECT _time FROM processes ORDER BY event_id"),
            "{\"_time\": \"2026-03-14T09:12:03.517000Z\"}\n"
            "{\"_time\": \"1969-12-31T23:59:59.999999Z\"}\n"
            "{\"_time\": \"1601-01-01T00:00:00.000000Z\"}\n");
}

TEST_F(ProcessesViewTest, FieldEqualsValueIsCaseInsensitiveAsInSplunk) {
  AddEvent(0, "AT.EXE");
  AddEvent(0, "At.exe");
  AddEvent(0, "cat.exe");
  EXPECT_EQ(QueryInt(db_.get(), "SELECT count(*) FROM processes WHERE process_name = 'at.exe'"), 2);
}

TEST_F(ProcessesViewTest, ProcessNameLookupUsesAnIndexNotAScan) {
  std::string plan = QueryJsonl(
      db_.get(), "EXPLAIN QUERY PLAN SELECT * FROM processes WHERE process_name = 'at.exe'");
  EXPECT_NE(plan.find("SEARCH process_events USING INDEX process_events_process_name"),
            std::string::npos)
      << plan;
  EXPECT_EQ(plan.find("SCAN process_events"), std::string::npos) << plan;
}

}  // namespace
}  // namespace quarry::testing
