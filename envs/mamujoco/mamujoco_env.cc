#include "envs/mamujoco/mamujoco_env.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/rng.h"
#include "common/status_macros.h"

namespace tandem::envs {
namespace {

const std::set<std::string>& KnownCategories() {
  static const auto* known =
      new std::set<std::string>{"qpos", "qvel", "qfrc_actuator", "cfrc_ext", "cvel", "cinert"};
  return *known;
}

absl::StatusOr<std::vector<std::string>> ParseCategoryList(absl::string_view text,
                                                           absl::string_view option) {
  std::vector<std::string> categories;
  for (absl::string_view item : absl::StrSplit(text, ',', absl::SkipWhitespace())) {
    std::string category(absl::StripAsciiWhitespace(item));
    if (KnownCategories().count(category) == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("option ", option, ": unknown category '", category,
                       "' (known: ", absl::StrJoin(KnownCategories(), ", "), ")"));
    }
    categories.push_back(category);
  }
  return categories;
}

// Splits "HalfCheetah-6x1" into robot and factorization.
absl::Status SplitTask(const std::string& task, const Robot** robot, std::string* factorization) {
  const size_t dash = task.rfind('-');
  const std::string name = dash == std::string::npos ? task : task.substr(0, dash);
  *robot = FindRobot(name);
  if (*robot == nullptr) {
    return absl::NotFoundError(absl::StrCat("mamujoco: unknown robot '", name,
                                            "' (known: ", absl::StrJoin(RobotNames(), ", "), ")"));
  }
  *factorization = dash == std::string::npos ? "" : task.substr(dash + 1);
  const auto& partitions = (*robot)->graph().partitions;
  if (partitions.count(*factorization) == 0) {
    std::vector<std::string> known;
    for (const auto& [key, unused] : partitions) known.push_back(key);
    return absl::NotFoundError(absl::StrCat("mamujoco: ", name, " has no factorization '",
                                            *factorization,
                                            "' (known: ", absl::StrJoin(known, ", "), ")"));
  }
  return absl::OkStatus();
}

}  // namespace

MaMujocoEnv::MaMujocoEnv(const Robot& robot, MjModelPtr model)
    : robot_(robot), model_(std::move(model)), data_(MakeData(model_.get())) {}

