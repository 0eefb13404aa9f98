"""A segmentor whose network is an exported file, so tools/test.py scores what is shipped."""
import logging
from pathlib import Path
from typing import List, Optional, Union

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.config import Config, ConfigDict
from mmengine.logging import print_log
from mmengine.model import BaseModel

from segkit.models.inference.options import InferenceOptions
from segkit.models.inference.predictions import logits_to_predictions
from segkit.registry import SEGMENTORS
from segkit.structures import SegDataSample
from .sessions import SESSIONS, open_session

__all__ = ['BackendSegmentor', 'is_exported_model', 'use_exported_model']


@SEGMENTORS.register_module()
class BackendSegmentor(BaseModel):
    """Runs an ONNX (ONNX Runtime), OpenVINO IR (``.xml``) or TorchScript file from ``tools/deployment/export.py``
    on the test pipeline's images and returns :class:`SegDataSample` s like :class:`EncoderDecoder` does.

    The exported graph does the normalisation and padding itself, so images go in as loaded (BGR 0-255). A
    static model gets each image resized to its input size; the logits become predictions at the original image
    size by the same function the PyTorch segmentor uses (bilinear resize, arg-max or the binary ``threshold``).

    ``device='auto'`` (default) runs on this process's GPU (``torch.cuda.current_device()``, which the launcher set
    to the local rank's) when CUDA is available: ONNX Runtime with its CUDA execution provider where installed,
    TorchScript on that GPU; OpenVINO runs on the CPU.

    The model has no parameters: under ``tools/dist_test.sh`` it is wrapped in
    :class:`~segkit.engine.model_wrapper.LocalModelWrapper` (DDP refuses a model with nothing to train).
    """

    def __init__(self, *, model_file: str, device: str = 'auto', align_corners: bool = False,
                 threshold: Optional[float] = None, data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if device == 'auto':
            device = f'cuda:{torch.cuda.current_device()}' if torch.cuda.is_available() else 'cpu'
        self.session = open_session(model_file, device)
        print_log(f'{Path(model_file).name}: {self.session.name} on {getattr(self.session, "device", device)}',
                  logger='current')
        self.align_corners = align_corners
        self.threshold = threshold

    def forward(self, inputs, data_samples=None, mode: str = 'predict'):
        raise NotImplementedError('BackendSegmentor only evaluates: use it through test_step / val_step')

    def val_step(self, data: dict) -> List[SegDataSample]:
        return self.test_step(data)

    @torch.no_grad()
    def test_step(self, data: dict) -> List[SegDataSample]:
        samples = data['data_samples']
        logits = []
        for image in data['inputs']:
            if isinstance(image, (list, tuple)):
                raise ValueError('BackendSegmentor runs one view per image: test-time augmentation (--tta) is '
                                 'not supported for exported models')
            logits.append(torch.from_numpy(self.session(self._network_input(image)))[0])
        return logits_to_predictions(logits, samples, align_corners=self.align_corners, threshold=self.threshold)

    def _network_input(self, image: torch.Tensor) -> np.ndarray:
        x = image.float()[None]
        fixed = self.session.input_shape
        if fixed is not None and tuple(x.shape[-2:]) != tuple(fixed):
            x = F.interpolate(x, size=fixed, mode='bilinear', align_corners=False)
        return x.cpu().numpy()  # the Runner may have put the inputs on the GPU; the sessions take numpy arrays


def is_exported_model(path: Union[str, Path]) -> bool:
    return Path(path).suffix.lower() in SESSIONS


def use_exported_model(cfg: Config, path: str) -> bool:
    """Point ``cfg.model`` at an exported file when ``path`` is one (``tools/test.py CONFIG model.onnx``)."""
    if not is_exported_model(path):
        return False
    align_corners = cfg.model.get('decode_head', {}).get('align_corners', False)
    options = InferenceOptions.from_test_cfg(cfg.model.get('test_cfg'))
    if options.tta is not None:
        raise ValueError('model.test_cfg.tta (--tta) is not supported for exported models: an export runs one view '
                         'per image')
    left_out = options.outside_the_network()
    if left_out:
        print_log(f'{path}: an exported model runs the whole image in float32; model.test_cfg {", ".join(left_out)} '
                  'is not applied', logger='current', level=logging.WARNING)
    # The graph normalises and pads by itself. The data preprocessor is named so that the Runner does not put a
    # config's top-level ``data_preprocessor`` (MMSegmentation style, as in the CamVid configs) into this model.
    cfg.model = ConfigDict(type='BackendSegmentor', model_file=str(Path(path).resolve()),
                           align_corners=bool(align_corners), threshold=options.threshold,
                           data_preprocessor=dict(type='BaseDataPreprocessor'))
    cfg.model_wrapper_cfg = ConfigDict(type='segkit.LocalModelWrapper')  # distributed: no DDP around it
    cfg.load_from = None
    return True
