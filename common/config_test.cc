#include "common/config.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tandem {
namespace {

using ::testing::HasSubstr;

std::string WriteTempFile(const std::string& contents) {
  std::string path = ::testing::TempDir() + "/config_test_" +
                     ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".textproto";
  std::ofstream(path) << contents;
  return path;
}

TEST(Config, ShippedSim2oConfigLoadsAndValidates) {
  auto config = LoadExperimentConfig(
      std::string(TANDEM_SOURCE_DIR) + "/configs/halfcheetah_6x1_sim2o.textproto", {});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->env().name(), "mamujoco/HalfCheetah-6x1");
  EXPECT_EQ(config->env().options().at("obs_mode"), "omiga");
  EXPECT_EQ(config->selector().beam_width(), 5);
  EXPECT_DOUBLE_EQ(config->replay().offline_ratio(), 0.5);
}

// A config extends its base: scalars and messages it sets win, lists and maps it sets replace the
// base's, everything else comes from the base (through a chain of bases, relative paths).
TEST(Config, BaseFilesApplyFirstAndTheFileWins) {
  const std::string dir = ::testing::TempDir() + "/config_test_bases";
  std::filesystem::create_directories(dir + "/maps");
  std::ofstream(dir + "/root.textproto")
      << "name: \"root\" seed: 7\n"
         "env { name: \"smac/3m\" options { key: \"a\" value: \"1\" } }\n"
         "replay { offline_ratio: 0.3 tables { name: \"online\" capacity: 10 }\n"
         "         tables { name: \"extra\" capacity: 20 } }\n"
         "learner { batch_size: 64 offline_updates: 100 }\n";
  std::ofstream(dir + "/maps/middle.textproto")
      << "base: \"../root.textproto\"\nname: \"middle\"\nlearner { batch_size: 32 }\n";
  std::ofstream(dir + "/maps/leaf.textproto")
      << "base: \"middle.textproto\"\n"
         "replay { tables { name: \"online\" capacity: 99 } }\n"
         "env { options { key: \"b\" value: \"2\" } }\n";
  auto config = LoadExperimentConfig(dir + "/maps/leaf.textproto", {"learner.offline_updates=5"});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->name(), "middle");
  EXPECT_EQ(config->seed(), 7u);
  EXPECT_EQ(config->env().name(), "smac/3m");
  EXPECT_EQ(config->env().options().size(), 1u);
  EXPECT_EQ(config->env().options().at("b"), "2");
  EXPECT_DOUBLE_EQ(config->replay().offline_ratio(), 0.3);
  ASSERT_EQ(config->replay().tables_size(), 1);
  EXPECT_EQ(config->replay().tables(0).capacity(), 99);
  EXPECT_EQ(config->learner().batch_size(), 32);
  EXPECT_EQ(config->learner().offline_updates(), 5);
  EXPECT_TRUE(config->base().empty()) << "the resolved config names no base";

  std::ofstream(dir + "/cycle_a.textproto") << "base: \"cycle_b.textproto\"\n";
  std::ofstream(dir + "/cycle_b.textproto") << "base: \"cycle_a.textproto\"\n";
  auto cycle = LoadExperimentConfig(dir + "/cycle_a.textproto", {});
  ASSERT_FALSE(cycle.ok());
  EXPECT_THAT(cycle.status().message(), HasSubstr("is a cycle"));
  auto missing = LoadExperimentConfig(WriteTempFile("base: \"nowhere.textproto\"\n"), {});
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.status().message(), HasSubstr("nowhere.textproto"));
}

TEST(Config, DefaultsAreFilledIntoUnsetFields) {
  auto config = LoadExperimentConfig(WriteTempFile("name: \"x\"\n"), {});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_TRUE(config->learner().has_batch_size());
  EXPECT_EQ(config->learner().batch_size(), 128);
  EXPECT_DOUBLE_EQ(config->algorithm().target_update_rate(), 0.005);
  EXPECT_TRUE(std::isnan(config->evaluation().random_return()));
  EXPECT_EQ(config->replay().fsync_policy(), ReplayConfig::FSYNC_EVERY_BATCH);
  EXPECT_THAT(ToTextProto(*config), HasSubstr("batch_size: 128"));
}

