import pytest
import torch
from torch import nn
from torchvision.models import resnet18

from lib.meta.resnet_stem import ResNet18Stem, resnet18_features


@pytest.fixture(autouse=True)
def one_thread():
    torch.set_num_threads(1)


def test_stem_maps_omniglot_images_to_omniglot_shape():
    stem = ResNet18Stem().eval()
    with torch.no_grad():
        assert stem(torch.randn(2, 1, 28, 28)).shape == (2, 1, 28, 28)
    assert not stem.pretrained


def test_features_are_resnet18_up_to_layer2():
    features = resnet18_features()
    assert [type(m).__name__ for m in features] == ["Conv2d", "BatchNorm2d", "ReLU", "MaxPool2d", "Sequential",
                                                   "Sequential"]
    with torch.no_grad():
        assert features.eval()(torch.randn(1, 3, 224, 224)).shape == (1, 128, 28, 28)


def test_weights_are_loaded_from_a_path(tmp_path):
    torch.manual_seed(1)
    source = resnet18(weights=None)
    path = tmp_path / "resnet18.pth"
    torch.save(source.state_dict(), path)
    stem = ResNet18Stem(weights=path)
    assert stem.pretrained
    torch.testing.assert_close(stem.features[0].weight, source.conv1.weight)
    torch.testing.assert_close(stem.features[5][1].conv2.weight, source.layer2[1].conv2.weight)
    torch.testing.assert_close(stem.features[1].running_var, source.bn1.running_var)


def test_missing_weights_name_the_parameter(tmp_path):
    with pytest.raises(FileNotFoundError, match="weights="):
        ResNet18Stem(weights=tmp_path / "absent.pth")


def test_a_state_dict_of_another_network_is_rejected(tmp_path):
    path = tmp_path / "other.pth"
    torch.save(nn.Linear(2, 2).state_dict(), path)
    with pytest.raises(RuntimeError, match="state_dict"):
        ResNet18Stem(weights=path)
