// Small value rules every normalizer shares (DESIGN.md "Normalization").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace quarry::ingest {

/// The value as a string, or nothing for the placeholders Windows writes for "no value":
/// absent, empty, "-" and the all-zero GUID "{00000000-0000-0000-0000-000000000000}".
std::optional<std::string> ValueOrNull(std::optional<std::string_view> value);

/// The file name after the last '\' or '/', or the whole text when there is none; nothing for
/// nothing or an empty name (a path ending in a separator).
std::optional<std::string> Basename(const std::optional<std::string>& path);

/// CIM's fallback for process_name when no image path was logged: the basename of the first
/// token of the command line (quoted or not).
std::optional<std::string> ProcessNameFromCommandLine(const std::optional<std::string>& command);

/// Parses a non-negative decimal integer (or "0x" hex, zero-padded or not, any case) after
/// trimming spaces; nothing on anything else: a sign, other text, overflow.
std::optional<std::int64_t> ParseInt(std::string_view text);

/// The earliest time Windows records (FILETIME 0, 1601-01-01T00:00:00Z), microseconds since
/// 1970 UTC.
inline constexpr std::int64_t kEarliestWindowsTimeUs = -11644473600LL * 1000000;

/// schema::ParseUtcTimestamp for a time Windows can have logged: nothing for text that is not a
/// time, or for a time before 1601 (then `why`, when given, says so; it is left empty for text
/// that is not a time at all). Four-digit years only, so never past 9999-12-31.
std::optional<std::int64_t> ParseWindowsTime(std::string_view text, std::string* why = nullptr);

/// How Windows names the well-known service accounts whose SIDs are S-1-5-18 (SYSTEM), -19
/// (LOCAL SERVICE) and -20 (NETWORK SERVICE): "NT AUTHORITY\SYSTEM" etc.; nothing otherwise.
std::optional<std::string_view> WellKnownAccountName(std::string_view sid);

/// The SID of a well-known account's name as a forwarder resolves it ("NT AUTHORITY\SYSTEM"
/// -> "S-1-5-18"), matched ignoring ASCII case; nothing otherwise.
std::optional<std::string_view> WellKnownAccountSid(std::string_view name);

/// True when `a` and `b` are equal ignoring ASCII case.
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

/// The length of the UTF-8 sequence at text[at], or 0 when the bytes there are not one: a stray
/// continuation byte, a sequence cut short, an overlong form, a surrogate or a code point past
/// U+10FFFF. An ASCII byte (NUL included) is a sequence of length 1.
std::size_t Utf8SequenceLength(std::string_view text, std::size_t at);

/// Appends code point `cp` as UTF-8.
void AppendUtf8(std::uint32_t cp, std::string* out);

/// A decimal integer with optional sign and surrounding spaces or tabs, as event renderings
/// write EventID, Version and EventRecordID; nothing for anything else.
std::optional<std::int64_t> ParseEventInteger(std::string_view text);

/// ASCII lower case.
std::string AsciiLower(std::string_view text);

}  // namespace quarry::ingest
