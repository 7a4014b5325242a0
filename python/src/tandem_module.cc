// tandem._tandem: the C++ side of the Python package. Thin on purpose: one env (Env), a vectorized
// pool (EnvPool), the dataset reader and two reference loops for python/bench_envs.py. The SMAC
// and PettingZoo APIs are written in Python on top (python/tandem/).
//
// Errors: a caller's mistake (bad env name or option, wrong action shape, dtype or value, a bad
// dataset file) raises ValueError or TypeError, a missing file FileNotFoundError, anything else
// RuntimeError; none crashes the interpreter.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/dataset.h"
#include "common/transition_schema.h"
#include "envs/env_pool.h"
#include "envs/registry.h"

namespace py = pybind11;

namespace tandem::python {
namespace {

// Raises `status` as the Python exception that fits its code.
void Raise(const absl::Status& status) {
  if (status.ok()) return;
  const std::string message(status.message());
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kDataLoss:
      throw py::value_error(message);
    default:
      throw std::runtime_error(message);
  }
}

template <typename T>
T Take(absl::StatusOr<T> result) {
  Raise(result.status());
  return std::move(*result);
}

std::string ShapeText(const py::array& array) {
  std::vector<std::string> dims;
  for (py::ssize_t i = 0; i < array.ndim(); ++i) dims.push_back(std::to_string(array.shape(i)));
  return absl::StrCat("(", absl::StrJoin(dims, ", "), dims.size() == 1 ? ",)" : ")");
}

// `actions` as a contiguous buffer of one joint action per env: int32 indices for discrete envs,
// float32 for continuous ones, with `leading` dims before the per-env shape. TypeError on a dtype
// that does not fit, ValueError on a shape that does not.
struct Actions {
  std::vector<int32_t> discrete;
  std::vector<float> continuous;
};
Actions ConvertActions(const py::handle& object, const envs::EnvSpec& spec,
                       std::vector<py::ssize_t> leading) {
  const py::array array = py::array::ensure(object);
  if (!array) throw py::type_error("actions must be an array or a sequence of numbers");
  const char kind = array.dtype().kind();
  const bool discrete = spec.action_type == ACTION_TYPE_DISCRETE;
  std::vector<py::ssize_t> shape = leading;
  shape.push_back(spec.num_agents);
  if (!discrete) shape.push_back(spec.action_size);
  py::ssize_t count = 1;
  for (py::ssize_t d : shape) count *= d;
  std::vector<py::ssize_t> flat_shape = leading;
  flat_shape.push_back(spec.num_agents * (discrete ? 1 : spec.action_size));
  auto shape_ok = [&](const std::vector<py::ssize_t>& want) {
    if (array.ndim() != static_cast<py::ssize_t>(want.size())) return false;
    for (size_t i = 0; i < want.size(); ++i) {
      if (array.shape(i) != want[i]) return false;
    }
    return true;
  };
  auto describe = [](const std::vector<py::ssize_t>& dims) {
    std::vector<std::string> parts;
    for (py::ssize_t d : dims) parts.push_back(std::to_string(d));
    return absl::StrCat("(", absl::StrJoin(parts, ", "), parts.size() == 1 ? ",)" : ")");
  };
  if (!shape_ok(shape) && !shape_ok(flat_shape)) {
    throw py::value_error(
        absl::StrCat("actions: expected shape ", describe(shape), ", got ", ShapeText(array)));
  }
  Actions out;
  if (discrete) {
    if (kind == 'f') {
      // Integral floats are accepted (SMAC converts with int()); fractions are not.
      const auto values = py::array_t<double, py::array::c_style | py::array::forcecast>(array);
      out.discrete.resize(count);
      for (py::ssize_t i = 0; i < count; ++i) {
        const double v = values.data()[i];
        if (v != static_cast<double>(static_cast<int32_t>(v))) {
          throw py::value_error(
              absl::StrCat("actions: discrete actions are integers, got ", v, " at ", i));
        }
        out.discrete[i] = static_cast<int32_t>(v);
      }
      return out;
    }
    if (kind != 'i' && kind != 'u') {
      throw py::type_error(absl::StrCat("actions: discrete actions need an integer dtype, got ",
                                        std::string(py::str(array.dtype()))));
    }
    const auto values = py::array_t<int64_t, py::array::c_style | py::array::forcecast>(array);
    out.discrete.assign(values.data(), values.data() + count);
    for (py::ssize_t i = 0; i < count; ++i) {
      if (values.data()[i] < 0 || values.data()[i] >= spec.action_size) {
        throw py::value_error(absl::StrCat("actions: action ", values.data()[i], " at ", i,
                                           " is outside [0, ", spec.action_size, ")"));
      }
    }
    return out;
  }
  if (kind != 'f' && kind != 'i' && kind != 'u') {
    throw py::type_error(absl::StrCat("actions: continuous actions need a numeric dtype, got ",
                                      std::string(py::str(array.dtype()))));
  }
  const auto values = py::array_t<float, py::array::c_style | py::array::forcecast>(array);
  out.continuous.assign(values.data(), values.data() + count);
  return out;
}

py::dict SpecDict(const envs::EnvSpec& spec) {
  py::dict d;
  d["name"] = spec.name;
  d["num_agents"] = spec.num_agents;
  d["agent_obs_sizes"] = spec.agent_obs_sizes;
  d["obs_size"] = spec.obs_size;
  d["state_size"] = spec.state_size;
  d["action_type"] = spec.action_type == ACTION_TYPE_DISCRETE ? "discrete" : "continuous";
  d["agent_action_sizes"] = spec.agent_action_sizes;
  d["action_size"] = spec.action_size;
  d["action_low"] = spec.action_low;
  d["action_high"] = spec.action_high;
  d["episode_limit"] = spec.episode_limit;
  d["has_avail_actions"] = spec.has_avail_actions;
  return d;
}

// A read-only NumPy view of `size` elements at `data`, kept alive by `owner`.
template <typename T>
py::array View(const T* data, std::vector<py::ssize_t> shape, const py::object& owner) {
  py::array array(py::dtype::of<T>(), shape, data, owner);
  py::detail::array_proxy(array.ptr())->flags &= ~py::detail::npy_api::NPY_ARRAY_WRITEABLE_;
  return array;
}

// One environment, stepped from Python.
class Env {
 public:
  explicit Env(const std::string& name) : env_(Take(envs::CreateEnv(name))) {
    const envs::EnvSpec& spec = env_->spec();
    obs_.assign(static_cast<size_t>(spec.num_agents) * spec.obs_size, 0.0f);
    state_.assign(spec.state_size, 0.0f);
    if (spec.has_avail_actions)
      avail_.assign(static_cast<size_t>(spec.num_agents) * spec.action_size, 0);
  }

