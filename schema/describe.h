// A description of the case database for people: every table and view, its columns, and what
// they mean, taken from the comments in the migrations (what `quarry schema` prints).
#pragma once

#include <string>

#include "schema/status.h"

namespace quarry::schema {

/// Tables and views in migration order, each with its comment and its columns (with their
/// comments for tables; names for views, read from a fresh in-memory case).
Result<std::string> DescribeSchema();

}  // namespace quarry::schema
