"""CUDA paths agree with the CPU. Skipped on machines without a GPU; run on the lent GPU machine."""

import copy

import pytest
import torch
import torch.nn.functional as F

from lib.pipeline import results
from lib.darts.architect import Architect
from lib.darts.search import SearchNetwork, SearchSpec
from lib.experiments import darts_cifar10

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
CUDA = torch.device("cuda")


def _pair() -> tuple[SearchNetwork, SearchNetwork, torch.Tensor, torch.Tensor]:
    torch.manual_seed(0)
    cpu = SearchNetwork(SearchSpec(space="darts", C=8, n_classes=10, n_cells=3, n_nodes=2)).double()
    gpu = copy.deepcopy(cpu).to(CUDA)
    return cpu, gpu, torch.randn(6, 3, 16, 16, dtype=torch.float64), torch.randint(0, 10, (6,))


def test_supernet_forward_and_backward_match_cpu():
    cpu, gpu, x, y = _pair()
    F.cross_entropy(cpu(x), y).backward()
    F.cross_entropy(gpu(x.to(CUDA)), y.to(CUDA)).backward()
    for (name, p), q in zip(cpu.named_parameters(), gpu.parameters()):
        torch.testing.assert_close(q.grad.cpu(), p.grad, rtol=1e-6, atol=1e-9, msg=name)


@pytest.mark.parametrize("order", ["first", "second"])
def test_architect_gradient_matches_cpu(order):
    cpu, gpu, x, y = _pair()
    loss = lambda m, a, b: F.cross_entropy(m(a), b)
    batch_cpu, batch_gpu = (x, y), (x.to(CUDA), y.to(CUDA))
    g_cpu, _ = Architect(cpu, loss).gradient(batch_cpu, batch_cpu, lr=0.025, weight_decay=3e-4, order=order, hvp="exact")
    g_gpu, _ = Architect(gpu, loss).gradient(batch_gpu, batch_gpu, lr=0.025, weight_decay=3e-4, order=order, hvp="exact")
    for a, b in zip(g_cpu, g_gpu):
        torch.testing.assert_close(b.cpu(), a, rtol=1e-6, atol=1e-9)


def test_channels_last_gradients_match_nchw_on_cuda():
    """float64, so that TF32 convolutions (on by default for cuDNN) cannot hide a layout bug."""
    torch.manual_seed(0)
    net = SearchNetwork(SearchSpec(space="darts", C=16, n_classes=10, n_cells=3)).to(CUDA, torch.float64)
    other = copy.deepcopy(net).to(memory_format=torch.channels_last)
    x = torch.randn(8, 3, 32, 32, device=CUDA, dtype=torch.float64)
    y = torch.randint(0, 10, (8,), device=CUDA)
    F.cross_entropy(net(x), y).backward()
    F.cross_entropy(other(x.to(memory_format=torch.channels_last)), y).backward()
    for p, q in zip(net.parameters(), other.parameters()):
        torch.testing.assert_close(q.grad, p.grad, rtol=1e-7, atol=1e-10)


def test_smoke_experiment_runs_on_cuda(tmp_path):
    cfg = darts_cifar10.DartsCifarConfig.for_profile("smoke", device="cuda")
    record = results.cached(cfg, darts_cifar10.run, root=tmp_path)
    assert record.provenance["hardware"]["device"].startswith("cuda")
    assert "accelerator" in record.provenance["hardware"]
    assert 0.0 <= record.metrics["test_acc_at_best_val"] <= 100.0


def test_resolving_cuda_turns_tf32_convolutions_off():
    from lib.pipeline.device import resolve_device

    torch.backends.cudnn.allow_tf32 = True  # PyTorch's default
    assert resolve_device("cuda").type == "cuda" and torch.backends.cudnn.allow_tf32 is False


def test_a_lottery_ticket_resumed_from_a_cpu_checkpoint_trains_on_cuda():
    from lib.pruning.lottery import LotteryTicketPruning

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.Flatten(), torch.nn.Linear(16, 2)).to(CUDA)
    pruner = LotteryTicketPruning.one_shot(model, 0.5, prune_epoch=1)
    pruner.on_epoch_end(1, model, torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9))
    saved = {name: value.cpu() if torch.is_tensor(value) else value for name, value in pruner.state_dict().items()}
    saved["mask"] = {name: keep.cpu() for name, keep in saved["mask"].items()}  # as torch.load(map_location="cpu")
    saved["initial_state"] = {name: value.cpu() for name, value in saved["initial_state"].items()}
    resumed = LotteryTicketPruning.one_shot(model, 0.5, prune_epoch=1)
    resumed.load_state_dict(saved, model)
    F.cross_entropy(model(torch.randn(2, 3, 4, 4, device=CUDA)), torch.tensor([0, 1], device=CUDA)).backward()
    resumed.after_step(model)
    for name, parameter in model.named_parameters():
        if name in resumed.mask:
            assert bool((parameter[~resumed.mask[name].to(CUDA)] == 0).all()) and bool((parameter.grad[~resumed.mask[name].to(CUDA)] == 0).all())
