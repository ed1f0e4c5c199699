// Parsing the timestamp renderings Windows events use, and formatting ISO-8601 UTC.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace quarry::schema {

/// Parses "YYYY-MM-DD HH:MM:SS[.fraction]" or "YYYY-MM-DDTHH:MM:SS[.fraction][Z]" as UTC
/// (Sysmon UtcTime; TimeCreated/@SystemTime with up to 9 fraction digits) into microseconds
/// since 1970-01-01 UTC; fraction digits past the sixth are dropped. Anything else (other
/// separators, a time zone offset, a month 13, trailing text) gives nothing.
std::optional<std::int64_t> ParseUtcTimestamp(std::string_view text);

/// Parses Unix epoch time as CrowdStrike writes it: seconds with an optional fraction
/// ("1682368414.719"); a whole number of 12 or more digits is taken as milliseconds (as some
/// exports write ProcessStartTime). Nothing for anything else.
std::optional<std::int64_t> ParseEpochSeconds(std::string_view text);

/// Parses Unix epoch milliseconds ("1713805173418"). Nothing for anything else.
std::optional<std::int64_t> ParseEpochMillis(std::string_view text);

/// Formats microseconds since 1970 UTC as "YYYY-MM-DDTHH:MM:SS.ffffffZ" (years 0000-9999; a
/// time outside them prints as the nearest end).
std::string FormatIsoUtc(std::int64_t time_us);

/// The current time as FormatIsoUtc text.
std::string NowIsoUtc();

}  // namespace quarry::schema
