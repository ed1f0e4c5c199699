// The HTML report: escaping, hostile log strings, and a golden copy of the fixture case's report.
#include <gtest/gtest.h>

#include <regex>

#include "reports/html_report.h"
#include "tests/test_util.h"

namespace quarry::testing {
namespace {

TEST(HtmlEscapeTest, EscapesEveryMarkupCharacter) {
  EXPECT_EQ(reports::HtmlEscape("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&#39;");
  EXPECT_EQ(reports::HtmlEscape("plain"), "plain");
}

TEST(ScriptSafeJsonTest, NothingCanCloseTheScriptElement) {
  EXPECT_EQ(reports::ScriptSafeJson("{\"a\": \"</script><!--&\"}"),
            "{\"a\": \"\\u003c/script\\u003e\\u003c!--\\u0026\"}");
  EXPECT_EQ(reports::ScriptSafeJson("\"\xE2\x80\xA8\xE2\x80\xA9\""), "\"\\u2028\\u2029\"");
}

// Ingests `paths`, runs the detections and writes the report; returns its text.
std::string Report(const TempDir& dir, const std::vector<std::string>& paths) {
  std::vector<std::string> ingest = {"ingest", "--db", dir.File("case.db")};
  ingest.insert(ingest.end(), paths.begin(), paths.end());
  RunResult loaded = RunQuarry(ingest);
  EXPECT_EQ(loaded.exit_code, 0) << loaded.err;
  RunResult detected = RunQuarry({"detect", "--db", dir.File("case.db")});
  EXPECT_EQ(detected.exit_code, 0) << detected.err;
  RunResult report = RunQuarry({"report", "--db", dir.File("case.db"), "-o",
                                dir.File("report.html"), "--generated-at", "2026-06-03T08:00:00Z"});
  EXPECT_EQ(report.exit_code, 0) << report.err;
  return ReadFile(dir.File("report.html"));
}

TEST(HtmlReportTest, HostileLogStringsAreOnlyText) {
  TempDir dir;
  std::string html = Report(dir, {SourcePath("fixtures/hostile")});
  ASSERT_FALSE(html.empty());
  // The hostile values are in the report, escaped: never as markup the browser would parse.
  EXPECT_EQ(html.find("<script>window.__pwned"), std::string::npos);
  EXPECT_EQ(html.find("<img src=x"), std::string::npos);
  EXPECT_EQ(html.find("</script><script>"), std::string::npos);
  EXPECT_NE(html.find("&lt;/script&gt;&lt;script&gt;window.__pwned=3&lt;/script&gt;"),
            std::string::npos);  // the hostile host name, as text in a table
  EXPECT_NE(html.find("\\u003cscript\\u003ewindow.__pwned=1"), std::string::npos);  // in JSON
  // Exactly two script elements: the JSON island and the report's own script.
  std::size_t scripts = 0;
  for (std::size_t at = html.find("<script"); at != std::string::npos;
       at = html.find("<script", at + 1))
    ++scripts;
  EXPECT_EQ(scripts, 2u);
  EXPECT_NE(html.find("Content-Security-Policy\" content=\"default-src 'none'"), std::string::npos);
}

TEST(HtmlReportTest, HugeLogStringsAreCutNotCopiedWhole) {
  // One at.exe event whose command line is 400 KB: the report shows the start of it, says how
  // long it was, and stays small however often the value appears.
  TempDir dir;
  std::string xml = ReadFile(SourcePath("fixtures/hostile/sysmon_hostile.xml"));
  const std::string hit = "Name='CommandLine'>at \\\\x 10:00 ";
  ASSERT_NE(xml.find(hit), std::string::npos);
  xml.insert(xml.find(hit) + hit.size(), std::string(400 * 1024, 'A'));
  WriteFile(dir.File("big.xml"), xml);
  std::string html = Report(dir, {dir.File("big.xml")});
  ASSERT_FALSE(html.empty());
  EXPECT_LT(html.size(), 300u * 1024) << "the report copied the huge value";
  EXPECT_NE(html.find("bytes in all"), std::string::npos);
}

TEST(HtmlReportTest, FixtureCaseMatchesGoldenCopy) {
  TempDir dir;
  const std::string fixture =
      SourcePath("fixtures/detections/scheduled_task_creation_on_remote_endpoint_using_at");
  std::string html =
      Report(dir, {fixture + "/sysmon.xml", fixture + "/security.xml", fixture + "/falcon"});
  // Paths and the detection run time differ from machine to machine and run to run.
  auto replace_all = [&](const std::string& from, const std::string& to) {
    for (std::size_t at = html.find(from); at != std::string::npos; at = html.find(from, at))
      html.replace(at, from.size(), to), at += to.size();
  };
  replace_all(SourcePath(""), "$SOURCE/");
  replace_all(dir.path(), "$CASE");
  html = std::regex_replace(html, std::regex(R"(last run \d{4}-\d\d-\d\dT[0-9:.]+Z)"),
                            "last run $$STARTED");
  const std::string golden = SourcePath("fixtures/reports/expected/at_detection_report.html");
  if (std::getenv("QUARRY_UPDATE_GOLDEN") != nullptr) WriteFile(golden, html);
  EXPECT_EQ(html, ReadFile(golden)) << "regenerate with QUARRY_UPDATE_GOLDEN=1 and review the diff";
}

}  // namespace
}  // namespace quarry::testing
