// Archives as inputs (zip, 7z, tar.gz, single .gz, nested, hostile), event-level
// de-duplication across files, and links between sources. The archives are built at test time
// with libarchive's writer from the project's own fixtures.
#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "ingest/ingest.h"
#include "ingest/input_file.h"
#include "tests/test_util.h"

namespace quarry::testing {
namespace {
namespace fs = std::filesystem;

struct Entry {
  std::string name;
  std::string content;     // a regular file's bytes
  std::string symlink_to;  // set: a symbolic link instead
};

// Writes `entries` as an archive: format "zip", "7z", "tar.gz", or "gz" (one raw member).
void WriteArchive(const std::string& path, const std::string& format,
                  const std::vector<Entry>& entries, const std::string& password = "") {
  archive* a = archive_write_new();
  if (format == "zip") {
    archive_write_set_format_zip(a);
  } else if (format == "7z") {
    archive_write_set_format_7zip(a);
  } else if (format == "tar.gz") {
    archive_write_set_format_pax_restricted(a);
    archive_write_add_filter_gzip(a);
  } else {
    archive_write_set_format_raw(a);
    archive_write_add_filter_gzip(a);
  }
  if (!password.empty()) {
    ASSERT_EQ(archive_write_set_passphrase(a, password.c_str()), ARCHIVE_OK);
    ASSERT_EQ(archive_write_set_options(a, "zip:encryption=zipcrypt"), ARCHIVE_OK)
        << archive_error_string(a);
  }
  ASSERT_EQ(archive_write_open_filename(a, path.c_str()), ARCHIVE_OK) << archive_error_string(a);
  for (const Entry& item : entries) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, item.name.c_str());
    archive_entry_set_perm(e, 0644);
    if (!item.symlink_to.empty()) {
      archive_entry_set_filetype(e, AE_IFLNK);
      archive_entry_set_symlink(e, item.symlink_to.c_str());
      archive_entry_set_size(e, 0);
    } else {
      archive_entry_set_filetype(e, AE_IFREG);
      archive_entry_set_size(e, static_cast<la_int64_t>(item.content.size()));
    }
    ASSERT_EQ(archive_write_header(a, e), ARCHIVE_OK) << archive_error_string(a);
    if (item.symlink_to.empty() && !item.content.empty()) {
      ASSERT_EQ(archive_write_data(a, item.content.data(), item.content.size()),
                static_cast<la_ssize_t>(item.content.size()));
    }
    archive_entry_free(e);
  }
  ASSERT_EQ(archive_write_close(a), ARCHIVE_OK) << archive_error_string(a);
  archive_write_free(a);
}

std::string Fixture(const std::string& relative) { return ReadFile(SourcePath(relative)); }

// One text value from the case.
std::string QueryText(schema::CaseDb* db, const std::string& sql) {
  Result<schema::Statement> stmt = db->Prepare(sql);
  EXPECT_TRUE(stmt.ok()) << sql;
  if (!stmt.ok()) return "";
  Result<bool> row = stmt->Step();
  if (!row.ok() || !*row) return "<no row>";
  return std::string(stmt->ColumnText(0));
}

// The demo package's files, laid out as KAPE collects them, plus FDR folders.
std::vector<Entry> KapeEntries() {
  const std::string logs = "C/Windows/System32/winevt/Logs/";
  return {
      {logs + "Microsoft-Windows-Sysmon%4Operational.xml",
       Fixture("fixtures/demo/WKS-FIN-07/Windows/System32/winevt/Logs/"
               "Microsoft-Windows-Sysmon%4Operational.xml"),
       ""},
      {logs + "Security.xml", Fixture("fixtures/demo/FS01/Security.xml"), ""},
      {"C/$MFT", std::string(5000, 'M'), ""},
      {"falcon/aidmaster/aidmaster.jsonl",
       Fixture("fixtures/demo/falcon-fdr/aidmaster/aidmaster.jsonl"), ""},
      {"falcon/data/part-00000.jsonl", Fixture("fixtures/demo/falcon-fdr/data/part-00000.jsonl"),
       ""},
      {"falcon/userinfo/userinfo.jsonl",
       Fixture("fixtures/demo/falcon-fdr/userinfo/userinfo.jsonl"), ""},
  };
}