  const envs::EnvSpec& spec() const {
    Open();
    return env_->spec();
  }

  void Reset(uint64_t seed) {
    Open();
    {
      py::gil_scoped_release release;
      Raise(env_->Reset(seed, View()));
    }
    started_ = true;
    ended_ = false;
  }

  py::tuple Step(const py::handle& actions) {
    Open();
    if (!started_) throw std::runtime_error("step() before reset()");
    if (ended_) throw std::runtime_error("step() after the episode ended; call reset()");
    const Actions converted = ConvertActions(actions, env_->spec(), {});
    envs::StepOutcome outcome;
    absl::Status status;
    {
      py::gil_scoped_release release;
      status = env_->Step({converted.continuous, converted.discrete}, View(), &outcome);
    }
    Raise(status);
    ended_ = outcome.terminated || outcome.truncated;
    return py::make_tuple(outcome.reward, outcome.terminated, outcome.truncated, outcome.won);
  }

  // Copies: a single env's arrays are small, and SMAC/PettingZoo callers keep them across steps.
  py::array obs() const {
    Open();
    const envs::EnvSpec& spec = env_->spec();
    py::array_t<float> out({spec.num_agents, spec.obs_size});
    std::copy(obs_.begin(), obs_.end(), out.mutable_data());
    return out;
  }
  py::array state() const {
    Open();
    py::array_t<float> out(static_cast<py::ssize_t>(state_.size()));
    std::copy(state_.begin(), state_.end(), out.mutable_data());
    return out;
  }
  py::array avail_actions() const {
    Open();
    const envs::EnvSpec& spec = env_->spec();
    py::array_t<uint8_t> out({spec.num_agents, spec.action_size});
    if (avail_.empty()) {
      std::fill(out.mutable_data(), out.mutable_data() + out.size(), 1);
    } else {
      std::copy(avail_.begin(), avail_.end(), out.mutable_data());
    }
    return out;
  }
  int episode_step() const {
    Open();
    return env_->episode_step();
  }
  bool closed() const { return env_ == nullptr; }
  void Close() { env_.reset(); }

