#include "envs/mpe/mpe_env.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/rng.h"
#include "common/status_macros.h"

namespace tandem::envs {
namespace {

constexpr char kNavigationPrefix[] = "CooperativeNavigation-";
constexpr int kPredators = 3;
constexpr int kMaxNavigationAgents = 8;

double Norm(Vec2 v) { return std::sqrt(v.x * v.x + v.y * v.y); }
Vec2 Minus(Vec2 a, Vec2 b) { return {a.x - b.x, a.y - b.y}; }
double Distance(Vec2 a, Vec2 b) { return Norm(Minus(a, b)); }
double Clamp(double v, double bound) { return std::clamp(v, -bound, bound); }

// log(1 + exp(x)) without overflow.
double Softplus(double x) { return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x)); }

Vec2 UniformIn(Rng& rng, double bound) {
  return {bound * (2 * UniformUnit(rng) - 1), bound * (2 * UniformUnit(rng) - 1)};
}

}  // namespace

absl::StatusOr<std::unique_ptr<MpeEnv>> MpeEnv::Create(const std::string& task,
                                                       const EnvOptions& options) {
  MpeScenario scenario;
  int num_agents = 0, num_landmarks = 0;
  MpeDynamics dynamics = MpeDynamics::kOtc;
  int episode_limit = 25;
  for (const auto& [key, value] : options) {
    if (key == "dynamics") {
      if (value == "otc") {
        dynamics = MpeDynamics::kOtc;
      } else if (value == "original") {
        dynamics = MpeDynamics::kOriginal;
      } else {
        return absl::InvalidArgumentError(
            absl::StrCat("mpe: option dynamics must be otc or original, got '", value, "'"));
      }
    } else if (key == "episode_limit") {
      if (!absl::SimpleAtoi(value, &episode_limit) || episode_limit < 1) {
        return absl::InvalidArgumentError(
            absl::StrCat("mpe: option episode_limit must be an integer >= 1, got '", value, "'"));
      }
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("mpe: unknown option '", key, "'; options are dynamics, episode_limit"));
    }
  }
  if (task == "PredatorPrey") {
    scenario = MpeScenario::kPredatorPrey;
    num_agents = kPredators;
    num_landmarks = dynamics == MpeDynamics::kOriginal ? 2 : 0;
  } else if (absl::StartsWith(task, kNavigationPrefix)) {
    scenario = MpeScenario::kCooperativeNavigation;
    const std::string count = task.substr(sizeof(kNavigationPrefix) - 1);
    if (!absl::SimpleAtoi(count, &num_agents) || num_agents < 2 ||
        num_agents > kMaxNavigationAgents) {
      return absl::InvalidArgumentError(absl::StrCat("mpe: ", task, ": the agent count must be 2..",
                                                     kMaxNavigationAgents, ", got '", count, "'"));
    }
    num_landmarks = num_agents;
  } else {
    return absl::NotFoundError(absl::StrCat(
        "mpe: unknown task '", task, "'; mpe has PredatorPrey and CooperativeNavigation-<N>"));
  }
  std::unique_ptr<MpeEnv> env(
      new MpeEnv(scenario, dynamics, num_agents, num_landmarks, episode_limit));
  env->spec_.name = absl::StrCat("mpe/", task);
  if (!options.empty()) absl::StrAppend(&env->spec_.name, "(", FormatEnvOptions(options), ")");
  return env;
}

MpeEnv::MpeEnv(MpeScenario scenario, MpeDynamics dynamics, int num_agents, int num_landmarks,
               int episode_limit)
    : scenario_(scenario),
      dynamics_(dynamics),
      num_agents_(num_agents),
      num_landmarks_(num_landmarks),
      has_prey_(scenario == MpeScenario::kPredatorPrey) {
  const int others = num_agents - 1;
  const int obs = 4 + 2 * num_landmarks + 2 * others + (has_prey_ ? 4 : 0);
  spec_.num_agents = num_agents;
  spec_.agent_obs_sizes.assign(num_agents, obs);
  spec_.obs_size = obs;
  spec_.state_size = 4 * num_agents + (has_prey_ ? 4 : 0) + 2 * num_landmarks;
  spec_.action_type = ACTION_TYPE_CONTINUOUS;
  spec_.agent_action_sizes.assign(num_agents, 2);
  spec_.action_size = 2;
  spec_.action_low.assign(2 * num_agents, -1.f);
  spec_.action_high.assign(2 * num_agents, 1.f);
  spec_.episode_limit = episode_limit;

  // Sizes, forces and speeds of the original scenarios; the OTC rules use positions only.
  const bool tag = scenario == MpeScenario::kPredatorPrey;
  entities_.resize(num_agents + (has_prey_ ? 1 : 0) + num_landmarks);
  for (int i = 0; i < num_agents; ++i) {
    MpeEntity& agent = entities_[i];
    agent.size = tag ? 0.075 : 0.15;
    agent.accel = tag ? 3.0 : 0;
    agent.max_speed = tag ? 1.0 : 0;
  }
  if (has_prey_) {
    MpeEntity& prey = entities_[prey_index()];
    prey.size = 0.05;
    prey.accel = 4.0;
    prey.max_speed = 1.3;
  }
  for (int l = 0; l < num_landmarks; ++l) {
    MpeEntity& landmark = entities_[first_landmark() + l];
    landmark.movable = false;
    landmark.collide = tag;  // simple_tag's obstacles collide, simple_spread's targets do not
    landmark.size = tag ? 0.2 : 0.05;
  }
}

