// Escaping text for JSON and terminals; see text_escape.h.
#include "query/text_escape.h"

namespace quarry::query {

// Length of the valid UTF-8 sequence at text[i], or 0 when the byte does not start one.
std::size_t Utf8SequenceLength(std::string_view text, std::size_t i) {
  auto c = static_cast<unsigned char>(text[i]);
  std::size_t length = c < 0x80         ? 1
                       : (c >> 5) == 6  ? 2
                       : (c >> 4) == 14 ? 3
                       : (c >> 3) == 30 ? 4
                                        : 0;
  if (length == 0 || i + length > text.size()) return 0;
  for (std::size_t k = 1; k < length; ++k) {
    if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80) return 0;
  }
  return length;
}

void AppendHexByte(unsigned char c, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back(kHex[c >> 4]);
  out->push_back(kHex[c & 15]);
}

void AppendJsonString(std::string_view text, std::string* out) {
  out->push_back('"');
  for (std::size_t i = 0; i < text.size();) {
    std::size_t length = Utf8SequenceLength(text, i);
    auto c = static_cast<unsigned char>(text[i]);
    if (length == 0) {
      *out += "\\ufffd";  // not UTF-8: JSON cannot carry the byte
      ++i;
      continue;
    }
    switch (c) {
      case '"':
        *out += "\\\"";
        break;
      case '\\':
        *out += "\\\\";
        break;
      case '\n':
        *out += "\\n";
        break;
      case '\r':
        *out += "\\r";
        break;
      case '\t':
        *out += "\\t";
        break;
      default:
        if (c < 0x20) {
          *out += "\\u00";
          AppendHexByte(c, out);
        } else {
          out->append(text.substr(i, length));
        }
    }
    i += length;
  }
  out->push_back('"');
}

}  // namespace quarry::query
