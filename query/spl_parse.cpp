// SPL pipeline, search-language and eval-language parsers (recursive descent over the text).
#include "query/spl_parse.h"

#include <cctype>
#include <utility>

namespace quarry::query {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

Status Invalid(std::string message) {
  return Status(StatusCode::kInvalidArgument, std::move(message));
}

// A position in the text being parsed, with the small steps every parser here needs.
class Cursor {
 public:
  explicit Cursor(std::string_view text) : text_(text) {}

  void SkipSpace() {
    while (pos_ < text_.size() && IsSpace(text_[pos_])) ++pos_;
  }
  bool AtEnd() {
    SkipSpace();
    return pos_ >= text_.size();
  }
  char Peek(std::size_t ahead = 0) const {
    return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0';
  }
  bool Consume(char c) {
    SkipSpace();
    if (Peek() != c) return false;
    ++pos_;
    return true;
  }
  // Consumes `keyword` when it is the next whole word (followed by a space, a parenthesis or the
  // end). Keywords are case-sensitive, as Splunk's AND/OR/NOT are.
  bool ConsumeKeyword(std::string_view keyword, bool any_case = false) {
    SkipSpace();
    std::string_view next = text_.substr(pos_, keyword.size());
    if (next.size() != keyword.size()) return false;
    for (std::size_t i = 0; i < next.size(); ++i) {
      char c =
          any_case ? static_cast<char>(std::toupper(static_cast<unsigned char>(next[i]))) : next[i];
      if (c != keyword[i]) return false;
    }
    char after = Peek(keyword.size());
    if (after != '\0' && !IsSpace(after) && after != '(') return false;
    pos_ += keyword.size();
    return true;
  }
  std::size_t pos() const { return pos_; }
  void set_pos(std::size_t pos) { pos_ = pos; }
  std::string_view text() const { return text_; }
  std::string_view Rest() const { return text_.substr(pos_); }
  // Where parsing stopped, for error messages.
  std::string Context() const {
    std::string_view rest = text_.substr(pos_);
    if (rest.empty()) return "at the end";
    return "at \"" + std::string(rest.substr(0, 40)) + (rest.size() > 40 ? "...\"" : "\"");
  }

 private:
  std::string_view text_;
  std::size_t pos_ = 0;
};

// ---- search language -------------------------------------------------------------------------

// Nesting deeper than this (parentheses, NOT, unary minus) is refused rather than recursed into.
constexpr int kMaxDepth = 200;

// Counts one level of recursion for as long as it lives.
class DepthGuard {
 public:
  explicit DepthGuard(int* depth) : depth_(depth) { ++*depth_; }
  ~DepthGuard() { --*depth_; }
  DepthGuard(const DepthGuard&) = delete;
  DepthGuard& operator=(const DepthGuard&) = delete;
  bool TooDeep() const { return *depth_ > kMaxDepth; }

 private:
  int* depth_;
};

Status TooDeep() {
  return Invalid("the expression nests more than " + std::to_string(kMaxDepth) + " levels deep");
}

bool IsWordStop(char c) {
  return IsSpace(c) || c == '(' || c == ')' || c == '=' || c == '!' || c == '<' || c == '>' ||
         c == ',' || c == '"' || c == '\0';
}

class SearchParser {
 public:
  explicit SearchParser(std::string_view text) : cursor_(text) {}

  Result<SearchNode> Parse() {
    if (cursor_.AtEnd()) return SearchNode{};  // an empty search matches everything
    Result<SearchNode> node = ParseAnd();
    if (!node.ok()) return node;
    if (!cursor_.AtEnd()) return Invalid("unexpected text " + cursor_.Context());
    return node;
  }

 private:
  // AND binds loosest in the search command; a term that simply follows another is ANDed.
  Result<SearchNode> ParseAnd() {
    SearchNode node{SearchNode::Kind::kAnd, {}, {}, {}, {}};
    while (true) {
      Result<SearchNode> child = ParseOr();
      if (!child.ok()) return child;
      node.children.push_back(std::move(*child));
      if (cursor_.AtEnd() || cursor_.Peek() == ')') break;
      cursor_.ConsumeKeyword("AND");
    }
    if (node.children.size() == 1) return std::move(node.children[0]);
    return node;
  }