TEST(Config, DefaultConfigIsValid) {
  EXPECT_TRUE(ValidateExperimentConfig(DefaultExperimentConfig()).ok());
}

TEST(Config, UnknownFieldNamesFileLineAndField) {
  const std::string path = WriteTempFile("name: \"x\"\nreplay {\n  capcity: 10\n}\n");
  auto config = LoadExperimentConfig(path, {});
  ASSERT_FALSE(config.ok());
  EXPECT_TRUE(absl::IsInvalidArgument(config.status()));
  EXPECT_THAT(config.status().message(), HasSubstr(path + ":3:"));
  EXPECT_THAT(config.status().message(), HasSubstr("capcity"));
}

TEST(Config, WrongTypeNamesTheField) {
  auto config = LoadExperimentConfig(WriteTempFile("replay { offline_ratio: \"half\" }\n"), {});
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(config.status().message(), HasSubstr(":1:"));
  EXPECT_THAT(config.status().message(), HasSubstr("offline_ratio"));
}

TEST(Config, MissingFileIsNotFound) {
  auto config = LoadExperimentConfig("/nonexistent/dir/none.textproto", {});
  ASSERT_FALSE(config.ok());
  EXPECT_TRUE(absl::IsNotFound(config.status()));
  EXPECT_THAT(config.status().message(), HasSubstr("/nonexistent/dir/none.textproto"));
}

TEST(Config, OutOfRangeValueNamesFieldAndBounds) {
  auto config = LoadExperimentConfig(WriteTempFile("replay { offline_ratio: 1.5 }\n"), {});
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(config.status().message(),
              HasSubstr("replay.offline_ratio: must be in [0, 1], got 1.5"));
}

TEST(Config, OverridesSetScalarsEnumsMapsAndMessages) {
  auto config = LoadExperimentConfig(
      WriteTempFile("name: \"x\"\n"),
      {"replay.offline_ratio=0.25", "selector.agent_order=reverse", "env.options.obs_mode=khop",
       "env.options.agent_obsk=1", "replay.fsync_policy=FSYNC_NEVER", "seed=7",
       "dataset={path: \"d.h5\"}"});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_DOUBLE_EQ(config->replay().offline_ratio(), 0.25);
  EXPECT_EQ(config->selector().agent_order(), SelectorConfig::AGENT_ORDER_REVERSE);
  EXPECT_EQ(config->env().options().at("obs_mode"), "khop");
  EXPECT_EQ(config->env().options().at("agent_obsk"), "1");
  EXPECT_EQ(config->replay().fsync_policy(), ReplayConfig::FSYNC_NEVER);
  EXPECT_EQ(config->seed(), 7u);
  EXPECT_EQ(config->dataset().path(), "d.h5");
}

TEST(Config, LaterOverrideOfTheSameMapKeyWins) {
  ExperimentConfig config;
  ASSERT_TRUE(ApplyOverride("env.options.obs_mode=khop", &config).ok());
  ASSERT_TRUE(ApplyOverride("env.options.obs_mode=omiga", &config).ok());
  EXPECT_EQ(config.env().options().size(), 1u);
  EXPECT_EQ(config.env().options().at("obs_mode"), "omiga");
}

