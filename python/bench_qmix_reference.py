#!/usr/bin/python3
"""The PyTorch QMIX learner that `tandem bench qmix` measures itself against, on this machine.

The issue's reference is pymarl2's `nq_learner` with its QMIX config, measured on another machine.
This script re-creates that learner's update step here, with the same structure, so the ratio does
not rest on scaling by matmul rates alone:

- the agent is fc 64 -> ReLU -> GRUCell 64 -> fc K, called once per time step on inputs built per
  step (obs, last action one-hot, agent id one-hot), for the learning and the target agents;
- double-Q: the learning agents' greedy available action, evaluated by the target agents;
- the hypernetwork mixer (embed 32, hypernet 64, |W|, ELU) for the learning and the target mixers;
- TD(lambda = 0.6) targets by the backward recursion, masked squared TD error, Adam 1e-3, gradient
  norm clipped at 10.

Batches are synthetic episodes shaped like the map (the shapes `tandem bench qmix` passes on the
command line), padded to the episode limit + 1 and cut to the longest episode before timing, as
pymarl2's run loop does. Prints one line per measurement:

    reference <map> <batch> <updates/s>

Needs Debian's python3-torch; runs nothing else.
"""

import argparse
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class RecurrentAgent(nn.Module):
    def __init__(self, input_size, actions, hidden=64):
        super().__init__()
        self.hidden = hidden
        self.fc1 = nn.Linear(input_size, hidden)
        self.rnn = nn.GRUCell(hidden, hidden)
        self.fc2 = nn.Linear(hidden, actions)

    def forward(self, inputs, h):
        rows = inputs.shape[0] * inputs.shape[1]
        x = F.relu(self.fc1(inputs.reshape(rows, -1)), inplace=True)
        h = self.rnn(x, h.reshape(rows, self.hidden))
        return self.fc2(h).view(inputs.shape[0], inputs.shape[1], -1), h


class HyperMixer(nn.Module):
    def __init__(self, agents, state_size, embed=32, hypernet=64):
        super().__init__()
        self.agents, self.embed = agents, embed
        self.w1 = nn.Sequential(nn.Linear(state_size, hypernet), nn.ReLU(inplace=True),
                                nn.Linear(hypernet, agents * embed))
        self.b1 = nn.Linear(state_size, embed)
        self.w2 = nn.Sequential(nn.Linear(state_size, hypernet), nn.ReLU(inplace=True),
                                nn.Linear(hypernet, embed))
        self.b2 = nn.Sequential(nn.Linear(state_size, embed), nn.ReLU(inplace=True),
                                nn.Linear(embed, 1))

    def forward(self, q, state):
        b, t = q.shape[0], q.shape[1]
        q = q.reshape(b * t, 1, self.agents)
        s = state.reshape(b * t, -1)
        w1 = self.w1(s).view(-1, self.agents, self.embed).abs()
        b1 = self.b1(s).view(-1, 1, self.embed)
        w2 = self.w2(s).view(-1, self.embed, 1).abs()
        b2 = self.b2(s).view(-1, 1, 1)
        hidden = F.elu(torch.matmul(q, w1) + b1)
        return (torch.matmul(hidden, w2) + b2).view(b, t, 1)


def unroll(agent, batch, agents):
    b, length = batch["obs"].shape[0], batch["obs"].shape[1]
    ids = torch.eye(agents).unsqueeze(0).expand(b, -1, -1)
    h = torch.zeros(b * agents, agent.hidden)
    outs = []
    for t in range(length):
        last = (torch.zeros_like(batch["onehot"][:, t]) if t == 0 else batch["onehot"][:, t - 1])
        inputs = torch.cat([batch["obs"][:, t], last, ids], dim=-1)
        q, h = agent(inputs, h)
        outs.append(q)
    return torch.stack(outs, dim=1)


def td_lambda_targets(reward, terminated, mask, target_q, gamma, lam):
    ret = target_q.new_zeros(target_q.shape)
    ret[:, -1] = target_q[:, -1] * (1 - terminated.sum(dim=1))
    for t in range(ret.shape[1] - 2, -1, -1):
        ret[:, t] = lam * gamma * ret[:, t + 1] + mask[:, t] * (
            reward[:, t] + (1 - lam) * gamma * target_q[:, t + 1] * (1 - terminated[:, t]))
    return ret[:, :-1]