  Result<SearchNode> ParseOr() {
    SearchNode node{SearchNode::Kind::kOr, {}, {}, {}, {}};
    while (true) {
      Result<SearchNode> child = ParseNot();
      if (!child.ok()) return child;
      node.children.push_back(std::move(*child));
      if (!cursor_.ConsumeKeyword("OR")) break;
    }
    if (node.children.size() == 1) return std::move(node.children[0]);
    return node;
  }

  Result<SearchNode> ParseNot() {
    DepthGuard guard(&depth_);
    if (guard.TooDeep()) return TooDeep();
    if (cursor_.ConsumeKeyword("NOT")) {
      Result<SearchNode> child = ParseNot();
      if (!child.ok()) return child;
      SearchNode node{SearchNode::Kind::kNot, {}, {}, {}, {}};
      node.children.push_back(std::move(*child));
      return node;
    }
    return ParsePrimary();
  }

  Result<SearchNode> ParsePrimary() {
    cursor_.SkipSpace();
    if (cursor_.Consume('(')) {
      Result<SearchNode> inner = ParseAnd();
      if (!inner.ok()) return inner;
      if (!cursor_.Consume(')')) return Invalid("missing ')' " + cursor_.Context());
      return inner;
    }
    if (cursor_.Peek() == '"') {
      return Invalid("free-text search term " + cursor_.Context() +
                     " (only field=value terms are supported)");
    }
    std::size_t start = cursor_.pos();
    std::string field = ReadWord();
    if (field.empty()) return Invalid("expected a search term " + cursor_.Context());
    cursor_.SkipSpace();
    std::string op = ReadOperator();
    if (!op.empty()) {
      Result<std::string> value = ReadValue(false);
      if (!value.ok()) return value.status();
      SearchNode node{SearchNode::Kind::kCompare, {}, field, op == "==" ? "=" : op, {*value}};
      return node;
    }
    std::size_t before_in = cursor_.pos();
    if (cursor_.ConsumeKeyword("IN") || cursor_.ConsumeKeyword("in")) {
      if (cursor_.Consume('(')) return ParseInList(std::move(field));
      cursor_.set_pos(before_in);
    }
    if (field == "*") return SearchNode{};
    cursor_.set_pos(start);
    return Invalid("free-text search term " + cursor_.Context() +
                   " (only field=value terms are supported)");
  }

  Result<SearchNode> ParseInList(std::string field) {
    SearchNode node{SearchNode::Kind::kIn, {}, std::move(field), "=", {}};
    while (true) {
      if (cursor_.Consume(',')) continue;  // Splunk tolerates an empty element: "a",, "b"
      Result<std::string> value = ReadValue(true);
      if (!value.ok()) return value.status();
      node.values.push_back(std::move(*value));
      if (cursor_.Consume(',')) continue;
      if (cursor_.Consume(')')) break;
      return Invalid("expected ',' or ')' in IN list " + cursor_.Context());
    }
    return node;
  }

  std::string ReadWord() {
    std::size_t start = cursor_.pos();
    while (!IsWordStop(cursor_.Peek())) cursor_.set_pos(cursor_.pos() + 1);
    return std::string(cursor_.text().substr(start, cursor_.pos() - start));
  }

  std::string ReadOperator() {
    char c = cursor_.Peek();
    char next = cursor_.Peek(1);
    std::size_t pos = cursor_.pos();
    if ((c == '!' || c == '<' || c == '>' || c == '=') && next == '=') {
      cursor_.set_pos(pos + 2);
      return std::string{c, next};
    }
    if (c == '=' || c == '<' || c == '>') {
      cursor_.set_pos(pos + 1);
      return std::string(1, c);
    }
    return "";
  }

