#include "envs/smac/orca.h"

#include <algorithm>

namespace tandem::envs::smac {
namespace {

constexpr float kEpsilon = 1e-5f;

// Optimises along line `k` subject to lines [0, k) and the disc of `radius`. Returns false when
// the feasible segment is empty.
bool SolveOnLine(absl::Span<const OrcaLine> lines, size_t k, float radius, Vec2 optimal,
                 bool optimise_direction, Vec2* result) {
  const OrcaLine& line = lines[k];
  const float along = line.point.Dot(line.direction);
  const float discriminant = along * along + radius * radius - line.point.NormSq();
  if (discriminant < 0) return false;  // the line misses the speed disc
  const float root = std::sqrt(discriminant);
  float t_left = -along - root, t_right = -along + root;
  for (size_t i = 0; i < k; ++i) {
    const float denominator = Cross(line.direction, lines[i].direction);
    const float numerator = Cross(lines[i].direction, line.point - lines[i].point);
    if (std::fabs(denominator) <= kEpsilon) {
      if (numerator < 0) return false;  // parallel and on the forbidden side
      continue;
    }
    const float t = numerator / denominator;
    if (denominator >= 0) {
      t_right = std::min(t_right, t);
    } else {
      t_left = std::max(t_left, t);
    }
    if (t_left > t_right) return false;
  }
  float t;
  if (optimise_direction) {
    t = optimal.Dot(line.direction) > 0 ? t_right : t_left;
  } else {
    t = std::clamp(line.direction.Dot(optimal - line.point), t_left, t_right);
  }
  *result = line.point + line.direction * t;
  return true;
}

// The velocity closest to `optimal` (or furthest along it when `optimise_direction`) satisfying
// every line; returns the index of the first line that made the problem infeasible, or
// lines.size() on success.
size_t SolvePlanes(absl::Span<const OrcaLine> lines, float radius, Vec2 optimal,
                   bool optimise_direction, Vec2* result) {
  if (optimise_direction) {
    *result = optimal * radius;
  } else if (optimal.NormSq() > radius * radius) {
    *result = optimal * (radius / optimal.Norm());
  } else {
    *result = optimal;
  }
  for (size_t i = 0; i < lines.size(); ++i) {
    if (Cross(lines[i].direction, lines[i].point - *result) > 0) {
      const Vec2 previous = *result;
      if (!SolveOnLine(lines, i, radius, optimal, optimise_direction, result)) {
        *result = previous;
        return i;
      }
    }
  }
  return lines.size();
}

// Infeasible case: the velocity minimising the largest violation of lines [begin, end).
void MinimiseViolation(absl::Span<const OrcaLine> lines, size_t begin, float radius, Vec2* result) {
  float distance = 0;
  std::vector<OrcaLine> projected;
  for (size_t i = begin; i < lines.size(); ++i) {
    if (Cross(lines[i].direction, lines[i].point - *result) <= distance) continue;
    projected.clear();
    for (size_t j = 0; j < i; ++j) {
      OrcaLine line;
      const float determinant = Cross(lines[i].direction, lines[j].direction);
      if (std::fabs(determinant) <= kEpsilon) {
        if (lines[i].direction.Dot(lines[j].direction) > 0) continue;  // same direction
        line.point = (lines[i].point + lines[j].point) * 0.5f;
      } else {
        line.point = lines[i].point +
                     lines[i].direction *
                         (Cross(lines[j].direction, lines[i].point - lines[j].point) / determinant);
      }
      const Vec2 direction = lines[j].direction - lines[i].direction;
      const float norm = direction.Norm();
      if (norm <= kEpsilon) continue;
      line.direction = direction * (1.f / norm);
      projected.push_back(line);
    }
    const Vec2 previous = *result;
    const Vec2 normal{-lines[i].direction.y, lines[i].direction.x};
    if (SolvePlanes(projected, radius, normal, true, result) < projected.size()) {
      *result = previous;  // numerical corner case: keep the last good velocity
    }
    distance = Cross(lines[i].direction, lines[i].point - *result);
  }
}

}  // namespace

Vec2 OrcaVelocity(Vec2 velocity, Vec2 preferred, float radius, float max_speed,
                  absl::Span<const OrcaNeighbour> neighbours, float time_horizon, float time_step,
                  std::vector<OrcaLine>* lines) {
  lines->clear();
  const float inv_horizon = 1.f / time_horizon;
  for (const OrcaNeighbour& other : neighbours) {
    const Vec2 rel_pos = other.relative_position;
    const Vec2 rel_vel = velocity - other.velocity;
    const float dist_sq = rel_pos.NormSq();
    const float combined = radius + other.radius;
    const float combined_sq = combined * combined;
    OrcaLine line;
    Vec2 u;
    if (dist_sq > combined_sq) {
      // Velocity obstacle: a cone truncated by a disc of radius combined / horizon.
      const Vec2 w = rel_vel - rel_pos * inv_horizon;
      const float w_sq = w.NormSq();
      const float dot = w.Dot(rel_pos);
      if (dot < 0 && dot * dot > combined_sq * w_sq) {
        // Closest boundary point is on the truncating disc.
        const float w_len = std::sqrt(w_sq);
        const Vec2 unit_w = w * (1.f / w_len);
        line.direction = {unit_w.y, -unit_w.x};
        u = unit_w * (combined * inv_horizon - w_len);
      } else {
        // Closest boundary point is on one of the cone's legs.
        const float leg = std::sqrt(dist_sq - combined_sq);
        if (Cross(rel_pos, w) > 0) {
          line.direction =
              Vec2{rel_pos.x * leg - rel_pos.y * combined, rel_pos.x * combined + rel_pos.y * leg} *
              (1.f / dist_sq);
        } else {
          line.direction = -(Vec2{rel_pos.x * leg + rel_pos.y * combined,
                                  -rel_pos.x * combined + rel_pos.y * leg} *
                             (1.f / dist_sq));
        }
        u = line.direction * rel_vel.Dot(line.direction) - rel_vel;
      }
    } else {
      // Already overlapping: separate within one time step.
      const float inv_step = 1.f / time_step;
      const Vec2 w = rel_vel - rel_pos * inv_step;
      const float w_len = w.Norm();
      if (w_len <= kEpsilon) continue;
      const Vec2 unit_w = w * (1.f / w_len);
      line.direction = {unit_w.y, -unit_w.x};
      u = unit_w * (combined * inv_step - w_len);
    }
    line.point = velocity + u * other.responsibility;
    lines->push_back(line);
  }
  Vec2 result;
  const size_t failed = SolvePlanes(*lines, max_speed, preferred, false, &result);
  if (failed < lines->size()) MinimiseViolation(*lines, failed, max_speed, &result);
  return result;
}

}  // namespace tandem::envs::smac
