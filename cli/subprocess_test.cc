#include "cli/subprocess.h"

#include <signal.h>
#include <sys/wait.h>

#include <fstream>
#include <sstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tandem {
namespace {

TEST(Subprocess, RunsAProgramAndReportsItsExitCode) {
  auto child = Subprocess::Spawn({"/bin/sh", "-c", "exit 3"});
  ASSERT_TRUE(child.ok());
  auto status = (*child)->Wait(absl::Seconds(10));
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(Subprocess::DescribeStatus(*status), "exited with code 3");
}

TEST(Subprocess, OutputGoesToTheLogFile) {
  const std::string log = ::testing::TempDir() + "/subprocess_test.log";
  std::remove(log.c_str());
  auto child = Subprocess::Spawn({"/bin/sh", "-c", "echo hello; echo oops >&2"}, log);
  ASSERT_TRUE(child.ok());
  ASSERT_TRUE((*child)->Wait(absl::Seconds(10)).ok());
  std::stringstream contents;
  contents << std::ifstream(log).rdbuf();
  EXPECT_EQ(contents.str(), "hello\noops\n");
}

TEST(Subprocess, SignalStopsAChildAndWaitTimesOutWhileItRuns) {
  auto child = Subprocess::Spawn({"/bin/sleep", "30"});
  ASSERT_TRUE(child.ok());
  EXPECT_TRUE((*child)->Running());
  EXPECT_TRUE(absl::IsDeadlineExceeded((*child)->Wait(absl::Milliseconds(20)).status()));
  (*child)->Signal(SIGKILL);
  auto status = (*child)->Wait(absl::Seconds(10));
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(Subprocess::DescribeStatus(*status), "killed by signal 9");
}

TEST(Subprocess, MissingProgramExitsWith127) {
  auto child = Subprocess::Spawn({"/nonexistent/program"});
  ASSERT_TRUE(child.ok());
  auto status = (*child)->Wait(absl::Seconds(10));
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(WEXITSTATUS(*status), 127);
}

}  // namespace
}  // namespace tandem