absl::StatusOr<std::unique_ptr<MaMujocoEnv>> MaMujocoEnv::Create(const std::string& task,
                                                                 const EnvOptions& options) {
  const Robot* robot = nullptr;
  std::string factorization;
  RETURN_IF_ERROR(SplitTask(task, &robot, &factorization));
  const RobotGraph& graph = robot->graph();

  static const std::set<std::string> kKnownOptions = {
      "obs_mode", "agent_obsk", "local_categories", "global_categories", "rules", "episode_limit"};
  for (const auto& [key, value] : options) {
    if (kKnownOptions.count(key) == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("mamujoco: unknown option '", key,
                       "' (known: ", absl::StrJoin(kKnownOptions, ", "), ")"));
    }
  }
  auto option = [&](const std::string& key, const std::string& fallback) {
    auto it = options.find(key);
    return it == options.end() ? fallback : it->second;
  };
  MaMujocoObsMode mode;
  const std::string mode_text = option("obs_mode", "omiga");
  if (mode_text == "omiga") {
    mode = MaMujocoObsMode::kOmiga;
  } else if (mode_text == "khop") {
    mode = MaMujocoObsMode::kKhop;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("mamujoco: option obs_mode must be omiga or khop, got '", mode_text, "'"));
  }
  Rules rules;
  const std::string rules_text = option("rules", "v2");
  if (rules_text == "v2") {
    rules = Rules::kV2;
  } else if (rules_text == "v5") {
    rules = Rules::kV5;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("mamujoco: option rules must be v2 or v5, got '", rules_text, "'"));
  }
  int k = 0, episode_limit = 0;
  if (!absl::SimpleAtoi(option("agent_obsk", "1"), &k) || k < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("mamujoco: option agent_obsk must be an integer >= 0, got '",
                     option("agent_obsk", ""), "'"));
  }
  if (!absl::SimpleAtoi(option("episode_limit", "1000"), &episode_limit) || episode_limit < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("mamujoco: option episode_limit must be an integer >= 1, got '",
                     option("episode_limit", ""), "'"));
  }
  std::vector<std::vector<std::string>> local_categories = graph.local_categories;
  if (options.count("local_categories")) {
    local_categories.clear();
    for (absl::string_view level : absl::StrSplit(options.at("local_categories"), '|')) {
      ASSIGN_OR_RETURN(std::vector<std::string> categories,
                       ParseCategoryList(level, "local_categories"));
      local_categories.push_back(std::move(categories));
    }
  }
  ASSIGN_OR_RETURN(
      std::vector<std::string> global_categories,
      ParseCategoryList(option("global_categories", "qpos,qvel"), "global_categories"));

  const std::string model_name = absl::StrCat(robot->name(), rules == Rules::kV5 ? "-v5" : "-v2");
  ASSIGN_OR_RETURN(MjModelPtr model,
                   LoadSharedModel(model_name, robot->Xml(),
                                   [robot, rules](mjModel* m) { robot->EditModel(m, rules); }));
  std::unique_ptr<MaMujocoEnv> env(new MaMujocoEnv(*robot, std::move(model)));
  env->obs_mode_ = mode;
  env->rules_ = rules;
  const mjModel* m = env->model_.get();
  const std::vector<std::vector<int>>& partition = graph.partitions.at(factorization);
  const int n = static_cast<int>(partition.size());

  EnvSpec& spec = env->spec_;
  EnvOptions resolved = options;
  resolved["obs_mode"] = mode_text;
  spec.name = absl::StrCat("mamujoco/", task, "(", FormatEnvOptions(resolved), ")");
  spec.num_agents = n;
  spec.action_type = ACTION_TYPE_CONTINUOUS;
  spec.episode_limit = episode_limit;
  int offset = 0;
  for (const std::vector<int>& nodes : partition) {
    std::vector<int> actuators;
    for (size_t j = 0; j < nodes.size(); ++j) {
      actuators.push_back(mode == MaMujocoObsMode::kOmiga ? offset + static_cast<int>(j)
                                                          : graph.nodes[nodes[j]].actuator);
    }
    offset += static_cast<int>(nodes.size());
    spec.agent_action_sizes.push_back(static_cast<int>(nodes.size()));
    env->agent_actuators_.push_back(std::move(actuators));
  }
  spec.action_size =
      *std::max_element(spec.agent_action_sizes.begin(), spec.agent_action_sizes.end());
  spec.action_low.assign(n * spec.action_size, 0.f);
  spec.action_high.assign(n * spec.action_size, 0.f);
  for (int i = 0; i < n; ++i) {
    for (size_t j = 0; j < env->agent_actuators_[i].size(); ++j) {
      const int actuator = env->agent_actuators_[i][j];
      spec.action_low[i * spec.action_size + j] =
          static_cast<float>(m->actuator_ctrlrange[2 * actuator]);
      spec.action_high[i * spec.action_size + j] =
          static_cast<float>(m->actuator_ctrlrange[2 * actuator + 1]);
    }
  }

  const int single = robot->ObsSize(rules);
  env->single_obs_.resize(single);
  env->flat_action_.assign(m->nu, 0.f);
  env->contact_forces_ = robot->NeedsContactForces(rules);
  if (mode == MaMujocoObsMode::kOmiga) {
    spec.agent_obs_sizes.assign(n, single + n);
    spec.state_size = n * (single + n);
  } else {
    RETURN_IF_ERROR(env->BuildKhopPlans(partition, k, local_categories, global_categories));
    for (const auto& plan : env->plans_)
      spec.agent_obs_sizes.push_back(static_cast<int>(plan.size()));
    spec.state_size = single;
    for (const auto& level : local_categories) {
      if (std::find(level.begin(), level.end(), "cfrc_ext") != level.end()) {
        env->contact_forces_ = true;  // as in Gymnasium v4+, which computes contact forces
      }
    }
  }
  spec.obs_size = *std::max_element(spec.agent_obs_sizes.begin(), spec.agent_obs_sizes.end());
  return env;
}

