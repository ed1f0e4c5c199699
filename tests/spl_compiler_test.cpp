// The SPL-subset compiler: parsing, Splunk's semantics run on a small case, index use, errors.
#include "query/spl_compiler.h"

#include <gtest/gtest.h>

#include "query/adhoc_query.h"
#include "query/detect.h"
#include "query/spl_parse.h"
#include "query/sql_functions.h"
#include "tests/test_util.h"

namespace quarry::testing {
namespace {

using query::CompileSplSearch;
using query::SearchNode;

// Renders a search-language tree as a compact prefix expression.
std::string Tree(const SearchNode& node) {
  switch (node.kind) {
    case SearchNode::Kind::kTrue:
      return "TRUE";
    case SearchNode::Kind::kNot:
      return "NOT(" + Tree(node.children[0]) + ")";
    case SearchNode::Kind::kAnd:
    case SearchNode::Kind::kOr: {
      std::string out = node.kind == SearchNode::Kind::kAnd ? "AND(" : "OR(";
      for (std::size_t i = 0; i < node.children.size(); ++i)
        out += (i ? " " : "") + Tree(node.children[i]);
      return out + ")";
    }
    case SearchNode::Kind::kIn: {
      std::string out = node.field + " IN[";
      for (std::size_t i = 0; i < node.values.size(); ++i) out += (i ? "|" : "") + node.values[i];
      return out + "]";
    }
    case SearchNode::Kind::kCompare:
      return node.field + node.op + node.values[0];
  }
  return "?";
}

std::string ParseTree(std::string_view text) {
  Result<SearchNode> node = query::ParseSearchExpression(text);
  return node.ok() ? Tree(*node) : "error: " + node.status().message();
}

TEST(SplParseTest, SearchOrBindsTighterThanAnd) {
  // Splunk's search command evaluates OR before AND (the Search Manual's "Boolean expressions").
  EXPECT_EQ(ParseTree("a=1 b=2 OR c=3"), "AND(a=1 OR(b=2 c=3))");
  EXPECT_EQ(ParseTree("a=1 AND b=2 OR c=3"), "AND(a=1 OR(b=2 c=3))");
  EXPECT_EQ(ParseTree("(a=1 AND b=2) OR c=3"), "OR(AND(a=1 b=2) c=3)");
  EXPECT_EQ(ParseTree("NOT a=1 b=2"), "AND(NOT(a=1) b=2)");
  EXPECT_EQ(ParseTree("NOT (a=1 b=2)"), "NOT(AND(a=1 b=2))");
}

TEST(SplParseTest, ValuesQuotesBackslashesAndOperators) {
  EXPECT_EQ(ParseTree(R"(Processes.process=*\\\\*)"), R"(Processes.process=*\\*)");
  EXPECT_EQ(ParseTree(R"(p="*\\C$\\*")"), R"(p=*\C$\*)");
  EXPECT_EQ(ParseTree(R"(p="say \"hi\"")"), R"(p=say "hi")");
  EXPECT_EQ(ParseTree(R"(p=C:\Windows\x)"), R"(p=C:\Windows\x)");  // a lone backslash stays
  EXPECT_EQ(ParseTree("Processes.process_name =  \"7z.exe\""), "Processes.process_name=7z.exe");
  EXPECT_EQ(ParseTree("count>=4 x!=y"), "AND(count>=4 x!=y)");
  EXPECT_EQ(ParseTree("f IN (\"a\", b,, \"c d\")"), "f IN[a|b|c d]");
  EXPECT_EQ(ParseTree("*"), "TRUE");
  EXPECT_EQ(ParseTree(""), "TRUE");
}

TEST(SplParseTest, FreeTextAndBrokenInputAreErrors) {
  EXPECT_EQ(ParseTree("powershell").rfind("error: free-text search term", 0), 0u);
  EXPECT_EQ(ParseTree("\"quoted words\"").rfind("error: free-text", 0), 0u);
  EXPECT_EQ(ParseTree("(a=1").rfind("error: missing ')'", 0), 0u);
  EXPECT_EQ(ParseTree("a=\"open").rfind("error: unterminated quoted string", 0), 0u);
  EXPECT_EQ(ParseTree("f IN (a b)").rfind("error: expected ',' or ')'", 0), 0u);
}

TEST(SplParseTest, DeepNestingIsRefusedNotRecursedInto) {
  std::string deep(100000, '(');
  EXPECT_NE(ParseTree(deep + "a=1").find("nests more than 200 levels"), std::string::npos);
  EXPECT_FALSE(query::ParseEvalExpression(std::string(100000, '-') + "1").ok());
  EXPECT_FALSE(query::ParseEvalExpression(std::string(100000, '(') + "1").ok());
}

TEST(SplParseTest, EvalAndBindsTighterThanOr) {
  Result<query::EvalNode> node = query::ParseEvalExpression("a=1 OR b=2 AND c=3");
  ASSERT_TRUE(node.ok());
  EXPECT_EQ(node->text, "OR");
  EXPECT_EQ(node->args[1].text, "AND");
  Result<query::EvalNode> lower = query::ParseEvalExpression("a > 1 or b < 2");
  ASSERT_TRUE(lower.ok()) << lower.status().message();
  EXPECT_EQ(lower->text, "OR");
}

TEST(SplParseTest, PipelineSplitsOutsideQuotesAndBrackets) {
  auto commands = query::SplitPipeline("| tstats count where p=\"a|b\" | search x=[y|z] | table a");
  ASSERT_TRUE(commands.ok());
  ASSERT_EQ(commands->size(), 3u);
  EXPECT_EQ((*commands)[0].name, "tstats");
  EXPECT_EQ((*commands)[1].args, "x=[y|z]");
  EXPECT_EQ((*commands)[2].name, "table");
  auto implied = query::SplitPipeline("x=1 | table x");
  ASSERT_TRUE(implied.ok());
  EXPECT_EQ((*implied)[0].name, "search");
}

TEST(WildcardMatchTest, StarsAndAsciiCase) {
  EXPECT_TRUE(query::WildcardMatch("C:\\Windows\\AT.EXE", "*\\at.exe"));
  EXPECT_TRUE(query::WildcardMatch("abc", "a*c"));
  EXPECT_TRUE(query::WildcardMatch("abc", "***"));
  EXPECT_FALSE(query::WildcardMatch("abc", "a*d"));
  EXPECT_FALSE(query::WildcardMatch("ab", "abc"));
  EXPECT_TRUE(query::WildcardMatch("aXbXc", "a*b*c"));
}

TEST(SplunkTimeTest, FormatsAndTruncates) {
  // 2026-06-02T14:05:59.999642Z
  EXPECT_EQ(query::FormatSplunkTime(1780409159999642, "%Y-%m-%dT%H:%M:%S").value(),
            "2026-06-02T14:05:59");
  EXPECT_EQ(query::FormatSplunkTime(1780409159999642, "%m/%d/%Y %H:%M:%S.%3N %z").value(),
            "06/02/2026 14:05:59.999 +0000");
  EXPECT_EQ(query::FormatSplunkTime(0, "%a %b %e %j").value(), "Thu Jan  1 001");
  EXPECT_FALSE(query::FormatSplunkTime(0, "%Q").ok());
}

// A small case with hand-made rows, to run compiled searches on.
class CompiledSearchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = OpenCase(dir_.File("case.db"), schema::OpenMode::kReadWrite);
    ASSERT_TRUE(query::RegisterSplFunctions(db_.get()).ok());
    ASSERT_TRUE(
        db_->Exec("INSERT INTO input_files (file_id, path, sha256, size_bytes, status, "
                  "ingested_at, quarry_version) VALUES (1, 'f', 'x', 0, 'loaded', 't', 'v')")
            .ok());
    // time (s), dest, user, process_name, original_file_name, process, pid, parent name
    Add(1000, "H1", "D\\u1", "at.exe", "at.exe", "at \\\\h2 10:00 x", 10, "cmd.exe");
    Add(1001, "H1", "D\\u1", "AT.EXE", "at.exe", "at \\\\h2 10:00 x", 10, "cmd.exe");
    Add(1002.9, "H1", "D\\u1", "at.exe", "at.exe", "at \\\\h2 10:00 x", 10, "cmd.exe");
    Add(1003, "H1", nullptr, "sched.exe", "at.exe", "sched \\\\h3", 11, "cmd.exe");
    Add(1004, "H2", "D\\u2", "at.exe", nullptr, "at.exe 12:00 C:\\t\\j.bat", 12, "cmd.exe");
    Add(1005, "H2", "D\\u2", "cmd.exe", nullptr, "cmd /c at.exe \\\\h9", 13, "explorer.exe");
    Add(4600, "H2", "D\\u2", "net.exe", nullptr, "net use \\\\h2\\c$", 14, "cmd.exe");
  }

