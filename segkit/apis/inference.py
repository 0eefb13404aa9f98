"""Python inference API: build a model from a config (+ checkpoint) and segment images.

    >>> from segkit.apis import init_model, inference_model, show_result
    >>> model = init_model('configs/deeplabv3plus/r18_96x96_shapes.py', 'work_dirs/demo/iter_3000.pth')
    >>> result = inference_model(model, 'scene.png')
    >>> result.pred_sem_seg.data  # 1xHxW label map at the image's size
    >>> result.seg_logits.data    # CxHxW logits
    >>> show_result(model, 'scene.png', result, out_file='overlay.png')
"""
import copy
from pathlib import Path
from typing import List, Optional, Sequence, Union

import mmcv
import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import Compose
from mmengine.registry import DefaultScope
from mmengine.runner import load_checkpoint

from segkit.engine.checkpoint import safe_checkpoint_io
from segkit.engine.config_setup import replace_sync_bn
from segkit.registry import SEGMENTORS
from segkit.structures import SegDataSample
from segkit.visualization import draw_overlay, get_palette

ImageType = Union[str, Path, np.ndarray]


def init_model(config: Union[str, Path, Config], checkpoint: Optional[str] = None, device: str = 'cpu',
               cfg_options: Optional[dict] = None) -> torch.nn.Module:
    """Build the config's model (plain BN), load ``checkpoint`` (segkit or MMSegmentation, weights_only), eval."""
    cfg = Config.fromfile(str(config)) if not isinstance(config, Config) else copy.deepcopy(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    replace_sync_bn(cfg.model)
    if checkpoint is not None:  # no ImageNet initialisation when weights come from a checkpoint
        cfg.model.backbone.pop('init_cfg', None)
    scope = cfg.get('default_scope', 'segkit')
    with DefaultScope.overwrite_default_scope(scope):
        model = SEGMENTORS.build(cfg.model)
    model.cfg = cfg
    meta = {}
    if checkpoint is not None:
        with safe_checkpoint_io():
            ckpt = load_checkpoint(model, checkpoint, map_location='cpu')
        meta = ckpt.get('meta', {}) or {}
    dataset_meta = meta.get('dataset_meta') or _dataset_meta_from_config(cfg)
    if dataset_meta is None and 'CLASSES' in meta:  # MMSegmentation 0.x checkpoints
        dataset_meta = dict(classes=meta['CLASSES'], palette=meta.get('PALETTE'))
    model.dataset_meta = dataset_meta or {}
    return model.to(device).eval()


def _dataset_meta_from_config(cfg: Config) -> Optional[dict]:
    from segkit.registry import DATASETS
    dataset_cfg = cfg.get('test_dataloader', {}).get('dataset')
    if not dataset_cfg or dataset_cfg.get('type') not in DATASETS:
        return None
    dataset_cls = DATASETS.get(dataset_cfg['type'])
    meta = getattr(dataset_cls, 'METAINFO', None)
    return dict(meta) if meta else None


def _test_pipeline(cfg: Config) -> Compose:
    steps = copy.deepcopy(cfg.test_dataloader.dataset.pipeline)
    steps = [s for s in steps if s['type'] != 'LoadAnnotations']
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope', 'segkit')):
        return Compose(steps)


@torch.no_grad()
def inference_model(model: torch.nn.Module, images: Union[ImageType, Sequence[ImageType]]
                    ) -> Union[SegDataSample, List[SegDataSample]]:
    """Segment one image (path or HxWx3 BGR array) or a list; returns :class:`SegDataSample` (s) with
    ``pred_sem_seg`` (the label map) and ``seg_logits`` at each image's original size."""
    single = isinstance(images, (str, Path, np.ndarray))
    batch = [images] if single else list(images)
    pipeline = _test_pipeline(model.cfg)
    # arrays are already loaded: they skip the pipeline's LoadImageFromFile step
    array_pipeline = Compose(pipeline.transforms[1:]) if _starts_with_loading(pipeline) else pipeline
    data = dict(inputs=[], data_samples=[])
    for img in batch:
        if isinstance(img, np.ndarray):
            packed = array_pipeline(dict(img=img, img_path=None, img_shape=img.shape[:2], ori_shape=img.shape[:2]))
        else:
            packed = pipeline(dict(img_path=str(img)))
        data['inputs'].append(packed['inputs'])
        data['data_samples'].append(packed['data_samples'])
    results = model.test_step(data)
    return results[0] if single else results


def _starts_with_loading(pipeline: Compose) -> bool:
    return bool(pipeline.transforms) and type(pipeline.transforms[0]).__name__ == 'LoadImageFromFile'


def show_result(model: torch.nn.Module, image: ImageType, result: SegDataSample, *, alpha: float = 0.5,
                out_file: Optional[str] = None) -> np.ndarray:
    """Colour overlay of the predicted labels on the image (BGR array); written to ``out_file`` if given."""
    img = mmcv.imread(str(image)) if not isinstance(image, np.ndarray) else image
    labels = result.pred_sem_seg.data[0].cpu().numpy()
    meta = getattr(model, 'dataset_meta', {}) or {}
    palette = get_palette(palette=meta.get('palette'), classes=meta.get('classes'), num_classes=model.num_classes)
    overlay = draw_overlay(img, labels, palette, alpha=alpha)
    if out_file:
        mmcv.imwrite(overlay, out_file)
    return overlay
