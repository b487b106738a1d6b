"""Accuracy of a classifier over a batch iterator."""

from typing import Iterable

import torch
from torch import nn

# Evaluation batch size per device type. CPU: batch 64 evaluated a DARTS network in 0.36x the time of batch
# 256 (channels_last, issue 9). CUDA is launch-bound: on an H200 a pass over 1,024 images of the paper-size
# derived network took 0.121 / 0.063 / 0.032 / 0.021 / 0.021 s at batch 64 / 128 / 256 / 512 / 1024
# (benchmarks/gpu/eval_batch_sweep.json). Eval-mode BatchNorm makes the logits independent of the batch size.
EVAL_BATCH = {"cpu": 64, "cuda": 512}


def eval_batch(device: torch.device) -> int:
    """The evaluation batch size for ``device`` (:data:`EVAL_BATCH`; other device types use the CUDA value)."""
    return EVAL_BATCH.get(torch.device(device).type, EVAL_BATCH["cuda"])


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
