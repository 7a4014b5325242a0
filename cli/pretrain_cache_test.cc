#include "cli/pretrain_cache.h"

#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "common/config.h"
#include "common/files.h"
#include "gtest/gtest.h"

namespace tandem {
namespace {
namespace fs = std::filesystem;

class PretrainCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/pretrain_cache_test.XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
    dataset_ = dir_ + "/data.h5";
    executable_ = dir_ + "/tandem";
    std::ofstream(dataset_) << "episodes";
    std::ofstream(executable_) << "binary";
    config_.set_name("a");
    FillDefaults(&config_);
    config_.mutable_dataset()->set_path(dataset_);
    config_.mutable_algorithm()->set_name("qmix");
    config_.mutable_algorithm()->mutable_qmix()->mutable_cql()->set_variant("cfcql");
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Key(const ExperimentConfig& config) {
    absl::StatusOr<std::string> key = OfflinePhaseKey(config, executable_);
    EXPECT_TRUE(key.ok()) << key.status();
    return key.ok() ? *key : "";
  }

  std::string dir_, dataset_, executable_;
  ExperimentConfig config_;
};

// What only the online phase, the actors, the evaluation or the bookkeeping read leaves the key
// alone: OVMSE's methods that pretrain the same CFCQL share one checkpoint.
TEST_F(PretrainCacheTest, OnlineOnlySettingsDoNotChangeTheKey) {
  const std::string key = Key(config_);
  ExperimentConfig other = config_;
  other.set_name("another-method");
  other.mutable_selector()->set_name("sequential-epsilon");
  other.mutable_selector()->set_epsilon_start(0.3);
  other.mutable_algorithm()->mutable_ovm()->set_enabled(true);
  other.mutable_algorithm()->mutable_qmix()->mutable_cql()->set_online(true);
  other.mutable_learner()->set_online_env_steps(12345);
  other.mutable_learner()->set_probe_every_updates(10);
  other.mutable_replay()->set_offline_ratio(0.3);
  other.mutable_actors()->set_num_actors(7);
  other.mutable_evaluation()->set_episodes(3);
  other.mutable_run()->set_pretrain_cache_dir("/elsewhere");
  EXPECT_EQ(Key(other), key);
}

// Anything that changes the offline updates changes the key: the seed, the conservative term and
// its weight, the number of updates, the dataset file (its contents too) and the binary.
TEST_F(PretrainCacheTest, OfflineSettingsTheDatasetAndTheBinaryChangeTheKey) {
  const std::string key = Key(config_);
  ExperimentConfig seed = config_;
  seed.set_seed(2);
  EXPECT_NE(Key(seed), key);
  ExperimentConfig variant = config_;
  variant.mutable_algorithm()->mutable_qmix()->mutable_cql()->set_variant("macql");
  EXPECT_NE(Key(variant), key);
  ExperimentConfig calibrated = config_;
  calibrated.mutable_algorithm()->mutable_qmix()->mutable_cql()->set_calibrated(true);
  EXPECT_NE(Key(calibrated), key);
  ExperimentConfig alpha = config_;
  alpha.mutable_algorithm()->mutable_qmix()->mutable_cql()->set_alpha(5);
  EXPECT_NE(Key(alpha), key);
  ExperimentConfig updates = config_;
  updates.mutable_learner()->set_offline_updates(10);
  EXPECT_NE(Key(updates), key);
  std::ofstream(dataset_, std::ios::app) << " more";
  EXPECT_NE(Key(config_), key);
  const std::string with_new_dataset = Key(config_);
  std::ofstream(executable_, std::ios::app) << " rebuilt";
  EXPECT_NE(Key(config_), with_new_dataset);
}

TEST_F(PretrainCacheTest, AMissingDatasetIsAnErrorNamingIt) {
  config_.mutable_dataset()->set_path(dir_ + "/missing.h5");
  absl::StatusOr<std::string> key = OfflinePhaseKey(config_, executable_);
  ASSERT_FALSE(key.ok());
  EXPECT_NE(key.status().message().find("missing.h5"), std::string::npos) << key.status();
}

// Store then fetch gives the stored bytes; another key (or a hash collision, whose stored key
// differs) fetches nothing.
TEST_F(PretrainCacheTest, StoredCheckpointsAreFetchedOnlyForTheirOwnKey) {
  const std::string cache = dir_ + "/cache";
  const std::string key = Key(config_);
  const std::string checkpoint = dir_ + "/offline.pt";
  std::ofstream(checkpoint) << "weights";
  EXPECT_FALSE(*FetchPretrained(cache, key, dir_ + "/run/checkpoints/offline.pt"));
  ASSERT_TRUE(StorePretrained(cache, key, checkpoint).ok());
  ASSERT_TRUE(*FetchPretrained(cache, key, dir_ + "/run/checkpoints/offline.pt"));
  EXPECT_EQ(*ReadFile(dir_ + "/run/checkpoints/offline.pt"), "weights");
  EXPECT_FALSE(*FetchPretrained(cache, key + "x", dir_ + "/other.pt"));
  // The same entry holding another key's checkpoint is not reused.
  ASSERT_TRUE(WriteFileAtomically(PretrainCacheEntry(cache, key) + ".key", "other").ok());
  EXPECT_FALSE(*FetchPretrained(cache, key, dir_ + "/third.pt"));
}

// One claim at a time; a released claim, or one left by a process that no longer exists, can be
// claimed again.
TEST_F(PretrainCacheTest, OneRunClaimsAPhaseAndADeadHoldersLockIsTakenOver) {
  const std::string cache = dir_ + "/cache";
  const std::string key = Key(config_);
  EXPECT_TRUE(*ClaimPretraining(cache, key));
  EXPECT_FALSE(*ClaimPretraining(cache, key));  // held by this (live) process
  ReleasePretraining(cache, key);
  EXPECT_TRUE(*ClaimPretraining(cache, key));
  ReleasePretraining(cache, key);
  // A pid that cannot be alive: beyond the kernel's pid limit.
  ASSERT_TRUE(WriteFileAtomically(PretrainCacheEntry(cache, key) + ".lock", "2147483647\n").ok());
  EXPECT_TRUE(*ClaimPretraining(cache, key));
}

}  // namespace
}  // namespace tandem
