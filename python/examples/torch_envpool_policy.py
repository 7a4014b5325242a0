#!/usr/bin/env python3
"""A PyTorch policy stepping a vectorized EnvPool: one forward for every env and agent per step.

    PYTHONPATH=build/python /usr/bin/python3 python/examples/torch_envpool_policy.py

The pool's arrays are read-only views of its C++ buffers ([envs, agents, ...]), wrapped by
torch.from_numpy without a copy; the policy here is an untrained MLP shared by the agents (swap in
your own). Needs Debian's python3-torch.
"""

import argparse
import time
import warnings

import numpy as np
import torch

import tandem


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="mamujoco/HalfCheetah-6x1")
    parser.add_argument("--envs", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2, help="threads stepping the pool")
    parser.add_argument("--steps", type=int, default=1000, help="pool steps")
    args = parser.parse_args()

    pool = tandem.EnvPool(args.env, num_envs=args.envs, threads=args.threads, seed=1)
    spec = pool.spec
    if spec["action_type"] != "continuous":
        raise SystemExit("this example drives continuous-action envs (MA-MuJoCo)")
    n, obs_size, action_size = spec["num_agents"], spec["obs_size"], spec["action_size"]
    policy = torch.nn.Sequential(torch.nn.Linear(obs_size, 64), torch.nn.Tanh(),
                                 torch.nn.Linear(64, action_size), torch.nn.Tanh())
    # torch warns that the views are read-only; the policy only reads them.
    warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
    pool.reset_all()
    returns = np.zeros(args.envs)
    finished = []
    start = time.perf_counter()
    with torch.no_grad():
        for _ in range(args.steps):
            obs = torch.from_numpy(np.asarray(pool.obs))          # [envs, agents, obs], no copy
            actions = policy(obs.reshape(-1, obs_size)).reshape(args.envs, n, action_size)
            pool.step(actions.numpy())
            returns += pool.reward
            done = (pool.terminated | pool.truncated).astype(bool)
            finished.extend(returns[done])
            returns[done] = 0
            pool.reset_finished()
    seconds = time.perf_counter() - start
    print(f"{args.env} x {args.envs}: {pool.total_steps} env steps in {seconds:.2f} s "
          f"({pool.total_steps / seconds:.0f}/s), {len(finished)} episodes finished"
          + (f", mean return {np.mean(finished):.1f}" if finished else ""))


if __name__ == "__main__":
    main()
