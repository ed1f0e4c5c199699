// query/adhoc_query: the four output formats, escaping of hostile values, read-only refusal.
#include "query/adhoc_query.h"

#include <gtest/gtest.h>

#include <sstream>

#include "tests/test_util.h"

namespace quarry::testing {
namespace {

using query::OutputFormat;

std::string RunSql(schema::CaseDb* db, const std::string& sql, OutputFormat format,
                   Status* status = nullptr) {
  std::ostringstream out;
  Status s = query::RunAdHocQuery(db, sql, format, out);
  if (status) {
    *status = s;
  } else {
    EXPECT_TRUE(s.ok()) << s.message();
  }
  return out.str();
}

class AdHocQueryTest : public ::testing::Test {
 protected:
  void SetUp() override { db_ = OpenCase(":memory:", schema::OpenMode::kReadWrite); }
  std::unique_ptr<schema::CaseDb> db_;
};

TEST_F(AdHocQueryTest, TableAlignsColumnsAndShowsNull) {
  EXPECT_EQ(RunSql(db_.get(), "SELECT 1 AS n, 'abc' AS s, NULL AS z UNION ALL SELECT 22, 'x', 1",
                   OutputFormat::kTable),
            "n   s    z\n"
            "--  ---  ----\n"
            "1   abc  NULL\n"
            "22  x    1\n");
}

TEST_F(AdHocQueryTest, TableNeutralisesTerminalControlCharacters) {
  std::string out =
      RunSql(db_.get(), "SELECT 'a' || char(27) || '[31mred' || char(10) || 'b' || char(155) AS v",
             OutputFormat::kTable);
  EXPECT_EQ(out.find('\x1b'), std::string::npos);
  EXPECT_NE(out.find("a\\x1b[31mred\\nb\\x9b"), std::string::npos) << out;
}

TEST_F(AdHocQueryTest, CsvQuotesWhatNeedsQuoting) {
  EXPECT_EQ(
      RunSql(
          db_.get(),
          "SELECT 'a,b' AS x, 'say \"hi\"' AS y, 'l1' || char(10) || 'l2' AS z, NULL AS n, 3 AS i",
          OutputFormat::kCsv),
      "x,y,z,n,i\r\n\"a,b\",\"say \"\"hi\"\"\",\"l1\nl2\",,3\r\n");
}

TEST_F(AdHocQueryTest, JsonEscapesStringsAndKeepsTypes) {
  EXPECT_EQ(
      RunSql(db_.get(),
             "SELECT 'C:\\x \"q\" ' || char(9) || char(1) AS s, 7 AS i, 0.5 AS r, NULL AS n",
             OutputFormat::kJson),
      "[\n  {\"s\": \"C:\\\\x \\\"q\\\" \\t\\u0001\", \"i\": 7, \"r\": 0.5, \"n\": null}\n]\n");
  EXPECT_EQ(RunSql(db_.get(), "SELECT 1 AS a WHERE 0", OutputFormat::kJson), "[]\n");
}

TEST_F(AdHocQueryTest, JsonReplacesBytesThatAreNotUtf8) {
  EXPECT_EQ(RunSql(db_.get(), "SELECT CAST(x'61ff62' AS TEXT) AS v", OutputFormat::kJsonl),
            "{\"v\": \"a\\ufffdb\"}\n");
}

TEST_F(AdHocQueryTest, NonFiniteNumbersAreNullInJson) {
  EXPECT_EQ(RunSql(db_.get(), "SELECT 1e308 * 10 AS big", OutputFormat::kJsonl),
            "{\"big\": null}\n");
}

TEST_F(AdHocQueryTest, SqlWithANulByteIsRefusedNotLoopedOn) {
  Status status;
  RunSql(db_.get(), std::string("SELECT 1;\0", 10), OutputFormat::kTable, &status);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
}

TEST_F(AdHocQueryTest, RunsEveryStatementOfAScript) {
  EXPECT_EQ(RunSql(db_.get(), "SELECT 1 AS a; -- comment\nSELECT 2 AS b;", OutputFormat::kJsonl),
            "{\"a\": 1}\n{\"b\": 2}\n");
}

TEST_F(AdHocQueryTest, NamedParametersAreBoundAsValues) {
  std::ostringstream out;
  query::QueryParams params = {{"host", "x' OR 1=1 --"}, {"n", "41"}};
  Status status =
      query::RunAdHocQuery(db_.get(), "SELECT :host AS host, @n + 1 AS n, $host = 'x' AS injected",
                           OutputFormat::kJsonl, out, params);
  ASSERT_TRUE(status.ok()) << status.message();
  EXPECT_EQ(out.str(), "{\"host\": \"x' OR 1=1 --\", \"n\": 42, \"injected\": 0}\n");
}

TEST_F(AdHocQueryTest, MissingOrPositionalParametersAreErrors) {
  std::ostringstream out;
  Status missing = query::RunAdHocQuery(db_.get(), "SELECT :host", OutputFormat::kTable, out, {});
  EXPECT_EQ(missing.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(missing.message().find(":host"), std::string::npos) << missing.message();
  Status positional = query::RunAdHocQuery(db_.get(), "SELECT ?", OutputFormat::kTable, out, {});
  EXPECT_EQ(positional.code(), StatusCode::kInvalidArgument);
}

TEST_F(AdHocQueryTest, RefusesWritesBeforeRunningThem) {
  Status status;
  RunSql(db_.get(), "DELETE FROM process_events", OutputFormat::kTable, &status);
  EXPECT_EQ(status.code(), StatusCode::kReadOnly);
  RunSql(db_.get(), "SELECT 1; DROP TABLE input_files", OutputFormat::kTable, &status);
  EXPECT_EQ(status.code(), StatusCode::kReadOnly);
  EXPECT_EQ(QueryInt(db_.get(), "SELECT count(*) FROM sqlite_schema WHERE name = 'input_files'"),
            1);
}

TEST_F(AdHocQueryTest, ReportsSqlErrors) {
  Status status;
  RunSql(db_.get(), "SELEC nonsense", OutputFormat::kTable, &status);
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find("syntax error"), std::string::npos) << status.message();
  RunSql(db_.get(), "  ;  ", OutputFormat::kTable, &status);
  EXPECT_FALSE(status.ok());
}

TEST(OutputFormatTest, ParsesNames) {
  EXPECT_EQ(query::ParseOutputFormat("csv"), OutputFormat::kCsv);
  EXPECT_EQ(query::ParseOutputFormat("jsonl"), OutputFormat::kJsonl);
  EXPECT_EQ(query::ParseOutputFormat("xml"), std::nullopt);
}

}  // namespace
}  // namespace quarry::testing
