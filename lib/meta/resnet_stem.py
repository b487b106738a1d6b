"""LAMANAS Sec. 5's ResNet-18 feature stem, as the authors' code builds it (INCONSISTENCIES #18).

The report says (N, 3, 224, 244), a 1x1 convolution and "the first four pre-trained layers of ResNet-18".
The code (``--pretrained pretrained``) does, in front of the usual DARTS stem:

    (B, 1, 28, 28) --Upsample x8 (nearest, nn.Upsample's default)--> (B, 1, 224, 224)
      --Conv2d(1, 3, 5, padding=2)--> (B, 3, 224, 224)
      --resnet18.children()[:-4] = conv1, bn1, relu, maxpool, layer1, layer2--> (B, 128, 28, 28)
      --Conv2d(128, 1, 5, padding=2)--> (B, 1, 28, 28)

so the search network behind it is unchanged. The ResNet part is meant to carry ImageNet weights
(``resnet18(pretrained=True)``). Nothing here downloads them: pass ``weights``, a path to a torchvision
resnet18 state dict; without it the ResNet part keeps torchvision's random initialisation and
:attr:`ResNet18Stem.pretrained` is False, which is NOT the report's setting.
"""

import os
from pathlib import Path

import torch
from torch import Tensor, nn
from torchvision.models import resnet18

RESNET_CHILDREN_KEPT = 6  # conv1, bn1, relu, maxpool, layer1, layer2 = children()[:-4]


def load_resnet18_state(weights: str | os.PathLike) -> dict[str, Tensor]:
    """A torchvision resnet18 state dict from a local file (tensors only, loaded on the CPU)."""
    path = Path(weights)
    if not path.is_file():
        raise FileNotFoundError(
            f"weights={str(weights)!r}: no such file. Pass `weights` as the path to a torchvision resnet18 "
            "ImageNet state dict (e.g. resnet18-f37072fd.pth), or weights=None for a random initialisation."
        )
    return torch.load(path, map_location="cpu", weights_only=True)


def resnet18_features(weights: str | os.PathLike | None = None) -> nn.Sequential:
    """conv1 .. layer2 of torchvision's resnet18: (B, 3, 224, 224) -> (B, 128, 28, 28).

    With ``weights`` the full resnet18 state dict is loaded strictly first (a wrong file fails loudly).
    """
    net = resnet18(weights=None)
    if weights is not None:
        net.load_state_dict(load_resnet18_state(weights))
    return nn.Sequential(*list(net.children())[:RESNET_CHILDREN_KEPT])


class ResNet18Stem(nn.Module):
    """(B, 1, 28, 28) -> (B, 1, 28, 28) through 224x224 and ResNet-18's first stages (module docstring)."""

    def __init__(self, weights: str | os.PathLike | None = None) -> None:
        super().__init__()
        self.pretrained = weights is not None
        self.upsample = nn.Upsample(scale_factor=8)
        self.to_rgb = nn.Conv2d(1, 3, 5, padding=2)
        self.features = resnet18_features(weights)
        self.to_gray = nn.Conv2d(128, 1, 5, padding=2)

    def forward(self, x: Tensor) -> Tensor:
        return self.to_gray(self.features(self.to_rgb(self.upsample(x))))
