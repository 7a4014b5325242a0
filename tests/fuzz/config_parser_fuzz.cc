// Fuzzes configuration input: the text-proto parser with defaults and validation (a config file),
// and the same bytes as a `--set` override. Input: the text.
#include <cstddef>
#include <cstdint>
#include <string>

#include "common/config.h"
#include "proto/config.pb.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  tandem::ExperimentConfig config;
  if (tandem::ParseTextProto(text, "fuzz.textproto", &config).ok()) {
    tandem::FillDefaults(&config);
    (void)tandem::ValidateExperimentConfig(config);
    (void)tandem::EpisodeItems(config.replay());
    (void)tandem::ToTextProto(config);
  }
  tandem::ExperimentConfig overridden = tandem::DefaultExperimentConfig();
  if (tandem::ApplyOverride(text, &overridden).ok()) {
    (void)tandem::ValidateExperimentConfig(overridden);
  }
  return 0;
}
