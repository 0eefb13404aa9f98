"""A segmentor whose network is an exported file, so tools/test.py scores what is shipped."""
from pathlib import Path
from typing import List, Optional, Union

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.config import Config, ConfigDict
from mmengine.model import BaseModel
from mmengine.structures import PixelData

from segkit.registry import SEGMENTORS
from segkit.structures import SegDataSample
from .backends import BACKEND_SUFFIXES, load_backend

__all__ = ['BackendSegmentor', 'is_exported_model', 'use_exported_model']


@SEGMENTORS.register_module()
class BackendSegmentor(BaseModel):
    """Runs an ONNX (ONNX Runtime), OpenVINO IR (``.xml``) or TorchScript file from ``tools/deployment/export.py``
    on the test pipeline's images and returns :class:`SegDataSample` s like :class:`EncoderDecoder` does.

    The exported graph does the normalisation and padding itself, so images go in as loaded (BGR 0-255). A
    static model gets each image resized to its input size; logits are resized back to the original image
    size (bilinear) before the arg-max, as in PyTorch inference.
    """

    def __init__(self, *, model_file: str, device: str = 'cpu', align_corners: bool = False,
                 data_preprocessor: Optional[dict] = None, init_cfg: Optional[dict] = None):
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.backend = load_backend(model_file, device)
        self.align_corners = align_corners

    def forward(self, inputs, data_samples=None, mode: str = 'predict'):
        raise NotImplementedError('BackendSegmentor only evaluates: use it through test_step / val_step')

    def val_step(self, data: dict) -> List[SegDataSample]:
        return self.test_step(data)

    @torch.no_grad()
    def test_step(self, data: dict) -> List[SegDataSample]:
        samples = data['data_samples']
        for image, sample in zip(data['inputs'], samples):
            if isinstance(image, (list, tuple)):
                raise ValueError('BackendSegmentor runs one view per image: test-time augmentation (--tta) is '
                                 'not supported for exported models')
            logits = torch.from_numpy(self.backend(self._network_input(image)))[0]
            ori_shape = tuple(sample.metainfo.get('ori_shape', logits.shape[-2:])[:2])
            if tuple(logits.shape[-2:]) != ori_shape:
                logits = F.interpolate(logits[None], size=ori_shape, mode='bilinear',
                                       align_corners=self.align_corners)[0]
            sample.seg_logits = PixelData(data=logits)
            sample.pred_sem_seg = PixelData(data=logits.argmax(dim=0, keepdim=True))
        return samples

    def _network_input(self, image: torch.Tensor) -> np.ndarray:
        x = image.float()[None]
        fixed = self.backend.input_shape
        if fixed is not None and tuple(x.shape[-2:]) != tuple(fixed):
            x = F.interpolate(x, size=fixed, mode='bilinear', align_corners=False)
        return x.numpy()


def is_exported_model(path: Union[str, Path]) -> bool:
    return Path(path).suffix.lower() in BACKEND_SUFFIXES


def use_exported_model(cfg: Config, path: str) -> bool:
    """Point ``cfg.model`` at an exported file when ``path`` is one (``tools/test.py CONFIG model.onnx``)."""
    if not is_exported_model(path):
        return False
    align_corners = cfg.model.get('decode_head', {}).get('align_corners', False)
    # The graph normalises and pads by itself. The data preprocessor is named so that the Runner does not put a
    # config's top-level ``data_preprocessor`` (MMSegmentation style, as in the CamVid configs) into this model.
    cfg.model = ConfigDict(type='BackendSegmentor', model_file=str(Path(path).resolve()),
                           align_corners=bool(align_corners), data_preprocessor=dict(type='BaseDataPreprocessor'))
    cfg.load_from = None
    return True