absl::Status MaMujocoEnv::BuildKhopPlans(
    const std::vector<std::vector<int>>& partition, int k,
    const std::vector<std::vector<std::string>>& local_categories,
    const std::vector<std::string>& global_categories) {
  const RobotGraph& graph = robot_.graph();
  if (local_categories.empty()) {
    return absl::InvalidArgumentError("mamujoco: local_categories must name at least one level");
  }
  const double body_clip = graph.clip_bodies ? 1.0 : 0.0;
  auto by_label = [&](int a, int b) { return graph.nodes[a].label < graph.nodes[b].label; };
  for (const std::vector<int>& own : partition) {
    // Levels of the k-hop neighbourhood, each sorted by label.
    std::vector<std::vector<int>> levels;
    std::set<int> explored(own.begin(), own.end());
    std::vector<int> frontier(own.begin(), own.end());
    std::sort(frontier.begin(), frontier.end(), by_label);
    levels.push_back(frontier);
    for (int level = 1; level <= k; ++level) {
      std::set<int> next;
      for (int node : frontier) {
        for (const std::vector<int>& edge : graph.hyperedges) {
          if (std::find(edge.begin(), edge.end(), node) == edge.end()) continue;
          for (int other : edge) {
            if (explored.count(other) == 0) next.insert(other);
          }
        }
      }
      frontier.assign(next.begin(), next.end());
      std::sort(frontier.begin(), frontier.end(), by_label);
      explored.insert(next.begin(), next.end());
      levels.push_back(frontier);
    }

    std::vector<ObsItem> plan;
    std::map<std::string, std::set<int>> bodies_seen;
    for (size_t level = 0; level < levels.size(); ++level) {
      const auto& categories = local_categories[std::min(level, local_categories.size() - 1)];
      for (int index : levels[level]) {
        const GraphNode& node = graph.nodes[index];
        for (const std::string& category : categories) {
          if (category == "qpos") {
            plan.push_back({ObsItem::Source::kQpos, node.qpos, 0});
          } else if (category == "qvel") {
            plan.push_back({ObsItem::Source::kQvel, node.qvel, node.clip_qvel ? 10.0 : 0.0});
          } else if (category == "qfrc_actuator") {
            plan.push_back({ObsItem::Source::kQfrcActuator, node.qvel, 0});
          } else {
            const bool cfrc = category == "cfrc_ext";
            const int width = category == "cinert" ? 10 : 6;
            const auto source = cfrc                 ? ObsItem::Source::kCfrcExt
                                : category == "cvel" ? ObsItem::Source::kCvel
                                                     : ObsItem::Source::kCinert;
            for (int body : node.bodies) {
              if (!bodies_seen[category].insert(body).second) continue;
              for (int j = 0; j < width; ++j) plan.push_back({source, body * width + j, body_clip});
            }
          }
        }
      }
    }
    for (const std::string& category : global_categories) {
      for (const GlobalNode& global : graph.globals) {
        if (category == "qpos") {
          for (int i : global.qpos) plan.push_back({ObsItem::Source::kQpos, i, 0});
        } else if (category == "qvel") {
          for (int i : global.qvel) {
            plan.push_back({ObsItem::Source::kQvel, i, global.clip_qvel ? 10.0 : 0.0});
          }
        }
      }
    }
    plans_.push_back(std::move(plan));
  }
  return absl::OkStatus();
}

void MaMujocoEnv::WriteObservation(TimeStepView out) {
  const mjData* d = data_.get();
  const int n = spec_.num_agents;
  const int o = spec_.obs_size;
  if (obs_mode_ == MaMujocoObsMode::kOmiga) {
    robot_.Observe(model_.get(), d, rules_, absl::MakeSpan(single_obs_));
    const int size = static_cast<int>(single_obs_.size()) + n;
    double sum = 0, sum_sq = 0;
    for (float v : single_obs_) {
      sum += v;
      sum_sq += static_cast<double>(v) * v;
    }
    for (int i = 0; i < n; ++i) {
      // The one-hot id adds a single 1 to the sums.
      const double mean = (sum + 1.0) / size;
      double variance = (sum_sq + 1.0) / size - mean * mean;
      const double inv_std = variance > 1e-12 ? 1.0 / std::sqrt(variance) : 1.0;
      float* agent = out.obs.data() + i * o;
      for (size_t j = 0; j < single_obs_.size(); ++j) {
        agent[j] = static_cast<float>((single_obs_[j] - mean) * inv_std);
      }
      for (int j = 0; j < n; ++j) {
        agent[single_obs_.size() + j] = static_cast<float>(((j == i ? 1.0 : 0.0) - mean) * inv_std);
      }
      std::copy(agent, agent + o, out.state.data() + i * o);
    }
    return;
  }
  for (int i = 0; i < n; ++i) {
    float* agent = out.obs.data() + i * o;
    const std::vector<ObsItem>& plan = plans_[i];
    for (size_t j = 0; j < plan.size(); ++j) {
      const ObsItem& item = plan[j];
      double value = 0;
      switch (item.source) {
        case ObsItem::Source::kQpos:
          value = d->qpos[item.index];
          break;
        case ObsItem::Source::kQvel:
          value = d->qvel[item.index];
          break;
        case ObsItem::Source::kQfrcActuator:
          value = d->qfrc_actuator[item.index];
          break;
        case ObsItem::Source::kCfrcExt:
          value = d->cfrc_ext[item.index];
          break;
        case ObsItem::Source::kCvel:
          value = d->cvel[item.index];
          break;
        case ObsItem::Source::kCinert:
          value = d->cinert[item.index];
          break;
      }
      if (item.clip > 0) value = std::clamp(value, -item.clip, item.clip);
      agent[j] = static_cast<float>(value);
    }
    std::fill(agent + plan.size(), agent + o, 0.f);
  }
  robot_.Observe(model_.get(), d, rules_, out.state);
}

