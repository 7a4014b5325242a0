"""The Python replay client against a real `tandem replay` on loopback."""

import os

import numpy as np
import pytest

import tandem

CONFIG = """
env { name: "mamujoco/HalfCheetah-6x1" }
replay { offline_ratio: 0 min_size_to_sample: 1 shape_from_env: true }
metrics { enabled: false }
"""


def rollout(steps, seed=0):
    """`steps` transitions of HalfCheetah-6x1 under random actions, from an EnvPool."""
    pool = tandem.EnvPool("mamujoco/HalfCheetah-6x1", num_envs=1, seed=seed)
    pool.reset_all()
    rng = np.random.default_rng(seed)
    columns = {k: [] for k in ("obs", "state", "actions", "reward", "terminated", "truncated",
                               "next_obs", "next_state")}
    for _ in range(steps):
        obs, state = pool.obs.copy(), pool.state.copy()
        actions = rng.uniform(-1, 1, (1, 6, 1)).astype(np.float32)
        pool.step(actions)
        columns["obs"].append(obs[0])
        columns["state"].append(state[0])
        columns["actions"].append(actions[0])
        columns["reward"].append(pool.reward[0])
        columns["terminated"].append(pool.terminated[0])
        columns["truncated"].append(pool.truncated[0])
        columns["next_obs"].append(pool.obs[0].copy())
        columns["next_state"].append(pool.state[0].copy())
        pool.reset_finished()
    return {k: np.stack(v) for k, v in columns.items()}


def test_insert_then_sample_returns_the_inserted_rows(start_replay):
    replay = start_replay(CONFIG)
    client = tandem.ReplayClient(replay.address)
    info = client.info()
    assert info["spec"]["num_agents"] == 6 and info["spec"]["action_type"] == "continuous"
    batch = rollout(64)
    assert client.insert([{k: v[:32] for k, v in batch.items()},
                          {k: v[32:] for k, v in batch.items()}]) == 64
    assert client.info()["tables"]["online"]["size"] == 64
    sampled = client.sample(16, offline_ratio=0)
    assert sampled["obs"].shape == (16, 6, info["spec"]["obs_size"])
    assert np.all(sampled["source"] == 2)
    for row, key in enumerate(sampled["keys"]):
        np.testing.assert_array_equal(sampled["obs"][row], batch["obs"][key])
        np.testing.assert_array_equal(sampled["actions"][row], batch["actions"][key])
        assert sampled["reward"][row] == batch["reward"][key]
    streamed = list(client.samples(8, num_batches=3, offline_ratio=0))
    assert len(streamed) == 3 and all(b["reward"].shape == (8,) for b in streamed)
    client.close()


def test_invalid_batches_are_refused_naming_the_field(start_replay):
    replay = start_replay(CONFIG)
    client = tandem.ReplayClient(replay.address)
    batch = rollout(8)
    wrong = dict(batch, obs=batch["obs"][:, :, :5])
    with pytest.raises(ValueError, match="obs: expected shape"):
        client.insert(wrong)
    outside = dict(batch, actions=np.full_like(batch["actions"], 5.0))
    with pytest.raises(ValueError, match="outside the env's box"):
        client.insert(outside)
    with pytest.raises(ValueError, match="unknown batch field"):
        client.insert(dict(batch, bogus=np.zeros(8)))
    with pytest.raises(ValueError, match="offline_ratio"):
        client.sample(4, offline_ratio=2.0)
    assert client.info()["tables"].get("online", {"size": 0})["size"] == 0


def test_token_is_required_when_the_server_has_one(start_replay):
    env = dict(os.environ, TANDEM_TEST_TOKEN="s3cret")
    replay = start_replay(CONFIG + 'security { auth_token_env: "TANDEM_TEST_TOKEN" }', env=env)
    with pytest.raises(tandem.replay.ReplayError, match="UNAUTHENTICATED"):
        tandem.ReplayClient(replay.address).info()
    with pytest.raises(tandem.replay.ReplayError, match="UNAUTHENTICATED"):
        tandem.ReplayClient(replay.address, token="wrong").insert(rollout(4))
    client = tandem.ReplayClient(replay.address, token="s3cret")
    assert client.insert(rollout(4)) == 4