absl::Status MpeEnv::Reset(uint64_t seed, TimeStepView out) {
  Rng rng(seed);
  for (int e = 0; e < static_cast<int>(entities_.size()); ++e) {
    MpeEntity& entity = entities_[e];
    const bool obstacle = scenario_ == MpeScenario::kPredatorPrey && e >= first_landmark();
    entity.pos = UniformIn(rng, obstacle ? 0.9 : 1.0);
    entity.vel = {};
  }
  step_ = 0;
  done_ = false;
  Observe(out);
  return absl::OkStatus();
}

absl::Status MpeEnv::Step(const JointAction& action, TimeStepView out, StepOutcome* outcome) {
  if (done_) {
    return absl::FailedPreconditionError(
        absl::StrCat(spec_.name, ": the episode has ended (or never started); call Reset"));
  }
  const int expected = 2 * num_agents_;
  if (!action.discrete.empty() || static_cast<int>(action.continuous.size()) != expected) {
    return absl::InvalidArgumentError(
        absl::StrCat(spec_.name, ": expected ", expected, " continuous action values (",
                     num_agents_, " agents x 2), got ", action.continuous.size(),
                     action.discrete.empty() ? "" : " and discrete indices"));
  }
  for (int j = 0; j < expected; ++j) {
    if (!std::isfinite(action.continuous[j])) {
      return absl::InvalidArgumentError(absl::StrCat(spec_.name, ": agent ", j / 2, " action ",
                                                     j % 2, " is not finite (",
                                                     action.continuous[j], ")"));
    }
  }
  if (dynamics_ == MpeDynamics::kOtc) {
    StepOtc(action.continuous);
  } else {
    StepOriginal(action.continuous);
  }
  ++step_;
  outcome->reward = static_cast<float>(TeamReward());
  outcome->terminated = false;
  outcome->truncated = step_ >= spec_.episode_limit;
  outcome->won = false;
  done_ = outcome->truncated;
  Observe(out);
  return absl::OkStatus();
}

Vec2 MpeEnv::PreyDirection() const {
  const Vec2 prey = entities_[prey_index()].pos;
  Vec2 flee;
  for (int i = 0; i < num_agents_; ++i) {
    const Vec2 away = Minus(prey, entities_[i].pos);
    const double d2 = away.x * away.x + away.y * away.y;
    if (d2 < 1e-18) continue;
    flee.x += away.x / d2;
    flee.y += away.y / d2;
  }
  if (dynamics_ == MpeDynamics::kOriginal) {
    // Past 0.9 the original's prey pays a boundary penalty; the rule turns back instead.
    constexpr double kWallWeight = 100;
    if (std::abs(prey.x) > 0.9)
      flee.x -= std::copysign((std::abs(prey.x) - 0.9) * kWallWeight, prey.x);
    if (std::abs(prey.y) > 0.9)
      flee.y -= std::copysign((std::abs(prey.y) - 0.9) * kWallWeight, prey.y);
  }
  const double norm = Norm(flee);
  if (norm < 1e-12) return {};
  return {flee.x / norm, flee.y / norm};
}

void MpeEnv::StepOtc(absl::Span<const float> action) {
  const Vec2 prey_direction = has_prey_ ? PreyDirection() : Vec2{};
  auto move = [](MpeEntity& entity, double dx, double dy) {
    const Vec2 before = entity.pos;
    entity.pos = {Clamp(before.x + dx, kArena), Clamp(before.y + dy, kArena)};
    entity.vel = Minus(entity.pos, before);
  };
  for (int i = 0; i < num_agents_; ++i) {
    move(entities_[i], kMaxDisplacement * Clamp(action[2 * i], 1.0),
         kMaxDisplacement * Clamp(action[2 * i + 1], 1.0));
  }
  if (has_prey_) {
    move(entities_[prey_index()], kPreySpeed * prey_direction.x, kPreySpeed * prey_direction.y);
  }
}

