#include "common/cli.h"

#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tandem::cli {
namespace {

using ::testing::HasSubstr;

struct Captured {
  int code = -1;
  std::string out;
  std::string err;
};

// A tree like `tool run [--count N] [--rate X] [--verbose] [--set K=V]... FILE`, `tool group sub`.
Command MakeTree(Args* seen) {
  Command run{"run", "Runs a thing.", "FILE"};
  run.flags = {{"count", FlagKind::kInt, "How many.", "3", "N"},
               {"rate", FlagKind::kDouble, "How fast.", "0.5", "X"},
               {"verbose", FlagKind::kBool, "Talk more.", "false"},
               {"set", FlagKind::kRepeated, "Override.", "", "K=V"}};
  run.min_positional = run.max_positional = 1;
  run.run = [seen](const Args& args, std::ostream& out, std::ostream&) {
    *seen = args;
    out << "ran";
    return kExitOk;
  };
  Command sub{"sub", "A leaf."};
  sub.run = [](const Args&, std::ostream&, std::ostream&) { return 7; };
  Command group{"group", "A group."};
  group.subcommands = {sub};
  Command root{"tool", "The tool."};
  root.subcommands = {run, group};
  return root;
}

Captured Invoke(const Command& root, std::vector<const char*> argv) {
  argv.insert(argv.begin(), "tool");
  std::ostringstream out, err;
  Captured c;
  c.code = RunCommand(root, static_cast<int>(argv.size()), argv.data(), out, err);
  c.out = out.str();
  c.err = err.str();
  return c;
}

TEST(Cli, ParsesFlagsInBothFormsAndPositionals) {
  Args seen;
  Command root = MakeTree(&seen);
  Captured c = Invoke(root, {"run", "--count=5", "--rate", "0.25", "--verbose", "--set", "a=1",
                             "--set=b=2", "file.txt"});
  ASSERT_EQ(c.code, kExitOk) << c.err;
  EXPECT_EQ(seen.GetInt("count"), 5);
  EXPECT_DOUBLE_EQ(seen.GetDouble("rate"), 0.25);
  EXPECT_TRUE(seen.GetBool("verbose"));
  EXPECT_THAT(seen.GetRepeated("set"), ::testing::ElementsAre("a=1", "b=2"));
  EXPECT_THAT(seen.positional(), ::testing::ElementsAre("file.txt"));
  EXPECT_TRUE(seen.Has("count"));
}

TEST(Cli, DefaultsApplyWhenFlagsAreAbsent) {
  Args seen;
  Command root = MakeTree(&seen);
  ASSERT_EQ(Invoke(root, {"run", "f"}).code, kExitOk);
  EXPECT_EQ(seen.GetInt("count"), 3);
  EXPECT_FALSE(seen.GetBool("verbose"));
  EXPECT_FALSE(seen.Has("count"));
  EXPECT_TRUE(seen.GetRepeated("set").empty());
}

TEST(Cli, HelpListsCommandsAndFlags) {
  Args seen;
  Command root = MakeTree(&seen);
  Captured top = Invoke(root, {"--help"});
  EXPECT_EQ(top.code, kExitOk);
  EXPECT_THAT(top.out, HasSubstr("Usage: tool <command>"));
  EXPECT_THAT(top.out, HasSubstr("run"));
  EXPECT_THAT(top.out, HasSubstr("Runs a thing."));
  Captured leaf = Invoke(root, {"run", "--help"});
  EXPECT_EQ(leaf.code, kExitOk);
  EXPECT_THAT(leaf.out, HasSubstr("Usage: tool run [flags] FILE"));
  EXPECT_THAT(leaf.out, HasSubstr("--count N"));
  EXPECT_THAT(leaf.out, HasSubstr("(default: 3)"));
  Captured nested = Invoke(root, {"group", "-h"});
  EXPECT_THAT(nested.out, HasSubstr("sub"));
}

TEST(Cli, UsageErrorsAreOneLineNamingTheProblem) {
  Args seen;
  Command root = MakeTree(&seen);
  Captured unknown_flag = Invoke(root, {"run", "--cuont=2", "f"});
  EXPECT_EQ(unknown_flag.code, kExitUsage);
  EXPECT_THAT(unknown_flag.err, HasSubstr("tool run: unknown flag '--cuont'"));
  EXPECT_EQ(std::count(unknown_flag.err.begin(), unknown_flag.err.end(), '\n'), 1);

  Captured bad_int = Invoke(root, {"run", "--count=lots", "f"});
  EXPECT_EQ(bad_int.code, kExitUsage);
  EXPECT_THAT(bad_int.err, HasSubstr("'--count' expects an integer, got 'lots'"));

  Captured bad_double = Invoke(root, {"run", "--rate=fast", "f"});
  EXPECT_THAT(bad_double.err, HasSubstr("'--rate' expects a number"));

  Captured missing_value = Invoke(root, {"run", "f", "--count"});
  EXPECT_THAT(missing_value.err, HasSubstr("'--count' needs a value"));

  Captured missing_positional = Invoke(root, {"run"});
  EXPECT_THAT(missing_positional.err, HasSubstr("expected FILE, got 0 arguments"));

  Captured unknown_command = Invoke(root, {"fly"});
  EXPECT_EQ(unknown_command.code, kExitUsage);
  EXPECT_THAT(unknown_command.err, HasSubstr("unknown command 'fly'"));

  Captured extra = Invoke(root, {"group", "sub", "x"});
  EXPECT_THAT(extra.err, HasSubstr("unexpected argument 'x'"));
}

TEST(Cli, GroupWithoutSubcommandPrintsHelpAsUsageError) {
  Args seen;
  Command root = MakeTree(&seen);
  Captured c = Invoke(root, {"group"});
  EXPECT_EQ(c.code, kExitUsage);
  EXPECT_THAT(c.err, HasSubstr("Usage: tool group <command>"));
}

TEST(Cli, HandlerExitCodeIsReturned) {
  Args seen;
  Command root = MakeTree(&seen);
  EXPECT_EQ(Invoke(root, {"group", "sub"}).code, 7);
}

TEST(Cli, MissingRequiredFlagIsAUsageError) {
  Command command("tool", "A tool.");
  command.flags = {{"config", FlagKind::kString, "Config.", "", "FILE", true}};
  command.run =
      StatusHandler("tool", [](const Args&, std::ostream&) { return absl::NotFoundError("boom"); });
  Captured missing = Invoke(command, {});
  EXPECT_EQ(missing.code, kExitUsage);
  EXPECT_THAT(missing.err, HasSubstr("flag '--config' is required (FILE)"));
  Captured given = Invoke(command, {"--config=x"});
  EXPECT_EQ(given.code, kExitFailure);
  EXPECT_EQ(given.err, "tool: boom\n");
}

TEST(Cli, DoubleDashEndsFlags) {
  Args seen;
  Command root = MakeTree(&seen);
  ASSERT_EQ(Invoke(root, {"run", "--", "--not-a-flag"}).code, kExitOk);
  EXPECT_THAT(seen.positional(), ::testing::ElementsAre("--not-a-flag"));
}

}  // namespace
}  // namespace tandem::cli
