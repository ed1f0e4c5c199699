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

/// Parses a decimal integer (optionally "0x" hex) after trimming spaces; nothing on anything
/// else, including overflow.
std::optional<std::int64_t> ParseInt(std::string_view text);

/// ASCII lower case.
std::string AsciiLower(std::string_view text);

}  // namespace quarry::ingest