void MpeEnv::StepOriginal(absl::Span<const float> action) {
  const int n = static_cast<int>(entities_.size());
  std::vector<Vec2> force(n);
  for (int i = 0; i < num_agents_; ++i) {
    const double sensitivity = entities_[i].accel > 0 ? entities_[i].accel : 5.0;
    force[i] = {sensitivity * Clamp(action[2 * i], 1.0),
                sensitivity * Clamp(action[2 * i + 1], 1.0)};
  }
  if (has_prey_) {
    const Vec2 direction = PreyDirection();
    const double accel = entities_[prey_index()].accel;
    force[prey_index()] = {accel * direction.x, accel * direction.y};
  }
  for (int a = 0; a < n; ++a) {
    for (int b = a + 1; b < n; ++b) {
      const MpeEntity& ea = entities_[a];
      const MpeEntity& eb = entities_[b];
      if (!ea.collide || !eb.collide || (!ea.movable && !eb.movable)) continue;
      const Vec2 delta = Minus(ea.pos, eb.pos);
      const double dist = Norm(delta);
      if (dist < 1e-12) continue;  // coincident centres: no direction to push in
      const double penetration =
          kContactMargin * Softplus(-(dist - (ea.size + eb.size)) / kContactMargin);
      const Vec2 f = {kContactForce * delta.x / dist * penetration,
                      kContactForce * delta.y / dist * penetration};
      if (ea.movable) force[a] = {force[a].x + f.x, force[a].y + f.y};
      if (eb.movable) force[b] = {force[b].x - f.x, force[b].y - f.y};
    }
  }
  for (int e = 0; e < n; ++e) {
    MpeEntity& entity = entities_[e];
    if (!entity.movable) continue;
    entity.vel = {entity.vel.x * (1 - kDamping) + force[e].x * kDt,  // mass 1
                  entity.vel.y * (1 - kDamping) + force[e].y * kDt};
    const double speed = Norm(entity.vel);
    if (entity.max_speed > 0 && speed > entity.max_speed) {
      entity.vel = {entity.vel.x / speed * entity.max_speed,
                    entity.vel.y / speed * entity.max_speed};
    }
    entity.pos = {entity.pos.x + entity.vel.x * kDt, entity.pos.y + entity.vel.y * kDt};
  }
}

double MpeEnv::TeamReward() const {
  const bool original = dynamics_ == MpeDynamics::kOriginal;
  if (scenario_ == MpeScenario::kPredatorPrey) {
    const MpeEntity& prey = entities_[prey_index()];
    int touching = 0;
    for (int i = 0; i < num_agents_; ++i) {
      const double reach = original ? entities_[i].size + prey.size : kCaptureDistance;
      if (Distance(entities_[i].pos, prey.pos) < reach) ++touching;
    }
    return original ? 10.0 * touching : touching;
  }
  double cover = 0;
  for (int l = 0; l < num_landmarks_; ++l) {
    double nearest = INFINITY;
    for (int i = 0; i < num_agents_; ++i) {
      nearest = std::min(nearest, Distance(entities_[first_landmark() + l].pos, entities_[i].pos));
    }
    cover += nearest;
  }
  if (!original) return -cover;
  // simple_spread: every agent's reward is -cover minus its overlaps (itself included); the
  // collaborative team reward is their sum.
  double reward = -num_agents_ * cover;
  for (int i = 0; i < num_agents_; ++i) {
    for (int j = 0; j < num_agents_; ++j) {
      if (Distance(entities_[i].pos, entities_[j].pos) < entities_[i].size + entities_[j].size) {
        reward -= 1;
      }
    }
  }
  return reward;
}

void MpeEnv::Observe(TimeStepView out) const {
  const int o = spec_.obs_size;
  for (int i = 0; i < num_agents_; ++i) {
    float* obs = out.obs.data() + i * o;
    const MpeEntity& self = entities_[i];
    int k = 0;
    auto put = [&](Vec2 v) {
      obs[k++] = static_cast<float>(v.x);
      obs[k++] = static_cast<float>(v.y);
    };
    put(self.vel);
    put(self.pos);
    for (int l = 0; l < num_landmarks_; ++l)
      put(Minus(entities_[first_landmark() + l].pos, self.pos));
    for (int j = 0; j < num_agents_; ++j) {
      if (j != i) put(Minus(entities_[j].pos, self.pos));
    }
    if (has_prey_) {
      put(Minus(entities_[prey_index()].pos, self.pos));
      put(entities_[prey_index()].vel);
    }
  }
  int k = 0;
  auto put_state = [&](Vec2 v) {
    out.state[k++] = static_cast<float>(v.x);
    out.state[k++] = static_cast<float>(v.y);
  };
  for (int i = 0; i < num_agents_ + (has_prey_ ? 1 : 0); ++i) {
    put_state(entities_[i].pos);
    put_state(entities_[i].vel);
  }
  for (int l = 0; l < num_landmarks_; ++l) put_state(entities_[first_landmark() + l].pos);
}

namespace {

std::vector<std::string> MpeTasks() {
  return {"PredatorPrey", "CooperativeNavigation-3", "CooperativeNavigation-4",
          "CooperativeNavigation-6"};
}

absl::StatusOr<std::unique_ptr<MultiAgentEnv>> CreateMpeEnv(const std::string& task,
                                                            const EnvOptions& options) {
  ASSIGN_OR_RETURN(std::unique_ptr<MpeEnv> env, MpeEnv::Create(task, options));
  return std::unique_ptr<MultiAgentEnv>(std::move(env));
}

}  // namespace

TANDEM_REGISTER(EnvFamilyRegistry, "mpe", (EnvFamily{&CreateMpeEnv, &MpeTasks}));

}  // namespace tandem::envs
