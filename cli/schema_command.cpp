// `quarry schema`: the case database's tables, views and columns, with what they mean.
#include <iostream>

#include "cli/command.h"
#include "schema/describe.h"

namespace quarry::cli {

Command SchemaCommand() {
  Command command;
  command.name = "schema";
  command.summary = "Print the case database's tables, views and columns with their meaning";
  command.examples =
      "Examples:\n"
      "  quarry schema\n"
      "  quarry schema | grep -A30 'TABLE process_events'\n"
      "\n"
      "docs/schema.md has the same with example queries.\n";
  command.add = [](CLI::App*) {};
  command.run = [] {
    Result<std::string> text = schema::DescribeSchema();
    if (!text.ok()) return ReportError(text.status());
    std::cout << *text;
    return std::cout ? kExitOk : kExitFailure;
  };
  return command;
}

}  // namespace quarry::cli