  void Add(double time_s, const char* dest, const char* user, const char* name,
           const char* original, const char* process, int pid, const char* parent) {
    auto stmt = db_->Prepare(
        "INSERT INTO process_events (time_us, dest, user, process_name, original_file_name, "
        "process, process_id, parent_process_name, vendor_product, action, data_source, "
        "sourcetype, source, file_id, record_offset, raw) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, "
        "?8, 'v', 'allowed', 'Sysmon EventID 1', 'XmlWinEventLog', 's', 1, ?9, 'raw')");
    ASSERT_TRUE(stmt.ok());
    stmt->BindInt(1, static_cast<std::int64_t>(time_s * 1000000));
    auto text = [&](int index, const char* value) {
      if (value)
        stmt->BindTextCopy(index, value);
      else
        stmt->BindNull(index);
    };
    text(2, dest);
    text(3, user);
    text(4, name);
    text(5, original);
    text(6, process);
    stmt->BindInt(7, pid);
    text(8, parent);
    stmt->BindInt(9, ++offset_);
    ASSERT_TRUE(stmt->Run().ok());
  }

  // Runs `search` and prints its rows as CSV (LF line ends), or the error.
  std::string Run(const std::string& search, std::int64_t earliest = INT64_MIN,
                  std::int64_t latest = INT64_MAX) {
    bool windowed = earliest != INT64_MIN || latest != INT64_MAX;
    Result<query::CompiledSearch> compiled = CompileSplSearch(search, windowed);
    if (!compiled.ok()) return "error: " + compiled.status().message();
    Result<query::ResultTable> rows = query::RunSearch(db_.get(), *compiled, earliest, latest, 0);
    if (!rows.ok()) return "error: " + rows.status().message();
    std::ostringstream out;
    EXPECT_TRUE(
        query::PrintTable(rows->columns, query::DisplayRows(*rows), query::OutputFormat::kCsv, out)
            .ok());
    std::string text = out.str();
    std::string lf;
    for (char c : text)
      if (c != '\r') lf.push_back(c);
    return lf;
  }

