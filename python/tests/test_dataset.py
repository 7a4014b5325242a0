"""Reading Tandem's HDF5 datasets into NumPy, checked against `tandem dataset info`."""

import re
import subprocess

import numpy as np
import pytest

import tandem


@pytest.fixture(scope="module")
def random_dataset(tandem_binary, tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "cheetah.h5"
    subprocess.run([tandem_binary, "dataset", "random", "--env", "mamujoco/HalfCheetah-6x1",
                    "--steps", "2500", "--envs", "4", "--out", str(path)], check=True,
                   capture_output=True)
    return path


def test_columns_and_attributes_match_dataset_info(tandem_binary, random_dataset):
    data = tandem.read_dataset(str(random_dataset))
    attrs = data["attrs"]
    info = subprocess.run([tandem_binary, "dataset", "info", str(random_dataset)], check=True,
                          capture_output=True, text=True).stdout
    t = attrs["num_transitions"]
    assert t == 2500
    assert re.search(rf"\b{t}\b", info)
    assert re.search(rf"\b{attrs['num_episodes']}\b", info)
    assert f"{attrs['return_mean']:.1f}" in info
    assert attrs["env_name"].startswith("mamujoco/HalfCheetah-6x1")
    assert data["obs"].shape == (t, 6, attrs["obs_size"]) and data["obs"].dtype == np.float32
    assert data["next_obs"].shape == data["obs"].shape
    assert data["state"].shape == (t, attrs["state_size"])
    assert data["actions"].shape == (t, 6, 1) and data["actions"].dtype == np.float32
    assert data["reward"].shape == (t,)
    assert data["terminated"].dtype == np.uint8
    assert np.all(np.abs(data["actions"]) <= 1)
    # Episode returns recomputed from the arrays give the file's statistics.
    ends = np.flatnonzero((data["terminated"] | data["truncated"]) != 0) + 1
    starts = np.concatenate([[0], ends[:-1]])
    returns = np.array([data["reward"][s:e].sum() for s, e in zip(starts, ends)])
    assert len(returns) == attrs["num_episodes"]
    assert returns.mean() == pytest.approx(attrs["return_mean"], rel=1e-4)


def test_bad_files_raise(tmp_path):
    with pytest.raises(FileNotFoundError):
        tandem.read_dataset(str(tmp_path / "missing.h5"))
    garbage = tmp_path / "garbage.h5"
    garbage.write_bytes(b"this is not HDF5" * 100)
    with pytest.raises(ValueError):
        tandem.read_dataset(str(garbage))


def test_episode_datasets_read_in_the_episode_layout(tandem_binary, tmp_path):
    """A whole-episode dataset (here imported from CFCQL's layout, written with h5py)."""
    h5py = pytest.importorskip("h5py")
    source = tmp_path / "3m_medium.h5"
    rng = np.random.default_rng(0)
    e, l, n = 3, 61, 3
    lengths = [60, 12, 7]
    filled = np.zeros((e, l, 1), np.int64)
    terminated = np.zeros((e, l, 1), np.uint8)
    actions = rng.integers(1, 9, (e, l, n, 1)).astype(np.int64)
    reward = np.zeros((e, l, 1), np.float32)
    obs = np.zeros((e, l, n, 30), np.float32)
    state = np.zeros((e, l, 48), np.float32)
    for i, t in enumerate(lengths):
        filled[i, : t + 1] = 1
        obs[i, : t + 1] = rng.standard_normal((t + 1, n, 30))
        state[i, : t + 1] = rng.standard_normal((t + 1, 48))
        reward[i, :t] = 0.5
        if t < 60:
            terminated[i, t - 1] = 1
    actions[filled[:, :, 0] == 0] = 0
    with h5py.File(source, "w") as f:
        for key, value in dict(state=state, obs=obs, actions=actions,
                               avail_actions=np.ones((e, l, n, 9), np.int32), reward=reward,
                               terminated=terminated, filled=filled).items():
            f[key] = value
    imported = tmp_path / "3m-episodes.h5"
    subprocess.run([tandem_binary, "dataset", "import-cfcql", str(source), "--out", str(imported)],
                   check=True, capture_output=True)
    data = tandem.read_dataset(str(imported))
    assert data["attrs"]["episode_steps"] == l
    assert data["attrs"]["num_episodes"] == e
    assert data["obs"].shape == (e, l, n, 30) and data["state"].shape == (e, l, 48)
    assert data["actions"].shape == (e, l, n) and data["actions"].dtype == np.int32
    assert data["filled"].shape == (e, l)
    np.testing.assert_array_equal(data["filled"].sum(axis=1), np.array(lengths) + 1)
    np.testing.assert_allclose(data["obs"][1, :13], obs[1, :13])
    np.testing.assert_allclose(data["reward"].sum(axis=1), 0.5 * np.array(lengths))
