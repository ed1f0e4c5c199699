// Prepared INSERTs for input_files, process_events and ingest_warnings; every value is bound.
#include "ingest/case_writer.h"

#include <cctype>
#include <functional>
#include <map>
#include <vector>

#include "schema/embedded_file.h"
#include "schema/time_util.h"
#include "schema/version.h"

namespace quarry::ingest {
using schema::NowIsoUtc;
namespace sql {
extern const schema::EmbeddedFile kEmbeddedFiles[];
extern const int kEmbeddedFileCount;
}  // namespace sql

namespace {

constexpr std::string_view kFindFile = "SELECT path FROM input_files WHERE sha256 = ?1";

constexpr std::string_view kInsertFile = R"sql(
INSERT INTO input_files (path, sha256, size_bytes, format, encoding, status, reason,
                         ingested_at, quarry_version, container_sha256, member_path)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11))sql";

constexpr std::string_view kFindMember = R"sql(
SELECT 1 FROM input_files WHERE container_sha256 = ?1 AND member_path = ?2)sql";

constexpr std::string_view kSetSha256 =
    "UPDATE input_files SET sha256 = ?2, size_bytes = ?3 WHERE file_id = ?1";

// Event identity (migration 0005): served by process_events_identity and (migration 0007)
// crowdstrike_events_aid_guid. FDR ids are unique per event in real data, but published test
// data reuses them for different events, so the sensor, process and time must match too.
// The second column says whether the process fields agree as well (?11 to ?15).
constexpr std::string_view kFindWindowsEvent = R"sql(
SELECT event_id, process IS ?11 AND process_id IS ?12 AND process_path IS ?13
                 AND parent_process_id IS ?14 AND time_us = ?15
FROM process_events
WHERE record_id = ?1 AND log_time_us IS ?2 AND dest IS ?3 AND source = ?4 AND event_code IS ?5
ORDER BY 2 DESC LIMIT 1)sql";

constexpr std::string_view kFindCrowdStrikeEvent = R"sql(
SELECT c.event_id, e.process IS ?11 AND e.process_id IS ?12 AND e.process_path IS ?13
                   AND e.parent_process_guid IS ?14 AND e.time_us = ?15
FROM crowdstrike_events AS c JOIN process_events AS e USING (event_id)
WHERE c.aid IS ?2 AND c.process_guid IS ?3 AND c.fdr_event_id = ?1
ORDER BY 2 DESC LIMIT 1)sql";

constexpr std::string_view kInsertHostSource = R"sql(
INSERT OR IGNORE INTO host_sources (dest, data_source) VALUES (?1, ?2))sql";

constexpr std::string_view kInsertCopy = R"sql(
INSERT INTO event_copies (event_id, file_id, record_offset, record_line) VALUES (?1, ?2, ?3, ?4))sql";

constexpr std::string_view kInsertEvent = R"sql(
INSERT INTO process_events (
  time_us, dest, user, user_id, process, process_name, process_path, process_id, process_guid,
  process_hash, process_integrity_level, process_current_directory, original_file_name,
  parent_process, parent_process_name, parent_process_path, parent_process_id,
  parent_process_guid, parent_user, vendor_product, action, data_source, sourcetype, source,
  event_code, record_id, log_time_us, file_id, record_offset, record_line, raw)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19,
        ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30, ?31))sql";

constexpr std::string_view kInsertWarning = R"sql(
INSERT INTO ingest_warnings (file_id, byte_offset, line, record_id, severity, reason, excerpt)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7))sql";

constexpr std::string_view kUpdateCounts = R"sql(
UPDATE input_files SET events_loaded = ?2, events_skipped = ?3, records_rejected = ?4,
                       warnings = ?5, lookups_loaded = ?6, events_duplicate = ?7
WHERE file_id = ?1)sql";

constexpr std::string_view kInsertCrowdStrikeEvent = R"sql(
INSERT INTO crowdstrike_events (event_id, aid, computer_name, user_name, user_sid, fdr_event_id,
                                process_guid, process_id, parent_guid, resolved_dest,
                                resolved_user, resolved_parent_process_id)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12))sql";