TEST(ArchiveTest, ZipPackageLoadsLikeTheFolderWithPathsInsideTheArchive) {
  TempDir dir;
  WriteArchive(dir.File("triage.zip"), "zip", KapeEntries());
  RunResult folder =
      RunQuarry({"ingest", "--db", dir.File("folder.db"), SourcePath("fixtures/demo")});
  ASSERT_EQ(folder.exit_code, 0) << folder.err;
  RunResult zip = RunQuarry({"ingest", "--db", dir.File("zip.db"), dir.File("triage.zip")});
  ASSERT_EQ(zip.exit_code, 0) << zip.err;

  auto from_folder = OpenCase(dir.File("folder.db"), schema::OpenMode::kReadOnly);
  auto from_zip = OpenCase(dir.File("zip.db"), schema::OpenMode::kReadOnly);
  // The demo's Sysmon export of FS01 is left out of the zip: 22 events less its share.
  std::int64_t expected =
      QueryInt(from_folder.get(),
               "SELECT count(*) FROM process_events JOIN input_files USING (file_id) "
               "WHERE path NOT LIKE '%Sysmon-export.xml'");
  EXPECT_EQ(QueryInt(from_zip.get(), "SELECT count(*) FROM process_events"), expected);
  EXPECT_GT(expected, 0);
  const std::string zip_path = fs::path(dir.File("triage.zip")).lexically_normal().string();
  EXPECT_EQ(QueryText(from_zip.get(),
                      "SELECT path FROM input_files WHERE member_path LIKE '%Security.xml'"),
            zip_path + "!C/Windows/System32/winevt/Logs/Security.xml");
  // Every member names the archive on disk by its sha256; the archive has a row of its own.
  EXPECT_EQ(QueryInt(from_zip.get(),
                     "SELECT count(*) FROM input_files WHERE container_sha256 = "
                     "(SELECT sha256 FROM input_files WHERE format = 'zip')"),
            6);
  EXPECT_EQ(
      QueryText(from_zip.get(), "SELECT reason FROM input_files WHERE member_path = 'C/$MFT'"),
      "not an event source: content does not start with event XML");
  // The FDR lookups inside the zip resolved the CrowdStrike hosts as the folder's did.
  EXPECT_EQ(QueryInt(from_zip.get(),
                     "SELECT count(*) FROM process_events WHERE vendor_product LIKE 'CrowdStrike%' "
                     "AND dest NOT LIKE '%-%-%-%'"),
            QueryInt(from_folder.get(),
                     "SELECT count(*) FROM process_events WHERE vendor_product LIKE "
                     "'CrowdStrike%' AND dest NOT LIKE '%-%-%-%'"));

  // The same archive again adds nothing.
  from_zip.reset();
  RunResult again = RunQuarry({"ingest", "--db", dir.File("zip.db"), dir.File("triage.zip")});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find("0 loaded, 0 skipped, 1 already in the case"), std::string::npos)
      << again.out;
}

TEST(ArchiveTest, SevenZipTarGzAndGzGiveTheSameRowsAsThePlainFile) {
  TempDir dir;
  const std::string xml = Fixture("fixtures/cross_source/sysmon.xml");
  WriteArchive(dir.File("a.7z"), "7z", {{"logs/sysmon.xml", xml, ""}});
  WriteArchive(dir.File("b.tar.gz"), "tar.gz", {{"logs/sysmon.xml", xml, ""}});
  WriteArchive(dir.File("sysmon.xml.gz"), "gz", {{"sysmon.xml", xml, ""}});
  for (const char* name : {"a.7z", "b.tar.gz", "sysmon.xml.gz"}) {
    const std::string db = dir.File(std::string(name) + ".db");
    RunResult result = RunQuarry({"ingest", "--db", db, dir.File(name)});
    ASSERT_EQ(result.exit_code, 0) << name << result.err;
    auto cdb = OpenCase(db, schema::OpenMode::kReadOnly);
    EXPECT_EQ(QueryInt(cdb.get(), "SELECT count(*) FROM process_events"), 2) << name;
    EXPECT_EQ(QueryText(cdb.get(),
                        "SELECT group_concat(process_name, ',') FROM (SELECT process_name FROM "
                        "process_events ORDER BY event_id)"),
              "cmd.exe,at.exe")
        << name;
  }
  auto gz = OpenCase(dir.File("sysmon.xml.gz.db"), schema::OpenMode::kReadOnly);
  EXPECT_EQ(QueryText(gz.get(), "SELECT member_path FROM input_files WHERE format = 'event_xml'"),
            "sysmon.xml");
}

