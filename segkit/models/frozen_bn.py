"""FrozenBN: BatchNorm whose statistics and affine transform stay fixed, for fine-tuning with small batches
(DeepLabv3, arXiv:1706.05587 section 4.1: after training on trainaug "we then freeze batch normalization
parameters ... and train on the official PASCAL VOC 2012 trainval set")."""
import torch.nn as nn

from segkit.registry import MODELS


@MODELS.register_module('FrozenBN')
class FrozenBatchNorm2d(nn.BatchNorm2d):
    """``norm_cfg=dict(type='FrozenBN')``: normalises with its running statistics in train mode too, and its
    weight and bias are buffers, so no optimizer updates them.

    Registered in segkit's model registry, where mmcv's ``build_norm_layer`` finds it under
    ``default_scope='segkit'`` (configs, tools, :func:`segkit.apis.init_model`, the tests); elsewhere pass the
    class: ``norm_cfg=dict(type=FrozenBatchNorm2d)``.

    Its state dict has BN's keys (``weight``, ``bias``, ``running_mean``, ``running_var``,
    ``num_batches_tracked``), so a checkpoint trained with ``BN`` / ``SyncBN`` loads into it (``load_from``).
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1, **kwargs):
        super().__init__(num_features, eps=eps, momentum=momentum, affine=True, track_running_stats=True, **kwargs)
        weight, bias = self.weight.data, self.bias.data
        del self.weight, self.bias  # parameters -> buffers of the same name
        self.register_buffer('weight', weight)
        self.register_buffer('bias', bias)
        super().train(False)

    def train(self, mode: bool = True) -> 'FrozenBatchNorm2d':
        return super().train(False)