constexpr std::string_view kResolveCrowdStrikeEvent = R"sql(
SELECT dest, user, parent_process_id FROM crowdstrike_resolution WHERE event_id = ?1)sql";

constexpr std::string_view kUpdateEventResolution = R"sql(
UPDATE process_events SET dest = ?2, user = ?3, parent_process_id = ?4 WHERE event_id = ?1)sql";

constexpr std::string_view kUpdateCrowdStrikeResolution = R"sql(
UPDATE crowdstrike_events
SET resolved_dest = ?2, resolved_user = ?3, resolved_parent_process_id = ?4
WHERE event_id = ?1)sql";

constexpr std::string_view kInsertHost = R"sql(
INSERT INTO crowdstrike_hosts (aid, computer_name, machine_domain, ou, site_name, platform,
                               os_version, seen_time_us, file_id, record_offset, raw)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11))sql";

constexpr std::string_view kInsertUser = R"sql(
INSERT INTO crowdstrike_users (user_sid, user, user_name, account_type, last_logged_on_host,
                               seen_time_us, file_id, record_offset, raw)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9))sql";

std::string_view ResolveCrowdStrikeSql() {
  for (int i = 0; i < sql::kEmbeddedFileCount; ++i) {
    if (sql::kEmbeddedFiles[i].name == "resolve_crowdstrike.sql")
      return sql::kEmbeddedFiles[i].text;
  }
  return {};
}

}  // namespace

Result<std::unique_ptr<CaseWriter>> CaseWriter::Create(schema::CaseDb* db, RawStorage raw) {
  std::unique_ptr<CaseWriter> writer(new CaseWriter(db));
  Result<std::unique_ptr<RawCompressor>> compressor = RawCompressor::Create(db, raw);
  if (!compressor.ok()) return compressor.status();
  writer->raw_ = std::move(compressor).value();
  struct Item {
    std::string_view sql;
    schema::Statement* target;
  };
  for (Item item :
       {Item{kFindFile, &writer->find_file_}, Item{kInsertFile, &writer->insert_file_},
        Item{kInsertEvent, &writer->insert_event_}, Item{kInsertWarning, &writer->insert_warning_},
        Item{kUpdateCounts, &writer->update_counts_},
        Item{kInsertCrowdStrikeEvent, &writer->insert_crowdstrike_event_},
        Item{kResolveCrowdStrikeEvent, &writer->resolve_crowdstrike_event_},
        Item{kUpdateEventResolution, &writer->update_event_resolution_},
        Item{kUpdateCrowdStrikeResolution, &writer->update_crowdstrike_resolution_},
        Item{kInsertHost, &writer->insert_host_}, Item{kInsertUser, &writer->insert_user_},
        Item{kFindMember, &writer->find_member_}, Item{kSetSha256, &writer->set_sha256_},
        Item{kFindWindowsEvent, &writer->find_windows_event_},
        Item{kFindCrowdStrikeEvent, &writer->find_crowdstrike_event_},
        Item{kInsertCopy, &writer->insert_copy_},
        Item{kInsertHostSource, &writer->insert_host_source_}}) {
    Result<schema::Statement> stmt = db->Prepare(item.sql);
    if (!stmt.ok()) return stmt.status();
    *item.target = std::move(stmt).value();
  }
  return writer;
}

Result<std::optional<std::string>> CaseWriter::FindFile(const std::string& sha256) {
  find_file_.BindText(1, std::string_view(sha256));
  Result<bool> row = find_file_.Step();
  std::optional<std::string> path;
  if (row.ok() && *row) path = std::string(find_file_.ColumnText(0));
  find_file_.Reset();
  if (!row.ok()) return row.status();
  return path;
}

Result<bool> CaseWriter::FindMember(const std::string& container_sha256,
                                    const std::string& member_path) {
  find_member_.BindText(1, std::string_view(container_sha256));
  find_member_.BindText(2, std::string_view(member_path));
  Result<bool> row = find_member_.Step();
  find_member_.Reset();
  return row;
}

