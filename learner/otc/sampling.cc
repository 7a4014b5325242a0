#include "learner/otc/sampling.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include <c10/util/Exception.h>

namespace tandem::learner::otc {
namespace {

at::Tensor CpuFloat(const at::Tensor& t) { return t.to(at::kCPU, at::kFloat).contiguous(); }

// out[m] = sum_f |query[f] - columns[f * d + m]| for m < d: a loop over D the compiler vectorises
// (an AVX2 clone is picked at run time where the CPU has it).
__attribute__((target_clones("avx2", "default"))) void L1Distances(const float* __restrict query,
                                                                   const float* __restrict columns,
                                                                   int64_t e, int64_t d,
                                                                   float* __restrict out) {
  for (int64_t m = 0; m < d; ++m) out[m] = 0.f;
  for (int64_t f = 0; f < e; ++f) {
    const float value = query[f];
    const float* __restrict column = columns + f * d;
    for (int64_t m = 0; m < d; ++m) out[m] += std::fabs(value - column[m]);
  }
}

// The smallest of out[0..d) and how many entries equal it; eight independent minima keep the
// scalar comparisons in flight, and the count is a branch-free sum the compiler vectorises.
__attribute__((target_clones("avx2", "default"))) float MinimumAndTies(const float* __restrict out,
                                                                       int64_t d, int64_t* ties) {
  float lanes[8];
  for (int k = 0; k < 8; ++k) lanes[k] = INFINITY;
  int64_t m = 0;
  for (; m + 8 <= d; m += 8) {
    for (int k = 0; k < 8; ++k) lanes[k] = out[m + k] < lanes[k] ? out[m + k] : lanes[k];
  }
  float best = INFINITY;
  for (int k = 0; k < 8; ++k) best = lanes[k] < best ? lanes[k] : best;
  for (; m < d; ++m) best = out[m] < best ? out[m] : best;
  int64_t count = 0;
  for (int64_t j = 0; j < d; ++j) count += out[j] == best ? 1 : 0;
  *ties = count;
  return best;
}

}  // namespace

at::Tensor BestMatch(const at::Tensor& query, const at::Tensor& candidates, Rng& rng) {
  TORCH_CHECK(query.dim() == 3);
  TORCH_CHECK(candidates.dim() == 3);
  TORCH_CHECK(query.size(0) == candidates.size(0));
  TORCH_CHECK(query.size(2) == candidates.size(2));
  TORCH_CHECK(candidates.size(1) > 0);
  const int64_t n = query.size(0), b = query.size(1), d = candidates.size(1), e = query.size(2);
  const at::Tensor q = CpuFloat(query);
  // [N, E, D]: each feature of every candidate contiguous, so the inner loop runs over D.
  const at::Tensor c = CpuFloat(candidates).transpose(1, 2).contiguous();
  at::Tensor match = at::empty({n, b}, at::kLong);
  // One random stream per query row, so the result does not depend on the thread split.
  std::vector<uint64_t> seeds(n * b);
  for (uint64_t& seed : seeds) seed = rng();
  const float* qp = q.data_ptr<float>();
  const float* cp = c.data_ptr<float>();
  int64_t* mp = match.data_ptr<int64_t>();
  if (e == 1 && at::isfinite(q).all().item<bool>() && at::isfinite(c).all().item<bool>()) {
    // One feature (d_q's values): search each agent's sorted candidates instead of scanning all.
    // The same choice as the scan: float rounding keeps |q - c| monotonic on each side of q, so
    // the equally near candidates are the runs next to q's place, drawn by index order as below.
    std::vector<std::vector<std::pair<float, int64_t>>> sorted(n);
    at::parallel_for(0, n, 1, [&](int64_t begin, int64_t end) {
      for (int64_t agent = begin; agent < end; ++agent) {
        std::vector<std::pair<float, int64_t>>& s = sorted[agent];
        s.resize(d);
        for (int64_t m = 0; m < d; ++m) s[m] = {cp[agent * d + m], m};
        std::sort(s.begin(), s.end());
      }
    });
    at::parallel_for(0, n * b, 64, [&](int64_t begin, int64_t end) {
      std::vector<int64_t> tied;
      for (int64_t row = begin; row < end; ++row) {
        const std::vector<std::pair<float, int64_t>>& s = sorted[row / b];
        const float value = qp[row];
        const int64_t above =
            std::lower_bound(s.begin(), s.end(), std::pair<float, int64_t>{value, -1}) - s.begin();
        auto distance = [&](int64_t i) { return std::fabs(value - s[i].first); };
        float best = INFINITY;
        if (above > 0) best = distance(above - 1);
        if (above < d) best = std::min(best, distance(above));
        tied.clear();
        for (int64_t i = above - 1; i >= 0 && distance(i) == best; --i) tied.push_back(s[i].second);
        for (int64_t i = above; i < d && distance(i) == best; ++i) tied.push_back(s[i].second);
        std::sort(tied.begin(), tied.end());
        const int64_t ties = static_cast<int64_t>(tied.size());
        const int64_t k =
            ties > 1 ? static_cast<int64_t>(MixBits(seeds[row]) % static_cast<uint64_t>(ties)) : 0;
        mp[row] = tied[k];
      }
    });
    return match;
  }
  at::parallel_for(0, n * b, 16, [&](int64_t begin, int64_t end) {
    std::vector<float> distance(d);
    float* __restrict acc = distance.data();
    for (int64_t row = begin; row < end; ++row) {
      const int64_t agent = row / b;
      L1Distances(qp + row * e, cp + agent * e * d, e, d, acc);
      int64_t ties = 0;
      const float best = MinimumAndTies(acc, d, &ties);
      // The k-th of the equally near candidates, k uniform (k = 0 without ties; the modulo's bias
      // is below 2^-50 for any D here).
      int64_t k =
          ties > 1 ? static_cast<int64_t>(MixBits(seeds[row]) % static_cast<uint64_t>(ties)) : 0;
      int64_t chosen = 0;
      for (int64_t m = 0; m < d; ++m) {
        if (acc[m] == best && k-- == 0) {
          chosen = m;
          break;
        }
      }
      mp[row] = chosen;
    }
  });
  return match;
}

at::Tensor MatchedDistance(const at::Tensor& query_features, const at::Tensor& candidate_features,
                           const at::Tensor& match) {
  const at::Tensor q = CpuFloat(query_features);
  const at::Tensor c = CpuFloat(candidate_features);
  const at::Tensor index =
      match.to(at::kCPU).unsqueeze(-1).expand({match.size(0), match.size(1), c.size(2)});
  return (q - c.gather(1, index)).abs().sum(-1);
}

at::Tensor RankProbabilities(const at::Tensor& distance, const std::vector<double>& alpha) {
  const at::Tensor dist = distance.to(at::kCPU, at::kDouble).contiguous();
  const int64_t n = dist.size(0), b = dist.size(1);
  TORCH_CHECK(static_cast<int64_t>(alpha.size()) == n);
  at::Tensor probabilities = at::empty({n, b}, at::kDouble);
  const double* dp = dist.data_ptr<double>();
  double* pp = probabilities.data_ptr<double>();
  std::vector<int64_t> order(b);
  for (int64_t i = 0; i < n; ++i) {
    const double* row = dp + i * b;
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [row](int64_t x, int64_t y) { return row[x] < row[y]; });
    double total = 0;
    for (int64_t r = 0; r < b; ++r) total += std::pow(static_cast<double>(r + 1), -alpha[i]);
    for (int64_t r = 0; r < b; ++r) {
      pp[i * b + order[r]] = std::pow(static_cast<double>(r + 1), -alpha[i]) / total;
    }
  }
  return probabilities;
}

