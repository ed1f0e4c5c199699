// Ad hoc query execution and the four output formats.
#include "query/adhoc_query.h"

#include <cmath>
#include <cstdio>
#include <string>
#include <variant>
#include <vector>

#include "query/text_escape.h"

namespace quarry::query {
namespace {

using schema::Statement;
using schema::ValueType;

// A value for the table format: control characters and invalid bytes made visible, so that a
// log string cannot move the cursor or recolour the terminal.
std::string TableText(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size();) {
    std::size_t length = Utf8SequenceLength(text, i);
    auto c = static_cast<unsigned char>(text[i]);
    if (length == 0 || c < 0x20 || c == 0x7F) {
      if (c == '\n') {
        out += "\\n";
      } else if (c == '\r') {
        out += "\\r";
      } else if (c == '\t') {
        out += "\\t";
      } else {
        out += "\\x";
        AppendHexByte(c, &out);
      }
      ++i;
      continue;
    }
    if (length == 2 && c == 0xC2 && static_cast<unsigned char>(text[i + 1]) < 0xA0) {
      out += "\\x";  // C1 control characters (U+0080..U+009F) act on terminals too
      AppendHexByte(static_cast<unsigned char>(text[i + 1]), &out);
      i += 2;
      continue;
    }
    out.append(text.substr(i, length));
    i += length;
  }
  return out;
}

std::size_t DisplayWidth(std::string_view text) {
  std::size_t width = 0;
  for (char c : text) width += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return width;
}

template <typename Rows>
std::string NumberText(const Rows& stmt, int column) {
  if (stmt.ColumnType(column) == ValueType::kInteger) return std::to_string(stmt.ColumnInt(column));
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.17g", stmt.ColumnDouble(column));
  return buffer;
}

template <typename Rows>
void AppendJsonValue(const Rows& stmt, int column, std::string* out) {
  switch (stmt.ColumnType(column)) {
    case ValueType::kNull:
      *out += "null";
      break;
    case ValueType::kInteger:
      *out += NumberText(stmt, column);
      break;
    case ValueType::kReal:  // JSON has no infinity or NaN
      *out += std::isfinite(stmt.ColumnDouble(column)) ? NumberText(stmt, column) : "null";
      break;
    default:
      AppendJsonString(stmt.ColumnText(column), out);
  }
}

template <typename Rows>
std::string JsonObject(const Rows& stmt) {
  std::string line = "{";
  for (int c = 0; c < stmt.ColumnCount(); ++c) {
    if (c > 0) line += ", ";
    AppendJsonString(stmt.ColumnName(c), &line);
    line += ": ";
    AppendJsonValue(stmt, c, &line);
  }
  line += "}";
  return line;
}

std::string CsvField(std::string_view text) {
  if (text.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(text);
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

template <typename Rows>
std::string PlainValue(const Rows& stmt, int column) {
  switch (stmt.ColumnType(column)) {
    case ValueType::kNull:
      return "";
    case ValueType::kInteger:
    case ValueType::kReal:
      return NumberText(stmt, column);
    default:
      return std::string(stmt.ColumnText(column));
  }
}

// Prints the rows of one statement; returns the step failure, if any.
template <typename Rows>
Status PrintRows(Rows* stmt, OutputFormat format, std::ostream& out) {
  const int columns = stmt->ColumnCount();
  std::vector<std::vector<std::string>> table;  // kTable only: widths need every row
  if (format == OutputFormat::kTable) {
    table.emplace_back();
    for (int c = 0; c < columns; ++c) table.back().push_back(TableText(stmt->ColumnName(c)));
  } else if (format == OutputFormat::kCsv) {
    for (int c = 0; c < columns; ++c) out << (c ? "," : "") << CsvField(stmt->ColumnName(c));
    out << "\r\n";
  } else if (format == OutputFormat::kJson) {
    out << "[";
  }
  bool first = true;
  while (true) {
    Result<bool> row = stmt->Step();
    if (!row.ok()) {
      if (format == OutputFormat::kJson) out << "]\n";
      return row.status();
    }
    if (!*row) break;
    switch (format) {
      case OutputFormat::kTable:
        table.emplace_back();
        for (int c = 0; c < columns; ++c) {
          table.back().push_back(
              stmt->ColumnType(c) == ValueType::kNull ? "NULL" : TableText(PlainValue(*stmt, c)));
        }
        break;
      case OutputFormat::kCsv:
        for (int c = 0; c < columns; ++c) out << (c ? "," : "") << CsvField(PlainValue(*stmt, c));
        out << "\r\n";
        break;
      case OutputFormat::kJson:
        out << (first ? "\n  " : ",\n  ") << JsonObject(*stmt);
        break;
      case OutputFormat::kJsonl:
        out << JsonObject(*stmt) << "\n";
        break;
    }
    first = false;
  }
  if (format == OutputFormat::kJson) out << (first ? "]\n" : "\n]\n");
  if (format == OutputFormat::kTable) {
    std::vector<std::size_t> widths(static_cast<std::size_t>(columns), 0);
    for (const auto& cells : table) {
      for (std::size_t c = 0; c < cells.size(); ++c)
        widths[c] = std::max(widths[c], DisplayWidth(cells[c]));
    }
    for (std::size_t r = 0; r < table.size(); ++r) {
      std::string line;
      for (std::size_t c = 0; c < table[r].size(); ++c) {
        if (c > 0) line += "  ";
        line += table[r][c];
        if (c + 1 < table[r].size()) line.append(widths[c] - DisplayWidth(table[r][c]), ' ');
      }
      out << line << "\n";
      if (r == 0) {
        std::string rule;
        for (std::size_t c = 0; c < widths.size(); ++c)
          rule += (c ? "  " : "") + std::string(widths[c], '-');
        out << rule << "\n";
      }
    }
  }
  return Status::Ok();
}

// Rows already in memory (a detection's results) read like a statement.
class TableRows {
 public:
  TableRows(const std::vector<std::string>& columns, const std::vector<std::vector<SqlValue>>& rows)
      : columns_(columns), rows_(rows) {}
  Result<bool> Step() { return ++next_ <= rows_.size(); }
  int ColumnCount() const { return static_cast<int>(columns_.size()); }
  std::string_view ColumnName(int column) const { return columns_[Index(column)]; }
  ValueType ColumnType(int column) const {
    const SqlValue& value = Value(column);
    if (std::holds_alternative<std::monostate>(value)) return ValueType::kNull;
    if (std::holds_alternative<std::int64_t>(value)) return ValueType::kInteger;
    if (std::holds_alternative<double>(value)) return ValueType::kReal;
    return ValueType::kText;
  }
  std::int64_t ColumnInt(int column) const { return std::get<std::int64_t>(Value(column)); }
  double ColumnDouble(int column) const { return std::get<double>(Value(column)); }
  std::string_view ColumnText(int column) const { return std::get<std::string>(Value(column)); }

 private:
  static std::size_t Index(int column) { return static_cast<std::size_t>(column); }
  const SqlValue& Value(int column) const { return rows_[next_ - 1][Index(column)]; }
  const std::vector<std::string>& columns_;
  const std::vector<std::vector<SqlValue>>& rows_;
  std::size_t next_ = 0;
};

}  // namespace

Status PrintTable(const std::vector<std::string>& columns,
                  const std::vector<std::vector<SqlValue>>& rows, OutputFormat format,
                  std::ostream& out) {
  TableRows table(columns, rows);
  return PrintRows(&table, format, out);
}

std::optional<OutputFormat> ParseOutputFormat(std::string_view name) {
  if (name == "table") return OutputFormat::kTable;
  if (name == "csv") return OutputFormat::kCsv;
  if (name == "json") return OutputFormat::kJson;
  if (name == "jsonl") return OutputFormat::kJsonl;
  return std::nullopt;
}

Status RunAdHocQuery(schema::CaseDb* db, std::string_view sql, OutputFormat format,
                     std::ostream& out, const QueryParams& params) {
  if (sql.find('\0') != std::string_view::npos) {
    return Status(StatusCode::kInvalidArgument, "the SQL text contains a NUL byte");
  }
  std::string_view rest = sql;
  bool ran_any = false;
  while (rest.find_first_not_of(" \t\r\n;") != std::string_view::npos) {
    std::string_view tail;
    Result<Statement> stmt = db->Prepare(rest, &tail);
    if (!stmt.ok()) return stmt.status();
    if (tail.size() >= rest.size()) {
      return Status(StatusCode::kInvalidArgument,
                    "SQL that SQLite cannot read past: " + std::string(rest.substr(0, 80)));
    }
    rest = tail;
    if (!stmt->IsReadOnly()) {
      return Status(StatusCode::kReadOnly,
                    "refused: the statement would change the case database, and queries are "
                    "read-only: " +
                        std::string(stmt->Sql()));
    }
    for (int i = 1; i <= stmt->ParameterCount(); ++i) {
      std::string_view name = stmt->ParameterName(i);
      if (name.empty()) {
        return Status(
            StatusCode::kInvalidArgument,
            "positional parameter '?' in the SQL: name it (:name) and give --param name=value");
      }
      auto value = params.find(name.substr(1));
      if (value == params.end()) {
        return Status(StatusCode::kInvalidArgument, "no value for parameter " + std::string(name) +
                                                        ": give --param " +
                                                        std::string(name.substr(1)) + "=VALUE");
      }
      stmt->BindText(i, std::string_view(value->second));  // `params` outlives the statement
    }
    if (stmt->ColumnCount() == 0) {
      Result<bool> done = stmt->Step();  // e.g. a comment-only tail or a read-only PRAGMA
      if (!done.ok()) return done.status();
      continue;
    }
    QUARRY_RETURN_IF_ERROR(PrintRows(&*stmt, format, out));
    ran_any = true;
  }
  if (!ran_any && sql.find_first_not_of(" \t\r\n;") == std::string_view::npos) {
    return Status(StatusCode::kInvalidArgument, "no SQL given");
  }
  return Status::Ok();
}

}  // namespace quarry::query
