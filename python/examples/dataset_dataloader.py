#!/usr/bin/env python3
"""A Tandem dataset in a PyTorch DataLoader: read once into NumPy, then batched and shuffled.

    build/tandem dataset random --env mamujoco/HalfCheetah-6x1 --steps 20000 --out /tmp/random.h5
    PYTHONPATH=build/python /usr/bin/python3 python/examples/dataset_dataloader.py /tmp/random.h5

Needs Debian's python3-torch.
"""

import argparse

import torch

import tandem


class TransitionDataset(torch.utils.data.Dataset):
    """Transitions of a Tandem dataset as dicts of tensors (shared with the NumPy arrays)."""

    def __init__(self, path):
        data = tandem.read_dataset(path)
        self.attrs = data.pop("attrs")
        data.pop("won", None)
        self.columns = {name: torch.from_numpy(array) for name, array in data.items()}
        self.size = self.attrs["num_transitions"]

    def __len__(self):
        return self.size

    def __getitem__(self, index):
        return {name: column[index] for name, column in self.columns.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", help="a Tandem HDF5 dataset")
    parser.add_argument("--batch_size", type=int, default=256)
    args = parser.parse_args()

    dataset = TransitionDataset(args.path)
    attrs = dataset.attrs
    print(f"{args.path}: {attrs['env_name']}, {attrs['num_transitions']} transitions, "
          f"{attrs['num_episodes']} episodes, return {attrs['return_mean']:.1f}")
    loader = torch.utils.data.DataLoader(dataset, batch_size=args.batch_size, shuffle=True,
                                         generator=torch.Generator().manual_seed(0))
    batches = 0
    reward_sum = 0.0
    for batch in loader:
        batches += 1
        reward_sum += float(batch["reward"].sum())
    first = next(iter(loader))
    print(f"{batches} batches of {args.batch_size}; obs batch {tuple(first['obs'].shape)}, "
          f"actions {tuple(first['actions'].shape)}; mean reward {reward_sum / len(dataset):.3f}")


if __name__ == "__main__":
    main()
