"""Write image | ground truth | prediction overlays during validation and testing."""
import os.path as osp
from typing import Optional, Sequence

import mmcv
from mmengine.hooks import Hook
from mmengine.structures import BaseDataElement

from segkit.registry import HOOKS
from segkit.visualization import draw_side_by_side, get_palette

__all__ = ['SegVisualizationHook']


def _label_map(data_sample, key: str):
    """``data_sample.<key>.data`` (a 1xHxW tensor) for a SegDataSample or its dict form, else None."""
    if isinstance(data_sample, BaseDataElement):
        field = data_sample.get(key)
        return None if field is None else field.data
    field = data_sample.get(key)
    if isinstance(field, dict):
        return field.get('data')
    return None if field is None else getattr(field, 'data', field)


def _meta(data_sample, key: str):
    return data_sample.metainfo.get(key) if isinstance(data_sample, BaseDataElement) else data_sample.get(key)


@HOOKS.register_module()
class SegVisualizationHook(Hook):
    """Saves ``<out_dir>/<image stem>.png`` (image | GT overlay | prediction overlay) for drawn samples.

    Nothing is drawn unless ``draw=True`` and ``out_dir`` is set (``tools/test.py --show-dir`` sets both).
    Every test sample is drawn; during validation only the batches at multiples of ``interval``.
    Colours come from the dataset's ``palette`` (via ``runner.visualizer.dataset_meta``), else a generated one.

    Args:
        draw: turn drawing on.
        out_dir: folder the images are written to (created when needed); a relative path is taken inside the
            run's work dir.
        interval: draw every ``interval``-th validation batch.
        alpha: weight of the class colour in the blend.
        ignore_index: label value left undrawn.
        backend_args: passed to ``mmcv.imread`` / ``mmcv.imwrite`` (e.g. for remote storage).
        max_images: stop after this many images per validation / test run (None: no limit).
    """
    priority = 'NORMAL'

    def __init__(self, *, draw: bool = False, out_dir: Optional[str] = None, interval: int = 50,
                 alpha: float = 0.5, ignore_index: int = 255, backend_args: Optional[dict] = None,
                 max_images: Optional[int] = None) -> None:
        if interval < 1:
            raise ValueError(f'interval must be >= 1, got {interval}')
        self.draw = draw
        self.out_dir = out_dir
        self.interval = interval
        self.alpha = alpha
        self.ignore_index = ignore_index
        self.backend_args = backend_args
        self.max_images = max_images
        self._drawn = 0

    def before_val(self, runner) -> None:
        self._drawn = 0

    def before_test(self, runner) -> None:
        self._drawn = 0

    def after_val_iter(self, runner, batch_idx: int, data_batch=None, outputs: Optional[Sequence] = None) -> None:
        if self.every_n_inner_iters(batch_idx, self.interval):
            self._draw_batch(runner, outputs)

    def after_test_iter(self, runner, batch_idx: int, data_batch=None, outputs: Optional[Sequence] = None) -> None:
        self._draw_batch(runner, outputs)

    def _palette(self, runner) -> list:
        meta = getattr(getattr(runner, 'visualizer', None), 'dataset_meta', None) or {}
        if meta.get('palette') is None and meta.get('classes') is None:
            return get_palette(num_classes=256)  # no dataset colours: one for every uint8 label
        return get_palette(palette=meta.get('palette'), classes=meta.get('classes'))

    def _draw_batch(self, runner, outputs: Optional[Sequence]) -> None:
        if not self.draw or self.out_dir is None or not outputs:
            return
        palette = self._palette(runner)
        out_dir = osp.join(runner.work_dir, self.out_dir) if not osp.isabs(self.out_dir) else self.out_dir
        for data_sample in outputs:
            if self.max_images is not None and self._drawn >= self.max_images:
                return
            img_path = _meta(data_sample, 'img_path')
            pred = _label_map(data_sample, 'pred_sem_seg')
            if img_path is None or pred is None:
                continue  # nothing to draw on, or nothing predicted
            image = mmcv.imread(img_path, backend_args=self.backend_args)
            canvas = draw_side_by_side(image, pred, _label_map(data_sample, 'gt_sem_seg'), palette=palette,
                                       alpha=self.alpha, ignore_index=self.ignore_index)
            stem = osp.splitext(osp.basename(img_path))[0]
            mmcv.imwrite(canvas, osp.join(out_dir, f'{stem}.png'), backend_args=self.backend_args)
            self._drawn += 1
