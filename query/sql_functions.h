// SQL functions that compiled detections call for the SPL semantics SQLite lacks: multivalue
// fields, PCRE regular expressions, Splunk's time formatting, earliest/latest aggregates.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "schema/case_db.h"
#include "schema/status.h"

namespace quarry::query {

/// Multivalue fields (values(), split()) are held as their values joined by this character
/// (ASCII record separator), which log text does not hold the way it holds line breaks;
/// output shows the values one per line (DisplayRows in detect.h) or as a JSON array.
inline constexpr char kMultivalueSeparator = '\x1e';

/// Registers on `db`:
///  - spl_values(x): aggregate; the distinct non-NULL values as text, sorted byte-wise, joined by
///    kMultivalueSeparator (NULL when there are none), as Splunk's values().
///  - spl_earliest(x, t) / spl_latest(x, t): aggregate; x of the row with the smallest/largest t.
///  - spl_mv_match(x, pattern): 1 when any value of multivalue x matches the SPL wildcard
///    pattern (`*` any run of characters), case-insensitively for ASCII; 0 otherwise (NULL too).
///  - spl_mvcount(x): how many values x holds; NULL for NULL.
///  - spl_mvindex(x, start[, end]): the values from start to end (0-based, inclusive; negative
///    counts from the end); NULL when out of range.
///  - spl_like(x, pattern): eval's like(): `%` and `_` wildcards, case-sensitive.
///  - spl_regex(x, re): 1 when the PCRE pattern `re` matches somewhere in x; NULL for NULL x;
///    an invalid pattern is an SQL error naming it.
///  - spl_rex(x, re, group): the text the named group `group` captured in the first match of
///    `re` in x; NULL when x is NULL, nothing matches or the group did not take part.
///  - spl_replace(x, re, replacement): PCRE global substitution, `\1` style group references.
///  - spl_ctime(x, format): x (epoch seconds) as UTC text in Splunk's strftime `format`
///    (%Y %m %d %H %M %S %y %b %B %a %A %e %j %p %I %T %F %z %Z %% and %3N %6N %N subseconds);
///    x unchanged when it is not a number, as Splunk's convert ctime() leaves such values.
Status RegisterSplFunctions(schema::CaseDb* db);

/// The names of the named groups of a PCRE pattern, in group-number order; kInvalidArgument
/// naming the pattern's error when it does not compile.
Result<std::vector<std::string>> RegexGroupNames(std::string_view pattern);

/// Formats `time_us` (microseconds since 1970 UTC) with a Splunk strftime format.
/// kInvalidArgument for a conversion it does not know.
Result<std::string> FormatSplunkTime(std::int64_t time_us, std::string_view format);

/// SPL wildcard match (`*` only), case-insensitive for ASCII letters.
bool WildcardMatch(std::string_view text, std::string_view pattern);

}  // namespace quarry::query