Status CaseWriter::SetFileContent(const std::string& sha256, std::int64_t size_bytes) {
  set_sha256_.BindInt(1, file_id_);
  set_sha256_.BindText(2, std::string_view(sha256));
  set_sha256_.BindInt(3, size_bytes);
  return set_sha256_.Run();
}

Status CaseWriter::BeginFile(const InputFileRow& file) {
  QUARRY_RETURN_IF_ERROR(db_->Exec("BEGIN IMMEDIATE"));
  in_file_ = true;
  crowdstrike_added_ = false;
  std::string now = NowIsoUtc();
  insert_file_.BindText(1, std::string_view(file.path));
  insert_file_.BindText(2, std::string_view(file.sha256));
  insert_file_.BindInt(3, file.size_bytes);
  insert_file_.BindText(4, file.format);
  insert_file_.BindText(5, file.encoding);
  insert_file_.BindText(6, std::string_view(file.status));
  insert_file_.BindText(7, file.reason);
  insert_file_.BindText(8, std::string_view(now));
  insert_file_.BindText(9, kQuarryVersion);
  insert_file_.BindText(10, file.container_sha256);
  insert_file_.BindText(11, file.member_path);
  Status status = insert_file_.Run();
  if (!status.ok()) {
    AbortFile();
    return status;
  }
  file_id_ = db_->LastInsertRowId();
  return Status::Ok();
}

Result<CaseWriter::Added> CaseWriter::FindSameEvent(const ProcessEvent& e) {
  schema::Statement* find = nullptr;
  if (e.crowdstrike) {
    if (!e.crowdstrike->fdr_event_id) return Added();
    find = &find_crowdstrike_event_;
    find->BindText(1, e.crowdstrike->fdr_event_id);
    find->BindText(2, e.crowdstrike->aid);
    find->BindText(3, e.process_guid);
    find->BindText(14, e.parent_process_guid);
  } else {
    if (!e.record_id) return Added();
    find = &find_windows_event_;
    find->BindInt(1, e.record_id);
    find->BindInt(2, e.log_time_us);
    find->BindText(3, e.dest);
    find->BindText(4, std::string_view(e.source));
    find->BindInt(5, e.event_code);
    find->BindInt(14, e.parent_process_id);
  }
  find->BindText(11, e.process);
  find->BindInt(12, e.process_id);
  find->BindText(13, e.process_path);
  find->BindInt(15, e.time_us);
  Result<bool> row = find->Step();
  Added result;
  if (row.ok() && *row) {
    if (find->ColumnInt(1) != 0) {
      result.added = false;
    }
    result.look_alike = find->ColumnInt(0);
  }
  find->Reset();
  if (!row.ok()) return row.status();
  return result;
}

std::unique_ptr<RawCompressor::Ahead> CaseWriter::RawAhead() const {
  if (raw_->storage() == RawStorage::kPlain) return nullptr;
  return std::make_unique<RawCompressor::Ahead>(raw_.get());
}

