"""Accuracy of a classifier over a batch iterator."""

from typing import Iterable

import torch
from torch import nn

# Evaluation batch size: on the CPU batch 64 evaluated a DARTS network in 0.36x the time of batch 256
# (channels_last, issue 9; benchmarks/README.md). Eval-mode BatchNorm makes the logits independent of it.
EVAL_BATCH = 64


@torch.inference_mode()
def accuracy(model: nn.Module, batches: Iterable[tuple[torch.Tensor, torch.Tensor]], device: torch.device) -> float:
    """Top-1 accuracy in percent of ``model`` on ``batches`` of (images (B, C, H, W), labels (B,)).

    The model is put in eval mode for the pass and restored to its previous mode afterwards. Runs in
    float32 under ``torch.inference_mode``; the count stays on the device until the end (no sync per batch).
    """
    was_training = model.training
    model.eval()
    correct = torch.zeros((), dtype=torch.int64, device=device)
    total = 0
    for x, y in batches:
        logits = model(x.to(device))
        correct += (logits.argmax(dim=1) == y.to(device)).sum()
        total += y.numel()
    model.train(was_training)
    if total == 0:
        raise ValueError("accuracy() got no batches: the evaluation split is empty")
    return 100.0 * correct.item() / total
