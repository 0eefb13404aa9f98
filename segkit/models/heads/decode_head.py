"""What every decode head shares: input selection, the per-pixel classifier, the loss and the test-time resize."""
from typing import Dict, List, Mapping, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule

from segkit.models.losses import pixel_accuracy
from segkit.registry import LOSSES, PIXEL_SAMPLERS

from .loss_config import DEFAULT_LOSS, LossCfg, loss_configs


class DecodeHead(BaseModule):
    """Base of the decode heads: subclasses implement :meth:`features` (backbone features -> ``channels`` maps).

    The head then applies dropout and a 1x1 ``classifier`` conv (the paper's final "1x1 convolution" producing
    class logits), and computes its losses on logits upsampled to the label size, so the labels are never
    downsampled (DeepLabv3 section 4.1).

    Args:
        in_channels: channels of the backbone feature(s) selected by ``in_index``.
        channels: channels of the head's last feature map.
        num_classes: number of classes (logit channels); 1 is a sigmoid head for binary data (labels 0 =
            background, 1 = foreground; losses such as ``CrossEntropyLoss(use_sigmoid=True)``, ``DiceLoss``,
            ``TverskyLoss``; the foreground cut is ``model.test_cfg.threshold``).
        in_index: which backbone output(s) the head reads.
        dropout_ratio: dropout before the classifier.
        norm_cfg / act_cfg: normalisation and activation of the head's ConvModules.
        align_corners: ``align_corners`` of every bilinear resize in the head.
        ignore_index: label value ignored by the loss and the training accuracy.
        loss_decode: one loss config or a list; their values are summed under their ``loss_name``. One dict
            without ``type`` changes the default cross-entropy (see :func:`.loss_config.loss_configs`).
        sampler: e.g. ``dict(type='OHEMPixelSampler', thresh=0.7, min_kept=100000)``: the losses see only the
            pixels it keeps (hard-pixel mining).
    """

    #: Key renames applied when loading a state dict: MMSegmentation prefix -> segkit prefix (relative to the
    #: head). Subclasses extend it; see :meth:`_load_from_state_dict`.
    legacy_keys: Mapping[str, str] = {'conv_seg.': 'classifier.'}

    def __init__(self, *, in_channels: Union[int, Sequence[int]], channels: int, num_classes: int,
                 in_index: Union[int, Sequence[int]] = -1, dropout_ratio: float = 0.1,
                 norm_cfg: Optional[dict] = None, act_cfg: Optional[dict] = dict(type='ReLU'),
                 align_corners: bool = False, ignore_index: int = 255,
                 loss_decode: LossCfg = DEFAULT_LOSS, sampler: Optional[dict] = None,
                 init_cfg: Optional[dict] = dict(type='Normal', std=0.01, override=dict(name='classifier'))):
        super().__init__(init_cfg=init_cfg)
        if num_classes < 1:
            raise ValueError(f'{type(self).__name__}: num_classes must be >= 1, got {num_classes}')
        self.in_channels = in_channels
        self.channels = channels
        self.num_classes = num_classes
        self.in_index = in_index
        self.norm_cfg = norm_cfg
        self.act_cfg = act_cfg
        self.align_corners = align_corners
        self.ignore_index = ignore_index
        loss_cfgs = loss_configs(type(self).__name__, loss_decode)
        self.losses = nn.ModuleList(LOSSES.build({'ignore_index': ignore_index, **cfg}) for cfg in loss_cfgs)
        for index, loss in enumerate(self.losses):
            if hasattr(loss, 'check_output_channels'):  # segkit's losses; a user's own loss checks itself
                loss.check_output_channels(num_classes, f'{type(self).__name__}.loss_decode'
                                           + (f'[{index}]' if len(self.losses) > 1 else ''))
        self.sampler = PIXEL_SAMPLERS.build({'ignore_index': ignore_index, **sampler}) if sampler else None
        self.dropout = nn.Dropout2d(dropout_ratio) if dropout_ratio > 0 else nn.Identity()
        self.classifier = nn.Conv2d(channels, num_classes, kernel_size=1)

    def select_inputs(self, inputs: Sequence[torch.Tensor]) -> Union[torch.Tensor, List[torch.Tensor]]:
        if isinstance(self.in_index, int):
            return inputs[self.in_index]
        return [inputs[i] for i in self.in_index]

    def features(self, inputs: Sequence[torch.Tensor]) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, inputs: Sequence[torch.Tensor]) -> torch.Tensor:
        """Logits at the resolution of the head's feature map."""
        return self.classifier(self.dropout(self.features(inputs)))

    def loss(self, inputs: Sequence[torch.Tensor], batch_data_samples: Sequence,
             train_cfg: Optional[dict] = None) -> Dict[str, torch.Tensor]:
        return self.loss_by_labels(inputs, stack_labels(batch_data_samples))

    def loss_by_labels(self, inputs: Sequence[torch.Tensor], labels: torch.Tensor) -> Dict[str, torch.Tensor]:
        """The losses of the features ``inputs`` against the ``N x H x W`` int64 ``labels``: tensors only, so
        a compiled training step (``train_cfg.compile``) traces it without graph breaks."""
        return self.loss_by_logits(self.forward(inputs), labels)

    def loss_by_logits(self, logits: torch.Tensor, labels: torch.Tensor) -> Dict[str, torch.Tensor]:
        logits = F.interpolate(logits, size=labels.shape[-2:], mode='bilinear', align_corners=self.align_corners)
        losses: Dict[str, torch.Tensor] = {}
        loss_labels = labels
        if self.sampler is not None:
            loss_labels = labels.masked_fill(~self.sampler.sample(logits.detach(), labels), self.ignore_index)
        for loss_fn in self.losses:
            value = loss_fn(logits, loss_labels)
            losses[loss_fn.loss_name] = losses.get(loss_fn.loss_name, 0) + value
        losses['acc_seg'] = pixel_accuracy(logits.detach(), labels, self.ignore_index)
        return losses

    def predict(self, inputs: Sequence[torch.Tensor], batch_img_metas: List[dict]) -> torch.Tensor:
        """Logits resized to the (padded) network input size."""
        return self.resize_to_input(self.forward(inputs), batch_img_metas)

    def resize_to_input(self, logits: torch.Tensor, batch_img_metas: List[dict]) -> torch.Tensor:
        size = batch_img_metas[0].get('batch_input_shape') or batch_img_metas[0]['img_shape']
        return F.interpolate(logits, size=tuple(size[:2]), mode='bilinear', align_corners=self.align_corners)

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        rename_legacy_keys(state_dict, prefix, self.legacy_keys)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)


def stack_labels(data_samples: Sequence) -> torch.Tensor:
    """The ``gt_sem_seg`` maps of a batch's data samples as one ``N x H x W`` int64 tensor."""
    return torch.stack([s.gt_sem_seg.data for s in data_samples]).squeeze(1).long()


def rename_legacy_keys(state_dict: dict, prefix: str, renames: Mapping[str, str]) -> Tuple[str, ...]:
    """Rename ``prefix + old...`` keys to ``prefix + new...`` in place; returns the renamed old keys.

    Runs before a module's children load, so MMSegmentation checkpoints load into segkit modules whose
    structure is cleaner than MMSeg's flat attribute layout (``load_from``, ``tools/test.py``, ``init_model``).
    """
    renamed = []
    for key in list(state_dict):
        if not key.startswith(prefix):
            continue
        local = key[len(prefix):]
        for old, new in renames.items():
            if local.startswith(old):
                state_dict[prefix + new + local[len(old):]] = state_dict.pop(key)
                renamed.append(key)
                break
    return tuple(renamed)
