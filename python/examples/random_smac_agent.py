#!/usr/bin/env python3
"""A random agent on a SMAC-like map through the SMAC API (the loop PyMARL-style code runs).

    PYTHONPATH=build/python /usr/bin/python3 python/examples/random_smac_agent.py --map 3m
"""

import argparse

import numpy as np

from tandem.smac import StarCraft2Env


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--map", default="3m", help="SMAC-like map, e.g. 3m, 2s3z, 3s5z")
    parser.add_argument("--episodes", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    env = StarCraft2Env(map_name=args.map, seed=args.seed)
    info = env.get_env_info()
    print(f"{args.map}: {info['n_agents']} agents, {info['n_actions']} actions, obs "
          f"{info['obs_shape']}, state {info['state_shape']}, limit {info['episode_limit']}")
    rng = np.random.default_rng(args.seed)
    for episode in range(args.episodes):
        env.reset()
        terminated, episode_return, steps = False, 0.0, 0
        while not terminated:
            actions = []
            for agent_id in range(info["n_agents"]):
                avail = env.get_avail_agent_actions(agent_id)
                actions.append(int(rng.choice(np.flatnonzero(avail))))
            reward, terminated, step_info = env.step(actions)
            episode_return += reward
            steps += 1
        print(f"episode {episode}: return {episode_return:.2f}, {steps} steps, "
              f"won {step_info['battle_won']}")
    print("stats:", env.get_stats())
    env.close()


if __name__ == "__main__":
    main()
