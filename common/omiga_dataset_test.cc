#include "common/omiga_dataset.h"

#include <hdf5.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "common/transition_schema.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tandem {
namespace {

using ::testing::HasSubstr;

std::string TempPath(const std::string& name) {
  return ::testing::TempDir() + "/omiga_test_" +
         ::testing::UnitTest::GetInstance()->current_test_info()->name() + "_" + name;
}

// An OMIGA-layout file: N rows, n agents, obs o (state per agent = o), act a. Row t holds
// o[t, i, k] = t + 0.01 i + 0.001 k, s = -o, a = 0.1 (i + 1) sin(t) , r = t / 10, and d marks rows
// listed in `terminal`. Keys are written as float64 like h5py does for numpy defaults unless
// `float32`. `skip` omits one key, `nan_row` puts a NaN into o at that row.
struct OmigaFile {
  int rows = 7, agents = 2, obs = 3, act = 1;
  std::vector<int> terminal = {3, 6};
  bool float32 = false;
  std::string skip;
  int nan_row = -1;
  std::vector<hsize_t> r_dims;  // default [N, 1]
  double bad_done = 0;          // a non-binary value for d[0] when non-zero

  double O(int t, int i, int k) const { return t + 0.01 * i + 0.001 * k; }
  double A(int t, int i) const { return 0.1 * (i + 1) * std::sin(t); }

