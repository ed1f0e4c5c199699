// SPL subset -> SQLite. Each pipeline command becomes one common table expression over the
// previous one; the first, tstats, reads process_events through its indexes.
#include "query/spl_compiler.h"

#include <algorithm>
#include <cctype>
#include <functional>
#include <map>
#include <optional>
#include <utility>

#include "query/spl_parse.h"
#include "query/sql_functions.h"

namespace quarry::query {
namespace {

Status Invalid(std::string message) {
  return Status(StatusCode::kInvalidArgument, std::move(message));
}

std::string Quote(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) { return Lower(a) == Lower(b); }

std::optional<std::int64_t> ParseInteger(std::string_view text) {
  if (text.empty() || text.size() > 18) return std::nullopt;
  std::size_t i = text[0] == '-' ? 1 : 0;
  if (i == text.size()) return std::nullopt;
  std::int64_t value = 0;
  for (; i < text.size(); ++i) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
    value = value * 10 + (text[i] - '0');
  }
  return text[0] == '-' ? -value : value;
}

std::optional<double> ParseNumber(std::string_view text) {
  if (auto integer = ParseInteger(text)) return static_cast<double>(*integer);
  if (text.empty() || text.size() > 40) return std::nullopt;
  std::string copy(text);
  char* end = nullptr;
  double value = std::strtod(copy.c_str(), &end);
  if (end != copy.c_str() + copy.size()) return std::nullopt;
  if (copy.find_first_not_of("0123456789.-+eE") != std::string::npos) return std::nullopt;
  return value;
}

// SPL wildcard value -> LIKE pattern with '\' as the escape character.
std::string LikePattern(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '*') {
      out.push_back('%');
    } else {
      if (c == '%' || c == '_' || c == '\\') out.push_back('\\');
      out.push_back(c);
    }
  }
  return out;
}

// Does `name` match an SPL field pattern with `*` wildcards (case-sensitive, as field names)?
bool FieldPatternMatch(std::string_view name, std::string_view pattern, std::string* captured) {
  std::size_t star = pattern.find('*');
  if (star == std::string_view::npos) return name == pattern;
  std::string_view prefix = pattern.substr(0, star);
  std::string_view suffix = pattern.substr(star + 1);
  if (suffix.find('*') != std::string_view::npos) return false;  // one wildcard at most
  if (name.size() < prefix.size() + suffix.size()) return false;
  if (name.substr(0, prefix.size()) != prefix) return false;
  if (name.substr(name.size() - suffix.size()) != suffix) return false;
  if (captured != nullptr)
    *captured =
        std::string(name.substr(prefix.size(), name.size() - prefix.size() - suffix.size()));
  return true;
}

// Column facts the compiler needs to write a comparison.
struct ColumnRef {
  std::string sql;          // SQL expression, "NULL" for a field that is not there
  bool multivalue = false;  // values joined by kMultivalueSeparator
  bool base_text = false;   // a NOCASE text column of process_events
  bool base_integer = false;
};

using Resolver = std::function<ColumnRef(const std::string&)>;

struct Field {
  std::string name;
  bool multivalue = false;
};

const std::vector<std::string> kStoredFields = {"dest",
                                                "user",
                                                "user_id",
                                                "process",
                                                "process_name",
                                                "process_path",
                                                "process_id",
                                                "process_guid",
                                                "process_hash",
                                                "process_integrity_level",
                                                "process_current_directory",
                                                "original_file_name",
                                                "parent_process",
                                                "parent_process_name",
                                                "parent_process_path",
                                                "parent_process_id",
                                                "parent_process_guid",
                                                "parent_user",
                                                "vendor_product",
                                                "action"};

const std::vector<std::string> kUnstoredCimFields = {
    "cpu_load_percent",    "loaded_file",          "mem_used",           "os",
    "parent_process_exec", "parent_process_hash",  "process_exec",       "tag",
    "dest_bunit",          "dest_category",        "dest_priority",      "dest_is_expected",
    "dest_requires_av",    "dest_should_timesync", "dest_should_update", "user_bunit",
    "user_category",       "user_priority",        "cim_entity_zone"};

