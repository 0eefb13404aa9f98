"""Turns a list of images (and labels) from the dataloader into one normalised, padded batch."""
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


def resolve_bgr_to_rgb(bgr_to_rgb: Optional[bool], num_channels: int) -> bool:
    """``bgr_to_rgb`` as the preprocessor applies it: unset means True for 3 bands (``LoadImageFromFile``'s BGR)
    and False for any other count (``LoadMultiBandImage``'s file order)."""
    return num_channels == 3 if bgr_to_rgb is None else bool(bgr_to_rgb)


def model_channel_order(num_channels: int, bgr_to_rgb: bool) -> List[int]:
    """The loaded image's channel index at each model input channel: the first three reversed with
    ``bgr_to_rgb`` (BGR -> RGB; a fourth and further bands stay in place), else unchanged."""
    order = list(range(num_channels))
    if bgr_to_rgb:
        order[:3] = order[2::-1]
    return order


@DATA_PREPROCESSORS.register_module()
class SegDataPreProcessor(BaseDataPreprocessor):
    """Mean/std normalisation, BGR->RGB, and bottom/right padding to ``size`` or a multiple of ``size_divisor``.

    Images of any band count and dtype (uint8, uint16, float32: ``LoadMultiBandImage``) take one ``mean`` / ``std``
    value per band, in the model's channel order; an image with another number of channels is an error.
    ``bgr_to_rgb`` (default: True for 3 bands, as ``LoadImageFromFile`` gives BGR; False otherwise, as
    ``LoadMultiBandImage`` gives bands in file order) reverses the first three channels.

    Images are padded with ``pad_val`` *after* normalisation (0 = the mean colour, as the DeepLab code pads
    crops) and labels with ``seg_pad_val`` (the ignore index), so padding never enters the loss. Each sample's
    ``padding_size`` (left, right, top, bottom) and ``batch_input_shape`` are recorded for the segmentor to undo
    the padding at test time. ``test_cfg=dict(size=..., size_divisor=...)`` sets test-time padding (default:
    the training ``size_divisor``; never the training crop ``size``). The memory layout is the segmentor's
    (``model.channels_last``), not the preprocessor's.
    """

    def __init__(self, *, mean: Sequence[float] = (123.675, 116.28, 103.53),
                 std: Sequence[float] = (58.395, 57.12, 57.375), bgr_to_rgb: Optional[bool] = None,
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
        if not len(mean) or len(mean) != len(std):
            raise ValueError(f'model.data_preprocessor: mean and std need one value per image band, as many of each, '
                             f'got mean={list(mean)} std={list(std)}')
        if any(not v > 0 for v in std):
            raise ValueError(f'model.data_preprocessor.std={list(std)}: every band needs a std > 0')
        bgr_to_rgb = resolve_bgr_to_rgb(bgr_to_rgb, len(mean))
        if bgr_to_rgb and len(mean) < 3:
            raise ValueError(f'model.data_preprocessor.bgr_to_rgb=True swaps the first three channels, but mean/std '
                             f'give {len(mean)} band(s): set bgr_to_rgb=False')
        self.register_buffer('mean', torch.tensor(mean, dtype=torch.float32).view(-1, 1, 1), persistent=False)
        self.register_buffer('std', torch.tensor(std, dtype=torch.float32).view(-1, 1, 1), persistent=False)
        self.bgr_to_rgb = bool(bgr_to_rgb)
        self.channel_order = model_channel_order(len(mean), self.bgr_to_rgb)
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

        bands = self.mean.shape[0]
        batch = images[0].new_full((len(images), bands, h, w), self.pad_val, dtype=torch.float32)
        for i, img in enumerate(images):
            if img.dim() != 3 or img.shape[0] != bands:
                raise ValueError(self._band_mismatch(img, samples[i] if samples is not None else None))
            img = img[self.channel_order] if self.bgr_to_rgb else img
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

    def _band_mismatch(self, img: torch.Tensor, sample) -> str:
        path = sample.metainfo.get('img_path') if sample is not None else None
        shape = tuple(img.shape)
        return (f"SegDataPreProcessor: image {path or ''} has shape {shape} (CxHxW) but "
                f'model.data_preprocessor.mean/std give {self.mean.shape[0]} bands; give one mean and std per band '
                '(tools/analysis_tools/band_stats.py CONFIG computes them) and the backbone in_channels to match')

    def _pad_label(self, label: torch.Tensor, h: int, w: int) -> torch.Tensor:
        lh, lw = label.shape[-2:]
        if (lh, lw) == (h, w):
            return label
        out = label.new_full((label.shape[0], h, w), self.seg_pad_val)
        out[:, :lh, :lw] = label
        return out
