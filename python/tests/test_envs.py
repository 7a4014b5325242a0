"""Every registered env through the SMAC API, the PettingZoo parallel API and EnvPool."""

import numpy as np
import pytest

import tandem
from tandem import _tandem

ENVS = tandem.registered_envs()
SMAC = [name for name in ENVS if name.startswith("smac/")]
# Option strings, as `tandem run` configs give them.
WITH_OPTIONS = ["mamujoco/Ant-2x4(obs_mode=khop)",
                "mamujoco/HalfCheetah-6x1(obs_mode=khop,agent_obsk=1)", "smac/3m(episode_limit=30)"]


def test_every_family_is_registered():
    assert any(name.startswith("smac/") for name in ENVS)
    assert "mamujoco/HalfCheetah-6x1" in ENVS


def random_actions(rng, spec, avail):
    """One random joint action: uniform over available actions, or uniform in the box."""
    n = spec["num_agents"]
    if spec["action_type"] == "discrete":
        return np.array([rng.choice(np.flatnonzero(avail[i])) for i in range(n)], dtype=np.int64)
    low = np.asarray(spec["action_low"], dtype=np.float32).reshape(n, -1)
    high = np.asarray(spec["action_high"], dtype=np.float32).reshape(n, -1)
    return rng.uniform(low, high).astype(np.float32)


def smac_api_episode(name, seed, max_steps=40):
    env = tandem.make(name, seed=seed)
    rng = np.random.default_rng(seed)
    obs, state = env.reset()
    info = env.get_env_info()
    trace = [np.concatenate([np.concatenate(obs), state])]
    for _ in range(max_steps):
        avail = np.array(env.get_avail_actions())
        assert avail.shape == (info["n_agents"], info["n_actions"])
        reward, terminated, step_info = env.step(random_actions(rng, env.spec, avail))
        assert isinstance(reward, float) and isinstance(terminated, bool)
        assert set(step_info) >= {"battle_won", "episode_limit"}
        trace.append(np.concatenate([np.concatenate(env.get_obs()), env.get_state(), [reward]]))
        if terminated:
            break
    env.close()
    return trace


@pytest.mark.parametrize("name", ENVS + WITH_OPTIONS)
def test_smac_api_shapes_dtypes_and_seeding(name):
    env = tandem.make(name, seed=3)
    spec = env.spec
    info = env.get_env_info()
    assert info["n_agents"] == spec["num_agents"]
    assert info["n_actions"] == env.get_total_actions() == spec["action_size"]
    assert info["obs_shape"] == env.get_obs_size() == max(spec["agent_obs_sizes"])
    assert info["state_shape"] == env.get_state_size() == spec["state_size"]
    assert info["episode_limit"] == spec["episode_limit"] > 0
    obs, state = env.reset()
    assert len(obs) == spec["num_agents"]
    for i, o in enumerate(obs):
        assert o.dtype == np.float32 and o.shape == (spec["agent_obs_sizes"][i],)
        np.testing.assert_array_equal(o, env.get_obs_agent(i))
    assert state.dtype == np.float32 and state.shape == (spec["state_size"],)
    assert len(env.get_avail_agent_actions(0)) == spec["action_size"]
    env.close()
    # The same seed gives the same episode under the same actions; another seed another one.
    a, b, c = smac_api_episode(name, 5), smac_api_episode(name, 5), smac_api_episode(name, 6)
    assert len(a) == len(b)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    assert len(a) != len(c) or any(not np.array_equal(x, y) for x, y in zip(a, c))


@pytest.mark.parametrize("name", ENVS + WITH_OPTIONS)
def test_parallel_api_shapes_spaces_and_seeding(name):
    env = tandem.parallel_env(name)
    spec = env._spec
    assert env.possible_agents == [f"agent_{i}" for i in range(spec["num_agents"])]

    def episode(seed):
        observations, infos = env.reset(seed=seed)
        assert env.agents == env.possible_agents
        trace = []
        for _ in range(30):
            for agent in env.agents:
                space = env.observation_space(agent)
                assert observations[agent].shape == space.shape
                assert observations[agent].dtype == np.float32
            actions = {}
            for agent in env.agents:
                space = env.action_space(agent)
                if isinstance(space, tandem.Discrete):
                    assert space.n == spec["action_size"]
                    mask = infos[agent]["action_mask"] if spec["has_avail_actions"] else None
                    actions[agent] = space.sample(mask)
                else:
                    i = env.possible_agents.index(agent)
                    assert space.shape == (spec["agent_action_sizes"][i],)
                    actions[agent] = space.sample()
                    assert space.contains(actions[agent])
            observations, rewards, terminations, truncations, infos = env.step(actions)
            trace.append((np.concatenate(list(observations.values())), env.state(),
                          sum(rewards.values())))
            if not env.agents:
                assert all(terminations.values()) or all(truncations.values())
                break
        return trace

    a, b = episode(11), episode(11)
    assert len(a) == len(b)
    for (o1, s1, r1), (o2, s2, r2) in zip(a, b):
        np.testing.assert_array_equal(o1, o2)
        np.testing.assert_array_equal(s1, s2)
        assert r1 == r2
    env.close()


@pytest.mark.parametrize("name", SMAC)
def test_avail_masks_are_honoured_and_unavailable_actions_refused(name):
    env = tandem.make(name, seed=1)
    rng = np.random.default_rng(0)
    env.reset()
    refused = 0
    for _ in range(200):
        avail = np.array(env.get_avail_actions())
        unavailable = np.argwhere(avail == 0)
        if len(unavailable) and refused < 3:
            agent, action = unavailable[rng.integers(len(unavailable))]
            bad = random_actions(rng, env.spec, avail)
            bad[agent] = action
            with pytest.raises(ValueError, match="unavailable|not available"):
                env.step(bad)
            refused += 1
        _, terminated, _ = env.step(random_actions(rng, env.spec, avail))
        if terminated:
            env.reset()
    assert refused > 0


