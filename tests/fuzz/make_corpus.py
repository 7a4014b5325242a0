#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpora into tests/fuzz/corpus/ (committed; rerun after a format
change). Needs the build tree: PYTHONPATH=build/python /usr/bin/python3 tests/fuzz/make_corpus.py
"""

import os
import shutil
import struct
import zlib

import numpy as np

from tandem._proto import tensor_pb2, transition_pb2
from tandem import replay

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(os.path.dirname(HERE))


def write(target, name, data):
    directory = os.path.join(HERE, "corpus", target)
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, name), "wb") as f:
        f.write(data)


def transitions(rows, discrete):
    """A valid batch for the validator target's schemas (2 agents, obs 3, state 4)."""
    batch = {
        "obs": np.zeros((rows, 2, 3)), "state": np.zeros((rows, 4)), "reward": np.ones(rows),
        "terminated": np.zeros(rows), "truncated": np.zeros(rows),
        "next_obs": np.zeros((rows, 2, 3)), "next_state": np.zeros((rows, 4)),
    }
    if discrete:
        batch["actions"] = np.ones((rows, 2), np.int32)
        batch["avail_actions"] = np.ones((rows, 2, 4))
        batch["next_avail_actions"] = np.ones((rows, 2, 4))
    else:
        batch["actions"] = np.full((rows, 2, 2), 0.5, np.float32)
    return replay.to_batch(batch)


def episodes():
    """One valid episode of 2 steps in the episode layout (L = 5)."""
    e, l = 1, 5
    filled = np.zeros((e, l)); filled[0, :3] = 1
    reward = np.zeros((e, l)); reward[0, :2] = 1
    terminated = np.zeros((e, l)); terminated[0, 1] = 1
    actions = np.zeros((e, l, 2), np.int32); actions[0, :2] = 1
    return replay.to_batch({
        "obs": np.zeros((e, l, 2, 3)), "state": np.zeros((e, l, 4)), "actions": actions,
        "avail_actions": np.ones((e, l, 2, 4)), "reward": reward, "terminated": terminated,
        "filled": filled,
    })


def record(kind, payload):
    header = struct.pack("<4sIQI", b"TNDR", kind, len(payload), zlib.crc32(payload))
    return header + struct.pack("<I", zlib.crc32(header)) + payload


def main():
    shutil.rmtree(os.path.join(HERE, "corpus"), ignore_errors=True)
    # validator: schema byte + serialized batch.
    write("validator", "continuous", b"\x00" + transitions(3, False).SerializeToString())
    write("validator", "discrete", b"\x01" + transitions(3, True).SerializeToString())
    write("validator", "episode", b"\x02" + episodes().SerializeToString())
    # wal_reader: a log with the spec record and two batches.
    spec = transition_pb2.TransitionSpec(num_agents=2, obs_size=3, state_size=4,
                                         action_type=transition_pb2.ACTION_TYPE_CONTINUOUS,
                                         action_size=2)
    log = record(1, spec.SerializeToString())
    for _ in range(2):
        log += record(2, transitions(2, False).SerializeToString())
    write("wal_reader", "log", log)
    write("wal_reader", "snapshot", log + record(3, b"4"))
    # dataset_reader: recipes (the target builds each HDF5 file from its input): all keys and
    # attributes present with small dims, and a sparser mix.
    write("dataset_reader", "all-present", bytes([1, 3, 2, 1, 1, 0]) * 200)
    write("dataset_reader", "mixed", bytes(range(256)) * 4)
    # config_parser: shipped configs and an override.
    for name in ("quickstart.textproto", "smac_3m_qmix.textproto"):
        with open(os.path.join(SOURCE, "configs", name), "rb") as f:
            write("config_parser", name, f.read())
    write("config_parser", "override", b"replay.offline_ratio=0.25")
    write("config_parser", "message-override", b'env={name: "smac/3m"}')


if __name__ == "__main__":
    main()
