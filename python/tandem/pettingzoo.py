"""The PettingZoo parallel API over every Tandem env, written to PettingZoo's documented conventions
without importing PettingZoo or Gymnasium (neither is in Debian):

    env = tandem.parallel_env("mamujoco/HalfCheetah-6x1")
    observations, infos = env.reset(seed=42)
    while env.agents:
        actions = {agent: env.action_space(agent).sample() for agent in env.agents}
        observations, rewards, terminations, truncations, infos = env.step(actions)

Agents are "agent_0" ... "agent_{N-1}"; every agent gets the team reward. Discrete envs report the
available actions as infos[agent]["action_mask"] (a uint8 array), and combat envs the outcome as
infos[agent]["battle_won"]. Observations have each agent's true size (MA-MuJoCo agents differ);
actions too. The episode ends for all agents together, after which `agents` is empty.
"""

import os

import numpy as np

from tandem import _tandem
from tandem.smac import episode_seed


class Box:
    """A box of shape `shape` in [low, high] (Gymnasium's spaces.Box conventions)."""

    def __init__(self, low, high, shape, dtype=np.float32, seed=None):
        self.shape = tuple(shape)
        self.dtype = np.dtype(dtype)
        self.low = np.broadcast_to(np.asarray(low, dtype=self.dtype), self.shape).copy()
        self.high = np.broadcast_to(np.asarray(high, dtype=self.dtype), self.shape).copy()
        self.n = None
        self._rng = np.random.default_rng(seed)

    def seed(self, seed=None):
        self._rng = np.random.default_rng(seed)

    def sample(self):
        low = np.where(np.isfinite(self.low), self.low, -1.0)
        high = np.where(np.isfinite(self.high), self.high, 1.0)
        return self._rng.uniform(low, high).astype(self.dtype)

    def contains(self, x):
        x = np.asarray(x)
        return x.shape == self.shape and bool(np.all(x >= self.low) and np.all(x <= self.high))

    def __repr__(self):
        return f"Box({self.low.min()}, {self.high.max()}, {self.shape}, {self.dtype})"


class Discrete:
    """The actions {0, ..., n-1} (Gymnasium's spaces.Discrete conventions)."""

    def __init__(self, n, seed=None):
        self.n = int(n)
        self.shape = ()
        self.dtype = np.dtype(np.int64)
        self.low = 0
        self.high = self.n - 1
        self._rng = np.random.default_rng(seed)

    def seed(self, seed=None):
        self._rng = np.random.default_rng(seed)

    def sample(self, mask=None):
        """A uniform action, among those `mask` marks available when given."""
        if mask is None:
            return np.int64(self._rng.integers(self.n))
        choices = np.flatnonzero(np.asarray(mask))
        if choices.size == 0:
            raise ValueError("the mask marks no action available")
        return np.int64(self._rng.choice(choices))

    def contains(self, x):
        return int(x) == x and 0 <= int(x) < self.n

    def __repr__(self):
        return f"Discrete({self.n})"


class ParallelEnv:
    """A Tandem env with PettingZoo's ParallelEnv interface."""

    def __init__(self, name, seed=None):
        self._env = _tandem.Env(name)
        spec = self._env.spec
        self._spec = spec
        self.metadata = {"name": spec["name"], "render_modes": [], "is_parallelizable": True}
        self.render_mode = None
        n = spec["num_agents"]
        self.possible_agents = [f"agent_{i}" for i in range(n)]
        self.agents = []
        self._index = {agent: i for i, agent in enumerate(self.possible_agents)}
        self._obs_sizes = list(spec["agent_obs_sizes"])
        self._discrete = spec["action_type"] == "discrete"
        self._seed = seed if seed is not None else int.from_bytes(os.urandom(4), "little")
        self._episode = 0
        self._observation_spaces = {
            agent: Box(-np.inf, np.inf, (self._obs_sizes[i],)) for agent, i in self._index.items()
        }
        if self._discrete:
            self._action_spaces = {agent: Discrete(spec["action_size"]) for agent in self._index}
        else:
            a = spec["action_size"]
            low = np.asarray(spec["action_low"], dtype=np.float32).reshape(n, a)
            high = np.asarray(spec["action_high"], dtype=np.float32).reshape(n, a)
            sizes = spec["agent_action_sizes"]
            self._action_spaces = {
                agent: Box(low[i, : sizes[i]], high[i, : sizes[i]], (sizes[i],))
                for agent, i in self._index.items()
            }
        self._joint = (np.zeros(n, dtype=np.int32) if self._discrete
                       else np.zeros((n, spec["action_size"]), dtype=np.float32))

    @property
    def num_agents(self):
        return len(self.agents)

    @property
    def max_num_agents(self):
        return len(self.possible_agents)

    def observation_space(self, agent):
        return self._observation_spaces[self._agent(agent)]

    def action_space(self, agent):
        return self._action_spaces[self._agent(agent)]

    def reset(self, seed=None, options=None):
        """Starts an episode; `seed` makes it (and later unseeded resets) reproducible."""
        if seed is not None:
            self._seed = int(seed)
            self._episode = 0
            for i, agent in enumerate(self.possible_agents):
                self._action_spaces[agent].seed(episode_seed(self._seed, (1 << 40) + i))
        self._env.reset(episode_seed(self._seed, self._episode))
        self._episode += 1
        self.agents = list(self.possible_agents)
        return self._observations(), self._infos(False)

    def step(self, actions):
        if not self.agents:
            raise RuntimeError("step() after the episode ended; call reset()")
        missing = [agent for agent in self.agents if agent not in actions]
        if missing:
            raise ValueError(f"no action for {', '.join(missing)}")
        for agent, action in actions.items():
            i = self._index.get(agent)
            if i is None:
                raise ValueError(f"unknown agent {agent!r}; agents are {self.possible_agents}")
            if self._discrete:
                value = np.asarray(action)
                if value.shape != () or value.dtype.kind not in "iu":
                    raise TypeError(f"{agent}: a discrete action is one integer, got {action!r}")
                self._joint[i] = value
            else:
                value = np.asarray(action, dtype=np.float32)
                size = self._action_spaces[agent].shape[0]
                if value.shape != (size,):
                    raise ValueError(f"{agent}: expected an action of shape ({size},), "
                                     f"got {value.shape}")
                self._joint[i, :size] = value
        reward, terminated, truncated, won = self._env.step(self._joint)
        observations = self._observations()
        infos = self._infos(won)
        rewards = {agent: float(reward) for agent in self.agents}
        terminations = {agent: bool(terminated) for agent in self.agents}
        truncations = {agent: bool(truncated and not terminated) for agent in self.agents}
        if terminated or truncated:
            self.agents = []
        return observations, rewards, terminations, truncations, infos

    def state(self):
        return self._env.state

    def render(self):
        return None

    def close(self):
        self._env.close()

    def _agent(self, agent):
        if agent not in self._index:
            raise ValueError(f"unknown agent {agent!r}; agents are {self.possible_agents}")
        return agent

    def _observations(self):
        obs = self._env.obs
        return {agent: obs[i, : self._obs_sizes[i]] for agent, i in self._index.items()}

    def _infos(self, won):
        infos = {agent: {} for agent in self.possible_agents}
        if self._discrete and self._spec["has_avail_actions"]:
            mask = self._env.avail_actions
            for agent, i in self._index.items():
                infos[agent]["action_mask"] = mask[i]
        if self._spec["name"].startswith("smac/"):
            for agent in self.possible_agents:
                infos[agent]["battle_won"] = bool(won)
        return infos