  Result<std::string> ReadValue(bool in_list) {
    cursor_.SkipSpace();
    if (cursor_.Peek() == '"') {
      std::size_t pos = cursor_.pos();
      Result<std::string> value = ReadQuotedString(cursor_.text(), &pos);
      if (value.ok()) cursor_.set_pos(pos);
      return value;
    }
    std::size_t start = cursor_.pos();
    while (true) {
      char c = cursor_.Peek();
      if (c == '\0' || IsSpace(c) || c == ')' || c == '(' || (in_list && c == ',')) break;
      cursor_.set_pos(cursor_.pos() + 1);
    }
    if (cursor_.pos() == start) return Invalid("expected a value " + cursor_.Context());
    return UnescapeBareValue(cursor_.text().substr(start, cursor_.pos() - start));
  }

  Cursor cursor_;
  int depth_ = 0;
};

// ---- eval language ---------------------------------------------------------------------------

class EvalParser {
 public:
  explicit EvalParser(std::string_view text) : cursor_(text) {}

  Result<EvalNode> Parse() {
    Result<EvalNode> node = ParseOr();
    if (!node.ok()) return node;
    if (!cursor_.AtEnd()) return Invalid("unexpected text in expression " + cursor_.Context());
    return node;
  }

 private:
  static EvalNode Binary(std::string op, EvalNode left, EvalNode right) {
    EvalNode node{EvalNode::Kind::kBinary, std::move(op), {}};
    node.args.push_back(std::move(left));
    node.args.push_back(std::move(right));
    return node;
  }

  Result<EvalNode> ParseOr() {
    Result<EvalNode> left = ParseAnd();
    while (left.ok()) {
      std::string op;
      if (cursor_.ConsumeKeyword("OR", true)) {
        op = "OR";
      } else if (cursor_.ConsumeKeyword("XOR", true)) {
        op = "XOR";
      } else {
        break;
      }
      Result<EvalNode> right = ParseAnd();
      if (!right.ok()) return right;
      left = Binary(op, std::move(*left), std::move(*right));
    }
    return left;
  }

  Result<EvalNode> ParseAnd() {
    Result<EvalNode> left = ParseNot();
    while (left.ok() && cursor_.ConsumeKeyword("AND", true)) {
      Result<EvalNode> right = ParseNot();
      if (!right.ok()) return right;
      left = Binary("AND", std::move(*left), std::move(*right));
    }
    return left;
  }

  Result<EvalNode> ParseNot() {
    DepthGuard guard(&depth_);
    if (guard.TooDeep()) return TooDeep();
    if (cursor_.ConsumeKeyword("NOT", true)) {
      Result<EvalNode> operand = ParseNot();
      if (!operand.ok()) return operand;
      EvalNode node{EvalNode::Kind::kUnary, "NOT", {}};
      node.args.push_back(std::move(*operand));
      return node;
    }
    return ParseComparison();
  }

  Result<EvalNode> ParseComparison() {
    Result<EvalNode> left = ParseAdditive();
    if (!left.ok()) return left;
    cursor_.SkipSpace();
    static constexpr std::string_view kOperators[] = {"==", "!=", "<=", ">=", "=", "<", ">"};
    for (std::string_view op : kOperators) {
      if (cursor_.Rest().substr(0, op.size()) == op) {
        cursor_.set_pos(cursor_.pos() + op.size());
        Result<EvalNode> right = ParseAdditive();
        if (!right.ok()) return right;
        return Binary(op == "==" ? "=" : std::string(op), std::move(*left), std::move(*right));
      }
    }
    if (cursor_.ConsumeKeyword("LIKE", true)) {
      Result<EvalNode> right = ParseAdditive();
      if (!right.ok()) return right;
      return Binary("LIKE", std::move(*left), std::move(*right));
    }
    return left;
  }

  Result<EvalNode> ParseAdditive() {
    Result<EvalNode> left = ParseMultiplicative();
    while (left.ok()) {
      cursor_.SkipSpace();
      char c = cursor_.Peek();
      if (c != '+' && c != '-' && c != '.') break;
      if (c == '.' && std::isdigit(static_cast<unsigned char>(cursor_.Peek(1)))) break;
      cursor_.set_pos(cursor_.pos() + 1);
      Result<EvalNode> right = ParseMultiplicative();
      if (!right.ok()) return right;
      left = Binary(std::string(1, c), std::move(*left), std::move(*right));
    }
    return left;
  }