Result<CaseWriter::Added> CaseWriter::AddEvent(const ProcessEvent& e,
                                               const PreCompressed* raw_ahead) {
  Result<Added> same = FindSameEvent(e);
  if (!same.ok()) return same.status();
  if (!same->added) {
    insert_copy_.BindInt(1, *same->look_alike);
    insert_copy_.BindInt(2, file_id_);
    insert_copy_.BindInt(3, e.record_offset);
    insert_copy_.BindInt(4, e.record_line);
    QUARRY_RETURN_IF_ERROR(insert_copy_.Run());
    return same;
  }
  schema::Statement& s = insert_event_;
  s.BindInt(1, e.time_us);
  s.BindText(2, e.dest);
  s.BindText(3, e.user);
  s.BindText(4, e.user_id);
  s.BindText(5, e.process);
  s.BindText(6, e.process_name);
  s.BindText(7, e.process_path);
  s.BindInt(8, e.process_id);
  s.BindText(9, e.process_guid);
  s.BindText(10, e.process_hash);
  s.BindText(11, e.process_integrity_level);
  s.BindText(12, e.process_current_directory);
  s.BindText(13, e.original_file_name);
  s.BindText(14, e.parent_process);
  s.BindText(15, e.parent_process_name);
  s.BindText(16, e.parent_process_path);
  s.BindInt(17, e.parent_process_id);
  s.BindText(18, e.parent_process_guid);
  s.BindText(19, e.parent_user);
  s.BindText(20, std::string_view(e.vendor_product));
  s.BindText(21, std::string_view(e.action));
  s.BindText(22, std::string_view(e.data_source));
  s.BindText(23, std::string_view(e.sourcetype));
  s.BindText(24, std::string_view(e.source));
  s.BindInt(25, e.event_code);
  s.BindInt(26, e.record_id);
  s.BindInt(27, e.log_time_us);
  s.BindInt(28, file_id_);
  s.BindInt(29, e.record_offset);
  s.BindInt(30, e.record_line);
  Result<RawCompressor::Stored> raw = raw_->Encode(e.data_source, e.raw, file_id_, raw_ahead);
  if (!raw.ok()) {
    s.Reset();
    return raw.status();
  }
  if (raw->is_blob) {
    s.BindBlob(31, raw->bytes);
  } else {
    s.BindText(31, raw->bytes);
  }
  QUARRY_RETURN_IF_ERROR(s.Run());
  if (e.crowdstrike) QUARRY_RETURN_IF_ERROR(AddCrowdStrikeEvent(e, db_->LastInsertRowId()));
  if (e.event_code && e.dest) {  // Windows sources per host, for LinkSources
    std::string key = *e.dest + '\x1f' + e.data_source;
    for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (host_sources_.insert(key).second) {
      insert_host_source_.BindText(1, e.dest);
      insert_host_source_.BindText(2, std::string_view(e.data_source));
      Status status = insert_host_source_.Run();
      if (!status.ok()) {
        host_sources_.erase(key);
        return status;
      }
    }
  }
  return same;
}

Status CaseWriter::AddCrowdStrikeEvent(const ProcessEvent& e, std::int64_t event_id) {
  crowdstrike_added_ = true;
  schema::Statement& c = insert_crowdstrike_event_;
  c.BindInt(1, event_id);
  c.BindText(2, e.crowdstrike->aid);
  c.BindText(3, e.crowdstrike->computer_name);
  c.BindText(4, e.crowdstrike->user_name);
  c.BindText(5, e.user_id);
  c.BindText(6, e.crowdstrike->fdr_event_id);
  c.BindText(7, e.process_guid);
  c.BindInt(8, e.process_id);
  c.BindText(9, e.parent_process_guid);
  c.BindText(10, e.dest);
  c.BindText(11, e.user);
  c.BindInt(12, e.parent_process_id);
  QUARRY_RETURN_IF_ERROR(c.Run());

  // Apply the resolution rules (view crowdstrike_resolution) with what the case holds now: the
  // lookups and parents already loaded. Later files are taken care of by ResolveCrowdStrike.
  schema::Statement& r = resolve_crowdstrike_event_;
  r.BindInt(1, event_id);
  Result<bool> row = r.Step();
  if (!row.ok() || !*row) {
    r.Reset();
    return row.ok() ? Status(StatusCode::kInternal, "no resolution for a CrowdStrike event")
                    : row.status();
  }
  auto text = [&](int column) -> std::optional<std::string> {
    if (r.ColumnType(column) == schema::ValueType::kNull) return std::nullopt;
    return std::string(r.ColumnText(column));
  };
  std::optional<std::string> dest = text(0);
  std::optional<std::string> user = text(1);
  std::optional<std::int64_t> parent;
  if (r.ColumnType(2) != schema::ValueType::kNull) parent = r.ColumnInt(2);
  r.Reset();
  if (dest == e.dest && user == e.user && parent == e.parent_process_id) return Status::Ok();
  for (schema::Statement* update : {&update_event_resolution_, &update_crowdstrike_resolution_}) {
    update->BindInt(1, event_id);
    update->BindText(2, dest);
    update->BindText(3, user);
    update->BindInt(4, parent);
    QUARRY_RETURN_IF_ERROR(update->Run());
  }
  return Status::Ok();
}

