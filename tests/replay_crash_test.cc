// Durability across a real crash: a `tandem replay` process is killed with SIGKILL while an actor
// streams inserts; after a restart on the same write-ahead log, every acknowledged transition is
// back. Runs for each fsync policy (a process crash leaves the page cache intact, so all three must
// pass; they differ only on power loss).
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "cli/subprocess.h"
#include "common/replay_client.h"
#include "gtest/gtest.h"
#include "proto/config.pb.h"
#include "tests/transition_testing.h"

namespace tandem {
namespace {

namespace fs = std::filesystem;

class ReplayCrashTest : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/replay_crash_" + GetParam();
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    std::ofstream(dir_ + "/config.textproto")
        << "replay { address: \"127.0.0.1:0\" offline_ratio: 0 min_size_to_sample: 1\n"
        << "  shape_from_env: false\n"
        << "  wal_dir: \"" << dir_ << "/wal\" fsync_policy: " << GetParam() << " }\n"
        << "metrics { enabled: false }\n";
  }

  // Starts `tandem replay` and returns a client connected to it.
  std::unique_ptr<replay::ReplayClient> StartServer(std::unique_ptr<Subprocess>* process) {
    const std::string port_file = dir_ + "/port";
    fs::remove(port_file);
    auto spawned = Subprocess::Spawn(
        {TANDEM_BINARY, "replay", "--config", dir_ + "/config.textproto", "--port_file", port_file},
        dir_ + "/replay.log");
    EXPECT_TRUE(spawned.ok());
    *process = std::move(*spawned);
    const absl::Time deadline = absl::Now() + absl::Seconds(60);
    while (!fs::exists(port_file) && absl::Now() < deadline && (*process)->Running()) {
      absl::SleepFor(absl::Milliseconds(20));
    }
    int port = 0;
    std::ifstream(port_file) >> port;
    EXPECT_GT(port, 0) << "server did not start; see " << dir_ << "/replay.log";
    auto client =
        replay::ReplayClient::Connect(absl::StrCat("127.0.0.1:", port), SecurityConfig(), "");
    EXPECT_TRUE(client.ok());
    EXPECT_TRUE((*client)->WaitUntilReady(absl::Seconds(30)).ok());
    return std::move(*client);
  }

  std::string dir_;
};

TEST_P(ReplayCrashTest, NoAcknowledgedTransitionIsLostAcrossSigkill) {
  std::unique_ptr<Subprocess> server;
  auto client = StartServer(&server);
  TransitionSchema schema = *TransitionSchema::Create(testing::ContinuousSpec(6, 23, 40, 1));
  auto writer = client->NewWriter(4);
  std::atomic<bool> stop{false};
  std::thread actor([&] {
    for (int b = 0; !stop; ++b) {
      if (!writer->Write(testing::MakeBatch(schema, 32, b * 32)).ok()) break;
    }
  });
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (writer->acknowledged_transitions() < 32 * 200 && absl::Now() < deadline) {
    absl::SleepFor(absl::Microseconds(200));
  }
  server->Signal(SIGKILL);  // right after an acknowledgement, with more batches in flight
  ASSERT_TRUE(server->Wait(absl::Seconds(30)).ok());
  stop = true;
  actor.join();
  writer->Finish().IgnoreError();
  const int64_t acknowledged = writer->acknowledged_transitions();
  ASSERT_GE(acknowledged, 32 * 200);

  std::unique_ptr<Subprocess> restarted;
  auto after = StartServer(&restarted);
  auto info = after->Info();
  ASSERT_TRUE(info.ok()) << info.status();
  ASSERT_EQ(info->tables_size(), 1);
  // The log is in insertion order, so holding at least `acknowledged` transitions means holding
  // every acknowledged one (and possibly logged-but-unacknowledged ones after them).
  EXPECT_GE(info->tables(0).size(), acknowledged);
  restarted->Signal(SIGTERM);
  auto status = restarted->Wait(absl::Seconds(30));
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(Subprocess::DescribeStatus(*status), "exited with code 0");
}

INSTANTIATE_TEST_SUITE_P(FsyncPolicies, ReplayCrashTest,
                         ::testing::Values("FSYNC_EVERY_BATCH", "FSYNC_INTERVAL", "FSYNC_NEVER"));

}  // namespace
}  // namespace tandem
