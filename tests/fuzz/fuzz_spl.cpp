// libFuzzer harness: any text as an ESCU search (with Quarry's built-in macros) and as an eval
// expression: the compiler either compiles it or says why; it never crashes or recurses away.
#include <cstdint>
#include <string_view>

#include "query/detection.h"
#include "query/spl_compiler.h"
#include "query/spl_parse.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const quarry::query::Catalog catalog = quarry::query::LoadCatalog({}, {}).value();
  std::string_view text(reinterpret_cast<const char*>(data), size);
  quarry::Result<std::string> expanded = catalog.macros.Expand(text);
  if (expanded.ok()) {
    (void)quarry::query::CompileSplSearch(*expanded, false);
    (void)quarry::query::CompileSplSearch(*expanded, true);
  }
  (void)quarry::query::ParseEvalExpression(text);
  (void)quarry::query::ParseSearchExpression(text);
  return 0;
}