  std::string Write(const std::string& path) const {
    hid_t file = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    auto put = [&](const char* name, std::vector<hsize_t> dims, const std::vector<double>& v) {
      if (skip == name) return;
      hid_t space = H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr);
      hid_t type = float32 ? H5T_IEEE_F32LE : H5T_IEEE_F64LE;
      hid_t set = H5Dcreate2(file, name, type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
      H5Dwrite(set, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data());
      H5Dclose(set);
      H5Sclose(space);
    };
    std::vector<double> o, s, a, r, d;
    for (int t = 0; t < rows; ++t) {
      for (int i = 0; i < agents; ++i) {
        for (int k = 0; k < obs; ++k) {
          o.push_back(t == nan_row ? NAN : O(t, i, k));
          s.push_back(-O(t, i, k));
        }
        for (int k = 0; k < act; ++k) a.push_back(A(t, i));
      }
      r.push_back(t / 10.0);
      bool done = false;
      for (int e : terminal) done |= e == t;
      d.push_back(t == 0 && bad_done != 0 ? bad_done : done);
    }
    const hsize_t n = rows, na = agents;
    put("o", {n, na, static_cast<hsize_t>(obs)}, o);
    put("s", {n, na, static_cast<hsize_t>(obs)}, s);
    put("a", {n, na, static_cast<hsize_t>(act)}, a);
    put("r", r_dims.empty() ? std::vector<hsize_t>{n, 1} : r_dims, r);
    put("d", {n, 1}, d);
    H5Fclose(file);
    return path;
  }
};

template <typename T>
std::vector<T> Read(OfflineDataSource& source, Field field) {
  const TransitionSchema schema = *TransitionSchema::Create(source.spec());
  const Column* column = schema.Find(field);
  std::vector<T> values(source.size() * column->row_elements);
  const absl::Status status = source.ReadColumn(field, 0, source.size(), values.data());
  EXPECT_TRUE(status.ok()) << status;
  return values;
}

TEST(OmigaDataset, PairsRowTWithRowTPlusOneAndMasksByTheNextDoneFlag) {
  OmigaFile f;
  const std::string dir = TempPath("dir");
  std::filesystem::create_directories(dir);
  const std::string path = f.Write(dir + "/HalfCheetah-v2-6x1-medium.hdf5");
  EXPECT_TRUE(LooksLikeOmigaDataset(path));
  auto source = OpenOmigaDataset(path);
  ASSERT_TRUE(source.ok()) << source.status();
  // Rows 0..6, d at rows 3 and 6: transitions start at t = 0, 1, 2, 4, 5 (never at a d row or the
  // last row).
  const std::vector<int> starts = {0, 1, 2, 4, 5};
  ASSERT_EQ((*source)->size(), 5);
  const TransitionSpec& spec = (*source)->spec();
  EXPECT_EQ(spec.num_agents(), 2);
  EXPECT_EQ(spec.obs_size(), 3);
  EXPECT_EQ(spec.state_size(), 6);
  EXPECT_EQ(spec.action_size(), 1);
  EXPECT_EQ(spec.env_name(), "mamujoco/HalfCheetah-6x1(obs_mode=omiga)");
  auto obs = Read<float>(**source, Field::kObs);
  auto next_obs = Read<float>(**source, Field::kNextObs);
  auto state = Read<float>(**source, Field::kState);
  auto next_state = Read<float>(**source, Field::kNextState);
  auto actions = Read<float>(**source, Field::kActions);
  auto reward = Read<float>(**source, Field::kReward);
  auto terminated = Read<uint8_t>(**source, Field::kTerminated);
  auto truncated = Read<uint8_t>(**source, Field::kTruncated);
  for (size_t j = 0; j < starts.size(); ++j) {
    const int t = starts[j];
    for (int i = 0; i < 2; ++i) {
      for (int k = 0; k < 3; ++k) {
        EXPECT_FLOAT_EQ(obs[(j * 2 + i) * 3 + k], f.O(t, i, k));
        EXPECT_FLOAT_EQ(next_obs[(j * 2 + i) * 3 + k], f.O(t + 1, i, k));
        EXPECT_FLOAT_EQ(state[j * 6 + i * 3 + k], -f.O(t, i, k));
        EXPECT_FLOAT_EQ(next_state[j * 6 + i * 3 + k], -f.O(t + 1, i, k));
      }
      EXPECT_FLOAT_EQ(actions[j * 2 + i], f.A(t, i));
    }
    EXPECT_FLOAT_EQ(reward[j], t / 10.0f);
    // mask = 1 - d[t + 1]: transitions into rows 3 and 6 are terminal.
    EXPECT_EQ(terminated[j], (t + 1 == 3 || t + 1 == 6) ? 1 : 0) << "t = " << t;
    EXPECT_EQ(truncated[j], 0);
  }
  // A read of a middle range gathers the same rows.
  std::vector<float> middle(2 * 2 * 3);
  ASSERT_TRUE((*source)->ReadColumn(Field::kObs, 2, 2, middle.data()).ok());
  EXPECT_FLOAT_EQ(middle[0], f.O(2, 0, 0));
  EXPECT_FLOAT_EQ(middle[6], f.O(4, 0, 0));
}

TEST(OmigaDataset, ReadsFloat32FilesAndOneDimensionalRewards) {
  OmigaFile f;
  f.float32 = true;
  f.r_dims = {7};
  auto source = OpenOmigaDataset(f.Write(TempPath("x.hdf5")));
  ASSERT_TRUE(source.ok()) << source.status();
  EXPECT_EQ((*source)->spec().env_name(), "");  // not an OMIGA file name
  EXPECT_FLOAT_EQ(Read<float>(**source, Field::kReward)[4], 0.5f);
}

TEST(OmigaDataset, FileNamesMapToEnvsAndQualities) {
  auto name = ParseOmigaFileName("/d/Ant-v2-2x4-medium-expert.hdf5");
  ASSERT_TRUE(name.has_value());
  EXPECT_EQ(name->env_name, "mamujoco/Ant-2x4");
  EXPECT_EQ(name->quality, "medium-expert");
  EXPECT_EQ(ParseOmigaFileName("Hopper-v2-3x1-medium-replay.hdf5")->quality, "medium-replay");
  EXPECT_FALSE(ParseOmigaFileName("Ant-v2-2x4-random.h5").has_value());
}

TEST(OmigaDataset, RejectsBrokenFilesNamingTheKeyAndTheProblem) {
  {
    OmigaFile f;
    f.skip = "d";
    auto source = OpenOmigaDataset(f.Write(TempPath("a.hdf5")));
    ASSERT_FALSE(source.ok());
    EXPECT_THAT(source.status().message(), HasSubstr("key 'd' is missing"));
  }
  {
    OmigaFile f;
    f.r_dims = {7, 2};
    auto source = OpenOmigaDataset(f.Write(TempPath("b.hdf5")));
    ASSERT_FALSE(source.ok());
    EXPECT_THAT(source.status().message(), HasSubstr("key 'r' has shape [7, 2]"));
  }
  {
    OmigaFile f;
    f.bad_done = 0.5;
    auto source = OpenOmigaDataset(f.Write(TempPath("c.hdf5")));
    ASSERT_FALSE(source.ok());
    EXPECT_THAT(source.status().message(), HasSubstr("key 'd' row 0: value 0.5 is not 0 or 1"));
  }
  {
    OmigaFile f;
    f.nan_row = 4;
    const std::string path = f.Write(TempPath("d.hdf5"));
    auto source = OpenOmigaDataset(path);
    ASSERT_TRUE(source.ok()) << source.status();  // values are checked as they are read
    std::vector<float> obs((*source)->size() * 6);
    const absl::Status read = (*source)->ReadColumn(Field::kObs, 0, (*source)->size(), obs.data());
    ASSERT_FALSE(read.ok());
    EXPECT_THAT(read.message(), HasSubstr("key 'o' row 4: non-finite value"));
  }
  {
    auto source = OpenOmigaDataset(TempPath("missing.hdf5"));
    ASSERT_FALSE(source.ok());
    EXPECT_THAT(source.status().message(), HasSubstr("not found"));
  }
  {
    const std::string path = TempPath("text.hdf5");
    FILE* file = fopen(path.c_str(), "w");
    fputs("not hdf5", file);
    fclose(file);
    EXPECT_FALSE(LooksLikeOmigaDataset(path));
    auto source = OpenOmigaDataset(path);
    ASSERT_FALSE(source.ok());
    EXPECT_THAT(source.status().message(), HasSubstr("not an HDF5 file"));
  }
  {
    // A truncated file: the first bytes of a valid one.
    OmigaFile f;
    f.rows = 400;
    f.terminal = {399};
    const std::string path = f.Write(TempPath("whole.hdf5"));
    const std::string cut = TempPath("cut.hdf5");
    std::filesystem::copy_file(path, cut, std::filesystem::copy_options::overwrite_existing);
    std::filesystem::resize_file(cut, std::filesystem::file_size(path) / 2);
    auto source = OpenOmigaDataset(cut);
    if (source.ok()) {
      std::vector<float> obs((*source)->size() * 6);
      EXPECT_FALSE((*source)->ReadColumn(Field::kObs, 0, (*source)->size(), obs.data()).ok());
    } else {
      EXPECT_THAT(source.status().message(), HasSubstr("cut.hdf5"));
    }
  }
}

}  // namespace
}  // namespace tandem
