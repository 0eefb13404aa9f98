"""Turns a list of uint8 images (and labels) from the dataloader into one normalised, padded batch."""
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from mmengine.model import BaseDataPreprocessor
from mmengine.structures import PixelData

from segkit.registry import DATA_PREPROCESSORS


def _padded_size(sizes: List[Tuple[int, int]], size: Optional[Sequence[int]], size_divisor: Optional[int]):
    h = max(s[0] for s in sizes)
    w = max(s[1] for s in sizes)
    if size is not None:
        h, w = max(h, size[0]), max(w, size[1])
    if size_divisor:
        h = -(-h // size_divisor) * size_divisor
        w = -(-w // size_divisor) * size_divisor
    return h, w


@DATA_PREPROCESSORS.register_module()
class SegDataPreProcessor(BaseDataPreprocessor):
    """Mean/std normalisation, BGR->RGB, and bottom/right padding to ``size`` or a multiple of ``size_divisor``.

    Images are padded with ``pad_val`` *after* normalisation (0 = the mean colour, as the DeepLab code pads
    crops) and labels with ``seg_pad_val`` (the ignore index), so padding never enters the loss. Each sample's
    ``padding_size`` (left, right, top, bottom) and ``batch_input_shape`` are recorded for the segmentor to undo
    the padding at test time. ``test_cfg=dict(size=..., size_divisor=...)`` sets test-time padding (default:
    the training ``size_divisor``; never the training crop ``size``). The memory layout is the segmentor's
    (``model.channels_last``), not the preprocessor's.
    """

    def __init__(self, *, mean: Sequence[float] = (123.675, 116.28, 103.53),
                 std: Sequence[float] = (58.395, 57.12, 57.375), bgr_to_rgb: bool = True,
                 size: Optional[Sequence[int]] = None, size_divisor: Optional[int] = None, pad_val: float = 0,
                 seg_pad_val: int = 255, test_cfg: Optional[dict] = None, channels_last: Optional[bool] = None):
        super().__init__()
        if channels_last is not None:
            raise ValueError('model.data_preprocessor.channels_last: the memory layout is one switch for training and '
                             'inference: set model.channels_last=True instead')
        unknown = set(test_cfg or {}) - {'size', 'size_divisor'}
        if unknown:
            raise ValueError(f'model.data_preprocessor.test_cfg: unknown keys {sorted(unknown)}; it takes size and '
                             'size_divisor (test-time padding)')
        if len(mean) != 3 or len(std) != 3:
            raise ValueError(f'SegDataPreProcessor: mean and std need 3 values, got mean={mean} std={std}')
        self.register_buffer('mean', torch.tensor(mean, dtype=torch.float32).view(-1, 1, 1), persistent=False)
        self.register_buffer('std', torch.tensor(std, dtype=torch.float32).view(-1, 1, 1), persistent=False)
        self.bgr_to_rgb = bgr_to_rgb
        self.size = size
        self.size_divisor = size_divisor
        self.pad_val = pad_val
        self.seg_pad_val = seg_pad_val
        self.test_cfg = test_cfg or {}

    def forward(self, data: dict, training: bool = False) -> Dict:
        data = self.cast_data(data)
        images = data['inputs']
        samples = data.get('data_samples')
        if isinstance(images, torch.Tensor) and images.dim() == 4:
            images = list(images)
        if training and samples is None:
            raise ValueError('SegDataPreProcessor: training batches need data_samples with gt_sem_seg')
        size, divisor = (self.size, self.size_divisor) if training else (
            self.test_cfg.get('size'), self.test_cfg.get('size_divisor', self.size_divisor))
        h, w = _padded_size([tuple(img.shape[-2:]) for img in images], size, divisor)

        batch = images[0].new_full((len(images), 3, h, w), self.pad_val, dtype=torch.float32)
        for i, img in enumerate(images):
            if img.dim() != 3 or img.shape[0] != 3:
                raise ValueError(f'SegDataPreProcessor: expected 3xHxW images, got shape {tuple(img.shape)}')
            img = img.flip(0) if self.bgr_to_rgb else img
            ih, iw = img.shape[-2:]
            batch[i, :, :ih, :iw] = (img.float() - self.mean) / self.std
        if samples is not None:
            for img, sample in zip(images, samples):
                ih, iw = img.shape[-2:]
                sample.set_metainfo(dict(batch_input_shape=(h, w), pad_shape=(h, w),
                                         padding_size=[0, w - iw, 0, h - ih]))
                if training and 'gt_sem_seg' in sample:  # test labels stay at the original size
                    sample.gt_sem_seg = PixelData(data=self._pad_label(sample.gt_sem_seg.data, h, w))
        return dict(inputs=batch, data_samples=samples)

    def _pad_label(self, label: torch.Tensor, h: int, w: int) -> torch.Tensor:
        lh, lw = label.shape[-2:]
        if (lh, lw) == (h, w):
            return label
        out = label.new_full((label.shape[0], h, w), self.seg_pad_val)
        out[:, :lh, :lw] = label
        return out
