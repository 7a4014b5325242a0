#include "common/cli.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace tandem::cli {

const std::string& Args::GetString(const std::string& name) const {
  static const std::string* const kEmpty = new std::string();
  auto it = values_.find(name);
  return it == values_.end() ? *kEmpty : it->second;
}

int64_t Args::GetInt(const std::string& name) const {
  int64_t value = 0;
  (void)absl::SimpleAtoi(GetString(name), &value);
  return value;
}

double Args::GetDouble(const std::string& name) const {
  double value = 0;
  (void)absl::SimpleAtod(GetString(name), &value);
  return value;
}

bool Args::GetBool(const std::string& name) const {
  bool value = false;
  (void)absl::SimpleAtob(GetString(name), &value);
  return value;
}

const std::vector<std::string>& Args::GetRepeated(const std::string& name) const {
  static const std::vector<std::string>* const kEmpty = new std::vector<std::string>();
  auto it = repeated_.find(name);
  return it == repeated_.end() ? *kEmpty : it->second;
}

namespace {

const FlagSpec kHelpFlag{"help", FlagKind::kBool, "Show this help and exit.", "", ""};

void PrintHelp(const Command& command, const std::string& path, std::ostream& out) {
  const bool group = !command.subcommands.empty();
  out << "Usage: " << path << (group ? " <command>" : "");
  if (!command.flags.empty()) out << " [flags]";
  if (!command.positional_usage.empty()) out << " " << command.positional_usage;
  out << "\n";
  if (!command.summary.empty()) out << "\n" << command.summary << "\n";
  if (!command.description.empty()) out << "\n" << command.description << "\n";
  if (group) {
    out << "\nCommands:\n";
    size_t width = 0;
    for (const Command& sub : command.subcommands) width = std::max(width, sub.name.size());
    for (const Command& sub : command.subcommands) {
      out << "  " << sub.name << std::string(width - sub.name.size() + 3, ' ') << sub.summary
          << "\n";
    }
  }
  std::vector<FlagSpec> flags = command.flags;
  flags.push_back(kHelpFlag);
  out << "\nFlags:\n";
  std::vector<std::string> left;
  size_t width = 0;
  for (const FlagSpec& flag : flags) {
    std::string text = "--" + flag.name;
    if (flag.kind != FlagKind::kBool) absl::StrAppend(&text, " ", flag.value_name);
    width = std::max(width, text.size());
    left.push_back(text);
  }
  for (size_t i = 0; i < flags.size(); ++i) {
    out << "  " << left[i] << std::string(width - left[i].size() + 3, ' ') << flags[i].help;
    if (!flags[i].default_value.empty()) out << " (default: " << flags[i].default_value << ")";
    if (flags[i].kind == FlagKind::kRepeated) out << " (repeatable)";
    if (flags[i].required) out << " (required)";
    out << "\n";
  }
  if (group) out << "\nRun '" << path << " <command> --help' for a command's flags.\n";
}

}  // namespace

