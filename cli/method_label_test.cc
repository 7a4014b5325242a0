#include "cli/method_label.h"

#include <gtest/gtest.h>

#include "google/protobuf/text_format.h"

namespace tandem {
namespace {

ExperimentConfig Parse(const std::string& text) {
  ExperimentConfig config;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &config)) << text;
  return config;
}

TEST(Sim2OMethod, NamesEveryMethodOfTheComparison) {
  const std::string omiga = "algorithm { name: 'omiga' } ";
  EXPECT_EQ(Sim2OMethodOf(Parse(omiga)).label, "Sim2O");  // the selector defaults to cbs
  EXPECT_TRUE(Sim2OMethodOf(Parse(omiga)).composed);
  EXPECT_EQ(Sim2OMethodOf(Parse(omiga + "selector { name: 'cbs-random' }")).label, "Random-Sim2O");
  EXPECT_EQ(Sim2OMethodOf(Parse(omiga + "selector { name: 'cbs-greedy' }")).label, "Greedy-Sim2O");
  EXPECT_EQ(Sim2OMethodOf(Parse(omiga + "selector { name: 'exhaustive' }")).label, "Exhaustive");
  EXPECT_EQ(Sim2OMethodOf(Parse(omiga + "selector { name: 'pex' }")).label, "PEX-MA");
  const Sim2OMethod ft = Sim2OMethodOf(Parse(omiga + "selector { name: 'online' }"));
  EXPECT_EQ(ft.label, "OMIGA-FT");
  EXPECT_FALSE(ft.composed);
  for (const auto& [update, label] : {std::pair<std::string, std::string>{"awac", "AWAC-MA"},
                                      {"proto", "PROTO-MA"},
                                      {"rlpd", "RLPD-MA"}}) {
    EXPECT_EQ(Sim2OMethodOf(Parse("algorithm { name: 'omiga' omiga { online_update: '" + update +
                                  "' } } selector { name: 'online' }"))
                  .label,
              label);
  }
}

TEST(Sim2OMethod, OtherAlgorithmsAreNoMethodOfTheTable) {
  EXPECT_EQ(Sim2OMethodOf(Parse("algorithm { name: 'qmix' } selector { name: 'cbs' }")).label, "");
  EXPECT_EQ(Sim2OMethodOf(Parse("algorithm { name: 'omiga' omiga { online_update: 'awac' } } "
                                "selector { name: 'cbs' }"))
                .label,
            "");
}

TEST(Sim2OMethod, AblatedSettingsGetTheirOwnColumn) {
  const std::string omiga = "algorithm { name: 'omiga' } ";
  // Table IX's defaults, spelled out, are plain Sim2O.
  EXPECT_EQ(Sim2OMethodOf(Parse(omiga + "selector { name: 'cbs' beam_width: 5 temperature: 5 "
                                        "agent_order: AGENT_ORDER_RANDOM } "
                                        "replay { offline_ratio: 0.5 }"))
                .label,
            "Sim2O");
  EXPECT_EQ(Sim2OMethodOf(Parse(omiga + "selector { beam_width: 3 }")).label, "Sim2O K=3");
  EXPECT_EQ(Sim2OMethodOf(Parse(omiga + "selector { temperature: 10 }")).label, "Sim2O beta=10");
  EXPECT_EQ(Sim2OMethodOf(Parse(omiga + "selector { agent_order: AGENT_ORDER_FORWARD }")).label,
            "Sim2O order=forward");
  EXPECT_EQ(Sim2OMethodOf(Parse(omiga + "selector { agent_order: AGENT_ORDER_REVERSE }")).label,
            "Sim2O order=reverse");
  EXPECT_EQ(Sim2OMethodOf(Parse(omiga + "replay { offline_ratio: 0.25 }")).label, "Sim2O rho=0.25");
  EXPECT_EQ(Sim2OMethodOf(Parse(omiga + "selector { beam_width: 1 temperature: 1 } "
                                        "replay { offline_ratio: 0.75 }"))
                .label,
            "Sim2O K=1 beta=1 rho=0.75");
  // Greedy-Sim2O prunes by the maximum: beta does not apply; the exhaustive search has no beam.
  EXPECT_EQ(Sim2OMethodOf(Parse(omiga + "selector { name: 'cbs-greedy' temperature: 1 }")).label,
            "Greedy-Sim2O");
  EXPECT_EQ(Sim2OMethodOf(Parse(omiga + "selector { name: 'exhaustive' beam_width: 3 }")).label,
            "Exhaustive");
  // Every baseline shares Sim2O's rho (0.5): another value is an ablation of it too.
  EXPECT_EQ(
      Sim2OMethodOf(Parse(omiga + "selector { name: 'pex' } replay { offline_ratio: 0.1 }")).label,
      "PEX-MA rho=0.1");
}

}  // namespace
}  // namespace tandem
