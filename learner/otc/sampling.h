// OTC's online transition correction (Jiang & Lu, AAAI 2023, §3.2-3.5, Algorithm 1): which
// transitions of the merged set B^k an agent trains on, given a minibatch B of B^k and a minibatch
// D of the current deployment's online set D^k.
//
// For every transition j of B, per agent i:
//   j*      = argmin_{m in D} d(s_j, a_ij, s_m, a_im)         best match, ties drawn uniformly (1)
//   dist_j  = d(s'_j, s'_j*)                                  transition similarity
//   P(j)    = rank(j)^-alpha / sum_m m^-alpha                 rank 1 = the smallest dist_j     (3)
// and the training batch is drawn from B with replacement by P (PER's rank-based prioritisation).
// Both distances are l1 over per-transition features the learner computes from its networks:
//   d_e   match and similarity features are the same: the conditional VAE's embedding
//         mu(s, a_i, s') (§3.5);
//   d_q   match feature Q_i(s, a_i) (one number), similarity feature V_i(s') / mean_D V_i
//         (`NormalizeByMean`).
// The adaptive exponent (4): alpha_k = alpha_{k-1} * Dist_k / Dist_{k-1}, Dist_k the expected
// similarity distance over B^k at deployment k (`AdaptAlpha`).
//
// Where it runs: in the learner, on the two minibatches the replay server sends (the merged and
// the deployment table mixed in one stream). The cVAE and the critic that produce the features
// change with every update, so a replay-side computation would need the networks republished every
// update; the learner already has them, on its device, and the minibatches are a few thousand rows.
// The search itself runs on the CPU (a few megaflops per agent), vectorised over D.
#ifndef TANDEM_LEARNER_OTC_SAMPLING_H_
#define TANDEM_LEARNER_OTC_SAMPLING_H_

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

#include "common/rng.h"

namespace tandem::learner::otc {

// For query rows [N, B, E] and candidate rows [N, D, E] (float, any device), the index in D of each
// query row's nearest candidate in l1 distance, per agent: int64 [N, B] on the CPU. Equally near
// candidates are chosen uniformly at random with `rng`.
at::Tensor BestMatch(const at::Tensor& query, const at::Tensor& candidates, Rng& rng);

// The l1 distance between each query row's features [N, B, F] and those of its match in the
// candidates [N, D, F] (`match`: int64 [N, B]): float [N, B] on the CPU.
at::Tensor MatchedDistance(const at::Tensor& query_features, const at::Tensor& candidate_features,
                           const at::Tensor& match);

// Rank-based probabilities (3) of `distance` [N, B] per agent: the smallest distance has rank 1;
// equal distances keep their order in B. float64 [N, B], each row sums to 1. alpha = 0 is uniform.
at::Tensor RankProbabilities(const at::Tensor& distance, const std::vector<double>& alpha);

// Draws `count` rows of B per agent with replacement by `probabilities` [N, B]: int64 [N, count].
at::Tensor DrawByProbability(const at::Tensor& probabilities, int64_t count, Rng& rng);

// d_q's similarity feature: values [N, M] divided by their mean per agent (rows of the same
// minibatch), so that only the deviation from the expected value counts. A mean within 1e-6 of
// zero leaves the values as they are.
at::Tensor NormalizeByMean(const at::Tensor& values);

// The adaptive exponent (4) for deployment k: alpha_{k-1} * dist_k / dist_{k-1}. A previous
// distance of 0 (identical sets) keeps alpha.
double AdaptAlpha(double previous_alpha, double distance, double previous_distance);

// One update's correction for every agent.
struct Correction {
  // int64 [N, count]: rows of B each agent trains on.
  at::Tensor rows;
  // Mean similarity distance over B per agent (the Dist_k estimate of this minibatch).
  std::vector<double> mean_distance;
};

// The whole step: match, similarity distance, rank probabilities with each agent's alpha, draw.
// `match_*` are the matching features, `next_*` the similarity features (the same tensors for d_e).
Correction Correct(const at::Tensor& match_b, const at::Tensor& match_d, const at::Tensor& next_b,
                   const at::Tensor& next_d, const std::vector<double>& alpha, int64_t count,
                   Rng& rng);

}  // namespace tandem::learner::otc

#endif  // TANDEM_LEARNER_OTC_SAMPLING_H_