  static constexpr const char* kAt =
      "| tstats summariesonly=false allow_old_summaries=true fillnull_value=null count "
      "min(_time) as firstTime max(_time) as lastTime from datamodel=Endpoint.Processes where "
      "(Processes.process_name=at.exe OR Processes.original_file_name=at.exe) "
      "(Processes.process=*\\\\\\\\*) by Processes.dest Processes.user Processes.process_name "
      "Processes.process_id | rename Processes.* AS * | convert timeformat=\"%Y-%m-%dT%H:%M:%S\" "
      "ctime(firstTime) | convert timeformat=\"%Y-%m-%dT%H:%M:%S\" ctime(lastTime)";

  TempDir dir_;
  std::unique_ptr<schema::CaseDb> db_;
  int offset_ = 0;
};

TEST_F(CompiledSearchTest, AtExeGroupsCaseSensitivelyFillsNullAndTruncatesTimes) {
  EXPECT_EQ(Run(kAt),
            "dest,user,process_name,process_id,count,firstTime,lastTime\n"
            "H1,D\\u1,AT.EXE,10,1,1970-01-01T00:16:41,1970-01-01T00:16:41\n"
            "H1,D\\u1,at.exe,10,2,1970-01-01T00:16:40,1970-01-01T00:16:42\n"
            "H1,null,sched.exe,11,1,1970-01-01T00:16:43,1970-01-01T00:16:43\n");
}

TEST_F(CompiledSearchTest, WithoutFillnullRowsMissingAByFieldAreDropped) {
  EXPECT_EQ(Run("| tstats count from datamodel=Endpoint.Processes where "
                "Processes.original_file_name=at.exe by Processes.user"),
            "Processes.user,count\nD\\u1,3\n");
}

TEST_F(CompiledSearchTest, EqualsNotEqualsAndNotTreatMissingFieldsAsSplunkDoes) {
  const std::string head = "| tstats count from datamodel=Endpoint.Processes where ";
  const std::string tail = " by Processes.process_id | rename Processes.* AS *";
  // != needs the field; NOT field=value also holds when the field is missing.
  EXPECT_EQ(Run(head + "Processes.original_file_name!=AT.EXE" + tail), "process_id,count\n");
  EXPECT_EQ(Run(head + "NOT Processes.original_file_name=at.exe" + tail),
            "process_id,count\n12,1\n13,1\n14,1\n");
  EXPECT_EQ(Run(head + "Processes.user=*" + tail), "process_id,count\n10,3\n12,1\n13,1\n14,1\n");
  EXPECT_EQ(Run(head + "NOT Processes.user=*" + tail), "process_id,count\n11,1\n");
  EXPECT_EQ(Run(head + "Processes.process_id IN (12, 13)" + tail),
            "process_id,count\n12,1\n13,1\n");
  EXPECT_EQ(Run(head + "NOT (Processes.process_id<12 OR Processes.process_name=net*)" + tail),
            "process_id,count\n12,1\n13,1\n");
  // A single backslash is not two; the cmd.exe line naming at.exe is not at.exe.
  EXPECT_EQ(Run(head + "Processes.process=\"*\\\\*\" Processes.process_name=at.exe" + tail),
            "process_id,count\n10,3\n12,1\n");
  // Wildcard characters of SQL are literal in SPL.
  EXPECT_EQ(Run(head + "Processes.process=*_* OR Processes.process=*%*" + tail),
            "process_id,count\n");
}

TEST_F(CompiledSearchTest, LaterCommandsSearchWhereEvalTableRegexDedupStats) {
  const std::string base =
      "| tstats count values(Processes.process_name) as names from datamodel=Endpoint.Processes "
      "by Processes.dest | rename Processes.dest as dest";
  EXPECT_EQ(Run(base + " | search names=SCHED*"),
            "dest,count,names\nH1,4,\"AT.EXE\nat.exe\nsched.exe\"\n");
  EXPECT_EQ(Run(base + " | where count > 3"), Run(base + " | search count>3"));
  EXPECT_EQ(Run(base + " | eval n=mvcount(names), label=dest.\"-\".count | table label n missing"),
            "label,n,missing\nH1-4,3,\nH2-3,3,\n");
  EXPECT_EQ(Run(base + " | regex dest=\"^H[2]$\" | fields - names"), "dest,count\nH2,3\n");
  EXPECT_EQ(Run(base + " | regex dest!=\"2\" | fields dest"), "dest\nH1\n");
  EXPECT_EQ(Run("| tstats count from datamodel=Endpoint.Processes by Processes.dest "
                "Processes.process_name | rename Processes.* AS * | dedup dest"),
            "dest,process_name,count\nH1,AT.EXE,1\nH2,at.exe,1\n");
  EXPECT_EQ(Run("| tstats count from datamodel=Endpoint.Processes by Processes.dest "
                "Processes.process_name | rename Processes.* AS * | stats sum(count) as n "
                "dc(process_name) as kinds by dest"),
            "dest,n,kinds\nH1,4,3\nH2,3,3\n");
  EXPECT_EQ(Run(base + " | where dest=\"h1\""), "dest,count,names\n");  // eval compares exactly
  EXPECT_EQ(Run(base + " | where like(dest, \"h%\") OR in(dest, \"h2\")"), "dest,count,names\n");
  EXPECT_EQ(Run(base + " | where like(dest, \"H_\") AND dest LIKE \"%2\" | fields dest"),
            "dest\nH2\n");
  // action is stored as written; field=value still ignores case.
  EXPECT_EQ(Run("| tstats count from datamodel=Endpoint.Processes where Processes.action=ALLOWED"),
            "count\n7\n");
  EXPECT_EQ(Run(base + " | fields - *"), "\n");  // no fields left: valid SQL, no columns
}

TEST_F(CompiledSearchTest, EvalFunctionsRexSplitAndAggregates) {
  const std::string base =
      "| tstats count latest(Processes.process_name) as last earliest(Processes.process_name) "
      "as first sum(Processes.process_id) as pids min(_time) as t from "
      "datamodel=Endpoint.Processes by Processes.dest | rename Processes.dest as dest";
  EXPECT_EQ(Run(base + " | table dest last first pids"),
            "dest,last,first,pids\nH1,sched.exe,at.exe,41\nH2,net.exe,at.exe,39\n");
  EXPECT_EQ(Run(base + " | convert ctime(t) | table t"),
            "t\n01/01/1970 00:16:40\n01/01/1970 00:16:44\n");
  EXPECT_EQ(Run(base + " | eval a=if(count>3, \"many\", \"few\"), b=case(dest==\"H2\", 2, "
                       "true(), 1), c=coalesce(null(), lower(dest)), d=substr(last, 1, 3), "
                       "e=replace(first, \"\\.exe$\", \"\"), f=len(dest) + 1, "
                       "g=match(last, \"^n\") | table a b c d e f g"),
            "a,b,c,d,e,f,g\nmany,1,h1,sch,at,3,0\nfew,2,h2,net,at,3,1\n");
  EXPECT_EQ(Run(base + " | eval parts=split(\"a b c\", \" \"), n=mvcount(parts), "
                       "l=mvindex(parts, -1), m=mvjoin(mvindex(parts, 0, 1), \"+\") | table n l m"),
            "n,l,m\n3,c,a+b\n3,c,a+b\n");
  EXPECT_EQ(Run("| tstats count from datamodel=Endpoint.Processes where "
                "Processes.process_name=net.exe by Processes.process | rename Processes.* AS * "
                "| rex field=process \"use (?<share>\\\\\\\\[^ ]+)\" | table share"),
            "share\n\\\\h2\\c$\n");
  EXPECT_EQ(Run("| tstats count from datamodel=Endpoint.Processes | rex field=x \"(?<a\""),
            "error: command 2 (rex): invalid regular expression \"(?<a\": syntax error in "
            "subpattern name (missing terminator?)");
}

TEST_F(CompiledSearchTest, SpanBinsTimeAndWindowsBoundTheSearch) {
  EXPECT_EQ(Run("| tstats count from datamodel=Endpoint.Processes by _time span=1h"),
            "_time,count\n0,6\n3600,1\n");
  // [1001 s, 1004 s): the window is inclusive at its start and exclusive at its end.
  EXPECT_EQ(Run("| tstats count from datamodel=Endpoint.Processes", 1001000000, 1004000000),
            "count\n3\n");
}

TEST_F(CompiledSearchTest, AtExeSearchUsesIndexesNotAScan) {
  for (bool windowed : {false, true}) {
    Result<query::CompiledSearch> compiled = CompileSplSearch(kAt, windowed);
    ASSERT_TRUE(compiled.ok()) << compiled.status().message();
    auto plan = db_->Prepare("EXPLAIN QUERY PLAN " + compiled->sql);
    ASSERT_TRUE(plan.ok()) << plan.status().message();
    std::string details;
    while (plan->Step().value()) details += std::string(plan->ColumnText(3)) + "\n";
    EXPECT_NE(details.find("SEARCH e USING INDEX process_events_process_name"), std::string::npos)
        << details;
    EXPECT_NE(details.find("SEARCH e USING INDEX process_events_original_file_name"),
              std::string::npos)
        << details;
    EXPECT_EQ(details.find("SCAN e"), std::string::npos) << details;
  }
}

TEST_F(CompiledSearchTest, UnsupportedConstructsAreNamed) {
  EXPECT_EQ(Run("| tstats count from datamodel=Endpoint.Filesystem by Filesystem.dest"),
            "error: command 1 (tstats): datamodel=Endpoint.Filesystem is not in a Quarry case "
            "(it holds Endpoint.Processes only)");
  EXPECT_EQ(Run("| tstats count from datamodel=Endpoint.Processes | join dest [| tstats count]"),
            "error: command 2 (join): the `join` command is not supported");
  EXPECT_EQ(Run("| tstats count from datamodel=Endpoint.Processes | eval x=cidrmatch(a, b)"),
            "error: command 2 (eval): eval function cidrmatch() is not supported");
  EXPECT_EQ(Run("search index=main"),
            "error: command 1 (search): a search must start with `| tstats ... from "
            "datamodel=Endpoint.Processes`");
  EXPECT_EQ(Run("| tstats median(x) from datamodel=Endpoint.Processes"),
            "error: command 1 (tstats): aggregate median is not supported");
}

TEST_F(CompiledSearchTest, UnknownFieldsAreMissingAndNoted) {
  Result<query::CompiledSearch> compiled = CompileSplSearch(
      "| tstats count from datamodel=Endpoint.Processes where Processes.os=* "
      "by Processes.nonsense",
      false);
  ASSERT_TRUE(compiled.ok());
  ASSERT_EQ(compiled->notes.size(), 2u);
  EXPECT_NE(compiled->notes[0].find("Processes.os is part of CIM"), std::string::npos);
  EXPECT_NE(compiled->notes[1].find("Processes.nonsense is not an Endpoint.Processes field"),
            std::string::npos);
}

TEST_F(CompiledSearchTest, ValuesAreBoundNeverPastedIntoSql) {
  Result<query::CompiledSearch> compiled = CompileSplSearch(
      "| tstats count from datamodel=Endpoint.Processes where Processes.dest=\"x'); DROP TABLE "
      "process_events; --\" by Processes.dest",
      false);
  ASSERT_TRUE(compiled.ok());
  EXPECT_EQ(compiled->sql.find("DROP"), std::string::npos);
  EXPECT_EQ(Run("| tstats count from datamodel=Endpoint.Processes where Processes.dest=\"x'); "
                "DROP TABLE process_events; --\""),
            "count\n0\n");
  EXPECT_EQ(QueryInt(db_.get(), "SELECT count(*) FROM process_events"), 7);
}

}  // namespace
}  // namespace quarry::testing
