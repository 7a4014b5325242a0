#!/usr/bin/env python3
"""The cost of the Python bindings, measured against the same loops in C++, in one run.

    PYTHONPATH=build/python /usr/bin/python3 python/bench_envs.py [--seconds 3]

Both sides apply the same action rule, so the bindings are measured, not a Python policy: each
agent takes its last available action (discrete), all actions are zero (continuous). Prints the
machine's raw physics rate (one HalfCheetah-6x1 stepped in C++) as the reference beside each
figure, and each ratio on a line ending in "N x C++".
"""

import argparse
import os
import platform
import sys
import time

import numpy as np

# python/ holds the package's sources (no compiled module): import the built one from PYTHONPATH.
_here = os.path.dirname(os.path.abspath(__file__))
sys.path = [p for p in sys.path if os.path.abspath(p or ".") != _here]
import tandem  # noqa: E402
from tandem import _tandem  # noqa: E402


def smac_api_rate(name, seconds):
    """Env steps/s of `name` stepped through the SMAC API with the last-available-action rule."""
    env = tandem.make(name, seed=1)
    env.reset()
    n_actions = env.get_total_actions()
    steps = 0
    start = time.perf_counter()
    end = start + seconds
    while True:
        for _ in range(64):
            avail = np.asarray(env.get_avail_actions(), dtype=np.uint8)
            actions = n_actions - 1 - np.argmax(avail[:, ::-1], axis=1)
            _, terminated, _ = env.step(actions)
            steps += 1
            if terminated:
                env.reset()
        if time.perf_counter() >= end:
            break
    return steps / (time.perf_counter() - start)


def pool_rate(name, num_envs, threads, seconds):
    """Env steps/s of an EnvPool stepped from Python with zero actions."""
    pool = tandem.EnvPool(name, num_envs=num_envs, threads=threads, seed=1)
    spec = pool.spec
    actions = np.zeros((num_envs, spec["num_agents"], spec["action_size"]), dtype=np.float32)
    pool.reset_all()
    first = pool.total_steps
    start = time.perf_counter()
    end = start + seconds
    while time.perf_counter() < end:
        pool.step(actions)
        pool.reset_finished()
    return (pool.total_steps - first) / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="seconds per measurement")
    args = parser.parse_args()
    s = args.seconds
    print(f"tandem python/bench_envs.py: {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores, best of 2 alternating measurements of {s:.0f} s, one thread")
    physics = _tandem.cpp_env_steps_per_second("mamujoco/HalfCheetah-6x1", s)
    print(f"  reference: raw physics, one HalfCheetah-6x1 stepped in C++   {physics:10.0f} steps/s")
    print()
    # Each side measured twice, alternating, best of two: the VM's speed drifts within a run.
    smac_cpp = smac_py = pool_cpp = pool_py = 0.0
    for _ in range(2):
        smac_cpp = max(smac_cpp, _tandem.cpp_env_steps_per_second("smac/3s5z", s))
        smac_py = max(smac_py, smac_api_rate("smac/3s5z", s))
    for _ in range(2):
        pool_cpp = max(pool_cpp, _tandem.cpp_pool_steps_per_second("mamujoco/HalfCheetah-6x1", 16,
                                                                   1, s))
        pool_py = max(pool_py, pool_rate("mamujoco/HalfCheetah-6x1", 16, 1, s))
    print(f"  smac/3s5z stepped in C++                                     {smac_cpp:10.0f} steps/s")
    print(f"  smac/3s5z through the SMAC API from Python                   {smac_py:10.0f} steps/s"
          f"   {smac_py / smac_cpp:.2f} x C++")
    print(f"  EnvPool of 16 HalfCheetah-6x1 stepped in C++                 {pool_cpp:10.0f} steps/s")
    print(f"  EnvPool of 16 HalfCheetah-6x1 from Python                    {pool_py:10.0f} steps/s"
          f"   {pool_py / pool_cpp:.2f} x C++")


if __name__ == "__main__":
    main()
