// Parsing the SPL subset ESCU detections use: the pipeline, search-language predicates (tstats
// where, search) and eval-language expressions (where, eval). Parsing only; spl_compiler.h turns
// the trees into SQL.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "schema/status.h"

namespace quarry::query {

/// One command of a pipeline: its name ("tstats", "search", ...) and the text after the name.
struct SplCommand {
  std::string name;
  std::string args;
};

/// Splits an expanded search into its commands at the `|` characters that are outside quotes
/// and brackets. A search that does not start with `|` starts with an implied `search`.
/// A subsearch (`[ ... ]`) is kept inside its command's text.
Result<std::vector<SplCommand>> SplitPipeline(std::string_view search);

/// Reads one SPL quoted string starting at text[*pos] == '"'; `\\` is one backslash and `\"`
/// a quote, any other backslash is kept. Advances *pos past the closing quote.
Result<std::string> ReadQuotedString(std::string_view text, std::size_t* pos);

/// Undoes SPL's escaping in an unquoted value: `\\` is one backslash.
std::string UnescapeBareValue(std::string_view text);

/// A search-language predicate, as in `tstats ... where` and the `search` command. Splunk's
/// order of evaluation for these: parentheses, NOT, OR, then AND (AND binds loosest).
struct SearchNode {
  enum class Kind {
    kTrue,     ///< `*`: every event
    kAnd,      ///< children all hold
    kOr,       ///< one child holds
    kNot,      ///< children[0] does not hold
    kCompare,  ///< field op values[0], op one of = != < <= > >=
    kIn,       ///< field IN (values...)
  };
  Kind kind = Kind::kTrue;
  std::vector<SearchNode> children;
  std::string field;
  std::string op;
  std::vector<std::string> values;  ///< unescaped; `*` is a wildcard
};

/// Parses search-language text. Free-text terms (a bare word other than `*`) and constructs
/// outside the subset are kInvalidArgument naming them.
Result<SearchNode> ParseSearchExpression(std::string_view text);

/// An eval-language expression, as in `where` and `eval`. Order: parentheses, * / %, + - .,
/// comparisons, NOT, AND, OR/XOR.
struct EvalNode {
  enum class Kind {
    kNumber,  ///< text holds the literal
    kString,  ///< text holds the unescaped string
    kField,   ///< text holds the field name
    kCall,    ///< text holds the function name, args the arguments
    kUnary,   ///< text holds "-" or "NOT"; args[0]
    kBinary,  ///< text holds the operator; args[0], args[1]
  };
  Kind kind = Kind::kNumber;
  std::string text;
  std::vector<EvalNode> args;
};

Result<EvalNode> ParseEvalExpression(std::string_view text);

/// Splits `text` at commas that are outside quotes and parentheses (eval assignments, macro
/// arguments); pieces are trimmed.
std::vector<std::string> SplitTopLevel(std::string_view text, char separator);

/// Trims spaces, tabs and line breaks from both ends.
std::string_view TrimSpace(std::string_view text);

}  // namespace quarry::query