TEST(ArchiveTest, NestedArchivesAreReadWithTheirPath) {
  TempDir dir;
  WriteArchive(dir.File("inner.zip"), "zip",
               {{"Logs/security.xml", Fixture("fixtures/cross_source/security.xml"), ""}});
  WriteArchive(dir.File("outer.zip"), "zip",
               {{"host1/inner.zip", ReadFile(dir.File("inner.zip")), ""},
                {"host1/sysmon.xml", Fixture("fixtures/cross_source/sysmon.xml"), ""}});
  RunResult result = RunQuarry({"ingest", "--db", dir.File("c.db"), dir.File("outer.zip")});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  auto db = OpenCase(dir.File("c.db"), schema::OpenMode::kReadOnly);
  EXPECT_EQ(QueryInt(db.get(), "SELECT count(*) FROM process_events"), 4);
  EXPECT_EQ(QueryText(db.get(),
                      "SELECT member_path FROM input_files WHERE path LIKE '%.xml' "
                      "AND member_path LIKE '%!%'"),
            "host1/inner.zip!Logs/security.xml");
  EXPECT_EQ(QueryInt(db.get(), "SELECT count(*) FROM input_files WHERE format = 'zip'"), 2);
}

TEST(ArchiveTest, HostileEntriesAreListedAndNothingIsWrittenToDisk) {
  TempDir dir;
  const std::string xml = Fixture("fixtures/cross_source/sysmon.xml");
  WriteArchive(
      dir.File("evil.tar.gz"), "tar.gz",
      {{"../../escaped.xml", xml, ""},
       {"/tmp/absolute-quarry-test.xml", Fixture("fixtures/cross_source/security.xml"), ""},
       {"link.xml", "", "/etc/passwd"}});
  RunResult result = RunQuarry({"ingest", "--db", dir.File("c.db"), dir.File("evil.tar.gz")});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  auto db = OpenCase(dir.File("c.db"), schema::OpenMode::kReadOnly);
  EXPECT_EQ(QueryInt(db.get(), "SELECT count(*) FROM process_events"), 4);
  EXPECT_EQ(QueryInt(db.get(),
                     "SELECT count(*) FROM input_files WHERE member_path = "
                     "'../../escaped.xml' AND status = 'loaded'"),
            1);
  EXPECT_EQ(QueryText(db.get(), "SELECT reason FROM input_files WHERE member_path = 'link.xml'"),
            "a symbolic link to /etc/passwd, not followed");
  EXPECT_FALSE(fs::exists(fs::path(dir.path()).parent_path().parent_path() / "escaped.xml"));
  EXPECT_FALSE(fs::exists("/tmp/absolute-quarry-test.xml"));
}