at::Tensor DrawByProbability(const at::Tensor& probabilities, int64_t count, Rng& rng) {
  const at::Tensor p = probabilities.to(at::kCPU, at::kDouble).contiguous();
  const int64_t n = p.size(0), b = p.size(1);
  at::Tensor rows = at::empty({n, count}, at::kLong);
  const double* pp = p.data_ptr<double>();
  int64_t* rp = rows.data_ptr<int64_t>();
  std::vector<double> cumulative(b);
  for (int64_t i = 0; i < n; ++i) {
    std::partial_sum(pp + i * b, pp + (i + 1) * b, cumulative.begin());
    const double total = cumulative.back();
    for (int64_t k = 0; k < count; ++k) {
      const double u = UniformUnit(rng) * total;
      const int64_t j =
          std::upper_bound(cumulative.begin(), cumulative.end(), u) - cumulative.begin();
      rp[i * count + k] = std::min(j, b - 1);
    }
  }
  return rows;
}

at::Tensor NormalizeByMean(const at::Tensor& values) {
  const at::Tensor mean = values.mean(-1, /*keepdim=*/true);
  const at::Tensor safe = at::where(mean.abs() < 1e-6, at::ones_like(mean), mean);
  return values / safe;
}

double AdaptAlpha(double previous_alpha, double distance, double previous_distance) {
  if (previous_distance <= 0 || !std::isfinite(distance)) return previous_alpha;
  return previous_alpha * distance / previous_distance;
}

Correction Correct(const at::Tensor& match_b, const at::Tensor& match_d, const at::Tensor& next_b,
                   const at::Tensor& next_d, const std::vector<double>& alpha, int64_t count,
                   Rng& rng) {
  const at::Tensor match = BestMatch(match_b, match_d, rng);
  const at::Tensor distance = MatchedDistance(next_b, next_d, match);
  Correction correction;
  correction.rows = DrawByProbability(RankProbabilities(distance, alpha), count, rng);
  const at::Tensor mean = distance.to(at::kDouble).mean(-1).contiguous();
  correction.mean_distance.assign(mean.data_ptr<double>(), mean.data_ptr<double>() + mean.numel());
  return correction;
}

}  // namespace tandem::learner::otc
