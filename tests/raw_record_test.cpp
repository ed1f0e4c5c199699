// Raw records stored compressed (ingest/raw_compressor, schema/raw_record): every record reads
// back byte for byte, the stored bytes do not depend on how the ingest was cut into runs, and
// damage is an SQL error, never a crash.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <thread>
#include <vector>

#include "ingest/case_writer.h"
#include "ingest/ingest.h"
#include "schema/case_db.h"
#include "tests/test_util.h"

namespace quarry {
namespace {

using ingest::CaseWriter;
using ingest::ProcessEvent;
using ingest::RawCompressor;
using ingest::RawStorage;

// Event `i` of a source, with a raw record shaped like a Sysmon event (repetitive markup and
// varying values, so that a dictionary has something to learn).
ProcessEvent MakeEvent(int i, const std::string& data_source) {
  ProcessEvent e;
  e.time_us = 1'700'000'000'000'000 + i * 1000;
  e.dest = "HOST-" + std::to_string(i % 7);
  e.process = "C:\\Windows\\System32\\cmd.exe /c echo " + std::to_string(i * 7919);
  e.process_name = "cmd.exe";
  e.process_id = 1000 + i;
  e.vendor_product = "Microsoft Sysmon";
  e.action = "allowed";
  e.data_source = data_source;
  e.sourcetype = "XmlWinEventLog";
  e.source = "XmlWinEventLog:" + data_source;
  e.event_code = 1;
  e.record_id = i + 1;
  e.record_offset = i * 900;
  e.raw =
      "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider "
      "Name='Microsoft-Windows-Sysmon'/><EventID>1</EventID><EventRecordID>" +
      std::to_string(i + 1) + "</EventRecordID><Computer>" + *e.dest +
      "</Computer></System><EventData><Data Name='Image'>C:\\Windows\\System32\\cmd.exe</Data>"
      "<Data Name='CommandLine'>" +
      *e.process + "</Data><Data Name='ProcessId'>" + std::to_string(*e.process_id) +
      "</Data><Data Name='Note'>caf\xc3\xa9 &amp; \xe2\x80\xa8</Data></EventData></Event>";
  return e;
}

// Loads events [from, to) of each source as one file named `name`. With `ahead`, each raw
// record is first compressed by it, as the decoder's thread does; `made` counts the records it
// compressed.
void LoadFile(CaseWriter* writer, const std::string& name, int from, int to,
              const std::vector<std::string>& sources, RawCompressor::Ahead* ahead = nullptr,
              int* made = nullptr) {
  ingest::InputFileRow row;
  row.path = "/evidence/" + name;
  row.sha256 = std::string(64 - name.size(), '0') + name;
  row.format = "event_xml";
  row.status = "loaded";
  ASSERT_TRUE(writer->BeginFile(row).ok());
  for (int i = from; i < to; ++i) {
    for (const std::string& source : sources) {
      ProcessEvent event = MakeEvent(i, source);
      ingest::PreCompressed pre;
      if (ahead != nullptr) ahead->Compress(event.data_source, event.raw, &pre);
      if (made != nullptr && pre.is_blob) ++*made;
      Result<CaseWriter::Added> added = writer->AddEvent(event, ahead ? &pre : nullptr);
      ASSERT_TRUE(added.ok()) << added.status().message();
    }
  }
  ingest::FileCounts counts;
  counts.events_loaded = (to - from) * static_cast<int>(sources.size());
  ASSERT_TRUE(writer->CommitFile(counts).ok());
}

std::unique_ptr<schema::CaseDb> Open(const std::string& path, schema::OpenMode mode) {
  Result<std::unique_ptr<schema::CaseDb>> db = schema::CaseDb::Open(path, mode);
  EXPECT_TRUE(db.ok()) << db.status().message();
  return db.ok() ? std::move(db).value() : nullptr;
}

// Every stored raw record in event_id order (hex, to compare bytes), and the dictionaries.
std::string Stored(const std::string& path) {
  auto db = Open(path, schema::OpenMode::kReadOnly);
  std::string out;
  for (std::string_view sql :
       {"SELECT event_id, typeof(raw), hex(raw) FROM process_events ORDER BY event_id",
        "SELECT dict_id, data_source, samples, file_id, hex(dictionary) FROM raw_dictionaries "
        "ORDER BY dict_id"}) {
    Result<schema::Statement> stmt = db->Prepare(sql);
    EXPECT_TRUE(stmt.ok());
    while (stmt->Step().value()) {
      for (int c = 0; c < stmt->ColumnCount(); ++c) out += std::string(stmt->ColumnText(c)) + "|";
      out += "\n";
    }
  }
  return out;
}

// The newest row's raw storage class and record, as "blob <text>".
std::string LastStored(schema::CaseDb* db) {
  Result<schema::Statement> stmt = db->Prepare(
      "SELECT typeof(raw), quarry_raw(raw) FROM process_events ORDER BY event_id DESC LIMIT 1");
  if (!stmt.ok() || !stmt->Step().value()) return "(no row)";
  return std::string(stmt->ColumnText(0)) + " " + std::string(stmt->ColumnText(1));
}

// The first line where two Stored() listings differ, both versions, or "" when they agree.
std::string FirstDifference(const std::string& a, const std::string& b) {
  std::size_t at = 0;
  while (at < a.size() && at < b.size() && a[at] == b[at]) ++at;
  if (at == a.size() && at == b.size()) return "";
  auto line = [&](const std::string& s) {
    std::size_t from = s.rfind('\n', at == 0 ? 0 : at - 1);
    from = from == std::string::npos || at == 0 ? 0 : from + 1;
    return s.substr(from, std::min<std::size_t>(s.find('\n', from) - from, 160));
  };
  return line(a) + " / " + line(b);
}

constexpr int kEvents = 2500;

TEST(RawRecordTest, EveryRecordReadsBackExactlyAndLaterOnesAreCompressed) {
  testing::TempDir dir;
  std::string path = dir.File("case.db");
  const std::vector<std::string> sources = {"Sysmon EventID 1", "Windows Event Log Security 4688"};
  {
    auto db = Open(path, schema::OpenMode::kReadWrite);
    Result<std::unique_ptr<CaseWriter>> writer = CaseWriter::Create(db.get());
    ASSERT_TRUE(writer.ok());
    LoadFile(writer->get(), "a", 0, kEvents, sources);
  }
  auto db = Open(path, schema::OpenMode::kReadOnly);
  Result<schema::Statement> stmt = db->Prepare(
      "SELECT data_source, record_id, typeof(raw), length(CAST(raw AS BLOB)), quarry_raw(raw) "
      "FROM process_events ORDER BY event_id");
  ASSERT_TRUE(stmt.ok());
  std::map<std::string, int> text, blob;
  std::int64_t stored_bytes = 0, raw_bytes = 0;
  while (stmt->Step().value()) {
    std::string source(stmt->ColumnText(0));
    int i = static_cast<int>(stmt->ColumnInt(1)) - 1;
    std::string expected = MakeEvent(i, source).raw;
    ASSERT_EQ(stmt->ColumnText(4), expected) << source << " record " << i;
    (stmt->ColumnText(2) == "text" ? text : blob)[source]++;
    stored_bytes += stmt->ColumnInt(3);
    raw_bytes += static_cast<std::int64_t>(expected.size());
  }
  for (const std::string& source : sources) {
    // The first records of each source are the dictionary's samples, kept as text.
    EXPECT_EQ(text[source], static_cast<int>(RawCompressor::kTrainingRecords)) << source;
    EXPECT_EQ(blob[source], kEvents - static_cast<int>(RawCompressor::kTrainingRecords)) << source;
  }
  // Both sources' samples are the same bytes here, so they train the same dictionary, which
  // zstd names by its content: one row serves both.
  EXPECT_EQ(db->QueryInt("SELECT count(*) FROM raw_dictionaries").value(), 1);
  EXPECT_EQ(db->QueryInt("SELECT min(samples) FROM raw_dictionaries").value(),
            static_cast<std::int64_t>(RawCompressor::kTrainingRecords));
  EXPECT_LT(stored_bytes, raw_bytes / 2);  // not a figure to keep: only that it compresses
  // The view gives text.
  EXPECT_EQ(db->QueryInt("SELECT count(*) FROM process_evidence WHERE typeof(raw) = 'text' AND "
                         "raw LIKE '<Event %'")
                .value(),
            2 * kEvents);
}

TEST(RawRecordTest, StoredBytesDoNotDependOnHowTheIngestWasCutIntoRuns) {
  testing::TempDir dir;
  // Two sources whose samples train one dictionary, stored once under the first one's name.
  const std::vector<std::string> sources = {"Sysmon EventID 1", "Windows Event Log Security 4688"};
  std::string whole = dir.File("whole.db");
  {
    auto db = Open(whole, schema::OpenMode::kReadWrite);
    auto writer = CaseWriter::Create(db.get());
    ASSERT_TRUE(writer.ok());
    LoadFile(writer->get(), "a", 0, 600, sources);
    LoadFile(writer->get(), "b", 600, 1700, sources);
    LoadFile(writer->get(), "c", 1700, 2000, sources);
  }
  // The same files, one run each, with a file rolled back after it trained the dictionary.
  std::string cut = dir.File("cut.db");
  for (int run = 0; run < 3; ++run) {
    auto db = Open(cut, schema::OpenMode::kReadWrite);
    auto writer = CaseWriter::Create(db.get());
    ASSERT_TRUE(writer.ok());
    if (run == 0) LoadFile(writer->get(), "a", 0, 600, sources);
    if (run == 1) {
      ingest::InputFileRow row;
      row.path = "/evidence/aborted";
      row.sha256 = std::string(57, '0') + "aborted";
      row.status = "loaded";
      ASSERT_TRUE((*writer)->BeginFile(row).ok());
      for (int i = 600; i < 1500; ++i) {
        for (const std::string& source : sources)
          ASSERT_TRUE((*writer)->AddEvent(MakeEvent(i, source)).ok());
      }
      (*writer)->AbortFile();  // trained a dictionary, rolled back with it
      LoadFile(writer->get(), "b", 600, 1700, sources);
    }
    if (run == 2) LoadFile(writer->get(), "c", 1700, 2000, sources);
  }
  // file_id of "aborted" was rolled back too, so the ids line up.
  EXPECT_EQ(FirstDifference(Stored(whole), Stored(cut)), "");
}

TEST(RawRecordTest, RecordsCompressedAheadOnAnotherThreadStoreTheSameBytes) {
  testing::TempDir dir;
  const std::vector<std::string> sources = {"Sysmon EventID 1", "Windows Event Log Security 4688"};
  std::string by_writer = dir.File("writer.db");
  {
    auto db = Open(by_writer, schema::OpenMode::kReadWrite);
    auto writer = CaseWriter::Create(db.get());
    ASSERT_TRUE(writer.ok());
    LoadFile(writer->get(), "a", 0, 1500, sources);
    LoadFile(writer->get(), "b", 1500, 2000, sources);
  }
  std::string with_ahead = dir.File("ahead.db");
  int made = 0;
  for (int run = 0; run < 2; ++run) {  // the second run reads the dictionary from the case
    auto db = Open(with_ahead, schema::OpenMode::kReadWrite);
    auto writer = CaseWriter::Create(db.get());
    ASSERT_TRUE(writer.ok());
    std::unique_ptr<RawCompressor::Ahead> ahead = (*writer)->RawAhead();
    ASSERT_NE(ahead, nullptr);
    std::thread other([&] {  // on another thread, as in an ingest
      if (run == 0) LoadFile(writer->get(), "a", 0, 1500, sources, ahead.get(), &made);
      if (run == 1) LoadFile(writer->get(), "b", 1500, 2000, sources, ahead.get(), &made);
    });
    other.join();
  }
  // Compressed ahead once each source had a dictionary: all but its samples, less the first
  // record of each source in the second run (the writer reads the dictionary at that record).
  EXPECT_EQ(made, 2 * (2000 - static_cast<int>(RawCompressor::kTrainingRecords)) - 2);
  EXPECT_EQ(FirstDifference(Stored(by_writer), Stored(with_ahead)), "");
}

#ifdef QUARRY_GEN_BINARY
// Through Ingest(), the decoder's thread compresses ahead while the writer writes; the case
// must hold the bytes the writer alone stores for the same events.
TEST(RawRecordTest, AnIngestCompressingAheadStoresWhatTheWriterAloneStores) {
  testing::TempDir dir;
  std::string xml = dir.File("sysmon.xml");
  testing::RunResult run =
      testing::RunProgram(QUARRY_GEN_BINARY, {"--events", "20000", "--seed", "3", "--out", xml});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  std::string ingested = dir.File("ingested.db");
  {
    auto db = Open(ingested, schema::OpenMode::kReadWrite);
    Result<ingest::IngestSummary> summary = ingest::Ingest(db.get(), {xml}, {}, nullptr);
    ASSERT_TRUE(summary.ok()) << summary.status().message();
    ASSERT_EQ(summary->files.at(0).counts.events_loaded, 20000);
  }
  std::string by_writer = dir.File("writer.db");
  {
    testing::Decoded decoded = testing::DecodeInput(xml);
    ASSERT_EQ(decoded.rows.size(), 20000u);
    auto db = Open(by_writer, schema::OpenMode::kReadWrite);
    auto writer = CaseWriter::Create(db.get());
    ASSERT_TRUE(writer.ok());
    ingest::InputFileRow row;
    row.path = xml;
    row.status = "loaded";
    ASSERT_TRUE((*writer)->BeginFile(row).ok());
    for (const ProcessEvent& event : decoded.rows) ASSERT_TRUE((*writer)->AddEvent(event).ok());
    ASSERT_TRUE((*writer)->CommitFile(ingest::FileCounts()).ok());
  }
  EXPECT_EQ(FirstDifference(Stored(ingested), Stored(by_writer)), "");
}
#endif

#ifdef QUARRY_GEN_BINARY
// Reading the next file ahead (hashed, sniffed and decoding while the file before is written)
// must give the case, the stored bytes and the reports that reading one file at a time gives:
// the Sysmon dictionary is trained in a.xml while a2.xml, of the same source, is already
// decoding; a copy of the file just before is a duplicate although its decoding had started; a
// file that is not an event source, a compressed file and an EVTX file sit between them. A
// second run over the same files finds every one in the case.
TEST(RawRecordTest, ReadingTheNextFileAheadStoresWhatReadingOneAtATimeStores) {
  testing::TempDir dir;
  std::vector<std::string> inputs;
  auto generate = [&](const std::string& name, const std::string& format, int events, int seed) {
    std::string path = dir.File(name);
    testing::RunResult run = testing::RunProgram(
        QUARRY_GEN_BINARY, {"--events", std::to_string(events), "--seed", std::to_string(seed),
                            "--format", format, "--out", path});
    EXPECT_EQ(run.exit_code, 0) << run.err;
    inputs.push_back(path);
  };
  generate("a.xml", "sysmon-xml", 3000, 11);
  generate("a2.xml", "sysmon-xml", 3000, 17);
  inputs.push_back(dir.File("b.xml"));  // a copy of a2.xml
  testing::WriteFile(inputs.back(), testing::ReadFile(inputs[1]));
  inputs.push_back(dir.File("c.txt"));
  testing::WriteFile(inputs.back(), "notes of the collection, not events\n");
  generate("d.xml", "security-xml", 3000, 12);
  generate("e.jsonl", "fdr-jsonl", 3000, 13);
  generate("f.xml", "sysmon-xml", 2000, 14);
  testing::RunResult gzip = testing::RunProgram("/bin/gzip", {"-n", inputs.back()});
  ASSERT_EQ(gzip.exit_code, 0) << gzip.err;
  inputs.back() += ".gz";
  generate("g.evtx", "sysmon-evtx", 2000, 15);
  generate("h.xml", "security-xml", 500, 16);
  ASSERT_FALSE(HasFailure());

  auto ingest = [&](const std::string& name, bool read_ahead, std::string* reports) {
    std::string path = dir.File(name);
    auto db = Open(path, schema::OpenMode::kReadWrite);
    ingest::IngestOptions options;
    options.read_ahead = read_ahead;
    Result<ingest::IngestSummary> summary = ingest::Ingest(db.get(), inputs, options, nullptr);
    EXPECT_TRUE(summary.ok()) << summary.status().message();
    if (!summary.ok()) return path;
    for (const ingest::FileReport& file : summary->files) {
      *reports += file.path + " " + ingest::FileOutcomeName(file.outcome) + " " + file.format +
                  " " + std::to_string(file.counts.events_loaded) + " " +
                  std::to_string(file.counts.warnings) + " " + file.reason + "\n";
    }
    return path;
  };
  std::string reports_ahead, reports_one;
  std::string ahead = ingest("ahead.db", true, &reports_ahead);
  std::string one = ingest("one.db", false, &reports_one);
  EXPECT_EQ(reports_ahead, reports_one);
  EXPECT_NE(reports_ahead.find("b.xml duplicate"), std::string::npos) << reports_ahead;
  EXPECT_NE(reports_ahead.find("c.txt skipped"), std::string::npos) << reports_ahead;
  EXPECT_NE(reports_ahead.find("f.xml.gz loaded"), std::string::npos) << reports_ahead;
  EXPECT_NE(reports_ahead.find("g.evtx loaded evtx 2000"), std::string::npos) << reports_ahead;
  EXPECT_EQ(FirstDifference(Stored(ahead), Stored(one)), "");
  // Every row of the case but the time each file was read.
  auto rows = [&](const std::string& path) {
    auto db = Open(path, schema::OpenMode::kReadOnly);
    std::string out;
    for (const char* sql :
         {"SELECT file_id, path, sha256, size_bytes, format, encoding, status, reason, "
          "events_loaded, events_skipped, records_rejected, warnings, lookups_loaded, "
          "container_sha256, member_path, events_duplicate FROM input_files ORDER BY file_id",
          "SELECT * FROM process_events ORDER BY event_id",
          "SELECT * FROM ingest_warnings ORDER BY 1", "SELECT * FROM crowdstrike_events ORDER BY 1",
          "SELECT * FROM event_copies ORDER BY 1, 2", "SELECT * FROM process_links ORDER BY 1"}) {
      out += testing::QueryJsonl(db.get(), sql);
    }
    return out;
  };
  std::string rows_ahead = rows(ahead);
  EXPECT_TRUE(rows_ahead == rows(one));
  auto a = Open(ahead, schema::OpenMode::kReadOnly);
  EXPECT_EQ(testing::QueryInt(a.get(), "SELECT count(*) FROM process_events"), 16500);
  EXPECT_EQ(testing::QueryInt(a.get(), "SELECT count(*) FROM raw_dictionaries"), 3);
  a.reset();

  std::string again;
  ingest("ahead.db", true, &again);
  for (const std::string& input : inputs) {
    EXPECT_NE(again.find(input + " duplicate"), std::string::npos) << again;
  }
  EXPECT_TRUE(rows(ahead) == rows_ahead);
}
#endif

TEST(RawRecordTest, AFrameMadeBeforeARollbackIsNotUsed) {
  testing::TempDir dir;
  std::string path = dir.File("case.db");
  const std::string source = "Sysmon EventID 1";
  auto db = Open(path, schema::OpenMode::kReadWrite);
  auto writer = CaseWriter::Create(db.get());
  ASSERT_TRUE(writer.ok());
  std::unique_ptr<RawCompressor::Ahead> ahead = (*writer)->RawAhead();
  // A file that trains the dictionary, a frame made with it, and the file rolled back.
  ingest::InputFileRow row;
  row.path = "/evidence/aborted";
  row.sha256 = std::string(57, '0') + "aborted";
  row.status = "loaded";
  ASSERT_TRUE((*writer)->BeginFile(row).ok());
  for (int i = 0; i < 1200; ++i) ASSERT_TRUE((*writer)->AddEvent(MakeEvent(i, source)).ok());
  ingest::PreCompressed current, stale;
  // Record 1201's frame, of the same length as record 1200's raw record.
  ASSERT_EQ(MakeEvent(1201, source).raw.size(), MakeEvent(1200, source).raw.size());
  ahead->Compress(source, MakeEvent(1201, source).raw, &current);
  ASSERT_TRUE(current.is_blob);
  // Used while its dictionary is the writer's: here the frame of another record, to show it.
  ProcessEvent event = MakeEvent(1200, source);
  ASSERT_TRUE((*writer)->AddEvent(event, &current).ok());
  EXPECT_EQ(LastStored(db.get()), "blob " + MakeEvent(1201, source).raw);
  // A frame of a record of another length is not used.
  ingest::PreCompressed other_length;
  ahead->Compress(source, MakeEvent(50000, source).raw, &other_length);
  ASSERT_TRUE(other_length.is_blob);
  ASSERT_TRUE((*writer)->AddEvent(MakeEvent(1202, source), &other_length).ok());
  EXPECT_EQ(LastStored(db.get()), "blob " + MakeEvent(1202, source).raw);
  stale = current;
  (*writer)->AbortFile();
  // Another file trains its own dictionary; the stale frame is not used.
  LoadFile(writer->get(), "a", 0, 1200, {source});
  row.path = "/evidence/b";
  row.sha256 = std::string(63, '0') + "b";
  ASSERT_TRUE((*writer)->BeginFile(row).ok());
  ASSERT_TRUE((*writer)->AddEvent(MakeEvent(1200, source), &stale).ok());
  ingest::FileCounts counts;
  ASSERT_TRUE((*writer)->CommitFile(counts).ok());
  EXPECT_EQ(LastStored(db.get()), "blob " + MakeEvent(1200, source).raw);
}

TEST(RawRecordTest, PlainStorageKeepsText) {
  testing::TempDir dir;
  std::string path = dir.File("plain.db");
  {
    auto db = Open(path, schema::OpenMode::kReadWrite);
    auto writer = CaseWriter::Create(db.get(), RawStorage::kPlain);
    ASSERT_TRUE(writer.ok());
    LoadFile(writer->get(), "a", 0, 1500, {"Sysmon EventID 1"});
  }
  auto db = Open(path, schema::OpenMode::kReadOnly);
  EXPECT_EQ(db->QueryInt("SELECT count(*) FROM process_events WHERE typeof(raw) = 'text'").value(),
            1500);
  EXPECT_EQ(db->QueryInt("SELECT count(*) FROM raw_dictionaries").value(), 0);
}

TEST(RawRecordTest, DamagedOrForeignBlobsAreSqlErrors) {
  auto db = Open(":memory:", schema::OpenMode::kReadWrite);
  ASSERT_NE(db, nullptr);
  auto value = [&](std::string_view sql) -> Result<std::string> {
    Result<schema::Statement> stmt = db->Prepare(sql);
    if (!stmt.ok()) return stmt.status();
    Result<bool> row = stmt->Step();
    if (!row.ok()) return row.status();
    return std::string(stmt->ColumnText(0));
  };
  EXPECT_EQ(value("SELECT quarry_raw('<Event/>')").value(), "<Event/>");
  EXPECT_EQ(value("SELECT quarry_raw(NULL) IS NULL").value(), "1");
  Result<std::string> foreign = value("SELECT quarry_raw(x'00010203')");
  ASSERT_FALSE(foreign.ok());
  EXPECT_NE(foreign.status().message().find("not a stored raw record"), std::string::npos);
  // A frame header that names a dictionary the case does not have (id 0x01020304).
  Result<std::string> unknown = value("SELECT quarry_raw(x'28b52ffd230403020100')");
  ASSERT_FALSE(unknown.ok());
  // A frame whose header claims 2^48 bytes.
  Result<std::string> huge = value("SELECT quarry_raw(x'28b52ffdc0000000000000000100')");
  ASSERT_FALSE(huge.ok());
  EXPECT_NE(huge.status().message().find("damaged raw record"), std::string::npos);
  // A frame of 5 bytes whose block is missing.
  Result<std::string> cut = value("SELECT quarry_raw(x'28b52ffd2005290000')");
  ASSERT_FALSE(cut.ok());
}

}  // namespace
}  // namespace quarry