 private:
  void Open() const {
    if (env_ == nullptr) throw std::runtime_error("the env is closed");
  }
  envs::TimeStepView View() {
    return {absl::MakeSpan(obs_), absl::MakeSpan(state_), absl::MakeSpan(avail_)};
  }

  std::unique_ptr<envs::MultiAgentEnv> env_;
  std::vector<float> obs_, state_;
  std::vector<uint8_t> avail_;
  bool started_ = false;
  bool ended_ = false;
};

// A batch of envs stepped in C++ (envs::EnvPool) with the GIL released. Its arrays are read-only
// views of the pool's buffers: no copies, overwritten by the next step.
class Pool {
 public:
  Pool(const std::string& name, int num_envs, int threads, uint64_t seed) {
    if (num_envs < 1) throw py::value_error("num_envs must be >= 1");
    if (threads < 1) throw py::value_error("threads must be >= 1");
    pool_ = Take(envs::EnvPool::Create(name, num_envs, seed, threads));
  }
  const envs::EnvSpec& spec() const { return pool_->spec(); }
  int size() const { return pool_->size(); }
  void ResetAll() {
    py::gil_scoped_release release;
    Raise(pool_->ResetAll());
  }
  void Step(const py::handle& actions) {
    const Actions converted = ConvertActions(actions, pool_->spec(), {pool_->size()});
    absl::Status status;
    {
      py::gil_scoped_release release;
      status = pool_->Step(converted.continuous, converted.discrete);
    }
    Raise(status);
  }
  void ResetFinished() {
    py::gil_scoped_release release;
    Raise(pool_->ResetFinished());
  }
  int64_t total_steps() const { return pool_->total_steps(); }
  envs::EnvPool& pool() { return *pool_; }