absl::Status MaMujocoEnv::Reset(uint64_t seed, TimeStepView out) {
  const mjModel* m = model_.get();
  mjData* d = data_.get();
  mj_resetData(m, d);
  Rng rng(seed);
  std::normal_distribution<double> gaussian(0.0, 1.0);
  robot_.AddResetNoise(
      m, d, [&rng] { return 2.0 * UniformUnit(rng) - 1.0; }, [&] { return gaussian(rng); });
  mj_forward(m, d);
  if (contact_forces_) mj_rnePostConstraint(m, d);
  step_ = 0;
  done_ = false;
  WriteObservation(out);
  return absl::OkStatus();
}

absl::Status MaMujocoEnv::Step(const JointAction& action, TimeStepView out, StepOutcome* outcome) {
  if (done_) {
    return absl::FailedPreconditionError(
        absl::StrCat(spec_.name, ": the episode has ended (or never started); call Reset"));
  }
  const int n = spec_.num_agents;
  const int a = spec_.action_size;
  if (!action.discrete.empty() || static_cast<int>(action.continuous.size()) != n * a) {
    return absl::InvalidArgumentError(
        absl::StrCat(spec_.name, ": expected ", n * a, " continuous action values (", n,
                     " agents x ", a, "), got ", action.continuous.size(),
                     action.discrete.empty() ? "" : " and discrete indices"));
  }
  for (int i = 0; i < n; ++i) {
    for (size_t j = 0; j < agent_actuators_[i].size(); ++j) {
      const float value = action.continuous[i * a + j];
      if (!std::isfinite(value)) {
        return absl::InvalidArgumentError(
            absl::StrCat(spec_.name, ": agent ", i, " action ", j, " is not finite (", value, ")"));
      }
      flat_action_[agent_actuators_[i][j]] = value;
    }
  }
  const mjModel* m = model_.get();
  mjData* d = data_.get();
  for (int u = 0; u < m->nu; ++u) d->ctrl[u] = flat_action_[u];
  const double before = robot_.ForwardPosition(d);
  const int frame_skip = robot_.frame_skip();
  for (int s = 0; s < frame_skip; ++s) mj_step(m, d);
  if (contact_forces_) mj_rnePostConstraint(m, d);
  const double after = robot_.ForwardPosition(d);
  const double velocity = (after - before) / (m->opt.timestep * frame_skip);
  const bool healthy = robot_.Healthy(m, d);
  outcome->reward = static_cast<float>(
      robot_.Reward(m, d, rules_, velocity, absl::MakeConstSpan(flat_action_), healthy));
  outcome->terminated = !healthy;
  ++step_;
  outcome->truncated = !outcome->terminated && step_ >= spec_.episode_limit;
  outcome->won = false;
  done_ = outcome->terminated || outcome->truncated;
  WriteObservation(out);
  return absl::OkStatus();
}

namespace {

std::vector<std::string> MaMujocoTasks() {
  std::vector<std::string> tasks;
  for (const std::string& name : RobotNames()) {
    for (const auto& [factorization, unused] : FindRobot(name)->graph().partitions) {
      tasks.push_back(absl::StrCat(name, "-", factorization));
    }
  }
  return tasks;
}

absl::StatusOr<std::unique_ptr<MultiAgentEnv>> CreateMaMujocoEnv(const std::string& task,
                                                                 const EnvOptions& options) {
  ASSIGN_OR_RETURN(std::unique_ptr<MaMujocoEnv> env, MaMujocoEnv::Create(task, options));
  return std::unique_ptr<MultiAgentEnv>(std::move(env));
}

}  // namespace

TANDEM_REGISTER(EnvFamilyRegistry, "mamujoco", (EnvFamily{&CreateMaMujocoEnv, &MaMujocoTasks}));

}  // namespace tandem::envs
