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
