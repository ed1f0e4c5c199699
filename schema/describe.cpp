// DescribeSchema: reads the comments of the embedded migrations.
#include "schema/describe.h"

#include <sstream>
#include <vector>

#include "schema/case_db.h"
#include "schema/embedded_file.h"

namespace quarry::schema {
namespace notes {
extern const EmbeddedFile kEmbeddedFiles[];
extern const int kEmbeddedFileCount;
}  // namespace notes

namespace {

// The meaning of a column whose migration line has no comment (column_notes.tsv).
std::string ColumnNote(const std::string& table, const std::string& column) {
  if (notes::kEmbeddedFileCount == 0) return "";
  std::istringstream in{std::string(notes::kEmbeddedFiles[0].text)};
  std::string line;
  const std::string key = table + "\t" + column + "\t";
  while (std::getline(in, line)) {
    if (line.rfind(key, 0) == 0) return line.substr(key.size());
  }
  return "";
}

std::string Trim(std::string text) {
  const char* space = " \t\r";
  text.erase(0, text.find_first_not_of(space));
  text.erase(text.find_last_not_of(space) + 1);
  return text;
}

// The word after `keyword` ("CREATE TABLE name (" -> "name").
std::string NameAfter(const std::string& line, const std::string& keyword) {
  std::string rest = Trim(line.substr(keyword.size()));
  return rest.substr(0, rest.find_first_of(" (\t"));
}

struct Column {
  std::string name;
  std::string type;
  std::string comment;
};

struct Object {
  std::string kind;  // TABLE or VIEW
  std::string name;
  std::string comment;
  std::vector<Column> columns;
};

std::vector<Object> ParseMigrations() {
  std::vector<Object> objects;
  for (int version = 1; version <= LatestSchemaVersion(); ++version) {
    std::istringstream in{std::string(MigrationText(version))};
    std::string line, comment;
    Object* table = nullptr;
    while (std::getline(in, line)) {
      std::string trimmed = Trim(line);
      if (table != nullptr) {
        if (trimmed.rfind(")", 0) == 0) {  // ");" or ") WITHOUT ROWID;"
          table = nullptr;
          continue;
        }
        std::string code = trimmed.substr(0, trimmed.find("--"));
        std::string note = trimmed.find("--") == std::string::npos
                               ? ""
                               : Trim(trimmed.substr(trimmed.find("--") + 2));
        if (Trim(code).empty()) {  // a comment line continues the previous column's comment
          if (!table->columns.empty() && !note.empty()) table->columns.back().comment += " " + note;
          continue;
        }
        if (code.rfind("PRIMARY KEY", 0) == 0 || code.rfind("UNIQUE", 0) == 0 ||
            code.rfind("CHECK", 0) == 0 || code.rfind("FOREIGN KEY", 0) == 0) {
          continue;  // a table constraint, not a column
        }
        std::istringstream words(code);
        Column column;
        words >> column.name >> column.type;
        if (column.type.back() == ',') column.type.pop_back();
        column.comment = note.empty() ? ColumnNote(table->name, column.name) : note;
        table->columns.push_back(std::move(column));
        continue;
      }
      if (trimmed.rfind("--", 0) == 0) {
        std::string text = Trim(trimmed.substr(2));
        if (text.rfind("Migration", 0) == 0 || text.rfind("Append-only", 0) == 0) continue;
        comment += (comment.empty() ? "" : " ") + text;
        continue;
      }
      if (trimmed.rfind("ALTER TABLE ", 0) == 0 &&
          trimmed.find(" ADD COLUMN ") != std::string::npos) {
        std::string name = NameAfter(trimmed, "ALTER TABLE ");
        std::istringstream words(trimmed.substr(trimmed.find(" ADD COLUMN ") + 12));
        Column column;
        words >> column.name >> column.type;
        if (!column.type.empty() && column.type.back() == ';') column.type.pop_back();
        std::size_t note = trimmed.find("--");
        column.comment = note != std::string::npos ? Trim(trimmed.substr(note + 2)) : comment;
        if (column.comment.empty()) column.comment = ColumnNote(name, column.name);
        for (Object& object : objects) {
          if (object.name == name) object.columns.push_back(column);
        }
      }
      // A later migration that drops a table or view (to create it again, changed) removes it
      // here too, so that each object is described once, as it is now.
      for (const char* drop : {"DROP VIEW ", "DROP TABLE "}) {
        if (trimmed.rfind(drop, 0) != 0) continue;
        std::string name = NameAfter(trimmed, drop);
        if (!name.empty() && name.back() == ';') name.pop_back();
        std::erase_if(objects, [&](const Object& object) { return object.name == name; });
        table = nullptr;
      }
      if (trimmed.rfind("CREATE TABLE ", 0) == 0) {
        objects.push_back(Object{"TABLE", NameAfter(trimmed, "CREATE TABLE "), comment, {}});
        table = &objects.back();
      } else if (trimmed.rfind("CREATE VIEW ", 0) == 0) {
        objects.push_back(Object{"VIEW", NameAfter(trimmed, "CREATE VIEW "), comment, {}});
      }
      if (trimmed.empty() || trimmed.rfind("CREATE", 0) == 0 || trimmed.rfind("ALTER", 0) == 0) {
        comment.clear();
      }
    }
  }
  return objects;
}

}  // namespace

Result<std::string> DescribeSchema() {
  std::vector<Object> objects = ParseMigrations();
  Result<std::unique_ptr<CaseDb>> db = CaseDb::Open(":memory:", OpenMode::kReadWrite);
  if (!db.ok()) return db.status();
  std::string out = "Case database schema version " + std::to_string(LatestSchemaVersion()) +
                    " (docs/schema.md has examples).\n";
  for (Object& object : objects) {
    if (object.kind == "VIEW") {
      Result<Statement> info = (*db)->Prepare("SELECT name FROM pragma_table_info(?1)");
      if (!info.ok()) return info.status();
      info->BindTextCopy(1, object.name);
      while (true) {
        Result<bool> row = info->Step();
        if (!row.ok()) return row.status();
        if (!*row) break;
        object.columns.push_back(Column{std::string(info->ColumnText(0)), "", ""});
      }
    }
    out += "\n" + object.kind + " " + object.name + "\n";
    if (!object.comment.empty()) out += "  " + object.comment + "\n";
    for (const Column& column : object.columns) {
      std::string line = "    " + column.name;
      if (!column.type.empty())
        line += std::string(line.size() < 32 ? 32 - line.size() : 1, ' ') + column.type;
      if (!column.comment.empty())
        line += std::string(line.size() < 42 ? 42 - line.size() : 1, ' ') + column.comment;
      out += line + "\n";
    }
  }
  return out;
}

}  // namespace quarry::schema
