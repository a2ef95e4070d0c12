"""torchvision as an independent witness (where it imports).

torchvision's wheels are built against the CUDA build of torch; with the CPU build it fails to
import (``operator torchvision::nms does not exist``), so this check is skipped there with that
reason, and runs in the tox environment ``py311-torchvision`` (torch 2.14.1 + torchvision 0.29.1).

torchvision's layers pair with ours by position (weighted modules in model order, types and
shapes checked), one layout rule aside: its Linear layers feed our convs standing for them (the
1x1-conv heads; VGG's fc6, a 7x7 conv over the 7x7 map torchvision flattens in the same (C, H, W)
order). Its
numerics differ from the AI Benchmark graphs' in two documented ways, which our twins offer as
options: BN eps 1e-5 (torch's default) and symmetric padding of strided convs.
"""

from __future__ import annotations

import torch
from torch import nn

from twinzoo import catalogue
from twinzoo.network import TorchvisionWitness

# every network's TorchvisionWitness by name, in catalogue order (read at call time: tests replace entries)
TORCHVISION_WITNESSES: dict[str, TorchvisionWitness] = {n.name: n.torchvision_witness for n in catalogue.networks()
                                                        if n.torchvision_witness is not None}


def torchvision_or_reason():
    """(torchvision module, None) or (None, why it cannot be used here)."""
    try:
        import torchvision
    except Exception as exc:  # noqa: BLE001 — any import failure is a reason to skip
        return None, (f"torchvision does not import with torch {torch.__version__} "
                      f"({type(exc).__name__}: {str(exc).splitlines()[0][:120]}); "
                      f"run `tox -e py311-torchvision` for this check")
    return torchvision, None


def _weighted(model: nn.Module) -> list[tuple[str, nn.Module]]:
    from conformance.lib.transfer import own_tensors
    return [(n, m) for n, m in model.named_modules() if n and own_tensors(m)]


Group = tuple[str, dict[str, torch.Tensor]]          # a module's name and its own tensors by leaf


def state_dict_groups(state: dict[str, torch.Tensor]) -> list[Group]:
    """A state dict's tensors grouped by module (``features.0.0.weight`` -> ``features.0.0``), in
    the dict's order, which is the module order of the model that wrote it; BN's
    ``num_batches_tracked`` counters left out."""
    groups: dict[str, dict[str, torch.Tensor]] = {}
    for key, value in state.items():
        if key.endswith("num_batches_tracked"):
            continue
        prefix, _, leaf = key.rpartition(".")
        groups.setdefault(prefix, {})[leaf] = value
    return list(groups.items())


def position_plan(src: list[Group], dst: nn.Module) -> list[tuple[str, str, torch.Tensor, torch.Tensor]]:
    """Pair ``src``'s modules with ``dst``'s weighted modules by position: the same tensor names
    and shapes, one layout rule aside (a Linear's 2-D weight feeds our conv standing for it:
    the 1x1-conv heads, VGG's fc6, whose (C, H, W) flatten order is torch's own). Returns
    (source key, target key, target tensor, value); raises ValueError naming the first pair that
    does not fit (nothing written)."""
    from conformance.lib.transfer import own_tensors
    b = _weighted(dst)
    if len(src) != len(b):
        raise ValueError(f"the source has {len(src)} weighted modules, ours {len(b)}")
    plan = []
    for (na, ta), (nb, mb) in zip(src, b):
        tb = own_tensors(mb)
        if ta.keys() != tb.keys():
            raise ValueError(f"{na} has {sorted(ta)}, {nb} has {sorted(tb)}")
        head = ta["weight"].dim() == 2 and isinstance(mb, nn.Conv2d) if "weight" in ta else False
        for key, value in ta.items():
            target = tb[key]
            if value.shape != target.shape:
                if head and value.numel() == target.numel():
                    value = value.reshape(target.shape)
                else:
                    raise ValueError(f"{na}.{key} {tuple(value.shape)} vs {nb}.{key} {tuple(target.shape)}")
            plan.append((f"{na}.{key}", f"{nb}.{key}", target, value))
    return plan


def copy_by_position(src: nn.Module, dst: nn.Module) -> int:
    """Copy ``src``'s weights into ``dst``, weighted modules paired by position (types checked,
    then ``position_plan``); raises ValueError naming the first pair that differs (nothing
    written)."""
    from conformance.lib.transfer import own_tensors
    a, b = _weighted(src), _weighted(dst)
    for (na, ma), (nb, mb) in zip(a, b):
        head = isinstance(ma, nn.Linear) and isinstance(mb, nn.Conv2d)
        same_kind = isinstance(mb, type(ma)) or isinstance(ma, type(mb))
        if not (same_kind or head):
            raise ValueError(f"{na} ({type(ma).__name__}) does not pair with {nb} ({type(mb).__name__})")
    plan = position_plan([(n, own_tensors(m)) for n, m in a], dst)
    with torch.no_grad():
        for _, _, target, value in plan:
            target.copy_(value)
    return len(a)
