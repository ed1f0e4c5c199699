// A text file compiled into the binary (see cmake/embed_files.cmake): SQL migrations, views.
#pragma once

#include <string_view>

namespace quarry::schema {

/// One embedded file: its base name and its whole text.
struct EmbeddedFile {
  std::string_view name;  ///< file name without folder, e.g. "0001_case_database.sql"
  std::string_view text;  ///< the file's bytes as written in the source tree
};

}  // namespace quarry::schema