TEST(ArchiveTest, EncryptedEntriesNeedThePassword) {
  TempDir dir;
  WriteArchive(dir.File("sample.zip"), "zip",
               {{"sysmon.xml", Fixture("fixtures/cross_source/sysmon.xml"), ""}}, "infected");
  RunResult without = RunQuarry({"ingest", "--db", dir.File("a.db"), dir.File("sample.zip")});
  EXPECT_EQ(without.exit_code, 0) << without.err;
  auto a = OpenCase(dir.File("a.db"), schema::OpenMode::kReadOnly);
  EXPECT_EQ(QueryInt(a.get(), "SELECT count(*) FROM process_events"), 0);
  EXPECT_NE(QueryText(a.get(), "SELECT reason FROM input_files WHERE member_path = 'sysmon.xml'")
                .find("encrypted"),
            std::string::npos);

  RunResult with = RunQuarry(
      {"ingest", "--db", dir.File("b.db"), "--password", "infected", dir.File("sample.zip")});
  ASSERT_EQ(with.exit_code, 0) << with.err;
  auto b = OpenCase(dir.File("b.db"), schema::OpenMode::kReadOnly);
  EXPECT_EQ(QueryInt(b.get(), "SELECT count(*) FROM process_events"), 2);

  RunResult wrong = RunQuarry(
      {"ingest", "--db", dir.File("c.db"), "--password", "wrong", dir.File("sample.zip")});
  EXPECT_EQ(wrong.exit_code, 1);
  EXPECT_NE(wrong.err.find("sysmon.xml: failed"), std::string::npos) << wrong.err;
}

TEST(ArchiveTest, DecompressionBombStopsAtTheExpansionLimit) {
  TempDir dir;
  WriteArchive(dir.File("bomb.zip"), "zip",
               {{"a.xml", Fixture("fixtures/cross_source/sysmon.xml"), ""},
                {"zeros.bin", std::string(std::size_t{40} << 20, '\0'), ""},
                {"b.xml", Fixture("fixtures/cross_source/security.xml"), ""}});
  ASSERT_LT(fs::file_size(dir.File("bomb.zip")), std::uintmax_t{1} << 20);
  auto db = OpenCase(dir.File("c.db"), schema::OpenMode::kReadWrite);
  ingest::IngestOptions options;
  options.archive.ratio_floor_bytes = 1 << 20;
  options.archive.max_ratio = 100;  // about 4 MB for this archive
  Result<ingest::IngestSummary> summary =
      ingest::Ingest(db.get(), {dir.File("bomb.zip")}, options, nullptr);
  ASSERT_TRUE(summary.ok()) << summary.status().message();
  bool archive_failed = false;
  for (const ingest::FileReport& file : summary->files) {
    if (file.path.ends_with("bomb.zip")) {
      archive_failed = file.outcome == ingest::FileOutcome::kFailed &&
                       file.reason.find("decompression bomb") != std::string::npos;
    }
  }
  EXPECT_TRUE(archive_failed);
  // What came before the bomb is kept; nothing after it is read; the archive has no row, so a
  // run with more room would read it again.
  EXPECT_EQ(QueryInt(db.get(), "SELECT count(*) FROM process_events"), 2);
  EXPECT_EQ(QueryInt(db.get(), "SELECT count(*) FROM input_files WHERE format = 'zip'"), 0);
}