  Result<EvalNode> ParseMultiplicative() {
    Result<EvalNode> left = ParseUnary();
    while (left.ok()) {
      cursor_.SkipSpace();
      char c = cursor_.Peek();
      if (c != '*' && c != '/' && c != '%') break;
      cursor_.set_pos(cursor_.pos() + 1);
      Result<EvalNode> right = ParseUnary();
      if (!right.ok()) return right;
      left = Binary(std::string(1, c), std::move(*left), std::move(*right));
    }
    return left;
  }

  Result<EvalNode> ParseUnary() {
    DepthGuard guard(&depth_);
    if (guard.TooDeep()) return TooDeep();
    cursor_.SkipSpace();
    if (cursor_.Peek() == '-') {
      cursor_.set_pos(cursor_.pos() + 1);
      Result<EvalNode> operand = ParseUnary();
      if (!operand.ok()) return operand;
      EvalNode node{EvalNode::Kind::kUnary, "-", {}};
      node.args.push_back(std::move(*operand));
      return node;
    }
    return ParsePrimary();
  }

  Result<EvalNode> ParsePrimary() {
    cursor_.SkipSpace();
    char c = cursor_.Peek();
    if (c == '(') {
      cursor_.set_pos(cursor_.pos() + 1);
      Result<EvalNode> inner = ParseOr();
      if (!inner.ok()) return inner;
      if (!cursor_.Consume(')')) return Invalid("missing ')' " + cursor_.Context());
      return inner;
    }
    if (c == '"') {
      std::size_t pos = cursor_.pos();
      Result<std::string> text = ReadQuotedString(cursor_.text(), &pos);
      if (!text.ok()) return text.status();
      cursor_.set_pos(pos);
      return EvalNode{EvalNode::Kind::kString, std::move(*text), {}};
    }
    if (c == '\'') {  // 'field name'
      std::size_t end = cursor_.text().find('\'', cursor_.pos() + 1);
      if (end == std::string_view::npos) return Invalid("unterminated 'field name'");
      std::string name(cursor_.text().substr(cursor_.pos() + 1, end - cursor_.pos() - 1));
      cursor_.set_pos(end + 1);
      return EvalNode{EvalNode::Kind::kField, std::move(name), {}};
    }
    if (std::isdigit(static_cast<unsigned char>(c)) ||
        (c == '.' && std::isdigit(static_cast<unsigned char>(cursor_.Peek(1))))) {
      std::size_t start = cursor_.pos();
      while (std::isdigit(static_cast<unsigned char>(cursor_.Peek())) || cursor_.Peek() == '.')
        cursor_.set_pos(cursor_.pos() + 1);
      return EvalNode{EvalNode::Kind::kNumber,
                      std::string(cursor_.text().substr(start, cursor_.pos() - start)),
                      {}};
    }
    std::size_t start = cursor_.pos();
    while (true) {
      char w = cursor_.Peek();
      // A dot joins a name (Processes.dest) only when a name character follows it; otherwise
      // it is the concatenation operator (dest."-").
      char after = cursor_.Peek(1);
      bool name_dot = w == '.' && (std::isalnum(static_cast<unsigned char>(after)) || after == '_');
      if (std::isalnum(static_cast<unsigned char>(w)) || w == '_' || name_dot || w == ':' ||
          w == '@' || w == '{' || w == '}') {
        cursor_.set_pos(cursor_.pos() + 1);
      } else {
        break;
      }
    }
    std::string word(cursor_.text().substr(start, cursor_.pos() - start));
    if (word.empty()) return Invalid("expected a value in expression " + cursor_.Context());
    if (cursor_.Peek() == '(') {
      cursor_.set_pos(cursor_.pos() + 1);
      EvalNode call{EvalNode::Kind::kCall, word, {}};
      if (cursor_.Consume(')')) return call;
      while (true) {
        Result<EvalNode> arg = ParseOr();
        if (!arg.ok()) return arg;
        call.args.push_back(std::move(*arg));
        if (cursor_.Consume(',')) continue;
        if (cursor_.Consume(')')) break;
        return Invalid("expected ',' or ')' in call of " + word + " " + cursor_.Context());
      }
      return call;
    }
    return EvalNode{EvalNode::Kind::kField, std::move(word), {}};
  }