 private:
  std::unique_ptr<envs::EnvPool> pool_;
};

// Per-env dimensions of one of the pool's buffers.
using Dims = std::vector<py::ssize_t>;
Dims PerEnvScalar(const envs::EnvSpec&) { return {}; }

// A property getter returning buffer `buffer` of the Python EnvPool `self` as a read-only view
// shaped [envs, dims(spec)...], kept alive by `self`.
template <typename T>
auto PoolView(absl::Span<const T> (envs::EnvPool::*buffer)() const,
              Dims (*dims)(const envs::EnvSpec&)) {
  return [buffer, dims](const py::object& self) {
    envs::EnvPool& pool = self.cast<Pool&>().pool();
    Dims shape = {pool.size()};
    for (py::ssize_t d : dims(pool.spec())) shape.push_back(d);
    return View((pool.*buffer)().data(), shape, self);
  };
}

// Every column of a Tandem dataset as NumPy arrays, plus its attributes.
py::dict ReadDataset(const std::string& path) {
  absl::StatusOr<std::unique_ptr<OfflineDataSource>> opened = OpenTandemDataset(path);
  if (absl::IsNotFound(opened.status())) {
    PyErr_SetString(PyExc_FileNotFoundError, std::string(opened.status().message()).c_str());
    throw py::error_already_set();
  }
  std::unique_ptr<OfflineDataSource> source = Take(std::move(opened));
  const TransitionSchema schema = Take(TransitionSchema::Create(source->spec()));
  const int64_t rows = source->size();
  py::dict out;
  for (const Column& column : schema.columns()) {
    std::vector<py::ssize_t> shape = {rows};
    shape.insert(shape.end(), column.row_shape.begin(), column.row_shape.end());
    py::dtype dtype = column.dtype == DTYPE_FLOAT32 ? py::dtype::of<float>()
                      : column.dtype == DTYPE_INT32 ? py::dtype::of<int32_t>()
                                                    : py::dtype::of<uint8_t>();
    py::array array(dtype, shape);
    absl::Status status;
    {
      py::gil_scoped_release release;
      status = source->ReadColumn(column.field, 0, rows, array.mutable_data());
    }
    Raise(status);
    out[py::str(std::string(FieldName(column.field)))] = array;
  }
  py::array_t<uint8_t> won(rows);
  if (Take(source->ReadWon(0, rows, won.mutable_data()))) out["won"] = won;
  const DatasetMetadata metadata = Take(ReadDatasetMetadata(path));
  const DatasetStats stats = Take(ReadDatasetStats(path));
  py::dict attrs;
  attrs["env_name"] = metadata.env_name;
  attrs["env_options"] = metadata.env_options;
  attrs["obs_mode"] = metadata.obs_mode;
  attrs["quality"] = metadata.quality;
  attrs["behaviour_policy"] = metadata.behaviour_policy;
  attrs["source"] = metadata.source;
  attrs["num_transitions"] = stats.num_transitions;
  attrs["num_episodes"] = stats.num_episodes;
  attrs["return_mean"] = stats.return_mean;
  attrs["return_std"] = stats.return_std;
  attrs["return_min"] = stats.return_min;
  attrs["return_max"] = stats.return_max;
  if (stats.win_rate.has_value()) attrs["win_rate"] = *stats.win_rate;
  const TransitionSpec& spec = source->spec();
  attrs["num_agents"] = spec.num_agents();
  attrs["obs_size"] = spec.obs_size();
  attrs["state_size"] = spec.state_size();
  attrs["action_type"] = spec.action_type() == ACTION_TYPE_DISCRETE ? "discrete" : "continuous";
  attrs["action_size"] = spec.action_size();
  attrs["episode_steps"] = spec.episode_steps();
  out["attrs"] = attrs;
  return out;
}

// The benchmark's action rule, in C++: the last available action of each agent (discrete), all
// zeros (continuous). python/bench_envs.py applies the same rule through the bindings.
void LastAvailable(const envs::EnvSpec& spec, const uint8_t* avail, int32_t* actions, int64_t n) {
  const int64_t k = spec.action_size;
  for (int64_t i = 0; i < n; ++i) {
    int32_t a = 0;
    for (int64_t j = k - 1; j >= 0; --j) {
      if (avail == nullptr || avail[i * k + j] != 0) {
        a = static_cast<int32_t>(j);
        break;
      }
    }
    actions[i] = a;
  }
}

// Env steps per second of one env stepped in C++ for `seconds`, resetting when episodes end.
double CppEnvStepsPerSecond(const std::string& name, double seconds, uint64_t seed) {
  py::gil_scoped_release release;
  auto env = Take(envs::CreateEnv(name));
  const envs::EnvSpec& spec = env->spec();
  std::vector<float> obs(static_cast<size_t>(spec.num_agents) * spec.obs_size),
      state(spec.state_size);
  std::vector<uint8_t> avail(spec.has_avail_actions ? spec.num_agents * spec.action_size : 0);
  envs::TimeStepView view{absl::MakeSpan(obs), absl::MakeSpan(state), absl::MakeSpan(avail)};
  std::vector<int32_t> discrete(spec.action_type == ACTION_TYPE_DISCRETE ? spec.num_agents : 0);
  std::vector<float> continuous(
      spec.action_type == ACTION_TYPE_DISCRETE ? 0 : spec.num_agents * spec.action_size, 0.0f);
  Raise(env->Reset(seed, view));
  int64_t steps = 0, episodes = 0;
  const absl::Time start = absl::Now();
  const absl::Time end = start + absl::Seconds(seconds);
  while (true) {
    for (int i = 0; i < 64; ++i) {
      if (!discrete.empty()) {
        LastAvailable(spec, avail.empty() ? nullptr : avail.data(), discrete.data(),
                      spec.num_agents);
      }
      envs::StepOutcome outcome;
      Raise(env->Step({continuous, discrete}, view, &outcome));
      ++steps;
      if (outcome.terminated || outcome.truncated) Raise(env->Reset(seed + ++episodes, view));
    }
    if (absl::Now() >= end) break;
  }
  return steps / absl::ToDoubleSeconds(absl::Now() - start);
}

// Env steps per second of an EnvPool stepped in C++ for `seconds` (the benchmark's rule).
double CppPoolStepsPerSecond(const std::string& name, int num_envs, int threads, double seconds,
                             uint64_t seed) {
  py::gil_scoped_release release;
  auto pool = Take(envs::EnvPool::Create(name, num_envs, seed, threads));
  const envs::EnvSpec& spec = pool->spec();
  const bool discrete = spec.action_type == ACTION_TYPE_DISCRETE;
  std::vector<int32_t> indices(discrete ? num_envs * spec.num_agents : 0);
  std::vector<float> continuous(discrete ? 0 : num_envs * spec.num_agents * spec.action_size, 0.0f);
  Raise(pool->ResetAll());
  const int64_t first = pool->total_steps();
  const absl::Time start = absl::Now();
  const absl::Time end = start + absl::Seconds(seconds);
  while (absl::Now() < end) {
    if (discrete) {
      LastAvailable(spec, spec.has_avail_actions ? pool->avail_actions().data() : nullptr,
                    indices.data(), static_cast<int64_t>(num_envs) * spec.num_agents);
    }
    Raise(pool->Step(continuous, indices));
    Raise(pool->ResetFinished());
  }
  return (pool->total_steps() - first) / absl::ToDoubleSeconds(absl::Now() - start);
}

}  // namespace
}  // namespace tandem::python