TEST(ArchiveTest, AnLzmaDictionaryOverTheLimitIsRefusedBeforeItFillsMemory) {
  // Found by fuzz_archive: libarchive allocates the dictionary a zip LZMA member (method 14)
  // declares, up to 4 GB, and keeps up to that much of the member's output in it. Before the
  // limit, this 47 KB zip of 320 MB of zeros peaked at 333 MiB declaring 1,536 MB and at 21 MiB
  // with its honest 8 MB. Python's zipfile writes the LZMA member (libarchive 3.6 cannot).
  TempDir dir;
  // honest.zip as zipfile writes it (an 8 MB dictionary); greedy.zip the same bytes declaring
  // 1,536 MB (a stream made for a small dictionary decodes with any larger one).
  const std::string script =
      "import struct, sys, zipfile\n"
      "honest, greedy = sys.argv[1], sys.argv[2]\n"
      "with zipfile.ZipFile(honest, 'w', zipfile.ZIP_LZMA) as z:\n"
      "    z.writestr('zeros.bin', bytes(320 << 20))\n"
      "data = bytearray(open(honest, 'rb').read())\n"
      "name, extra = struct.unpack_from('<HH', data, 26)\n"
      "at = 30 + name + extra + 4 + 1  # version, properties size, lc/lp/pb\n"
      "assert struct.unpack_from('<I', data, at)[0] == 8 << 20\n"
      "struct.pack_into('<I', data, at, 1536 << 20)\n"
      "open(greedy, 'wb').write(data)\n";
  RunResult made = RunProgram("/usr/bin/python3",
                              {"-c", script, dir.File("honest.zip"), dir.File("greedy.zip")});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  ASSERT_LT(fs::file_size(dir.File("greedy.zip")), std::uintmax_t{1} << 20);
  ChildResult honest = RunQuarryChild({"ingest", "--db", dir.File("c.db"), dir.File("honest.zip")});
  EXPECT_EQ(honest.exit_code, 0) << honest.err;
  EXPECT_NE(honest.err.find("honest.zip!zeros.bin: skipped (not an event source"),
            std::string::npos)
      << honest.err;
  ChildResult greedy = RunQuarryChild({"ingest", "--db", dir.File("c.db"), dir.File("greedy.zip")});
  EXPECT_EQ(greedy.exit_code, 1) << greedy.err;
  EXPECT_NE(greedy.err.find("greedy.zip!zeros.bin: failed (the archive's compression asks for "),
            std::string::npos)
      << greedy.err;
  EXPECT_NE(greedy.err.find("MB of memory (a dictionary over 256 MB; a memory bomb?); reading "
                            "stopped at member zeros.bin"),
            std::string::npos)
      << greedy.err;
#if defined(__SANITIZE_ADDRESS__)
  // Under AddressSanitizer the refused allocation still costs its shadow: the decoder's
  // 1,536 MB request is poisoned, an eighth of it in shadow pages (274 MiB peak seen). The
  // plain build's bound below is the one that tells the fix from its absence (333 MiB).
  constexpr std::int64_t kMaxGreedyRssBytes = std::int64_t{350} << 20;
#else
  constexpr std::int64_t kMaxGreedyRssBytes = std::int64_t{200} << 20;
#endif
  EXPECT_LT(greedy.peak_rss_bytes, kMaxGreedyRssBytes);
  RecordProperty("peak_rss_mib_honest", static_cast<int>(honest.peak_rss_bytes >> 20));
  RecordProperty("peak_rss_mib_greedy", static_cast<int>(greedy.peak_rss_bytes >> 20));
}

TEST(ArchiveTest, InterruptedArchiveIsResumedMemberByMember) {
  TempDir dir;
  WriteArchive(dir.File("p.zip"), "zip",
               {{"a.xml", Fixture("fixtures/cross_source/sysmon.xml"), ""},
                {"b.xml", Fixture("fixtures/cross_source/security.xml"), ""}});
  // A run that read only the first member (as if killed then): its row, no archive row.
  {
    auto db = OpenCase(dir.File("c.db"), schema::OpenMode::kReadWrite);
    ingest::IngestOptions options;
    options.archive.ratio_floor_bytes = 1;
    options.archive.max_ratio = 1;  // stops after the first member's bytes
    ASSERT_TRUE(ingest::Ingest(db.get(), {dir.File("p.zip")}, options, nullptr).ok());
    ASSERT_EQ(QueryInt(db.get(), "SELECT count(*) FROM input_files WHERE format = 'zip'"), 0);
  }
  RunResult rerun = RunQuarry({"ingest", "--db", dir.File("c.db"), dir.File("p.zip")});
  ASSERT_EQ(rerun.exit_code, 0) << rerun.err;
  auto db = OpenCase(dir.File("c.db"), schema::OpenMode::kReadOnly);
  EXPECT_EQ(QueryInt(db.get(), "SELECT count(*) FROM process_events"), 4);
  EXPECT_EQ(QueryInt(db.get(), "SELECT count(*) FROM input_files WHERE member_path = 'a.xml'"), 1);
  EXPECT_EQ(QueryInt(db.get(), "SELECT count(*) FROM input_files WHERE format = 'zip'"), 1);
}

// Converts our event XML fixtures to EVTX with the project's writer (tests/support).
std::string WriteEvtx(const TempDir& dir, const std::string& name,
                      const std::vector<std::string>& xml_fixtures) {
  std::vector<std::string> args;
  for (const std::string& fixture : xml_fixtures) args.push_back(SourcePath(fixture));
  args.push_back("-o");
  args.push_back(dir.File(name));
  RunResult result = RunProgram(QUARRY_WRITE_EVTX_BINARY, args);
  EXPECT_EQ(result.exit_code, 0) << result.err;
  return ReadFile(dir.File(name));
}

