"""The examples of the README's "From Python" section run as written (shortened)."""

import importlib.util
import os
import pathlib
import subprocess
import sys

import pytest

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples"
HAS_TORCH = importlib.util.find_spec("torch") is not None


def run(*args):
    result = subprocess.run([sys.executable, *map(str, args)], capture_output=True, text=True,
                            env=dict(os.environ), timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_random_smac_agent():
    out = run(EXAMPLES / "random_smac_agent.py", "--map", "2s3z", "--episodes", "2")
    assert "episode 1: return" in out and "battles_game': 2" in out


@pytest.mark.skipif(not HAS_TORCH, reason="python3-torch is not installed")
def test_torch_envpool_policy():
    out = run(EXAMPLES / "torch_envpool_policy.py", "--envs", "4", "--steps", "1000")
    assert "4000 env steps" in out and "4 episodes finished" in out


@pytest.mark.skipif(not HAS_TORCH, reason="python3-torch is not installed")
def test_dataset_dataloader(tandem_binary, tmp_path):
    path = tmp_path / "random.h5"
    subprocess.run([tandem_binary, "dataset", "random", "--env", "mamujoco/HalfCheetah-6x1",
                    "--steps", "3000", "--out", str(path)], check=True, capture_output=True)
    out = run(EXAMPLES / "dataset_dataloader.py", path, "--batch_size", "500")
    assert "3000 transitions" in out and "6 batches of 500" in out