// Turns the arguments after the command path into `Args`.
class Parser {
 public:
  static absl::Status Parse(const Command& command, const std::vector<std::string>& words,
                            Args* args, bool* help) {
    for (const FlagSpec& flag : command.flags) {
      if (flag.kind != FlagKind::kRepeated) args->values_[flag.name] = flag.default_value;
    }
    bool flags_done = false;
    for (size_t i = 0; i < words.size(); ++i) {
      const std::string& word = words[i];
      if (flags_done || word.size() < 2 || word[0] != '-' || word == "-") {
        args->positional_.push_back(word);
        continue;
      }
      if (word == "--") {
        flags_done = true;
        continue;
      }
      if (word == "-h" || word == "--help") {
        *help = true;
        return absl::OkStatus();
      }
      if (!absl::StartsWith(word, "--")) {
        return absl::InvalidArgumentError(absl::StrCat("unknown flag '", word, "'"));
      }
      std::string name = word.substr(2);
      std::string value;
      bool has_value = false;
      if (size_t eq = name.find('='); eq != std::string::npos) {
        value = name.substr(eq + 1);
        name = name.substr(0, eq);
        has_value = true;
      }
      auto spec = std::find_if(command.flags.begin(), command.flags.end(),
                               [&](const FlagSpec& f) { return f.name == name; });
      if (spec == command.flags.end()) {
        return absl::InvalidArgumentError(absl::StrCat("unknown flag '--", name, "'"));
      }
      if (!has_value) {
        if (spec->kind == FlagKind::kBool) {
          value = "true";
        } else if (i + 1 < words.size()) {
          value = words[++i];
        } else {
          return absl::InvalidArgumentError(
              absl::StrCat("flag '--", name, "' needs a value (", spec->value_name, ")"));
        }
      }
      if (absl::Status valid = CheckValue(*spec, value); !valid.ok()) return valid;
      args->given_[name] = true;
      if (spec->kind == FlagKind::kRepeated) {
        args->repeated_[name].push_back(value);
      } else {
        args->values_[name] = value;
      }
    }
    for (const FlagSpec& flag : command.flags) {
      if (flag.required && !args->given_.count(flag.name)) {
        return absl::InvalidArgumentError(
            absl::StrCat("flag '--", flag.name, "' is required (", flag.value_name, ")"));
      }
    }
    const int n = static_cast<int>(args->positional_.size());
    if (n < command.min_positional || n > command.max_positional) {
      if (command.max_positional == 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("unexpected argument '", args->positional_.front(), "'"));
      }
      return absl::InvalidArgumentError(absl::StrCat(
          "expected ", command.positional_usage.empty() ? "arguments" : command.positional_usage,
          ", got ", n, " argument", n == 1 ? "" : "s"));
    }
    return absl::OkStatus();
  }

 private:
  static absl::Status CheckValue(const FlagSpec& spec, const std::string& value) {
    int64_t i;
    double d;
    bool b;
    switch (spec.kind) {
      case FlagKind::kInt:
        if (!absl::SimpleAtoi(value, &i)) {
          return absl::InvalidArgumentError(
              absl::StrCat("flag '--", spec.name, "' expects an integer, got '", value, "'"));
        }
        break;
      case FlagKind::kDouble:
        if (!absl::SimpleAtod(value, &d)) {
          return absl::InvalidArgumentError(
              absl::StrCat("flag '--", spec.name, "' expects a number, got '", value, "'"));
        }
        break;
      case FlagKind::kBool:
        if (!absl::SimpleAtob(value, &b)) {
          return absl::InvalidArgumentError(
              absl::StrCat("flag '--", spec.name, "' expects true or false, got '", value, "'"));
        }
        break;
      default:
        break;
    }
    return absl::OkStatus();
  }
};

int RunCommand(const Command& root, int argc, const char* const* argv, std::ostream& out,
               std::ostream& err) {
  std::vector<std::string> words(argv + 1, argv + argc);
  const Command* command = &root;
  std::string path = root.name;
  size_t next = 0;
  while (!command->subcommands.empty()) {
    if (next >= words.size()) {
      PrintHelp(*command, path, err);
      return kExitUsage;
    }
    const std::string& word = words[next];
    if (word == "-h" || word == "--help" || word == "help") {
      PrintHelp(*command, path, out);
      return kExitOk;
    }
    auto sub = std::find_if(command->subcommands.begin(), command->subcommands.end(),
                            [&](const Command& c) { return c.name == word; });
    if (sub == command->subcommands.end()) {
      err << path << ": unknown command '" << word << "'. Run '" << path
          << " --help' for the list.\n";
      return kExitUsage;
    }
    command = &*sub;
    path += " " + command->name;
    ++next;
  }
  Args args;
  bool help = false;
  absl::Status parsed = Parser::Parse(
      *command, std::vector<std::string>(words.begin() + next, words.end()), &args, &help);
  if (help) {
    PrintHelp(*command, path, out);
    return kExitOk;
  }
  if (!parsed.ok()) {
    err << path << ": " << parsed.message() << ". Run '" << path << " --help' for usage.\n";
    return kExitUsage;
  }
  return command->run(args, out, err);
}

std::function<int(const Args&, std::ostream&, std::ostream&)> StatusHandler(
    std::string command_path, std::function<absl::Status(const Args&, std::ostream&)> fn) {
  return [path = std::move(command_path), fn = std::move(fn)](const Args& args, std::ostream& out,
                                                              std::ostream& err) {
    const absl::Status status = fn(args, out);
    return status.ok() ? kExitOk : ReportFailure(path, status, err);
  };
}

int ReportFailure(const std::string& command_path, const absl::Status& status, std::ostream& err) {
  err << command_path << ": " << status.message() << "\n";
  return kExitFailure;
}

}  // namespace tandem::cli