TEST(PackageTest, VelociraptorZipOfAKapeCollectionWithABackupSecurityLogAndFdr) {
  TempDir dir;
  // One host's triage as a Velociraptor offline collector zips it (uploads/auto/<drive>/...):
  // the Sysmon and Security logs as EVTX, an archived Security log that overlaps the live one,
  // an FDR export of the same host, and the collector's own files.
  const std::string logs = "uploads/auto/C%3A/Windows/System32/winevt/Logs/";
  std::vector<Entry> entries = {
      {logs + "Microsoft-Windows-Sysmon%4Operational.evtx",
       WriteEvtx(dir, "sysmon.evtx", {"fixtures/cross_source/sysmon.xml"}), ""},
      {logs + "Security.evtx",
       WriteEvtx(dir, "security.evtx", {"fixtures/cross_source/security.xml"}), ""},
      {logs + "Archive-Security-2026-06-01-10-00-00-000.evtx",
       WriteEvtx(dir, "archive.evtx",
                 {"fixtures/cross_source/security.xml", "fixtures/demo/FS01/Security.xml"}),
       ""},
      {"uploads/fdr/data/part-00000.jsonl", Fixture("fixtures/cross_source/falcon/data.jsonl"), ""},
      {"uploads/fdr/aidmaster/aidmaster.jsonl",
       Fixture("fixtures/cross_source/falcon/aidmaster.jsonl"), ""},
      {"uploads/fdr/userinfo/userinfo.jsonl",
       Fixture("fixtures/cross_source/falcon/userinfo.jsonl"), ""},
      {"collection_context.json", "[{\"session_id\": \"F.1\", \"total_uploaded_files\": 6}]", ""},
      {"log.json", "[]\n", ""},
  };
  WriteArchive(dir.File("Collection-WKS-LAB-05.zip"), "zip", entries);
  const std::string report = dir.File("report.html");
  RunResult run = RunQuarry(
      {"analyze", dir.File("Collection-WKS-LAB-05.zip"), "-o", report, "--db", dir.File("c.db")});
  ASSERT_EQ(run.exit_code, 0) << run.err << run.out;

  auto db = OpenCase(dir.File("c.db"), schema::OpenMode::kReadOnly);
  // Sysmon 2 + Security 2 + the archive's 3 events not in the live log + FDR 2.
  EXPECT_EQ(QueryInt(db.get(), "SELECT count(*) FROM process_events"), 2 + 2 + 3 + 2);
  EXPECT_EQ(QueryInt(db.get(), "SELECT count(*) FROM event_copies"), 2);
  EXPECT_EQ(QueryInt(db.get(),
                     "SELECT events_duplicate FROM input_files WHERE member_path LIKE "
                     "'%Archive-Security%'"),
            2);
  EXPECT_EQ(QueryInt(db.get(), "SELECT count(*) FROM input_files WHERE status = 'skipped'"), 2);
  EXPECT_EQ(QueryInt(db.get(), "SELECT count(*) FROM input_files WHERE format = 'evtx'"), 3);
  const std::string zip =
      fs::path(dir.File("Collection-WKS-LAB-05.zip")).lexically_normal().string();
  EXPECT_EQ(QueryText(db.get(),
                      "SELECT f.path FROM process_events AS e JOIN input_files AS f "
                      "USING (file_id) WHERE e.record_id = 901"),
            zip + "!" + logs + "Microsoft-Windows-Sysmon%4Operational.evtx");
  // Sysmon and Security saw the same two processes; the FDR rows are of the same host too.
  EXPECT_EQ(QueryInt(db.get(), "SELECT count(*) FROM process_links"), 4);
  // The remote at.exe: one notable, and its evidence says both sources saw it.
  EXPECT_GE(QueryInt(db.get(), "SELECT count(*) FROM notables"), 1);
  std::string html = ReadFile(report);
  EXPECT_NE(html.find("Sysmon EventID 1, Windows Event Log Security 4688"), std::string::npos);
  EXPECT_NE(html.find("Collection-WKS-LAB-05.zip!uploads/auto/C%3A/Windows"), std::string::npos);

  // The same package again: nothing changes.
  db.reset();
  std::string before = ingest::Sha256OfFile(dir.File("c.db")).value();
  RunResult again =
      RunQuarry({"ingest", "--db", dir.File("c.db"), dir.File("Collection-WKS-LAB-05.zip")});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find("1 already in the case"), std::string::npos) << again.out;
  db = OpenCase(dir.File("c.db"), schema::OpenMode::kReadOnly);
  EXPECT_EQ(QueryInt(db.get(), "SELECT count(*) FROM process_events"), 9);
  (void)before;
}