Status CaseWriter::AddHost(const CrowdStrikeHost& h) {
  crowdstrike_added_ = true;
  schema::Statement& s = insert_host_;
  s.BindText(1, std::string_view(h.aid));
  s.BindText(2, h.computer_name);
  s.BindText(3, h.machine_domain);
  s.BindText(4, h.ou);
  s.BindText(5, h.site_name);
  s.BindText(6, h.platform);
  s.BindText(7, h.os_version);
  s.BindInt(8, h.seen_time_us);
  s.BindInt(9, file_id_);
  s.BindInt(10, h.record_offset);
  s.BindText(11, std::string_view(h.raw));
  return s.Run();
}

Status CaseWriter::AddUser(const CrowdStrikeUser& u) {
  crowdstrike_added_ = true;
  schema::Statement& s = insert_user_;
  s.BindText(1, std::string_view(u.user_sid));
  s.BindText(2, u.user);
  s.BindText(3, u.user_name);
  s.BindText(4, u.account_type);
  s.BindText(5, u.last_logged_on_host);
  s.BindInt(6, u.seen_time_us);
  s.BindInt(7, file_id_);
  s.BindInt(8, u.record_offset);
  s.BindText(9, std::string_view(u.raw));
  return s.Run();
}

Result<bool> CaseWriter::CrowdStrikePending() {
  Result<std::int64_t> pending =
      db_->QueryInt("SELECT count(*) FROM case_state WHERE name = 'crowdstrike_pending'");
  if (!pending.ok()) return pending.status();
  return *pending > 0;
}

Status CaseWriter::ResolveCrowdStrike() {
  std::string_view script = ResolveCrowdStrikeSql();
  if (script.empty())
    return Status(StatusCode::kInternal, "resolve_crowdstrike.sql is not embedded");
  QUARRY_RETURN_IF_ERROR(db_->Exec("BEGIN IMMEDIATE"));
  Status status = db_->Exec(script);
  if (!status.ok()) {
    (void)db_->Exec("ROLLBACK");
    return status;
  }
  return db_->Exec("COMMIT");
}

