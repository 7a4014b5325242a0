// Seeded randomness. Every random stream in Tandem is derived from the config's root seed by a
// path of integers, so the same seed reproduces every process, env and sampler:
//
//   Rng rng(DeriveSeed(config.seed(), {SeedStream::kEnv, actor_id, env_index}));
//
// Derivation hashes with SplitMix64, so nearby paths give unrelated seeds.
#ifndef TANDEM_COMMON_RNG_H_
#define TANDEM_COMMON_RNG_H_

#include <cstdint>
#include <initializer_list>
#include <random>

namespace tandem {

// The 64-bit Mersenne Twister: fast, and identical on every platform for a given seed.
using Rng = std::mt19937_64;

// Independent purposes a seed can be derived for (the first element of a derivation path).
namespace SeedStream {
inline constexpr uint64_t kEnv = 1;
inline constexpr uint64_t kActor = 2;
inline constexpr uint64_t kLearner = 3;
inline constexpr uint64_t kReplay = 4;
inline constexpr uint64_t kEvaluation = 5;
inline constexpr uint64_t kDataset = 6;
}  // namespace SeedStream

// SplitMix64 finalizer: a bijective, well-mixing hash of 64 bits.
constexpr uint64_t MixBits(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Seed for the stream reached from `root` by `path`; order-sensitive and deterministic.
constexpr uint64_t DeriveSeed(uint64_t root, std::initializer_list<uint64_t> path) {
  uint64_t seed = MixBits(root);
  for (uint64_t step : path) seed = MixBits(seed ^ MixBits(step));
  return seed;
}

// Uniform double in [0, 1) with 53 random bits.
inline double UniformUnit(Rng& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

// Uniform integer in [0, n), n >= 1, without modulo bias.
inline uint64_t UniformIndex(Rng& rng, uint64_t n) {
  return std::uniform_int_distribution<uint64_t>(0, n - 1)(rng);
}

}  // namespace tandem

#endif  // TANDEM_COMMON_RNG_H_
