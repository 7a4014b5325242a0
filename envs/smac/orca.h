// Optimal Reciprocal Collision Avoidance (van den Berg et al., "Reciprocal n-Body Collision
// Avoidance", 2011) between circular units, as the RVO2 library computes it: every neighbour
// contributes a half-plane of velocities that avoid collision within `time_horizon`, and the new
// velocity is the closest to the preferred one inside all half-planes and the speed disc (a 2-D
// linear program; when infeasible, the velocity that least violates them).
//
// Terrain is not an ORCA obstacle here: the world keeps units out of blocked cells by projecting
// positions (world.cc), which is exact on a cell grid.
#ifndef TANDEM_ENVS_SMAC_ORCA_H_
#define TANDEM_ENVS_SMAC_ORCA_H_

#include <cmath>
#include <vector>

#include "absl/types/span.h"

namespace tandem::envs::smac {

struct Vec2 {
  float x = 0, y = 0;
  Vec2 operator+(Vec2 o) const { return {x + o.x, y + o.y}; }
  Vec2 operator-(Vec2 o) const { return {x - o.x, y - o.y}; }
  Vec2 operator*(float s) const { return {x * s, y * s}; }
  Vec2 operator-() const { return {-x, -y}; }
  float Dot(Vec2 o) const { return x * o.x + y * o.y; }
  float NormSq() const { return x * x + y * y; }
  float Norm() const { return std::sqrt(NormSq()); }
};
// The 2-D cross product (determinant of the matrix with columns a, b).
inline float Cross(Vec2 a, Vec2 b) { return a.x * b.y - a.y * b.x; }

// What a unit knows about one neighbour.
struct OrcaNeighbour {
  // Neighbour centre minus own centre.
  Vec2 relative_position;
  Vec2 velocity;
  float radius = 0;
  // Share of the avoidance this unit takes on: 0.5 against a moving neighbour, 1 against one that
  // holds still.
  float responsibility = 0.5f;
};

// A directed line; the permitted half-plane lies to its left.
struct OrcaLine {
  Vec2 point, direction;
};

// The new velocity of a unit with `velocity`, `radius` and `max_speed` that wants `preferred`.
// `time_step` is the integration step (used to resolve pairs that already overlap). `lines` is
// scratch space, reused between calls to avoid allocation.
Vec2 OrcaVelocity(Vec2 velocity, Vec2 preferred, float radius, float max_speed,
                  absl::Span<const OrcaNeighbour> neighbours, float time_horizon, float time_step,
                  std::vector<OrcaLine>* lines);

}  // namespace tandem::envs::smac

#endif  // TANDEM_ENVS_SMAC_ORCA_H_
