"""The SMAC API over Tandem's envs: PyMARL2's and EPyMARL's StarCraft wrapper works when only its
import changes:

    from tandem.smac import StarCraft2Env      # instead of: from smac.env import StarCraft2Env
    env = StarCraft2Env(map_name="3s5z", seed=1)

Method for method as SMAC's StarCraft2Env: reset, step -> (reward, terminated, info) with
info["battle_won"] and info["episode_limit"], get_obs, get_obs_agent, get_state,
get_avail_actions, get_avail_agent_actions, get_env_info, get_obs_size, get_state_size,
get_total_actions, get_stats, seed, close. As in SMAC, `terminated` is also True when the episode
hits its time limit, with info["episode_limit"] True. Keyword arguments SMAC takes that have no
meaning here (difficulty, replay_dir, ...) are accepted and ignored.
"""

import os

import numpy as np

from tandem import _tandem


def episode_seed(seed, episode):
    """The seed of episode `episode` of a run seeded `seed` (reproducible, distinct per episode)."""
    return int(np.random.SeedSequence([seed, episode]).generate_state(1, np.uint64)[0])


class StarCraft2Env:
    """A Tandem env with SMAC's StarCraft2Env interface."""

    def __init__(self, map_name="3m", seed=None, env_name=None, **ignored):
        name = env_name if env_name is not None else (
            map_name if "/" in map_name else f"smac/{map_name}")
        self._env = _tandem.Env(name)
        spec = self._env.spec
        self.name = spec["name"]
        self.map_name = map_name if env_name is None else name
        self.n_agents = spec["num_agents"]
        self.n_actions = spec["action_size"]
        self.episode_limit = spec["episode_limit"]
        self.discrete = spec["action_type"] == "discrete"
        self._agent_obs_sizes = list(spec["agent_obs_sizes"])
        self._spec = spec
        self._seed = seed if seed is not None else int.from_bytes(os.urandom(4), "little")
        self._episode = 0
        self._battles_won = 0
        self._battles_game = 0
        self._timeouts = 0

    # --- SMAC's StarCraft2Env methods ---------------------------------------------------------
    def reset(self):
        """Starts an episode; returns (obs list, state) as SMAC does."""
        self._env.reset(episode_seed(self._seed, self._episode))
        self._episode += 1
        return self.get_obs(), self.get_state()

    def step(self, actions):
        """Applies one action per agent; returns (reward, terminated, info)."""
        reward, terminated, truncated, won = self._env.step(np.asarray(actions))
        info = {"battle_won": bool(won), "episode_limit": bool(truncated and not terminated)}
        if terminated or truncated:
            self._battles_game += 1
            self._battles_won += int(won)
            self._timeouts += int(truncated and not terminated)
        return float(reward), bool(terminated or truncated), info

    def get_obs(self):
        obs = self._env.obs
        return [obs[i, : self._agent_obs_sizes[i]] for i in range(self.n_agents)]

    def get_obs_agent(self, agent_id):
        self._check_agent(agent_id)
        return self._env.obs[agent_id, : self._agent_obs_sizes[agent_id]]

    def get_obs_size(self):
        self._check_open()
        return max(self._agent_obs_sizes)

    def get_state(self):
        return self._env.state

    def get_state_size(self):
        self._check_open()
        return self._spec["state_size"]

    def get_avail_actions(self):
        return self._env.avail_actions.tolist()

    def get_avail_agent_actions(self, agent_id):
        self._check_agent(agent_id)
        return self._env.avail_actions[agent_id].tolist()

    def get_total_actions(self):
        self._check_open()
        return self.n_actions

    def get_env_info(self):
        self._check_open()
        return {
            "state_shape": self.get_state_size(),
            "obs_shape": self.get_obs_size(),
            "n_actions": self.get_total_actions(),
            "n_agents": self.n_agents,
            "episode_limit": self.episode_limit,
        }

    def get_stats(self):
        self._check_open()
        games = max(self._battles_game, 1)
        return {
            "battles_won": self._battles_won,
            "battles_game": self._battles_game,
            "battles_draw": self._timeouts,
            "win_rate": self._battles_won / games,
            "timeouts": self._timeouts,
            "restarts": 0,
        }

    def seed(self):
        self._check_open()
        return self._seed

    def close(self):
        self._env.close()

    def render(self, mode="human"):
        raise NotImplementedError("Tandem's envs do not render")

    def save_replay(self):
        raise NotImplementedError("Tandem's envs do not save StarCraft replays")

    # --- extras -----------------------------------------------------------------------------
    @property
    def spec(self):
        """Tandem's description of the env (agents, sizes, action box)."""
        return dict(self._spec)

    def _check_open(self):
        if self._env.closed:
            raise RuntimeError("the env is closed")

    def _check_agent(self, agent_id):
        if not 0 <= agent_id < self.n_agents:
            raise ValueError(f"agent_id {agent_id} is outside [0, {self.n_agents})")
