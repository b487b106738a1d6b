"""Accuracy of a classifier over a batch iterator."""

from typing import Iterable

import torch
from torch import nn


@torch.no_grad()
def accuracy(model: nn.Module, batches: Iterable[tuple[torch.Tensor, torch.Tensor]], device: torch.device) -> float:
    """Top-1 accuracy in percent of ``model`` on ``batches`` of (images (B, C, H, W), labels (B,)).

    The model is put in eval mode for the pass and restored to its previous mode afterwards.
    """
    was_training = model.training
    model.eval()
    correct = total = 0
    for x, y in batches:
        logits = model(x.to(device))
        correct += (logits.argmax(dim=1).cpu() == y).sum().item()
        total += y.numel()
    model.train(was_training)
    if total == 0:
        raise ValueError("accuracy() got no batches: the evaluation split is empty")
    return 100.0 * correct / total