  Cursor cursor_;
  int depth_ = 0;
};

}  // namespace

std::string_view TrimSpace(std::string_view text) {
  while (!text.empty() && IsSpace(text.front())) text.remove_prefix(1);
  while (!text.empty() && IsSpace(text.back())) text.remove_suffix(1);
  return text;
}

Result<std::string> ReadQuotedString(std::string_view text, std::size_t* pos) {
  std::string out;
  std::size_t i = *pos + 1;
  while (i < text.size()) {
    char c = text[i];
    if (c == '\\' && i + 1 < text.size() && (text[i + 1] == '\\' || text[i + 1] == '"')) {
      out.push_back(text[i + 1]);
      i += 2;
      continue;
    }
    if (c == '"') {
      *pos = i + 1;
      return out;
    }
    out.push_back(c);
    ++i;
  }
  return Invalid("unterminated quoted string starting \"" + std::string(text.substr(*pos, 40)));
}

std::string UnescapeBareValue(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 1 < text.size() && text[i + 1] == '\\') ++i;
    out.push_back(text[i]);
  }
  return out;
}

namespace {

// Splits `text` at `separator` where it is outside double quotes and outside the brackets in
// `opens`/`closes` (matched by position). Reports an unterminated quote and unbalanced openers.
struct Split {
  std::vector<std::string_view> parts;
  bool open_quote = false;
  int open_brackets = 0;
};

Split SplitOutside(std::string_view text, char separator, std::string_view opens,
                   std::string_view closes) {
  Split split;
  bool quoted = false;
  std::size_t start = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quoted) {
      if (c == '\\' && i + 1 < text.size()) {
        ++i;
      } else if (c == '"') {
        quoted = false;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (opens.find(c) != std::string_view::npos) {
      ++split.open_brackets;
    } else if (closes.find(c) != std::string_view::npos && split.open_brackets > 0) {
      --split.open_brackets;
    } else if (c == separator && split.open_brackets == 0) {
      split.parts.push_back(text.substr(start, i - start));
      start = i + 1;
    }
  }
  split.parts.push_back(text.substr(start));
  split.open_quote = quoted;
  return split;
}

}  // namespace

std::vector<std::string> SplitTopLevel(std::string_view text, char separator) {
  std::vector<std::string> parts;
  for (std::string_view part : SplitOutside(text, separator, "([", ")]").parts)
    parts.emplace_back(TrimSpace(part));
  return parts;
}

Result<std::vector<SplCommand>> SplitPipeline(std::string_view search) {
  std::string_view text = TrimSpace(search);
  bool generating = !text.empty() && text.front() == '|';
  if (generating) text.remove_prefix(1);
  Split split = SplitOutside(text, '|', "[", "]");
  if (split.open_quote) return Invalid("unterminated quoted string in the search");
  if (split.open_brackets != 0) return Invalid("unbalanced '[' in the search");
  std::vector<std::string_view>& parts = split.parts;
  std::vector<SplCommand> commands;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    std::string_view part = TrimSpace(parts[i]);
    if (part.empty()) return Invalid("empty command in the pipeline (two '|' in a row)");
    std::size_t end = 0;
    while (end < part.size() && !IsSpace(part[end])) ++end;
    SplCommand command{std::string(part.substr(0, end)), std::string(TrimSpace(part.substr(end)))};
    if (i == 0 && !generating) {
      command = SplCommand{"search", std::string(part)};
    }
    commands.push_back(std::move(command));
  }
  return commands;
}

Result<SearchNode> ParseSearchExpression(std::string_view text) {
  return SearchParser(text).Parse();
}

Result<EvalNode> ParseEvalExpression(std::string_view text) { return EvalParser(text).Parse(); }

}  // namespace quarry::query
