"""Helpers shared by the backbones: freezing stages and keeping BatchNorm statistics fixed."""
from typing import Sequence

from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm


def freeze(modules: Sequence[nn.Module]) -> None:
    """Stop gradients of ``modules`` and put them in eval mode (BN statistics stop updating)."""
    for module in modules:
        module.eval()
        for param in module.parameters():
            param.requires_grad = False


def set_norm_eval(module: nn.Module) -> None:
    """Put every BatchNorm (BN, SyncBN, ...) inside ``module`` in eval mode; its affine weights still train."""
    for m in module.modules():
        if isinstance(m, _BatchNorm):
            m.eval()


def check_indices(name: str, indices: Sequence[int], num_stages: int) -> tuple:
    """Validate stage indices such as ``out_indices`` against the number of stages."""
    indices = tuple(indices)
    if not indices:
        raise ValueError(f'{name} is empty; give at least one stage index in [0, {num_stages - 1}]')
    bad = [i for i in indices if not isinstance(i, int) or not 0 <= i < num_stages]
    if bad:
        raise ValueError(f'{name}={indices} holds {bad}, outside the {num_stages} stages: '
                         f'use indices in [0, {num_stages - 1}]')
    return indices


def check_per_stage(name: str, values: Sequence[int], num_stages: int) -> tuple:
    """Validate a per-stage setting such as ``strides`` / ``dilations``: one positive int per stage."""
    values = tuple(values)
    if len(values) != num_stages:
        raise ValueError(f'{name}={values} has {len(values)} entries but the backbone has {num_stages} stages: '
                         f'give one value per stage')
    if any(not isinstance(v, int) or v < 1 for v in values):
        raise ValueError(f'{name}={values} must hold positive ints')
    return values


def check_frozen_stages(frozen_stages: int, num_stages: int) -> int:
    if not -1 <= frozen_stages <= num_stages:
        raise ValueError(f'frozen_stages={frozen_stages} must be -1 (nothing frozen), 0 (stem only) or up to '
                         f'num_stages={num_stages} (stem and that many stages)')
    return frozen_stages


class StageFreezing:
    """``frozen_stages`` and ``norm_eval`` for backbones made of ``self.stem`` and the stages in
    ``self.stage_names``: frozen parts get no gradients and stay in eval mode through ``train()``."""

    def _freeze_stages(self) -> None:
        if self.frozen_stages >= 0:
            freeze([self.stem] + [getattr(self, n) for n in self.stage_names[:self.frozen_stages]])

    def train(self, mode: bool = True):
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            set_norm_eval(self)
        return self
