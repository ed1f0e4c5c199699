// libFuzzer harness: any text as an ESCU search (with Quarry's built-in macros) and as an eval
// expression: the compiler either compiles it or says why; it never crashes or recurses away.
// Seeds: Quarry's built-in detections and the ESCU library's searches (tests/fuzz/run.sh).
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "query/detection.h"
#include "query/spl_compiler.h"
#include "query/spl_parse.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // With QUARRY_FUZZ_MACROS (tests/fuzz/run.sh: the ESCU library's macros), inputs that use
  // the library's macros expand as `quarry detect` would expand them.
  static const quarry::query::Catalog catalog = [] {
    const char* macros = std::getenv("QUARRY_FUZZ_MACROS");
    std::vector<std::string> dirs;
    if (macros != nullptr && *macros != '\0') dirs.emplace_back(macros);
    quarry::Result<quarry::query::Catalog> loaded = quarry::query::LoadCatalog({}, dirs);
    return loaded.ok() ? std::move(loaded).value() : quarry::query::LoadCatalog({}, {}).value();
  }();
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
