#include "common/config_command.h"

#include "absl/strings/str_cat.h"
#include "common/config.h"

namespace tandem {
namespace {

cli::FlagSpec SetFlag() {
  return {"set", cli::FlagKind::kRepeated,
          "Override one field, e.g. --set replay.offline_ratio=0.25 or "
          "--set env.options.obs_mode=khop.",
          "", "PATH=VALUE"};
}

cli::Command CheckCommand() {
  cli::Command command{"check", "Validate a configuration file (with overrides applied).", "FILE"};
  command.description =
      "Parses FILE, applies every --set in order, fills defaults and checks every field's range.\n"
      "Prints one line: OK with a summary, or the first problem (file:line:column or field).";
  command.flags = {SetFlag()};
  command.min_positional = command.max_positional = 1;
  command.run = [](const cli::Args& args, std::ostream& out, std::ostream& err) {
    const std::string& path = args.positional()[0];
    auto config = LoadExperimentConfig(path, args.GetRepeated("set"));
    if (!config.ok()) return cli::ReportFailure("tandem config check", config.status(), err);
    out << path << ": OK (env " << config->env().name() << ", algorithm "
        << config->algorithm().name() << ", selector " << config->selector().name() << ", rho "
        << config->replay().offline_ratio() << ")\n";
    return cli::kExitOk;
  };
  return command;
}

cli::Command PrintCommand() {
  cli::Command command{"print", "Print the resolved configuration with every default filled in.",
                       "FILE"};
  command.flags = {SetFlag()};
  command.min_positional = command.max_positional = 1;
  command.run = [](const cli::Args& args, std::ostream& out, std::ostream& err) {
    auto config = LoadExperimentConfig(args.positional()[0], args.GetRepeated("set"));
    if (!config.ok()) return cli::ReportFailure("tandem config print", config.status(), err);
    out << ToTextProto(*config);
    return cli::kExitOk;
  };
  return command;
}

cli::Command DefaultsCommand() {
  cli::Command command{"defaults",
                       "Print a complete configuration holding every field's default (a starting "
                       "point for a new config; field docs are in proto/config.proto)."};
  command.run = [](const cli::Args&, std::ostream& out, std::ostream&) {
    out << ToTextProto(DefaultExperimentConfig());
    return cli::kExitOk;
  };
  return command;
}

}  // namespace

std::vector<cli::FlagSpec> ConfigFlags() {
  return {{"config", cli::FlagKind::kString, "Experiment configuration (text proto).", "", "FILE",
           true},
          SetFlag()};
}

absl::StatusOr<ExperimentConfig> LoadConfigFromArgs(const cli::Args& args) {
  return LoadExperimentConfig(args.GetString("config"), args.GetRepeated("set"));
}

cli::Command ConfigCommand() {
  cli::Command command{"config", "Check, print and list defaults of experiment configurations."};
  command.subcommands = {CheckCommand(), PrintCommand(), DefaultsCommand()};
  return command;
}

}  // namespace tandem
