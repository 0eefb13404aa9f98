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
from typing import Dict, List, Optional, Sequence, Union

import mmcv
import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate
from mmengine.registry import DefaultScope
from mmengine.runner import load_checkpoint

from segkit.engine.checkpoint import safe_checkpoint_io
from segkit.engine.config_setup import load_config, replace_sync_bn
from segkit.fileio.saved_model import open_saved_model
from segkit.models.inference.switches import TTA_PIPELINE_REMOVED, enable_fast_defaults, enable_tta
from segkit.registry import SEGMENTORS
from segkit.structures import SegDataSample
from segkit.visualization import add_legend, draw_overlay, get_palette, legend_entries
from .result import SegmentationResult

ImageType = Union[str, Path, np.ndarray]


def init_model(config: Union[str, Path, Config], checkpoint: Optional[str] = None, device: str = 'cpu',
               cfg_options: Optional[dict] = None, tta: bool = False, fast: bool = True) -> torch.nn.Module:
    """Build the config's model (plain BN), load ``checkpoint`` (segkit or MMSegmentation, weights_only), eval.

    ``config`` may also be a saved-model folder (``model.save_pretrained(DIR)``, ``tools/train.py
    --save-pretrained DIR``): its ``config.py``, its ``model.safetensors`` (every key must fit) and its classes.
    ``fast`` (the default) folds BN into the convolutions and runs channels-last: exact (float32, same labels),
    unless the config sets ``model.test_cfg.fuse_bn`` / ``model.channels_last`` itself. ``tta=True`` turns on
    multi-scale + flip inference inside the model (``test_cfg.tta`` at the config's ``tta_scales``).
    ``model.cfg`` is the config as run, ``model.source_cfg`` the config before these switches (what
    ``model.save_pretrained`` writes).
    """
    saved = open_saved_model(config) if not isinstance(config, Config) and Path(config).is_dir() else None
    if saved is not None:
        config, checkpoint = saved.config, checkpoint or str(saved.weights)
    if isinstance(config, Config):
        cfg = copy.deepcopy(config)
        if cfg_options:
            cfg.merge_from_dict(cfg_options)
    else:
        cfg = load_config(str(config), cfg_options)
    replace_sync_bn(cfg.model)
    source_cfg = copy.deepcopy(cfg)
    if tta == 'pipeline':
        raise ValueError(f"init_model: tta='pipeline': {TTA_PIPELINE_REMOVED}")
    if tta not in (False, True):
        raise ValueError(f'init_model: tta must be True or False, got {tta!r}')
    if tta:
        enable_tta(cfg, str(config))
    if fast:
        enable_fast_defaults(cfg)
    if checkpoint is not None:  # no ImageNet initialisation when weights come from a checkpoint
        cfg.model.backbone.pop('init_cfg', None)
    scope = cfg.get('default_scope', 'segkit')
    with DefaultScope.overwrite_default_scope(scope):
        model = SEGMENTORS.build(cfg.model)
    model.cfg, model.source_cfg = cfg, source_cfg
    meta = {}
    if checkpoint is not None:
        with safe_checkpoint_io():  # a saved model's keys must all fit: its round trip is exact
            ckpt = load_checkpoint(model, checkpoint, map_location='cpu', strict=saved is not None)
        meta = ckpt.get('meta', {}) or {}
    dataset_meta = (saved and _saved_dataset_meta(saved.meta)) or meta.get('dataset_meta') or \
        _dataset_meta_from_config(cfg)
    if dataset_meta is None and 'CLASSES' in meta:  # MMSegmentation 0.x checkpoints
        dataset_meta = dict(classes=meta['CLASSES'], palette=meta.get('PALETTE'))
    model.dataset_meta = dataset_meta or {}
    return model.to(device).eval()


def _saved_dataset_meta(meta: dict) -> Optional[dict]:
    if meta.get('classes') is None:
        return None
    return dict(classes=tuple(meta['classes']), palette=[tuple(c) for c in meta.get('palette') or []] or None)


def _dataset_meta_from_config(cfg: Config) -> Optional[dict]:
    from segkit.registry import DATASETS
    dataset_cfg = cfg.get('test_dataloader', {}).get('dataset')
    if not dataset_cfg or dataset_cfg.get('type') not in DATASETS:
        return None
    dataset_cls = DATASETS.get(dataset_cfg['type'])
    meta = getattr(dataset_cls, 'METAINFO', None)
    return dict(meta) if meta else None


def _test_pipeline(cfg: Config) -> Compose:
    """The config's test pipeline without label loading: inference has no ground truth."""
    steps = [s for s in copy.deepcopy(cfg.test_dataloader.dataset.pipeline) if s['type'] != 'LoadAnnotations']
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope', 'segkit')):
        return Compose(steps)


