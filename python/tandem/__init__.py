"""Tandem from Python: its environments, datasets and replay server.

    import tandem
    env = tandem.make("smac/3s5z")                 # the SMAC API (StarCraft2Env's methods)
    env = tandem.parallel_env("mamujoco/Ant-2x4")  # the PettingZoo parallel API
    pool = tandem.EnvPool("mamujoco/HalfCheetah-6x1", num_envs=16, threads=2)
    data = tandem.read_dataset("data/smac/3m-medium.h5")
    client = tandem.ReplayClient("127.0.0.1:50051", token=None)

Build with the README's command and put build/python on PYTHONPATH. Errors raise ValueError or
TypeError for a caller's mistake (bad name, option, action shape, dtype or value), RuntimeError
otherwise (for example a call after close()).
"""

from tandem._tandem import EnvPool, registered_envs, read_dataset
from tandem.smac import StarCraft2Env
from tandem.pettingzoo import Box, Discrete, ParallelEnv


def make(name, seed=None):
    """The env `name` ("smac/3m", "mamujoco/Ant-2x4(obs_mode=khop)") with the SMAC API.

    Every registered env works; for continuous-action envs `step` takes an [agents, action_size]
    float array and `get_avail_actions` reports every action available.
    """
    return StarCraft2Env(env_name=name, seed=seed)


def parallel_env(name, seed=None):
    """The env `name` with the PettingZoo parallel API."""
    return ParallelEnv(name, seed=seed)


def __getattr__(attribute):
    # The replay client needs grpcio; import it only when asked for.
    if attribute == "ReplayClient":
        from tandem.replay import ReplayClient

        return ReplayClient
    raise AttributeError(f"module 'tandem' has no attribute {attribute!r}")


__all__ = [
    "Box",
    "Discrete",
    "EnvPool",
    "ParallelEnv",
    "ReplayClient",
    "StarCraft2Env",
    "make",
    "parallel_env",
    "read_dataset",
    "registered_envs",
]
