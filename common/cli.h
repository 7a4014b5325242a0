// A small command-line framework for `tandem <verb> [<subverb>] [flags] [args]`.
//
// Each library that owns a verb builds a `Command` (name, one-line summary, flags, handler) and the
// `tandem` binary assembles them into a tree. Parsing is strict: an unknown flag, a missing value
// or a value of the wrong type is a one-line error naming the flag, with exit code 2. `--help` (or
// `-h`) on any level prints that level's usage, flags and subcommands.
#ifndef TANDEM_COMMON_CLI_H_
#define TANDEM_COMMON_CLI_H_

#include <cstdint>
#include <functional>
#include <map>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"

namespace tandem::cli {

// Exit codes of every verb.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

enum class FlagKind { kString, kInt, kDouble, kBool, kRepeated };

// One flag a command accepts.
struct FlagSpec {
  FlagSpec(std::string name, FlagKind kind, std::string help, std::string default_value = "",
           std::string value_name = "VALUE", bool required = false)
      : name(std::move(name)),
        kind(kind),
        help(std::move(help)),
        default_value(std::move(default_value)),
        value_name(std::move(value_name)),
        required(required) {}

  // Name without dashes, e.g. "config".
  std::string name;
  FlagKind kind = FlagKind::kString;
  // One-line help.
  std::string help;
  // Value used when the flag is absent ("" for none); also shown in the help.
  std::string default_value;
  // Placeholder in the help, e.g. "FILE".
  std::string value_name = "VALUE";
  // Absent is a usage error.
  bool required = false;
};

// The parsed flags and positional arguments of one command.
class Args {
 public:
  // The flag's value, or its default when absent.
  const std::string& GetString(const std::string& name) const;
  // Numeric flags were validated while parsing, so these cannot fail.
  int64_t GetInt(const std::string& name) const;
  double GetDouble(const std::string& name) const;
  bool GetBool(const std::string& name) const;
  // Every occurrence of a repeatable flag, in order.
  const std::vector<std::string>& GetRepeated(const std::string& name) const;
  // Whether the flag was given on the command line.
  bool Has(const std::string& name) const { return given_.count(name) > 0; }
  // Arguments that are not flags.
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  friend class Parser;
  std::map<std::string, std::string> values_;
  std::map<std::string, std::vector<std::string>> repeated_;
  std::map<std::string, bool> given_;
  std::vector<std::string> positional_;
};

// A verb, either with a handler or with subcommands.
struct Command {
  Command() = default;
  Command(std::string name, std::string summary, std::string positional_usage = "")
      : name(std::move(name)),
        summary(std::move(summary)),
        positional_usage(std::move(positional_usage)) {}

  // The word typed, e.g. "check".
  std::string name;
  // One line for the parent's command list.
  std::string summary;
  // Positional synopsis for the usage line, e.g. "FILE".
  std::string positional_usage;
  // Paragraphs printed under the usage line.
  std::string description;
  std::vector<FlagSpec> flags;
  // Accepted number of positional arguments.
  int min_positional = 0;
  int max_positional = 0;
  // Runs the verb with its output streams; returns an exit code. Empty for a command group.
  std::function<int(const Args& args, std::ostream& out, std::ostream& err)> run;
  // Subcommands of a command group.
  std::vector<Command> subcommands;
};

// Parses `argv` (argv[0] is the program name) against `root` and runs the selected command.
// Usage errors print one line plus a hint to `err` and return kExitUsage.
int RunCommand(const Command& root, int argc, const char* const* argv, std::ostream& out,
               std::ostream& err);

// A command handler from `fn`, which writes its results to `out` and returns a status; a failure is
// reported as "<command_path>: <message>" with kExitFailure.
std::function<int(const Args&, std::ostream&, std::ostream&)> StatusHandler(
    std::string command_path, std::function<absl::Status(const Args&, std::ostream&)> fn);

// Prints "<command path>: <status message>" to `err` and returns kExitFailure.
int ReportFailure(const std::string& command_path, const absl::Status& status, std::ostream& err);

}  // namespace tandem::cli

#endif  // TANDEM_COMMON_CLI_H_