TEST(Config, OverrideErrorsNameTheFlagAndField) {
  ExperimentConfig config;
  absl::Status status = ApplyOverride("replay.capcity=10", &config);
  EXPECT_THAT(status.message(), HasSubstr("--set replay.capcity=10"));
  EXPECT_THAT(status.message(), HasSubstr("no field \"capcity\""));

  status = ApplyOverride("learner.batch_size=many", &config);
  EXPECT_THAT(status.message(), HasSubstr("batch_size expects int32, got \"many\""));

  status = ApplyOverride("selector.agent_order=sideways", &config);
  EXPECT_THAT(status.message(), HasSubstr("AGENT_ORDER_FORWARD"));

  status = ApplyOverride("seed.x=1", &config);
  EXPECT_THAT(status.message(), HasSubstr("seed is not a message"));

  status = ApplyOverride("novalue", &config);
  EXPECT_THAT(status.message(), HasSubstr("expected path=value"));

  status = ApplyOverride("env.options=1", &config);
  EXPECT_THAT(status.message(), HasSubstr("needs a key"));
}

TEST(Config, OverrideFailureInsideLoadNamesTheFlag) {
  auto config = LoadExperimentConfig(WriteTempFile(""), {"replay.offline_ratio=2"});
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(config.status().message(), HasSubstr("replay.offline_ratio: must be in [0, 1]"));
}

// A range error names what set the value: the override when one did (not the file, whose value
// it replaced), else the file and line, following base files.
TEST(Config, RangeErrorsNameTheOverrideOrTheFileLineThatSetTheValue) {
  const std::string path = WriteTempFile(
      "name: \"x\"\n"
      "replay {\n"
      "  offline_ratio: 0.5\n"
      "  max_sample_bytes: 10\n"
      "}\n");
  auto from_file = LoadExperimentConfig(path, {});
  ASSERT_FALSE(from_file.ok());
  EXPECT_THAT(from_file.status().message(),
              HasSubstr(path + ":4: replay.max_sample_bytes: must be in [1024, "));

  auto from_flag =
      LoadExperimentConfig(path, {"replay.max_sample_bytes=4096", "replay.offline_ratio=2"});
  ASSERT_FALSE(from_flag.ok());
  EXPECT_THAT(from_flag.status().message(),
              HasSubstr("--set replay.offline_ratio=2: replay.offline_ratio: must be in [0, 1], "
                        "got 2"));
  // A whole message set by one flag.
  auto from_message =
      LoadExperimentConfig(path, {"replay={offline_ratio: 3 max_sample_bytes: 4096}"});
  ASSERT_FALSE(from_message.ok());
  EXPECT_THAT(from_message.status().message(),
              HasSubstr("--set replay={offline_ratio: 3 max_sample_bytes: 4096}: "
                        "replay.offline_ratio"));

  // In a base file: that file and its line.
  const std::string dir =
      std::filesystem::path(::testing::TempDir() + "/config_test_culprit").lexically_normal();
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/base.textproto") << "seed: 1\nlearner {\n  batch_size: 0\n}\n";
  std::ofstream(dir + "/leaf.textproto") << "base: \"base.textproto\"\nname: \"leaf\"\n";
  auto from_base = LoadExperimentConfig(dir + "/leaf.textproto", {});
  ASSERT_FALSE(from_base.ok());
  EXPECT_THAT(from_base.status().message(),
              HasSubstr(dir + "/base.textproto:3: learner.batch_size"));
}

TEST(Config, ValidationCatchesCrossFieldProblems) {
  ExperimentConfig config = DefaultExperimentConfig();
  config.mutable_replay()->set_samples_per_insert(64);
  config.mutable_replay()->set_error_buffer(10);
  EXPECT_THAT(ValidateExperimentConfig(config).message(), HasSubstr("deadlock"));

  config = DefaultExperimentConfig();
  config.mutable_security()->set_tls_cert_file("cert.pem");
  EXPECT_THAT(ValidateExperimentConfig(config).message(), HasSubstr("set together"));

  config = DefaultExperimentConfig();
  config.mutable_replay()->set_address("localhost");
  EXPECT_THAT(ValidateExperimentConfig(config).message(), HasSubstr("replay.address"));

  config = DefaultExperimentConfig();
  config.mutable_learner()->set_device("tpu");
  EXPECT_THAT(ValidateExperimentConfig(config).message(), HasSubstr("learner.device"));
}

}  // namespace
}  // namespace tandem
