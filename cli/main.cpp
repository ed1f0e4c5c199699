// The quarry executable: parses the subcommand and hands over to its file in cli/.
#include <csignal>
#include <exception>
#include <iostream>
#include <vector>

#include "cli/command.h"
#include "schema/version.h"

namespace quarry::cli {

int ReportError(const Status& status) {
  std::cerr << "quarry: error: " << status.message() << "\n";
  return status.code() == StatusCode::kInvalidArgument && status.message() == "no SQL given"
             ? kExitUsage
             : kExitFailure;
}

namespace {

constexpr const char* kDescription =
    "Quarry: forensic timeline batch analyzer. Loads process-creation events from triage\n"
    "packages into an SQLite case database shaped like Splunk CIM Endpoint.Processes.";

int Main(int argc, char** argv) {
  std::vector<Command> commands = {IngestCommand(),     QueryCommand(),  DetectCommand(),
                                   DetectionsCommand(), ReportCommand(), AnalyzeCommand(),
                                   SchemaCommand(),     VerifyCommand(), EvtxDumpCommand()};
  CLI::App app(kDescription, "quarry");
  app.set_version_flag("--version", std::string(kQuarryVersion));
  app.require_subcommand(1);
  std::string help_topic;
  CLI::App* help = app.add_subcommand("help", "Show help for quarry or one command");
  help->add_option("command", help_topic, "Command to explain");
  std::vector<CLI::App*> subcommands;
  for (Command& command : commands) {
    CLI::App* sub = app.add_subcommand(command.name, command.summary);
    sub->footer(command.examples);
    command.add(sub);
    subcommands.push_back(sub);
  }
  app.footer("Run `quarry help COMMAND` for a command's options and examples.");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitUsage;
  }
  if (help->parsed()) {
    // app.help() would describe the selected subcommand, `help` itself; format the top level.
    std::string overview =
        app.get_formatter()->make_help(&app, "quarry", CLI::AppFormatMode::Normal);
    if (help_topic.empty()) {
      std::cout << overview;
      return kExitOk;
    }
    for (std::size_t i = 0; i < commands.size(); ++i) {
      if (commands[i].name == help_topic) {
        std::cout << subcommands[i]->help();
        return kExitOk;
      }
    }
    std::cerr << "quarry: error: no command named '" << help_topic << "'\n" << overview;
    return kExitUsage;
  }
  for (std::size_t i = 0; i < commands.size(); ++i) {
    if (subcommands[i]->parsed()) return commands[i].run();
  }
  return kExitUsage;
}

}  // namespace
}  // namespace quarry::cli

int main(int argc, char** argv) {
  // A reader that goes away (`quarry ingest ... | head`) must not kill a batch half-way, after
  // some files are committed but before CrowdStrike resolution: writes then fail (and the exit
  // status says so) while the work finishes.
  std::signal(SIGPIPE, SIG_IGN);
  try {
    return quarry::cli::Main(argc, argv);
  } catch (const std::exception& e) {  // the one last-resort catch (STYLE.md rule 2)
    std::cerr << "quarry: internal error: " << e.what() << "\n";
    return quarry::cli::kExitFailure;
  }
}