PYBIND11_MODULE(_tandem, m) {
  using namespace tandem;          // NOLINT(build/namespaces)
  using namespace tandem::python;  // NOLINT(build/namespaces)
  m.doc() = "Tandem's C++ core: environments, a vectorized env pool and the dataset reader.";
  m.def("registered_envs", &envs::RegisteredEnvs, "Names of the registered env families/tasks.");

  py::class_<Env>(m, "Env", "One multi-agent environment (see tandem.make for the Python APIs).")
      .def(py::init<const std::string&>(), py::arg("name"))
      .def_property_readonly("spec", [](const Env& env) { return SpecDict(env.spec()); })
      .def("reset", &Env::Reset, py::arg("seed"))
      .def("step", &Env::Step, py::arg("actions"),
           "Steps one joint action; returns (reward, terminated, truncated, won).")
      .def_property_readonly("obs", &Env::obs)
      .def_property_readonly("state", &Env::state)
      .def_property_readonly("avail_actions", &Env::avail_actions)
      .def_property_readonly("episode_step", &Env::episode_step)
      .def_property_readonly("closed", &Env::closed)
      .def("close", &Env::Close);

  py::class_<Pool>(m, "EnvPool",
                   "num_envs envs stepped together in C++ across `threads` threads, the GIL "
                   "released; arrays are [envs, agents, ...] read-only views, overwritten by the "
                   "next step.")
      .def(py::init<const std::string&, int, int, uint64_t>(), py::arg("name"), py::arg("num_envs"),
           py::arg("threads") = 1, py::arg("seed") = 1)
      .def_property_readonly("spec", [](const Pool& pool) { return SpecDict(pool.spec()); })
      .def_property_readonly("num_envs", &Pool::size)
      .def("reset_all", &Pool::ResetAll)
      .def("step", &Pool::Step, py::arg("actions"))
      .def("reset_finished", &Pool::ResetFinished,
           "Restarts the envs whose episode ended in the last step.")
      .def_property_readonly("total_steps", &Pool::total_steps)
      .def_property_readonly("obs", PoolView(&envs::EnvPool::obs,
                                             [](const envs::EnvSpec& spec) -> Dims {
                                               return {spec.num_agents, spec.obs_size};
                                             }))
      .def_property_readonly(
          "state", PoolView(&envs::EnvPool::state,
                            [](const envs::EnvSpec& spec) -> Dims { return {spec.state_size}; }))
      .def_property_readonly("avail_actions",
                             [](const py::object& self) -> py::object {
                               if (!self.cast<Pool&>().spec().has_avail_actions) return py::none();
                               return PoolView(&envs::EnvPool::avail_actions,
                                               [](const envs::EnvSpec& spec) -> Dims {
                                                 return {spec.num_agents, spec.action_size};
                                               })(self);
                             })
      .def_property_readonly("reward", PoolView(&envs::EnvPool::reward, PerEnvScalar))
      .def_property_readonly("terminated", PoolView(&envs::EnvPool::terminated, PerEnvScalar))
      .def_property_readonly("truncated", PoolView(&envs::EnvPool::truncated, PerEnvScalar))
      .def_property_readonly("won", PoolView(&envs::EnvPool::won, PerEnvScalar));

  m.def("read_dataset", &ReadDataset, py::arg("path"),
        "Every column of a Tandem HDF5 dataset as NumPy arrays, with its attributes under "
        "'attrs'.");
  m.def("cpp_env_steps_per_second", &CppEnvStepsPerSecond, py::arg("name"),
        py::arg("seconds") = 2.0, py::arg("seed") = 1,
        "Benchmark reference: one env stepped in C++ with the last-available-action rule.");
  m.def("cpp_pool_steps_per_second", &CppPoolStepsPerSecond, py::arg("name"), py::arg("num_envs"),
        py::arg("threads") = 1, py::arg("seconds") = 2.0, py::arg("seed") = 1,
        "Benchmark reference: an EnvPool stepped in C++.");
}
