// Fuzzes Tandem's HDF5 dataset readers (Tandem's layout, OMIGA's and CFCQL's) on files that are
// well-formed HDF5 but whose contents are chosen by the fuzzer: which keys exist, their dtypes,
// ranks, dimensions and values, and the root attributes with their types and values. The harness
// writes each file with the HDF5 API, then opens it with every reader and reads what they accept.
//
// Why not raw bytes: libhdf5 itself is not robust against crafted files — a raw-byte version of
// this target found a heap-buffer-overflow inside Debian's libhdf5 1.10.8 (H5Aexists on a corrupt
// object header) within a thousand inputs. That is a library bug Tandem cannot fix, so datasets
// are trusted input (README, "Security and hostile input"); this target checks Tandem's own
// checks of keys, shapes, dtypes, attributes and values.
#include <fuzzer/FuzzedDataProvider.h>
#include <hdf5.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "common/cfcql_dataset.h"
#include "common/dataset.h"
#include "common/omiga_dataset.h"
#include "common/transition_schema.h"

namespace {

// Every key the three layouts use.
const char* const kKeys[] = {"obs",
                             "state",
                             "actions",
                             "avail_actions",
                             "reward",
                             "terminated",
                             "truncated",
                             "next_obs",
                             "next_state",
                             "next_avail_actions",
                             "episode_ends",
                             "filled",
                             "won",
                             "probs",
                             "s",
                             "o",
                             "a",
                             "r",
                             "d"};
// Every root attribute Tandem writes.
const char* const kAttributes[] = {
    "format",          "format_version", "num_agents",   "obs_size",          "agent_obs_sizes",
    "state_size",      "action_type",    "action_size",  "has_avail_actions", "env_name",
    "env_options",     "obs_mode",       "quality",      "behaviour_policy",  "source",
    "num_transitions", "num_episodes",   "return_mean",  "return_std",        "return_min",
    "return_max",      "win_rate",       "episode_steps"};
const char* const kStrings[] = {"tandem-dataset", "continuous", "discrete", "omiga", "x", ""};

hid_t PickType(FuzzedDataProvider& in) {
  switch (in.ConsumeIntegralInRange<int>(0, 5)) {
    case 0:
      return H5T_NATIVE_FLOAT;
    case 1:
      return H5T_NATIVE_DOUBLE;
    case 2:
      return H5T_NATIVE_INT32;
    case 3:
      return H5T_NATIVE_INT64;
    case 4:
      return H5T_NATIVE_UINT8;
    default:
      return H5T_NATIVE_INT8;
  }
}

void WriteDataset(hid_t file, const char* key, FuzzedDataProvider& in) {
  const hid_t type = PickType(in);
  const int rank = in.ConsumeIntegralInRange<int>(0, 4);
  std::vector<hsize_t> dims(rank);
  size_t elements = 1;
  for (hsize_t& d : dims) {
    d = in.ConsumeIntegralInRange<hsize_t>(0, 6);
    elements *= d;
  }
  std::vector<uint8_t> data(elements * H5Tget_size(type));
  // Values: a few bytes repeated, or small integers, so flags and indices are often plausible.
  const std::vector<uint8_t> pattern = in.ConsumeBytes<uint8_t>(in.ConsumeIntegralInRange(1, 8));
  for (size_t i = 0; i < data.size() && !pattern.empty(); ++i)
    data[i] = pattern[i % pattern.size()];
  const hid_t space = H5Screate_simple(rank, dims.data(), nullptr);
  const hid_t set = H5Dcreate2(file, key, type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  if (set >= 0 && !data.empty()) H5Dwrite(set, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data.data());
  if (set >= 0) H5Dclose(set);
  H5Sclose(space);
}

void WriteAttribute(hid_t file, const char* name, FuzzedDataProvider& in) {
  const int kind = in.ConsumeIntegralInRange<int>(0, 3);
  if (kind == 0) {  // a string
    const std::string value = in.ConsumeBool() ? kStrings[in.ConsumeIntegralInRange<size_t>(0, 5)]
                                               : in.ConsumeRandomLengthString(16);
    const hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, std::max<size_t>(1, value.size()));
    const hid_t space = H5Screate(H5S_SCALAR);
    const hid_t attr = H5Acreate2(file, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
    if (attr >= 0) {
      std::string padded = value;
      padded.resize(std::max<size_t>(1, value.size()));
      H5Awrite(attr, type, padded.data());
      H5Aclose(attr);
    }
    H5Sclose(space);
    H5Tclose(type);
    return;
  }
  const hid_t type = kind == 1 ? H5T_NATIVE_INT64 : H5T_NATIVE_DOUBLE;
  const hsize_t count = kind == 3 ? in.ConsumeIntegralInRange<hsize_t>(0, 6) : 1;
  std::vector<int64_t> ints(count);
  std::vector<double> doubles(count);
  for (hsize_t i = 0; i < count; ++i) {
    ints[i] = in.ConsumeIntegralInRange<int64_t>(-2, 70);
    doubles[i] = in.ConsumeFloatingPoint<double>();
  }
  const hid_t space = kind == 3 ? H5Screate_simple(1, &count, nullptr) : H5Screate(H5S_SCALAR);
  const hid_t attr = H5Acreate2(file, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
  if (attr >= 0) {
    if (count > 0)
      H5Awrite(attr, type, kind == 1 ? static_cast<void*>(ints.data()) : doubles.data());
    H5Aclose(attr);
  }
  H5Sclose(space);
}

void ReadSome(tandem::OfflineDataSource& source) {
  auto schema = tandem::TransitionSchema::Create(source.spec());
  if (!schema.ok()) return;
  const int64_t rows = std::min<int64_t>(source.size(), 8);
  if (rows <= 0) return;
  for (const tandem::Column& column : schema->columns()) {
    std::vector<char> buffer(static_cast<size_t>(rows * column.row_bytes));
    (void)source.ReadColumn(column.field, 0, rows, buffer.data());
  }
  std::vector<uint8_t> won(static_cast<size_t>(rows));
  (void)source.ReadWon(0, rows, won.data());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  char path[] = "/tmp/tandem_fuzz_h5_XXXXXX";
  const int fd = mkstemp(path);
  if (fd < 0) return 0;
  close(fd);
  const hid_t file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  if (file < 0) {
    unlink(path);
    return 0;
  }
  for (const char* key : kKeys) {
    if (in.ConsumeBool()) WriteDataset(file, key, in);
  }
  for (const char* name : kAttributes) {
    if (in.ConsumeBool()) WriteAttribute(file, name, in);
  }
  H5Fclose(file);

  if (auto source = tandem::OpenTandemDataset(path); source.ok()) ReadSome(**source);
  (void)tandem::ReadDatasetMetadata(path);
  (void)tandem::ReadDatasetStats(path);
  if (tandem::LooksLikeOmigaDataset(path)) {
    if (auto source = tandem::OpenOmigaDataset(path); source.ok()) ReadSome(**source);
  }
  if (tandem::LooksLikeCfcqlDataset(path)) {
    if (auto source = tandem::OpenCfcqlDataset(path, "smac/3m"); source.ok()) ReadSome(**source);
  }
  unlink(path);
  return 0;
}