Result<std::int64_t> CaseWriter::LinkSources() {
  Result<std::int64_t> since = db_->QueryInt(
      "SELECT COALESCE((SELECT CAST(value AS INTEGER) FROM case_state "
      "WHERE name = 'linked_through_event_id'), 0)");
  if (!since.ok()) return since.status();
  Result<std::int64_t> last =
      db_->QueryInt("SELECT COALESCE(max(event_id), 0) FROM process_events");
  if (!last.ok()) return last.status();
  if (*last <= *since) return 0;

  QUARRY_RETURN_IF_ERROR(db_->Exec("BEGIN IMMEDIATE"));
  auto run = [&]() -> Result<std::int64_t> {
    // Partners of the new Windows rows on hosts that two sources log; process_events_dest_time
    // serves the probe, whose cost is the host's process starts within a second.
    Result<schema::Statement> pairs = db_->Prepare(R"sql(
SELECT a.event_id, b.event_id FROM process_events AS a
JOIN process_events AS b
  ON b.dest = a.dest AND b.time_us BETWEEN a.time_us - 1000000 AND a.time_us + 1000000
 AND b.process_id = a.process_id AND b.process_path = a.process_path
 AND b.data_source <> a.data_source
WHERE a.event_id > ?1 AND a.event_id <= ?2 AND a.event_code IS NOT NULL
  AND a.process_id IS NOT NULL AND a.process_path IS NOT NULL
  AND a.dest IN (SELECT dest FROM host_sources GROUP BY dest HAVING count(*) > 1))sql");
    if (!pairs.ok()) return pairs.status();
    pairs->BindInt(1, *since);
    pairs->BindInt(2, *last);
    std::map<std::int64_t, std::int64_t> parent;  // union-find over event ids
    std::function<std::int64_t(std::int64_t)> find = [&](std::int64_t x) {
      auto it = parent.try_emplace(x, x).first;
      if (it->second == x) return x;
      std::int64_t root = find(it->second);
      parent[x] = root;
      return root;
    };
    auto unite = [&](std::int64_t a, std::int64_t b) {
      a = find(a);
      b = find(b);
      if (a != b) parent[std::max(a, b)] = std::min(a, b);  // the root is the smallest id
    };
    while (true) {
      Result<bool> row = pairs->Step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      unite(pairs->ColumnInt(0), pairs->ColumnInt(1));
    }
    if (parent.empty()) return std::int64_t{0};
    // Groups linked earlier join through their key (itself a member).
    Result<schema::Statement> key =
        db_->Prepare("SELECT process_key FROM process_links WHERE event_id = ?1");
    if (!key.ok()) return key.status();
    std::vector<std::int64_t> nodes;
    for (const auto& [node, unused] : parent) nodes.push_back(node);
    for (std::int64_t node : nodes) {
      key->BindInt(1, node);
      Result<bool> row = key->Step();
      if (row.ok() && *row) unite(node, key->ColumnInt(0));
      key->Reset();
      if (!row.ok()) return row.status();
    }
    Result<schema::Statement> rekey =
        db_->Prepare("UPDATE process_links SET process_key = ?2 WHERE process_key = ?1");
    Result<schema::Statement> upsert = db_->Prepare(
        "INSERT OR REPLACE INTO process_links (event_id, process_key) VALUES (?1, ?2)");
    if (!rekey.ok()) return rekey.status();
    if (!upsert.ok()) return upsert.status();
    std::int64_t linked = 0;
    for (const auto& [node, unused] : parent) {
      std::int64_t root = find(node);
      rekey->BindInt(1, node);  // members of a group whose key was `node`
      rekey->BindInt(2, root);
      QUARRY_RETURN_IF_ERROR(rekey->Run());
      upsert->BindInt(1, node);
      upsert->BindInt(2, root);
      QUARRY_RETURN_IF_ERROR(upsert->Run());
      ++linked;
    }
    return linked;
  };
  Result<std::int64_t> linked = run();
  Status status = linked.status();
  if (status.ok()) {
    status = db_->Exec(
        "INSERT OR REPLACE INTO case_state (name, value) VALUES ('linked_through_event_id', " +
        std::to_string(*last) + ")");
  }
  if (status.ok()) status = db_->Exec("COMMIT");
  if (!status.ok()) {
    (void)db_->Exec("ROLLBACK");
    return status;
  }
  return linked;
}

Status CaseWriter::AddWarning(const IngestWarning& w) {
  schema::Statement& s = insert_warning_;
  s.BindInt(1, file_id_);
  s.BindInt(2, w.byte_offset);
  s.BindInt(3, w.line);
  s.BindInt(4, w.record_id);
  s.BindText(
      5, std::string_view(w.severity == IngestWarning::Severity::kRejected ? "rejected" : "field"));
  s.BindText(6, std::string_view(w.reason));
  s.BindBlob(7, std::string_view(w.excerpt));
  return s.Run();
}

Status CaseWriter::CommitFile(const FileCounts& counts) {
  update_counts_.BindInt(1, file_id_);
  update_counts_.BindInt(2, counts.events_loaded);
  update_counts_.BindInt(3, counts.events_skipped);
  update_counts_.BindInt(4, counts.records_rejected);
  update_counts_.BindInt(5, counts.warnings);
  update_counts_.BindInt(6, counts.lookups_loaded);
  update_counts_.BindInt(7, counts.events_duplicate);
  Status status = update_counts_.Run();
  if (status.ok() && crowdstrike_added_) {  // in this transaction: no crash can lose the mark
    status = db_->Exec(
        "INSERT OR REPLACE INTO case_state (name, value) VALUES ('crowdstrike_pending', '1')");
  }
  if (status.ok()) status = db_->Exec("COMMIT");
  if (!status.ok()) {
    AbortFile();
    return status;
  }
  in_file_ = false;
  return Status::Ok();
}

void CaseWriter::AbortFile() {
  if (!in_file_) return;
  (void)db_->Exec("ROLLBACK");
  in_file_ = false;
  host_sources_.clear();  // some may have been rolled back with the file
  raw_->Rollback();       // and a dictionary trained in it
}

}  // namespace quarry::ingest