TEST(DeduplicationTest, TheSameEventInTwoFilesLoadsOnceAndTheCopyIsRecorded) {
  TempDir dir;
  // A backup of the Security log with one more event than the original: a different file.
  std::string security = Fixture("fixtures/cross_source/security.xml");
  WriteFile(dir.File("Security.xml"), security);
  std::string backup = security;
  std::size_t last = backup.rfind("<Event ");
  ASSERT_NE(last, std::string::npos);
  std::string extra = backup.substr(last, backup.find("</Event>", last) + 8 - last);
  std::string changed = extra;
  std::size_t id = changed.find("31002");
  ASSERT_NE(id, std::string::npos);
  changed.replace(id, 5, "31003");
  backup.insert(backup.find("</Event>", last) + 8, "\n" + changed);
  WriteFile(dir.File("Security-backup.xml"), backup);

  RunResult result = RunQuarry({"ingest", "--db", dir.File("c.db"), dir.File("Security.xml"),
                                dir.File("Security-backup.xml")});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  auto db = OpenCase(dir.File("c.db"), schema::OpenMode::kReadOnly);
  EXPECT_EQ(QueryInt(db.get(), "SELECT count(*) FROM process_events"), 3);
  EXPECT_EQ(QueryInt(db.get(), "SELECT count(*) FROM event_copies"), 2);
  EXPECT_EQ(QueryInt(db.get(),
                     "SELECT events_duplicate FROM input_files WHERE path LIKE "
                     "'%Security-backup.xml'"),
            2);
  EXPECT_EQ(QueryInt(db.get(),
                     "SELECT events_loaded FROM input_files WHERE path LIKE "
                     "'%Security-backup.xml'"),
            1);
  EXPECT_NE(result.out.find("already in the case from other files: 2"), std::string::npos)
      << result.out;
}

TEST(SourceLinkTest, SysmonAndSecurityRowsOfOneProcessAreLinked) {
  TempDir dir;
  RunResult result =
      RunQuarry({"ingest", "--db", dir.File("c.db"), SourcePath("fixtures/cross_source/sysmon.xml"),
                 SourcePath("fixtures/cross_source/security.xml")});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  auto db = OpenCase(dir.File("c.db"), schema::OpenMode::kReadOnly);
  EXPECT_EQ(QueryInt(db.get(), "SELECT count(*) FROM process_links"), 4);
  EXPECT_EQ(QueryInt(db.get(), "SELECT count(DISTINCT process_key) FROM process_sightings"), 2);
  EXPECT_EQ(QueryText(db.get(),
                      "SELECT s.seen_by FROM process_sightings AS s JOIN process_events AS e "
                      "USING (event_id) WHERE e.process_name = 'at.exe' LIMIT 1"),
            "Sysmon EventID 1, Windows Event Log Security 4688");
  // The links survive a later ingest that adds nothing linked.
  db.reset();
  RunResult more = RunQuarry(
      {"ingest", "--db", dir.File("c.db"), SourcePath("fixtures/demo/FS01/Security.xml")});
  ASSERT_EQ(more.exit_code, 0) << more.err;
  db = OpenCase(dir.File("c.db"), schema::OpenMode::kReadOnly);
  EXPECT_EQ(QueryInt(db.get(), "SELECT count(*) FROM process_links"), 4);
}

}  // namespace
}  // namespace quarry::testing
