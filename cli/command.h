// What every subcommand file provides to main.cpp: its name, help, options and action.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "schema/status.h"

namespace quarry::cli {

/// Exit codes shared by every subcommand (DESIGN.md "Who uses it and how").
inline constexpr int kExitOk = 0;       ///< done; warnings allowed and counted
inline constexpr int kExitFailure = 1;  ///< the work failed (or part of the batch did)
inline constexpr int kExitUsage = 2;    ///< the command line is wrong

/// A subcommand: `add` declares its options on the CLI11 subcommand; `run` does the work.
struct Command {
  std::string name;
  std::string summary;   ///< one line for `quarry help`
  std::string examples;  ///< shown under the option list by `quarry help NAME`
  std::function<void(CLI::App*)> add;
  std::function<int()> run;
};

Command IngestCommand();
Command QueryCommand();
Command DetectCommand();
Command DetectionsCommand();
Command ReportCommand();

Command SchemaCommand();
Command VerifyCommand();
Command EvtxDumpCommand();
Command AnalyzeCommand();

/// The steps of `quarry analyze`, each as its own command runs it (same output, exit codes).
int IngestPaths(const std::string& db, const std::vector<std::string>& paths,
                const std::optional<std::string>& password);
int DetectAll(const std::string& db, const std::vector<std::string>& detection_dirs,
              const std::vector<std::string>& macro_dirs);
int WriteReport(const std::string& db, const std::string& output);

/// Prints "quarry: error: <message>" on stderr and returns the exit code for the status.
int ReportError(const Status& status);

}  // namespace quarry::cli
