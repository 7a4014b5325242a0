#include "common/cfcql_dataset.h"

#include <hdf5.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/hdf5_util.h"
#include "common/transition_schema.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tandem {
namespace {

using ::testing::HasSubstr;

// A file in CFCQL's layout (pymarl's episode batch as its collector dumps it): E = 3 episodes of
// 5, 3 and 2 steps padded to L = 6 entries, n = 2 agents, obs 3, state 4, K = 5 actions. pymarl
// stores a dummy action at entry T; episode 1 timed out (no terminal flag).
constexpr int kE = 3, kL = 6, kN = 2, kO = 3, kS = 4, kK = 5;
constexpr int kLengths[kE] = {5, 3, 2};

template <typename T>
void WriteKey(hid_t file, const char* name, hid_t file_type, hid_t mem_type,
              const std::vector<hsize_t>& dims, const std::vector<T>& data) {
  H5Id space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose);
  H5Id dataset(
      H5Dcreate2(file, name, file_type, space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
      H5Dclose);
  ASSERT_TRUE(dataset.ok()) << name;
  ASSERT_GE(H5Dwrite(dataset.get(), mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data.data()), 0);
}

// obs entry t of episode e, agent i, feature j.
float ObsValue(int e, int t, int i, int j) { return 100.f * e + 10.f * t + i + 0.1f * j; }

std::string WriteCfcqlFile(const std::string& name, bool hole = false) {
  const std::string path = ::testing::TempDir() + "/" + name;
  H5Id file(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose);
  std::vector<float> obs(kE * kL * kN * kO, 0), state(kE * kL * kS, 0), reward(kE * kL, 0);
  std::vector<int64_t> actions(kE * kL * kN, 0), filled(kE * kL, 0);
  std::vector<int32_t> avail(kE * kL * kN * kK, 0);
  std::vector<uint8_t> terminated(kE * kL, 0);
  for (int e = 0; e < kE; ++e) {
    const int len = kLengths[e];
    for (int t = 0; t <= len; ++t) {
      filled[e * kL + t] = 1;
      for (int i = 0; i < kN; ++i) {
        for (int j = 0; j < kO; ++j) obs[((e * kL + t) * kN + i) * kO + j] = ObsValue(e, t, i, j);
        for (int k = 0; k < kK; ++k) avail[((e * kL + t) * kN + i) * kK + k] = k != 1;
        // Actions 0, 2, 3, 4 are available; entry len holds pymarl's dummy action.
        actions[(e * kL + t) * kN + i] = t == len ? 4 : (t + i) % 2 == 0 ? 2 : 3;
      }
      for (int j = 0; j < kS; ++j) state[(e * kL + t) * kS + j] = e + 0.01f * t + j;
      if (t < len) reward[e * kL + t] = 0.5f * (e + 1);
    }
    if (e != 1) terminated[e * kL + len - 1] = 1;
  }
  if (hole) filled[1 * kL + 1] = 0;
  const hsize_t e = kE, l = kL, n = kN;
  WriteKey(file.get(), "obs", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, {e, l, n, kO}, obs);
  WriteKey(file.get(), "state", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, {e, l, kS}, state);
  WriteKey(file.get(), "actions", H5T_STD_I64LE, H5T_NATIVE_INT64, {e, l, n, 1}, actions);
  WriteKey(file.get(), "avail_actions", H5T_STD_I32LE, H5T_NATIVE_INT32, {e, l, n, kK}, avail);
  WriteKey(file.get(), "reward", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, {e, l, 1}, reward);
  WriteKey(file.get(), "terminated", H5T_STD_U8LE, H5T_NATIVE_UINT8, {e, l, 1}, terminated);
  WriteKey(file.get(), "filled", H5T_STD_I64LE, H5T_NATIVE_INT64, {e, l, 1}, filled);
  return path;
}

TEST(CfcqlDataset, EpisodesBecomeTandemEpisodeRowsThatPassValidation) {
  const std::string path = WriteCfcqlFile("3m_medium.h5");
  EXPECT_TRUE(LooksLikeCfcqlDataset(path));
  auto source = OpenCfcqlDataset(path, "smac/3m");
  ASSERT_TRUE(source.ok()) << source.status();
  const TransitionSpec& spec = (*source)->spec();
  EXPECT_EQ((*source)->size(), kE);
  EXPECT_EQ(spec.episode_steps(), kL);
  EXPECT_EQ(spec.num_agents(), kN);
  EXPECT_EQ(spec.obs_size(), kO);
  EXPECT_EQ(spec.state_size(), kS);
  EXPECT_EQ(spec.action_size(), kK);
  EXPECT_EQ(spec.env_name(), "smac/3m");

  TransitionSchema schema = *TransitionSchema::Create(spec);
  TransitionBatch batch;
  schema.Allocate(kE, &batch);
  for (const Column& column : schema.columns()) {
    ASSERT_TRUE((*source)
                    ->ReadColumn(column.field, 0, kE,
                                 MutableField(&batch, column.field)->mutable_data()->data())
                    .ok())
        << FieldName(column.field);
  }
  ASSERT_TRUE(schema.Validate(batch).ok()) << schema.Validate(batch).status();
  EXPECT_EQ(NumSteps(batch), 5 + 3 + 2);
  const float* obs = reinterpret_cast<const float*>(batch.obs().data().data());
  const int32_t* actions = reinterpret_cast<const int32_t*>(batch.actions().data().data());
  const uint8_t* terminated = reinterpret_cast<const uint8_t*>(batch.terminated().data().data());
  for (int e = 0; e < kE; ++e) {
    const int len = kLengths[e];
    for (int t = 0; t < kL; ++t) {
      // Observations through the final entry, zero after; actions through len - 1, zero from len.
      EXPECT_EQ(obs[((e * kL + t) * kN + 1) * kO + 2], t <= len ? ObsValue(e, t, 1, 2) : 0.f);
      EXPECT_EQ(actions[(e * kL + t) * kN], t < len ? (t % 2 == 0 ? 2 : 3) : 0) << e << " " << t;
      EXPECT_EQ(terminated[e * kL + t], e != 1 && t == len - 1 ? 1 : 0);
    }
  }
}

TEST(CfcqlDataset, AHoleInTheFilledMaskIsRefusedNamingTheEpisode) {
  const std::string path = WriteCfcqlFile("holes_medium.h5", /*hole=*/true);
  auto source = OpenCfcqlDataset(path, "smac/3m");
  ASSERT_FALSE(source.ok());
  EXPECT_THAT(source.status().message(), HasSubstr("key 'filled' episode 1 entry 2"));
}

TEST(CfcqlDataset, TandemsReaderSaysHowToImportIt) {
  const std::string path = WriteCfcqlFile("2s3z_expert.h5");
  auto opened = OpenTandemDataset(path);
  ASSERT_FALSE(opened.ok());
  EXPECT_THAT(opened.status().message(), HasSubstr("tandem dataset import-cfcql"));
}

TEST(CfcqlDataset, FileNamesGiveMapAndQuality) {
  auto name = ParseCfcqlFileName("/x/5m_vs_6m_medium_replay.h5");
  ASSERT_TRUE(name.has_value());
  EXPECT_EQ(name->env_name, "smac/5m_vs_6m");
  EXPECT_EQ(name->quality, "medium-replay");
  EXPECT_EQ(ParseCfcqlFileName("2s3z_expert.h5")->env_name, "smac/2s3z");
  EXPECT_EQ(ParseCfcqlFileName("2s3z_mixed.h5")->quality, "mixed");
  EXPECT_FALSE(ParseCfcqlFileName("2s3z.h5").has_value());
  EXPECT_FALSE(ParseCfcqlFileName("2s3z_good.h5").has_value());
}

}  // namespace
}  // namespace tandem
