// Escaping text taken from evidence for the places it is printed: JSON strings, and the UTF-8
// checks the terminal table format relies on.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace quarry::query {

/// Length of the valid UTF-8 sequence at text[i], or 0 when the byte does not start one.
std::size_t Utf8SequenceLength(std::string_view text, std::size_t i);

/// Appends `c` as two lower-case hex digits.
void AppendHexByte(unsigned char c, std::string* out);

/// Appends `text` as a quoted JSON string (RFC 8259): quotes, backslashes and control characters
/// escaped; a byte that is not UTF-8 becomes \ufffd, so the output is always valid JSON.
void AppendJsonString(std::string_view text, std::string* out);

}  // namespace quarry::query