class Learner:
    def __init__(self, agents, obs_size, state_size, actions):
        self.agent = RecurrentAgent(obs_size + actions + agents, actions)
        self.mixer = HyperMixer(agents, state_size)
        self.target_agent = RecurrentAgent(obs_size + actions + agents, actions)
        self.target_mixer = HyperMixer(agents, state_size)
        self.target_agent.load_state_dict(self.agent.state_dict())
        self.target_mixer.load_state_dict(self.mixer.state_dict())
        self.params = list(self.agent.parameters()) + list(self.mixer.parameters())
        self.optimiser = torch.optim.Adam(self.params, lr=1e-3)
        self.agents = agents

    def update(self, batch):
        reward = batch["reward"][:, :-1]
        actions = batch["actions"][:, :-1]
        terminated = batch["terminated"][:, :-1]
        mask = batch["filled"][:, :-1].clone()
        mask[:, 1:] = mask[:, 1:] * (1 - terminated[:, :-1])
        q = unroll(self.agent, batch, self.agents)
        chosen = torch.gather(q[:, :-1], dim=3, index=actions.unsqueeze(-1)).squeeze(3)
        with torch.no_grad():
            target_q = unroll(self.target_agent, batch, self.agents)
            detached = q.clone().detach()
            detached[batch["avail"] == 0] = -9999999
            best = detached.max(dim=3, keepdim=True)[1]
            target_max = torch.gather(target_q, 3, best).squeeze(3)
            target_max = self.target_mixer(target_max, batch["state"])
            targets = td_lambda_targets(reward, terminated, mask, target_max, 0.99, 0.6)
        q_tot = self.mixer(chosen, batch["state"][:, :-1])
        td = q_tot - targets.detach()
        masked = 0.5 * td.pow(2) * mask
        loss = masked.sum() / mask.sum()
        self.optimiser.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.params, 10)
        self.optimiser.step()
        return loss.item()


def synthetic_batch(generator, batch, limit, agents, obs_size, state_size, actions, lo, hi):
    entries = limit + 1
    lengths = torch.randint(lo, hi + 1, (batch,), generator=generator).clamp(max=entries - 1)
    b = {
        "obs": torch.randn(batch, entries, agents, obs_size, generator=generator),
        "state": torch.randn(batch, entries, state_size, generator=generator),
        "actions": torch.randint(actions, (batch, entries, agents), generator=generator),
        "avail": torch.ones(batch, entries, agents, actions),
        "reward": torch.randn(batch, entries, 1, generator=generator),
        "terminated": torch.zeros(batch, entries, 1),
        "filled": torch.zeros(batch, entries, 1),
    }
    for e in range(batch):
        n = int(lengths[e])
        b["filled"][e, :n + 1] = 1
        b["terminated"][e, n - 1] = 1
    b["onehot"] = F.one_hot(b["actions"], actions).float()
    cut = int(b["filled"].sum(dim=1).max())  # pymarl2's max_t_filled
    return {k: v[:, :cut] for k, v in b.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument(
        "--shape", action="append", required=True,
        help="map,batch,episode_limit,agents,obs,state,actions,min_length,max_length")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    for shape in args.shape:
        fields = shape.split(",")
        if len(fields) != 9:
            sys.exit(f"--shape {shape!r}: expected 9 comma-separated fields")
        name = fields[0]
        batch, limit, agents, obs, state, actions, lo, hi = (int(f) for f in fields[1:])
        generator = torch.Generator().manual_seed(1)
        learner = Learner(agents, obs, state, actions)
        pool = [synthetic_batch(generator, batch, limit, agents, obs, state, actions, lo, hi)
                for _ in range(8)]
        for i in range(3):
            learner.update(pool[i])
        updates, start = 0, time.perf_counter()
        while time.perf_counter() - start < args.seconds or updates < 3:
            learner.update(pool[updates % len(pool)])
            updates += 1
        print(f"reference {name} {batch} {updates / (time.perf_counter() - start):.4f}",
              flush=True)


if __name__ == "__main__":
    main()