@torch.no_grad()
def inference_model(model: torch.nn.Module, images: Union[ImageType, Sequence[ImageType]], *,
                    channel_order: str = 'bgr', batch_size: int = 8
                    ) -> Union[SegmentationResult, List[SegmentationResult]]:
    """Segment one image or a list of them.

    Args:
        model: from :func:`init_model`.
        images: a path, an HxWx3 uint8 array, or a list of these (images of the same size run in batches of up to
            ``batch_size``; results come back in the input order).
        channel_order: the order of the channels of *arrays*: ``'bgr'`` (what ``cv2.imread`` / ``mmcv.imread``
            return, the default) or ``'rgb'`` (PIL, imageio, matplotlib). Files are always read correctly.

    Returns:
        :class:`SegmentationResult` (s): ``pred_sem_seg`` and ``seg_logits`` at each image's original size,
        ``probabilities``, ``label_map``, ``save_label_map()``, ``save_overlay()``.
    """
    if channel_order not in ('bgr', 'rgb'):
        raise ValueError(f"channel_order must be 'bgr' or 'rgb', got {channel_order!r}")
    if batch_size < 1:
        raise ValueError(f'batch_size must be >= 1, got {batch_size}')
    single = isinstance(images, (str, Path, np.ndarray))
    batch = [images] if single else list(images)
    pipeline = _test_pipeline(model.cfg)
    # arrays are already loaded: they skip the pipeline's LoadImageFromFile step
    array_pipeline = Compose(pipeline.transforms[1:]) if _starts_with_loading(pipeline) else pipeline
    meta = getattr(model, 'dataset_meta', None) or {}
    classes = meta.get('classes')
    palette = get_palette(palette=meta.get('palette'), classes=classes, num_classes=model.num_classes)
    results: List[Optional[SegmentationResult]] = [None] * len(batch)
    pending: Dict[tuple, list] = {}  # input shape -> [(index, packed, extra metainfo)]

    def run(group: list) -> None:
        for (index, _, extra), sample in zip(group, model.test_step(pseudo_collate([p for _, p, _ in group]))):
            result = SegmentationResult(metainfo=dict(sample.metainfo, classes=classes, palette=palette, **extra))
            result.seg_logits = sample.seg_logits
            result.pred_sem_seg = sample.pred_sem_seg
            results[index] = result

    for index, img in enumerate(batch):
        if isinstance(img, np.ndarray):
            bgr = _as_bgr(img, channel_order)
            packed = array_pipeline(dict(img=bgr, img_path=None, img_shape=bgr.shape[:2], ori_shape=bgr.shape[:2]))
            extra = dict(img=img, channel_order=channel_order)
        else:
            if not Path(img).is_file():
                raise FileNotFoundError(f'image not found: {img}')
            packed, extra = pipeline(dict(img_path=str(img))), {}
        # Only images of one size share a batch: padding a smaller one would change its result (the ASPP's
        # image-level pooling would average the padding in), so a batch gives what single images give.
        shape = tuple(packed['inputs'].shape)
        group = pending.setdefault(shape, [])
        group.append((index, packed, extra))
        if len(group) == batch_size:
            run(pending.pop(shape))
    for group in pending.values():
        run(group)
    return results[0] if single else results


def _as_bgr(img: np.ndarray, channel_order: str) -> np.ndarray:
    if img.ndim == 2:
        return np.ascontiguousarray(np.repeat(img[..., None], 3, axis=2))
    if img.ndim != 3 or img.shape[2] not in (3, 4):
        raise ValueError(f'image arrays must be HxW, HxWx3 or HxWx4, got shape {img.shape}')
    img = img[..., :3]
    return np.ascontiguousarray(img[..., ::-1] if channel_order == 'rgb' else img)


def _starts_with_loading(pipeline: Compose) -> bool:
    return bool(pipeline.transforms) and type(pipeline.transforms[0]).__name__ == 'LoadImageFromFile'


def show_result(model: torch.nn.Module, image: ImageType, result: SegDataSample, *, alpha: float = 0.5,
                out_file: Optional[str] = None, legend: bool = False) -> np.ndarray:
    """Colour overlay of the predicted labels on the image (BGR array in, BGR array out), with a legend of the
    predicted classes on the right when ``legend``; written to ``out_file`` if given."""
    img = mmcv.imread(str(image)) if not isinstance(image, np.ndarray) else image
    labels = result.pred_sem_seg.data[0].cpu().numpy()
    meta = getattr(model, 'dataset_meta', {}) or {}
    palette = get_palette(palette=meta.get('palette'), classes=meta.get('classes'), num_classes=model.num_classes)
    overlay = draw_overlay(img, labels, palette, alpha=alpha)
    if legend:
        overlay = add_legend(overlay, legend_entries([labels], meta.get('classes'), palette, with_share=True))
    if out_file:
        mmcv.imwrite(overlay, out_file)
    return overlay