def test_pymarl2_episode_runner_loop():
    """The calls PyMARL2's EpisodeRunner makes, in its order, on the SMAC API."""
    env = tandem.make("smac/3m", seed=7)
    env_info = env.get_env_info()
    n_agents, n_actions = env_info["n_agents"], env_info["n_actions"]
    rng = np.random.default_rng(7)
    returns, wins = [], 0
    for _ in range(3):
        env.reset()
        terminated, episode_return, t = False, 0.0, 0
        while not terminated:
            pre_transition_data = {
                "state": [env.get_state()],
                "avail_actions": [env.get_avail_actions()],
                "obs": [env.get_obs()],
            }
            assert np.array(pre_transition_data["obs"]).shape == (1, n_agents, env_info["obs_shape"])
            avail = np.array(pre_transition_data["avail_actions"][0])
            actions = [int(rng.choice(np.flatnonzero(avail[i]))) for i in range(n_agents)]
            reward, terminated, info = env.step(actions)
            episode_return += reward
            post_transition_data = {
                "actions": actions,
                "reward": [(reward,)],
                "terminated": [(terminated != info.get("episode_limit", False),)],
            }
            assert len(post_transition_data["actions"]) == n_agents
            t += 1
            assert t <= env_info["episode_limit"]
        wins += int(info.get("battle_won", False))
        returns.append(episode_return)
        # The last step's data, as the runner records it.
        _ = {"state": [env.get_state()], "avail_actions": [env.get_avail_actions()],
             "obs": [env.get_obs()]}
    stats = env.get_stats()
    assert stats["battles_game"] == 3 and stats["battles_won"] == wins
    assert len(env.get_avail_agent_actions(0)) == n_actions
    env.close()


@pytest.mark.parametrize("name", ["mamujoco/HalfCheetah-6x1", "smac/3m"])
def test_env_pool_matches_single_envs_and_its_views(name):
    pool = tandem.EnvPool(name, num_envs=4, threads=2, seed=9)
    spec = pool.spec
    pool.reset_all()
    assert pool.obs.shape == (4, spec["num_agents"], spec["obs_size"])
    assert pool.state.shape == (4, spec["state_size"])
    assert not pool.obs.flags.writeable
    rng = np.random.default_rng(1)
    for _ in range(50):
        if spec["action_type"] == "discrete":
            avail = pool.avail_actions
            actions = np.array([[rng.choice(np.flatnonzero(avail[e, i]))
                                 for i in range(spec["num_agents"])] for e in range(4)])
        else:
            actions = rng.uniform(-1, 1, (4, spec["num_agents"], spec["action_size"]))
        pool.step(actions)
        assert pool.reward.shape == (4,) and pool.reward.dtype == np.float32
        assert np.all(np.isfinite(pool.obs))
        pool.reset_finished()
    assert pool.total_steps >= 200


def test_bad_inputs_raise_and_never_crash():
    with pytest.raises(ValueError, match="unknown env family"):
        tandem.make("nowhere/3m")
    with pytest.raises(ValueError, match="option"):
        tandem.make("smac/3m(no_such_option=1)")
    with pytest.raises(ValueError):
        tandem.make("mamujoco/HalfCheetah-6x1(obs_mode=sideways)")
    env = tandem.make("smac/3m")
    with pytest.raises(RuntimeError, match="before reset"):
        env.step([1, 1, 1])
    env.reset()
    with pytest.raises(ValueError, match="expected shape"):
        env.step([1, 1])
    with pytest.raises(TypeError, match="integer dtype"):
        env.step(np.array(["a", "b", "c"]))
    with pytest.raises(ValueError, match="integers"):
        env.step([0.5, 1, 1])
    with pytest.raises(ValueError, match="outside"):
        env.step([99, 1, 1])
    with pytest.raises(ValueError):
        env.get_obs_agent(5)
    env.close()
    for call in (env.reset, env.get_obs, env.get_state, env.get_avail_actions, env.get_env_info,
                 lambda: env.step([1, 1, 1])):
        with pytest.raises(RuntimeError, match="closed"):
            call()
    cheetah = tandem.make("mamujoco/HalfCheetah-6x1")
    cheetah.reset()
    with pytest.raises(ValueError, match="expected shape"):
        cheetah.step(np.zeros((6, 2)))
    with pytest.raises(ValueError, match="non-finite|finite"):
        cheetah.step(np.full((6, 1), np.nan))
    pz = tandem.parallel_env("smac/3m")
    pz.reset(seed=1)
    with pytest.raises(ValueError, match="no action"):
        pz.step({"agent_0": 1})
    with pytest.raises(TypeError):
        pz.step({a: 0.5 for a in pz.agents})
    with pytest.raises(ValueError, match="unknown agent"):
        pz.action_space("agent_9")
    with pytest.raises(ValueError, match="num_envs"):
        tandem.EnvPool("smac/3m", num_envs=0)
    pool = tandem.EnvPool("smac/3m", num_envs=2)
    pool.reset_all()
    with pytest.raises(ValueError, match="expected shape"):
        pool.step(np.zeros((3, 3), dtype=np.int64))
    with pytest.raises(TypeError):
        pool.step(np.zeros((2, 3), dtype=np.float32) + 0.5j)


def test_options_change_the_env():
    assert tandem.make("smac/3m(episode_limit=30)").episode_limit == 30
    omiga = tandem.make("mamujoco/Ant-2x4").get_obs_size()
    khop = tandem.make("mamujoco/Ant-2x4(obs_mode=khop)").get_obs_size()
    assert omiga != khop
