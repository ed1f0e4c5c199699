// The HTML report: one self-contained file (inline CSS, JS and SVG, no network) with what a
// responder reads first, every log string escaped for where it is written.
#pragma once

#include <cstddef>
#include <ostream>
#include <string>
#include <string_view>

#include "schema/case_db.h"
#include "schema/status.h"

namespace quarry::reports {

struct ReportOptions {
  std::string generated_at;             ///< ISO-8601 shown as the generation time; empty: now
  std::size_t evidence_notables = 500;  ///< notables (highest risk first) given their events
  std::size_t events_per_notable = 10;  ///< events shown per notable, at most
  std::size_t context_notables = 100;   ///< notables given the process around their first event
};

/// Writes the report of the case (opened read-only) to `out`.
Status WriteHtmlReport(schema::CaseDb* db, const ReportOptions& options, std::ostream& out);

/// Escapes text for HTML element content and quoted attribute values: & < > " '.
std::string HtmlEscape(std::string_view text);

/// Makes JSON safe inside <script type="application/json">: `<`, `>`, `&`, U+2028 and U+2029
/// become \u escapes, so no log string can close the element or start a comment.
std::string ScriptSafeJson(std::string_view json);

}  // namespace quarry::reports