bool Contains(const std::vector<std::string>& list, std::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

// One aggregate of tstats or stats: function, argument field, output name.
struct Aggregate {
  std::string function;  // lower-case: count, min, max, values, dc, latest, earliest, sum, avg
  std::string field;     // empty for count
  std::string name;
};

class Compiler {
 public:
  Result<CompiledSearch> Run(std::string_view search, bool windowed) {
    windowed_ = windowed;
    Result<std::vector<SplCommand>> commands = SplitPipeline(search);
    if (!commands.ok()) return commands.status();
    for (std::size_t i = 0; i < commands->size(); ++i) {
      const SplCommand& command = (*commands)[i];
      Status status = i == 0 ? First(command) : Next(command);
      if (!status.ok()) {
        return Invalid("command " + std::to_string(i + 1) + " (" + command.name +
                       "): " + status.message());
      }
    }
    CompiledSearch out;
    std::string sql = "WITH ";
    for (std::size_t i = 0; i < ctes_.size(); ++i) {
      sql += (i ? ",\n" : "") + StageName(i) + " AS (\n" + ctes_[i] + ")";
    }
    sql += "\nSELECT ";
    for (std::size_t i = 0; i < fields_.size(); ++i) {
      sql += (i ? ", " : "") + Quote(fields_[i].name);
      out.columns.push_back(fields_[i].name);
      out.multivalue.push_back(fields_[i].multivalue);
    }
    if (fields_.empty()) sql += "NULL AS \"_no_fields\"";
    sql += "\nFROM " + Current();
    if (fields_.empty()) sql += "\nLIMIT 0";
    if (!sort_keys_.empty()) {
      sql += "\nORDER BY ";
      for (std::size_t i = 0; i < sort_keys_.size(); ++i)
        sql += (i ? ", " : "") + Quote(sort_keys_[i]) + " COLLATE BINARY";
    }
    out.sql = std::move(sql);
    out.params = std::move(params_);
    out.key_columns = key_columns_;
    out.notes = std::move(notes_);
    return out;
  }

 private:
  static std::string StageName(std::size_t index) { return "s" + std::to_string(index); }
  std::string Current() const { return StageName(ctes_.size() - 1); }

  std::string Bind(SqlValue value) {
    params_.push_back(std::move(value));
    return "?" + std::to_string(params_.size() + kNowParam);
  }

  void Note(std::string note) {
    if (!Contains(notes_, note)) notes_.push_back(std::move(note));
  }

  const Field* FindField(std::string_view name) const {
    for (const Field& field : fields_)
      if (field.name == name) return &field;
    return nullptr;
  }

  ColumnRef StageColumn(const std::string& name) const {
    const Field* field = FindField(name);
    if (field == nullptr) return ColumnRef{"NULL"};
    return ColumnRef{Quote(name), field->multivalue};
  }

  // ---- search-language predicates ----

  std::string Match(const ColumnRef& column, const std::string& value) {
    if (value == "*") return "(" + column.sql + " IS NOT NULL)";
    if (column.multivalue) return "spl_mv_match(" + column.sql + ", " + Bind(value) + ")";
    if (value.find('*') != std::string::npos) {
      return "(" + column.sql + " LIKE " + Bind(LikePattern(value)) + " ESCAPE '\\')";
    }
    if (column.base_integer) {
      std::optional<std::int64_t> number = ParseInteger(value);
      return number ? "(" + column.sql + " = " + Bind(*number) + ")" : "0";
    }
    if (column.base_text) return "(" + column.sql + " = " + Bind(value) + ")";
    return "(CAST(" + column.sql + " AS TEXT) = " + Bind(value) + " COLLATE NOCASE)";
  }

  std::string Predicate(const SearchNode& node, bool negate, const Resolver& resolve) {
    switch (node.kind) {
      case SearchNode::Kind::kTrue:
        return negate ? "0" : "1";
      case SearchNode::Kind::kNot:
        return Predicate(node.children[0], !negate, resolve);
      case SearchNode::Kind::kAnd:
      case SearchNode::Kind::kOr: {
        bool is_and = (node.kind == SearchNode::Kind::kAnd) != negate;  // De Morgan
        std::string sql = "(";
        for (std::size_t i = 0; i < node.children.size(); ++i) {
          if (i) sql += is_and ? " AND " : " OR ";
          sql += Predicate(node.children[i], negate, resolve);
        }
        return sql + ")";
      }
      case SearchNode::Kind::kIn: {
        ColumnRef column = resolve(node.field);
        std::string any = "(";
        for (std::size_t i = 0; i < node.values.size(); ++i)
          any += (i ? " OR " : "") + Match(column, node.values[i]);
        any += ")";
        return negate ? "(" + column.sql + " IS NULL OR NOT " + any + ")" : any;
      }
      case SearchNode::Kind::kCompare:
        break;
    }
    ColumnRef column = resolve(node.field);
    const std::string& value = node.values[0];
    if (node.op == "=" || node.op == "!=") {
      // field=value needs the field; field!=value needs the field and a different value;
      // NOT field=value also holds when the field is missing.
      std::string match = Match(column, value);
      bool positive = node.op == "=";
      if (positive && !negate) return match;
      if (positive && negate) return "(" + column.sql + " IS NULL OR NOT " + match + ")";
      if (!positive && !negate) return "(" + column.sql + " IS NOT NULL AND NOT " + match + ")";
      return "(" + column.sql + " IS NULL OR " + match + ")";
    }
    std::optional<double> number = ParseNumber(value);
    std::string operand = number ? Bind(*number) : Bind(value);
    std::string compare = "(" + column.sql + " " + node.op + " " + operand + ")";
    return negate ? "(" + column.sql + " IS NULL OR NOT " + compare + ")" : compare;
  }

  // ---- tstats ----

  ColumnRef TstatsColumn(const std::string& field) {
    if (field == "_time") return ColumnRef{"(e.time_us / 1000000.0)"};
    if (field == "sourcetype" || field == "source") return ColumnRef{"e." + field, false, true};
    std::string_view name = field;
    if (name.substr(0, 10) == "Processes.") {
      name.remove_prefix(10);
      std::string column(name);
      if (Contains(kStoredFields, column)) {
        bool integer = column == "process_id" || column == "parent_process_id";
        // vendor_product and action are plain text columns: compare them as derived values.
        bool nocase = !integer && column != "vendor_product" && column != "action";
        return ColumnRef{"e." + column, false, nocase, integer};
      }
      if (Contains(kUnstoredCimFields, column)) {
        Note("field " + field +
             " is part of CIM Endpoint.Processes but no source Quarry reads "
             "fills it: it is always missing");
        return ColumnRef{"NULL"};
      }
    }
    Note("field " + field + " is not an Endpoint.Processes field: it is always missing");
    return ColumnRef{"NULL"};
  }

  // Splits `text` at the first top-level occurrence of the word `keyword` (any case).
  static std::pair<std::string, std::string> SplitAtWord(std::string_view text,
                                                         std::string_view keyword, bool* found) {
    int depth = 0;
    bool quoted = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
      char c = text[i];
      if (quoted) {
        if (c == '\\')
          ++i;
        else if (c == '"')
          quoted = false;
        continue;
      }
      if (c == '"')
        quoted = true;
      else if (c == '(')
        ++depth;
      else if (c == ')')
        --depth;
      else if (depth == 0 && (i == 0 || std::isspace(static_cast<unsigned char>(text[i - 1]))) &&
               EqualsIgnoreCase(text.substr(i, keyword.size()), keyword) &&
               (i + keyword.size() == text.size() ||
                std::isspace(static_cast<unsigned char>(text[i + keyword.size()])))) {
        *found = true;
        return {std::string(TrimSpace(text.substr(0, i))),
                std::string(TrimSpace(text.substr(i + keyword.size())))};
      }
    }
    *found = false;
    return {std::string(TrimSpace(text)), ""};
  }

  // Reads aggregates ("count", "min(_time) as firstTime", "values(x)") from `text`.
  static Result<std::vector<Aggregate>> ParseAggregates(std::string_view text) {
    std::vector<Aggregate> aggregates;
    std::size_t i = 0;
    auto skip = [&] {
      while (i < text.size() &&
             (std::isspace(static_cast<unsigned char>(text[i])) || text[i] == ','))
        ++i;
    };
    auto word = [&] {
      std::size_t start = i;
      while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i])) &&
             text[i] != '(' && text[i] != ',')
        ++i;
      return std::string(text.substr(start, i - start));
    };
    skip();
    while (i < text.size()) {
      std::size_t start = i;
      std::string function = Lower(word());
      std::string field;
      if (i < text.size() && text[i] == '(') {
        std::size_t close = text.find(')', i);
        if (close == std::string_view::npos) return Invalid("missing ')' after " + function);
        field = std::string(TrimSpace(text.substr(i + 1, close - i - 1)));
        i = close + 1;
      }
      std::string name(text.substr(start, i - start));
      skip();
      std::size_t before_as = i;
      std::string maybe_as = word();
      if (EqualsIgnoreCase(maybe_as, "as")) {
        skip();
        name = word();
        if (!name.empty() && name.front() == '"' && name.back() == '"' && name.size() >= 2)
          name = name.substr(1, name.size() - 2);
      } else {
        i = before_as;
      }
      if (function == "distinct_count") function = "dc";
      static const std::vector<std::string> kKnown = {
          "count", "min", "max", "values", "dc", "latest", "earliest", "sum", "avg", "list"};
      if (!Contains(kKnown, function))
        return Invalid("aggregate " + function + " is not supported");
      if (function != "count" && field.empty())
        return Invalid("aggregate " + function + " needs a field");
      aggregates.push_back(Aggregate{function, field, name});
      skip();
    }
    return aggregates;
  }

  std::string AggregateSql(const Aggregate& aggregate, const ColumnRef& column,
                           const std::string& time_sql) {
    const std::string& f = aggregate.function;
    if (f == "count") return aggregate.field.empty() ? "count(*)" : "count(" + column.sql + ")";
    if (f == "values" || f == "list") return "spl_values(" + column.sql + ")";
    if (f == "dc") return "count(DISTINCT " + column.sql + " COLLATE BINARY)";
    if (f == "latest") return "spl_latest(" + column.sql + ", " + time_sql + ")";
    if (f == "earliest") return "spl_earliest(" + column.sql + ", " + time_sql + ")";
    return f + "(" + column.sql + ")";  // min, max, sum, avg
  }

  static Result<std::int64_t> SpanMicros(std::string_view span) {
    std::size_t digits = 0;
    while (digits < span.size() && std::isdigit(static_cast<unsigned char>(span[digits]))) ++digits;
    std::optional<std::int64_t> count = ParseInteger(span.substr(0, digits));
    std::string unit = Lower(span.substr(digits));
    static const std::map<std::string, std::int64_t> kUnits = {
        {"s", 1},    {"sec", 1},   {"m", 60},    {"min", 60},
        {"h", 3600}, {"hr", 3600}, {"d", 86400}, {"day", 86400}};
    auto it = kUnits.find(unit);
    if (!count || *count <= 0 || *count > 100000 || it == kUnits.end())
      return Invalid("span=" + std::string(span) + " is not supported (use s, m, h or d)");
    return *count * it->second * 1000000;
  }

  // Reads a by-clause: field names separated by spaces or commas, and span=.
  static Result<std::pair<std::vector<std::string>, std::string>> ParseBy(std::string_view text) {
    std::vector<std::string> fields;
    std::string span;
    for (const std::string& part : SplitTopLevel(text, ',')) {
      std::size_t i = 0;
      while (i < part.size()) {
        while (i < part.size() && std::isspace(static_cast<unsigned char>(part[i]))) ++i;
        std::size_t start = i;
        while (i < part.size() && !std::isspace(static_cast<unsigned char>(part[i]))) ++i;
        if (i == start) break;
        std::string token = part.substr(start, i - start);
        if (Lower(token).rfind("span=", 0) == 0) {
          span = token.substr(5);
        } else {
          fields.push_back(token);
        }
      }
    }
    return std::make_pair(fields, span);
  }

  Status Tstats(const std::string& args) {
    bool found = false;
    auto [head, rest] = SplitAtWord(args, "from", &found);
    if (!found) return Invalid("tstats without `from datamodel=` is not supported");
    // Options come first: key=value words before the aggregates.
    std::string aggregates_text;
    std::optional<std::string> fillnull;
    {
      std::size_t i = 0;
      while (i < head.size()) {
        while (i < head.size() && std::isspace(static_cast<unsigned char>(head[i]))) ++i;
        std::size_t start = i;
        while (i < head.size() && !std::isspace(static_cast<unsigned char>(head[i]))) ++i;
        std::string token = head.substr(start, i - start);
        std::size_t equals = token.find('=');
        if (equals == std::string::npos || token.find('(') != std::string::npos) {
          aggregates_text = head.substr(start);
          break;
        }
        std::string key = Lower(token.substr(0, equals));
        std::string value = token.substr(equals + 1);
        if (!value.empty() && value.front() == '"' && value.back() == '"' && value.size() >= 2)
          value = value.substr(1, value.size() - 2);
        if (key == "fillnull_value") {
          fillnull = value;
        } else if (key == "prestats" && EqualsIgnoreCase(value, "true")) {
          return Invalid("prestats=true is not supported");
        } else if (key != "summariesonly" && key != "allow_old_summaries" && key != "local" &&
                   key != "chunk_size" && key != "prestats" && key != "append" &&
                   key != "include_reduced_buckets") {
          return Invalid("tstats option " + key + " is not supported");
        }
      }
    }
    Result<std::vector<Aggregate>> aggregates = ParseAggregates(aggregates_text);
    if (!aggregates.ok()) return aggregates.status();
    auto [source_text, after_source] = SplitAtWord(rest, "where", &found);
    std::string where_text;
    std::string by_text;
    if (found) {
      bool has_by = false;
      std::tie(where_text, by_text) = SplitAtWord(after_source, "by", &has_by);
    } else {
      bool has_by = false;
      std::tie(source_text, by_text) = SplitAtWord(rest, "by", &has_by);
    }
    std::string datamodel(TrimSpace(source_text));
    if (Lower(datamodel).rfind("datamodel=", 0) != 0)
      return Invalid("tstats must read `from datamodel=Endpoint.Processes`");
    datamodel = datamodel.substr(10);
    if (!datamodel.empty() && datamodel.front() == '"') datamodel = datamodel.substr(1);
    if (!datamodel.empty() && datamodel.back() == '"') datamodel.pop_back();
    if (datamodel != "Endpoint.Processes" && datamodel != "Endpoint.Processes.Processes") {
      return Invalid("datamodel=" + datamodel +
                     " is not in a Quarry case (it holds Endpoint.Processes only)");
    }
    Resolver resolve = [this](const std::string& field) { return TstatsColumn(field); };
    Result<SearchNode> where = ParseSearchExpression(where_text);
    if (!where.ok()) return where.status();
    std::vector<std::string> conditions = {Predicate(*where, false, resolve)};
    if (windowed_) {
      conditions.push_back("e.time_us >= ?" + std::to_string(kEarliestParam));
      conditions.push_back("e.time_us < ?" + std::to_string(kLatestParam));
    }
    Result<std::pair<std::vector<std::string>, std::string>> by = ParseBy(by_text);
    if (!by.ok()) return by.status();
    std::string select;
    std::string group;
    for (const std::string& field : by->first) {
      std::string expr;
      if (field == "_time") {
        if (by->second.empty()) {
          expr = "(e.time_us / 1000000.0)";
        } else {
          Result<std::int64_t> span = SpanMicros(by->second);
          if (!span.ok()) return span.status();
          std::string s = std::to_string(*span);
          expr = "((e.time_us - ((e.time_us % " + s + ") + " + s + ") % " + s + ") / 1000000.0)";
        }
      } else {
        ColumnRef column = TstatsColumn(field);
        if (fillnull) {
          expr = "coalesce(" + column.sql + ", " + Bind(*fillnull) + ")";
        } else {
          expr = column.sql;
          conditions.push_back(column.sql + " IS NOT NULL");
        }
      }
      select += (select.empty() ? "" : ", ") + expr + " AS " + Quote(field);
      group += (group.empty() ? "" : ", ") + expr + " COLLATE BINARY";
      fields_.push_back(Field{field});
      sort_keys_.push_back(field);
      key_columns_.push_back(field);
    }
    for (const Aggregate& aggregate : *aggregates) {
      ColumnRef column = aggregate.field.empty() ? ColumnRef{} : TstatsColumn(aggregate.field);
      select += (select.empty() ? "" : ", ") + AggregateSql(aggregate, column, "e.time_us") +
                " AS " + Quote(aggregate.name);
      fields_.erase(std::remove_if(fields_.begin(), fields_.end(),
                                   [&](const Field& f) { return f.name == aggregate.name; }),
                    fields_.end());
      fields_.push_back(
          Field{aggregate.name, aggregate.function == "values" || aggregate.function == "list"});
    }
    std::string where_sql;
    for (const std::string& condition : conditions)
      where_sql += (where_sql.empty() ? "" : "\n  AND ") + condition;
    std::string sql = "SELECT " + select + "\nFROM process_events AS e\nWHERE " + where_sql;
    if (!group.empty()) sql += "\nGROUP BY " + group;
    ctes_.push_back(std::move(sql));
    return Status::Ok();
  }

  // ---- later stages ----

  // Adds a stage selecting `columns` (SQL expression, name) from the current one.
  void AddStage(const std::vector<std::pair<std::string, Field>>& columns,
                const std::string& where = "", const std::string& from = "") {
    std::string sql = "SELECT ";
    std::vector<Field> fields;
    for (std::size_t i = 0; i < columns.size(); ++i) {
      sql += (i ? ", " : "") + columns[i].first + " AS " + Quote(columns[i].second.name);
      fields.push_back(columns[i].second);
    }
    if (columns.empty()) sql += "NULL AS \"_no_fields\"";
    sql += " FROM " + (from.empty() ? Current() : from);
    if (!where.empty()) sql += " WHERE " + where;
    ctes_.push_back(std::move(sql));
    fields_ = std::move(fields);
    std::vector<std::string> keys;
    for (const std::string& key : sort_keys_)
      if (FindField(key) != nullptr) keys.push_back(key);
    sort_keys_ = std::move(keys);
  }

  std::vector<std::pair<std::string, Field>> PassThrough() const {
    std::vector<std::pair<std::string, Field>> columns;
    for (const Field& field : fields_) columns.emplace_back(Quote(field.name), field);
    return columns;
  }

  Status Filter(const std::string& condition) {
    AddStage(PassThrough(), condition);
    return Status::Ok();
  }

  Status SearchCommand(const std::string& args) {
    Result<SearchNode> node = ParseSearchExpression(args);
    if (!node.ok()) return node.status();
    if (node->kind == SearchNode::Kind::kTrue) return Status::Ok();  // `search *`
    Resolver resolve = [this](const std::string& field) { return StageColumn(field); };
    return Filter(Predicate(*node, false, resolve));
  }

  Result<std::string> Expression(const EvalNode& node) {
    switch (node.kind) {
      case EvalNode::Kind::kNumber: {
        if (auto integer = ParseInteger(node.text)) return Bind(*integer);
        if (auto number = ParseNumber(node.text)) return Bind(*number);
        return Invalid("bad number " + node.text);
      }
      case EvalNode::Kind::kString:
        return Bind(node.text);
      case EvalNode::Kind::kField:
        return StageColumn(node.text).sql;
      case EvalNode::Kind::kUnary: {
        Result<std::string> operand = Expression(node.args[0]);
        if (!operand.ok()) return operand;
        return "(" + std::string(node.text == "NOT" ? "NOT " : "-") + *operand + ")";
      }
      case EvalNode::Kind::kBinary: {
        Result<std::string> left = Expression(node.args[0]);
        if (!left.ok()) return left;
        Result<std::string> right = Expression(node.args[1]);
        if (!right.ok()) return right;
        const std::string& op = node.text;
        if (op == "AND" || op == "OR") return "(" + *left + " " + op + " " + *right + ")";
        if (op == "XOR") return "((" + *left + ") IS TRUE <> (" + *right + ") IS TRUE)";
        if (op == "=" || op == "!=" || op == "<" || op == ">" || op == "<=" || op == ">=") {
          std::string sql_op = op == "!=" ? "<>" : op;
          return "(" + *left + " " + sql_op + " " + *right + " COLLATE BINARY)";
        }
        if (op == "LIKE") return "spl_like(" + *left + ", " + *right + ")";
        if (op == ".") return "(" + *left + " || " + *right + ")";
        if (op == "/") return "(CAST(" + *left + " AS REAL) / " + *right + ")";
        return "(" + *left + " " + op + " " + *right + ")";  // + - * %
      }
      case EvalNode::Kind::kCall:
        return Call(node);
    }
    return Invalid("unknown expression");
  }

  Result<std::string> Call(const EvalNode& node) {
    std::string name = Lower(node.text);
    std::vector<std::string> args;
    for (const EvalNode& arg : node.args) {
      Result<std::string> sql = Expression(arg);
      if (!sql.ok()) return sql;
      args.push_back(std::move(*sql));
    }
    auto need = [&](std::size_t low, std::size_t high) -> Status {
      if (args.size() < low || args.size() > high)
        return Invalid(name + "() takes " + std::to_string(low) +
                       (high == low ? "" : ".." + std::to_string(high)) + " arguments");
      return Status::Ok();
    };
    auto join = [&](std::size_t from) {
      std::string out;
      for (std::size_t i = from; i < args.size(); ++i) out += (i > from ? ", " : "") + args[i];
      return out;
    };
    if (name == "if") {
      QUARRY_RETURN_IF_ERROR(need(3, 3));
      return "(CASE WHEN " + args[0] + " THEN " + args[1] + " ELSE " + args[2] + " END)";
    }
    if (name == "case") {
      if (args.empty() || args.size() % 2 != 0)
        return Invalid("case() takes condition, value pairs");
      std::string sql = "(CASE";
      for (std::size_t i = 0; i < args.size(); i += 2)
        sql += " WHEN " + args[i] + " THEN " + args[i + 1];
      return sql + " END)";
    }
    if (name == "isnull")
      return need(1, 1).ok() ? "(" + args[0] + " IS NULL)" : Result<std::string>(need(1, 1));
    if (name == "isnotnull")
      return need(1, 1).ok() ? "(" + args[0] + " IS NOT NULL)" : Result<std::string>(need(1, 1));
    if (name == "null") return std::string("NULL");
    if (name == "true") return std::string("1");
    if (name == "false") return std::string("0");
    if (name == "now" || name == "time") return "(?" + std::to_string(kNowParam) + " / 1000000.0)";
    if (name == "coalesce" && !args.empty())
      return "coalesce(" + join(0) + (args.size() == 1 ? ", NULL" : "") + ")";
    if (name == "len")
      return need(1, 1).ok() ? "length(" + args[0] + ")" : Result<std::string>(need(1, 1));
    if (name == "lower" || name == "upper" || name == "abs") {
      QUARRY_RETURN_IF_ERROR(need(1, 1));
      return name + "(" + args[0] + ")";
    }
    if (name == "trim" || name == "ltrim" || name == "rtrim" || name == "round") {
      QUARRY_RETURN_IF_ERROR(need(1, 2));
      return name + "(" + join(0) + ")";
    }
    if (name == "substr") {
      QUARRY_RETURN_IF_ERROR(need(2, 3));
      return "substr(" + join(0) + ")";
    }
    if (name == "like") {
      QUARRY_RETURN_IF_ERROR(need(2, 2));
      return "spl_like(" + args[0] + ", " + args[1] + ")";
    }
    if (name == "match") {
      QUARRY_RETURN_IF_ERROR(need(2, 2));
      return "spl_regex(" + args[0] + ", " + args[1] + ")";
    }
    if (name == "replace") {
      QUARRY_RETURN_IF_ERROR(need(3, 3));
      return "spl_replace(" + join(0) + ")";
    }
    if (name == "tostring") {
      QUARRY_RETURN_IF_ERROR(need(1, 1));  // formats ("hex", "commas") are not supported
      return "CAST(" + args[0] + " AS TEXT)";
    }
    if (name == "tonumber") {
      QUARRY_RETURN_IF_ERROR(need(1, 1));  // a base other than 10 is not supported
      return "CAST(" + args[0] + " AS NUMERIC)";
    }
    if (name == "mvcount") {
      QUARRY_RETURN_IF_ERROR(need(1, 1));
      return "spl_mvcount(" + args[0] + ")";
    }
    if (name == "mvindex") {
      QUARRY_RETURN_IF_ERROR(need(2, 3));
      return "spl_mvindex(" + join(0) + ")";
    }
    if (name == "mvjoin") {
      QUARRY_RETURN_IF_ERROR(need(2, 2));
      return "replace(" + args[0] + ", char(30), " + args[1] + ")";
    }
    if (name == "strftime") {
      QUARRY_RETURN_IF_ERROR(need(2, 2));
      return "spl_ctime(" + args[0] + ", " + args[1] + ")";
    }
    if (name == "split") {  // a multivalue field: values joined by a line break
      QUARRY_RETURN_IF_ERROR(need(2, 2));
      return "(CASE WHEN " + args[1] + " = '' THEN " + args[0] + " ELSE replace(" + args[0] + ", " +
             args[1] + ", char(30)) END)";
    }
    if (name == "in") {
      if (args.size() < 2) return Invalid("in() takes a value and a list");
      return "(" + args[0] + " COLLATE BINARY IN (" + join(1) + "))";
    }
    return Invalid("eval function " + node.text + "() is not supported");
  }

  Status WhereCommand(const std::string& args) {
    Result<EvalNode> node = ParseEvalExpression(args);
    if (!node.ok()) return node.status();
    Result<std::string> sql = Expression(*node);
    if (!sql.ok()) return sql.status();
    return Filter(*sql);
  }

  Status EvalCommand(const std::string& args) {
    for (const std::string& assignment : SplitTopLevel(args, ',')) {
      std::size_t equals = assignment.find('=');
      if (equals == std::string::npos || equals == 0 || assignment[equals + 1] == '=')
        return Invalid("expected name=expression in \"" + assignment + "\"");
      std::string name(TrimSpace(std::string_view(assignment).substr(0, equals)));
      if (name.size() >= 2 && name.front() == '"' && name.back() == '"')
        name = name.substr(1, name.size() - 2);
      Result<EvalNode> node = ParseEvalExpression(std::string_view(assignment).substr(equals + 1));
      if (!node.ok()) return node.status();
      Result<std::string> sql = Expression(*node);
      if (!sql.ok()) return sql.status();
      bool multivalue = node->kind == EvalNode::Kind::kCall && Lower(node->text) == "split";
      std::vector<std::pair<std::string, Field>> columns;
      bool replaced = false;
      for (const Field& field : fields_) {
        if (field.name == name) {
          columns.emplace_back(*sql, Field{name, multivalue});
          replaced = true;
        } else {
          columns.emplace_back(Quote(field.name), field);
        }
      }
      if (!replaced) columns.emplace_back(*sql, Field{name, multivalue});
      AddStage(columns);
    }
    return Status::Ok();
  }

  Status RenameCommand(const std::string& args) {
    for (const std::string& pair : SplitTopLevel(args, ',')) {
      bool found = false;
      auto [from, to] = SplitAtWord(pair, "as", &found);
      if (!found || from.empty() || to.empty()) return Invalid("expected `old AS new` in rename");
      auto unquote = [](std::string s) {
        return s.size() >= 2 && s.front() == '"' && s.back() == '"' ? s.substr(1, s.size() - 2) : s;
      };
      from = unquote(from);
      to = unquote(to);
      std::map<std::string, std::string> renames;
      for (const Field& field : fields_) {
        std::string captured;
        if (!FieldPatternMatch(field.name, from, &captured)) continue;
        std::string target = to;
        std::size_t star = target.find('*');
        if (star != std::string::npos) target.replace(star, 1, captured);
        renames[field.name] = target;
      }
      if (renames.empty()) continue;  // Splunk renames nothing when nothing matches
      std::vector<std::pair<std::string, Field>> columns;
      for (const Field& field : fields_) {
        auto it = renames.find(field.name);
        bool overwritten = false;  // a field whose name a renamed field takes is dropped
        for (const auto& [old_name, new_name] : renames)
          if (new_name == field.name && old_name != field.name) overwritten = true;
        if (it == renames.end() && overwritten) continue;
        Field renamed = field;
        if (it != renames.end()) renamed.name = it->second;
        columns.emplace_back(Quote(field.name), renamed);
      }
      for (std::string& key : sort_keys_)
        if (auto it = renames.find(key); it != renames.end()) key = it->second;
      for (std::string& key : key_columns_)
        if (auto it = renames.find(key); it != renames.end()) key = it->second;
      AddStage(columns);
    }
    return Status::Ok();
  }

  Status ConvertCommand(const std::string& args) {
    std::string format = "%m/%d/%Y %H:%M:%S";
    std::string rest = args;
    std::string_view trimmed = TrimSpace(rest);
    if (Lower(trimmed).rfind("timeformat=", 0) == 0) {
      std::size_t pos = 11;
      if (pos < trimmed.size() && trimmed[pos] == '"') {
        Result<std::string> quoted = ReadQuotedString(trimmed, &pos);
        if (!quoted.ok()) return quoted.status();
        format = *quoted;
      } else {
        std::size_t end = trimmed.find_first_of(" \t", pos);
        format = std::string(trimmed.substr(pos, end - pos));
        pos = end == std::string_view::npos ? trimmed.size() : end;
      }
      rest = std::string(trimmed.substr(pos));
    }
    std::vector<std::pair<std::string, Field>> columns = PassThrough();
    std::string_view text = TrimSpace(rest);
    while (!text.empty()) {
      std::size_t open = text.find('(');
      std::size_t close = text.find(')');
      if (open == std::string_view::npos || close == std::string_view::npos || close < open)
        return Invalid("expected ctime(field) in convert");
      std::string function = Lower(TrimSpace(text.substr(0, open)));
      if (function != "ctime") return Invalid("convert " + function + "() is not supported");
      std::string field(TrimSpace(text.substr(open + 1, close - open - 1)));
      text = TrimSpace(text.substr(close + 1));
      std::string target = field;
      if (Lower(text.substr(0, 3)) == "as ") {
        text = TrimSpace(text.substr(3));
        std::size_t end = text.find_first_of(" \t,");
        target = std::string(text.substr(0, end));
        text = end == std::string_view::npos ? "" : TrimSpace(text.substr(end));
      }
      if (!text.empty() && text.front() == ',') text = TrimSpace(text.substr(1));
      if (FindField(field) == nullptr) continue;  // convert leaves missing fields alone
      std::string sql = "spl_ctime(" + Quote(field) + ", " + Bind(format) + ")";
      bool replaced = false;
      for (auto& [expr, out] : columns) {
        if (out.name == target) {
          expr = sql;
          out.multivalue = false;
          replaced = true;
        }
      }
      if (!replaced) columns.emplace_back(sql, Field{target});
    }
    AddStage(columns);
    return Status::Ok();
  }

  Result<std::vector<std::string>> FieldList(std::string_view text) {
    std::vector<std::string> names;
    std::string current;
    bool quoted = false;
    for (char c : text) {
      if (c == '"') {
        quoted = !quoted;
      } else if (!quoted && (c == ',' || std::isspace(static_cast<unsigned char>(c)))) {
        if (!current.empty()) names.push_back(std::move(current));
        current.clear();
      } else {
        current.push_back(c);
      }
    }
    if (!current.empty()) names.push_back(std::move(current));
    return names;
  }

  Status TableCommand(const std::string& args, bool keep_missing) {
    std::string_view text = TrimSpace(args);
    bool remove = false;
    if (!text.empty() && text.front() == '-') {
      remove = true;
      text.remove_prefix(1);
    } else if (!text.empty() && text.front() == '+') {
      text.remove_prefix(1);
    }
    Result<std::vector<std::string>> names = FieldList(text);
    if (!names.ok()) return names.status();
    std::vector<std::pair<std::string, Field>> columns;
    if (remove) {
      for (const Field& field : fields_) {
        bool drop = std::any_of(names->begin(), names->end(), [&](const std::string& pattern) {
          return FieldPatternMatch(field.name, pattern, nullptr);
        });
        if (!drop) columns.emplace_back(Quote(field.name), field);
      }
    } else {
      for (const std::string& pattern : *names) {
        bool matched = false;
        for (const Field& field : fields_) {
          if (!FieldPatternMatch(field.name, pattern, nullptr)) continue;
          matched = true;
          bool seen = std::any_of(columns.begin(), columns.end(), [&](const auto& column) {
            return column.second.name == field.name;
          });
          if (!seen) columns.emplace_back(Quote(field.name), field);
        }
        if (!matched && keep_missing && pattern.find('*') == std::string::npos)
          columns.emplace_back("NULL", Field{pattern});
      }
    }
    AddStage(columns);
    return Status::Ok();
  }

  Status RegexCommand(const std::string& args) {
    std::string_view text = TrimSpace(args);
    std::size_t op = text.find('=');
    if (op == std::string_view::npos || op == 0) return Invalid("regex on _raw is not supported");
    bool negated = text[op - 1] == '!';
    std::string field(TrimSpace(text.substr(0, negated ? op - 1 : op)));
    std::string_view value = TrimSpace(text.substr(op + 1));
    std::string pattern;
    if (!value.empty() && value.front() == '"') {
      std::size_t pos = 0;
      Result<std::string> quoted = ReadQuotedString(value, &pos);
      if (!quoted.ok()) return quoted.status();
      pattern = *quoted;
    } else {
      pattern = std::string(value);
    }
    std::string test = "spl_regex(" + StageColumn(field).sql + ", " + Bind(pattern) + ")";
    return Filter(negated ? "coalesce(" + test + ", 0) = 0" : test + " = 1");
  }

  // rex field=F "(?<name>...)": each named group becomes a field; no match leaves it as it was.
  Status RexCommand(const std::string& args) {
    std::string_view text = TrimSpace(args);
    std::string field = "_raw";
    if (text.substr(0, 6) == "field=") {
      text.remove_prefix(6);
      if (!text.empty() && text.front() == '"') {
        std::size_t pos = 0;
        Result<std::string> quoted = ReadQuotedString(text, &pos);
        if (!quoted.ok()) return quoted.status();
        field = *quoted;
        text = TrimSpace(text.substr(pos));
      } else {
        std::size_t end = text.find_first_of(" \t");
        field = std::string(text.substr(0, end));
        text = end == std::string_view::npos ? "" : TrimSpace(text.substr(end));
      }
    }
    if (field == "_raw") return Invalid("rex on _raw is not supported (name a field=)");
    if (text.empty() || text.front() != '"')
      return Invalid("rex options other than field= are not supported");
    std::size_t pos = 0;
    Result<std::string> pattern = ReadQuotedString(text, &pos);
    if (!pattern.ok()) return pattern.status();
    if (!TrimSpace(text.substr(pos)).empty())
      return Invalid("rex options after the pattern are not supported");
    Result<std::vector<std::string>> groups = RegexGroupNames(*pattern);
    if (!groups.ok()) return groups.status();
    std::vector<std::pair<std::string, Field>> columns = PassThrough();
    std::string source = StageColumn(field).sql;
    std::string bound_pattern = Bind(*pattern);
    for (const std::string& group : *groups) {
      std::string sql = "spl_rex(" + source + ", " + bound_pattern + ", " + Bind(group) + ")";
      bool replaced = false;
      for (auto& [expr, out] : columns) {
        if (out.name == group) {
          expr = "coalesce(" + sql + ", " + expr + ")";
          out.multivalue = false;
          replaced = true;
        }
      }
      if (!replaced) columns.emplace_back(sql, Field{group});
    }
    AddStage(columns);
    return Status::Ok();
  }

  Status DedupCommand(const std::string& args) {
    Result<std::vector<std::string>> names = FieldList(args);
    if (!names.ok()) return names.status();
    std::vector<std::string> keys;
    for (const std::string& name : *names) {
      if (name.find('=') != std::string::npos || EqualsIgnoreCase(name, "sortby") ||
          ParseInteger(name)) {
        return Invalid("dedup options (" + name + ") are not supported");
      }
      keys.push_back(StageColumn(name).sql);
    }
    if (keys.empty()) return Invalid("dedup needs fields");
    std::string partition, present, order;
    for (const std::string& key : keys) {
      partition += (partition.empty() ? "" : ", ") + key + " COLLATE BINARY";
      present += (present.empty() ? "" : " AND ") + key + " IS NOT NULL";
    }
    for (const std::string& key : sort_keys_)
      order += (order.empty() ? "" : ", ") + Quote(key) + " COLLATE BINARY";
    std::string numbered = "(SELECT *, row_number() OVER (PARTITION BY " + partition +
                           (order.empty() ? "" : " ORDER BY " + order) +
                           ") AS quarry_dedup_row FROM " + Current() + " WHERE " + present + ")";
    AddStage(PassThrough(), "quarry_dedup_row = 1", numbered);
    return Status::Ok();
  }

  Status StatsCommand(const std::string& args) {
    bool found = false;
    auto [aggregates_text, by_text] = SplitAtWord(args, "by", &found);
    Result<std::vector<Aggregate>> aggregates = ParseAggregates(aggregates_text);
    if (!aggregates.ok()) return aggregates.status();
    Result<std::pair<std::vector<std::string>, std::string>> by = ParseBy(by_text);
    if (!by.ok()) return by.status();
    if (!by->second.empty()) return Invalid("stats span= is not supported");
    std::vector<std::pair<std::string, Field>> columns;
    std::string group, present;
    std::vector<std::string> keys;
    for (const std::string& name : by->first) {
      ColumnRef column = StageColumn(name);
      columns.emplace_back(column.sql, Field{name, column.multivalue});
      group += (group.empty() ? "" : ", ") + column.sql + " COLLATE BINARY";
      present += (present.empty() ? "" : " AND ") + column.sql + " IS NOT NULL";
      keys.push_back(name);
    }
    std::string time_sql = StageColumn("_time").sql;
    for (const Aggregate& aggregate : *aggregates) {
      ColumnRef column = aggregate.field.empty() ? ColumnRef{} : StageColumn(aggregate.field);
      columns.emplace_back(
          AggregateSql(aggregate, column, time_sql),
          Field{aggregate.name, aggregate.function == "values" || aggregate.function == "list"});
    }
    std::string sql = "SELECT ";
    std::vector<Field> fields;
    for (std::size_t i = 0; i < columns.size(); ++i) {
      sql += (i ? ", " : "") + columns[i].first + " AS " + Quote(columns[i].second.name);
      fields.push_back(columns[i].second);
    }
    sql += " FROM " + Current();
    if (!present.empty()) sql += " WHERE " + present;
    if (!group.empty()) sql += " GROUP BY " + group;
    ctes_.push_back(std::move(sql));
    fields_ = std::move(fields);
    sort_keys_ = keys;
    key_columns_ = keys;
    return Status::Ok();
  }

  Status First(const SplCommand& command) {
    if (command.name != "tstats") {
      return Invalid("a search must start with `| tstats ... from datamodel=Endpoint.Processes`");
    }
    return Tstats(command.args);
  }

  Status Next(const SplCommand& command) {
    const std::string& name = command.name;
    if (name == "search") return SearchCommand(command.args);
    if (name == "where") return WhereCommand(command.args);
    if (name == "eval") return EvalCommand(command.args);
    if (name == "rename") return RenameCommand(command.args);
    if (name == "convert") return ConvertCommand(command.args);
    if (name == "fields") return TableCommand(command.args, false);
    if (name == "table") return TableCommand(command.args, true);
    if (name == "regex") return RegexCommand(command.args);
    if (name == "dedup") return DedupCommand(command.args);
    if (name == "rex") return RexCommand(command.args);
    if (name == "stats") return StatsCommand(command.args);
    return Invalid("the `" + name + "` command is not supported");
  }

  bool windowed_ = false;
  std::vector<std::string> ctes_;
  std::vector<Field> fields_;
  std::vector<std::string> sort_keys_;
  std::vector<std::string> key_columns_;
  std::vector<std::string> notes_;
  std::vector<SqlValue> params_;
};

}  // namespace

const std::vector<std::string>& StoredProcessFields() { return kStoredFields; }
const std::vector<std::string>& UnstoredCimProcessFields() { return kUnstoredCimFields; }

Result<CompiledSearch> CompileSplSearch(std::string_view search, bool windowed) {
  return Compiler().Run(search, windowed);
}

}  // namespace quarry::query
