"""Shared test set-up: one intra-op thread.

Tiny CPU tests run fastest with one thread, and two threads beside another busy process ran up to
100x slower here (STYLE pitfall 11).
"""

import torch

torch.set_num_threads(1)
