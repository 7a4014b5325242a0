// The name of the Sim2O method a configuration runs, as `tandem run` records it in result.csv and
// `tandem results` prints it as a column of Sim2O's Table I.
#ifndef TANDEM_CLI_METHOD_LABEL_H_
#define TANDEM_CLI_METHOD_LABEL_H_

#include <string>

#include "proto/config.pb.h"

namespace tandem {

struct Sim2OMethod {
  std::string label;      // empty: no method of Sim2O's comparison (e.g. an OVMSE map)
  bool composed = false;  // acts with the CBS-composed policy
};

// Sim2O's names (Table I, Figure 4, Table VI): Sim2O, Random-Sim2O, Greedy-Sim2O, Exhaustive,
// PEX-MA, OMIGA-FT, AWAC-MA, PROTO-MA, RLPD-MA; followed by every ablated setting that differs
// from Sim2O's defaults (Table IX: K 5, beta 5, random agent order, rho 0.5), so the ablations of
// Figure 5 and Tables IV, V and VIII get a column each: "Sim2O K=3", "Sim2O beta=10",
// "Sim2O order=forward", "Sim2O rho=0.25".
Sim2OMethod Sim2OMethodOf(const ExperimentConfig& config);

}  // namespace tandem

#endif  // TANDEM_CLI_METHOD_LABEL_H_
