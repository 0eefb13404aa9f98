"""Write image | ground truth | prediction overlays (titled, with a class legend) during validation and testing."""
import os.path as osp
from typing import Optional, Sequence

import mmcv
import numpy as np
from mmengine.hooks import Hook
from mmengine.structures import BaseDataElement

from segkit.registry import HOOKS
from segkit.visualization import add_legend, add_titles, draw_side_by_side, get_palette, legend_entries

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
    Every test sample is drawn; during validation only the batches at multiples of ``interval``, and those
    images also go to the runner's visualizer (``add_image``), so a ``TensorboardVisBackend`` in
    ``visualizer.vis_backends`` shows them next to the scalars. Panels are titled and a legend names the classes
    present in the ground truth or the prediction (``legend=False``: bare panels).
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
        legend: title the panels and add the legend of the classes shown.
    """
    priority = 'NORMAL'

    def __init__(self, *, draw: bool = False, out_dir: Optional[str] = None, interval: int = 50,
                 alpha: float = 0.5, ignore_index: int = 255, backend_args: Optional[dict] = None,
                 max_images: Optional[int] = None, legend: bool = True) -> None:
        if interval < 1:
            raise ValueError(f'interval must be >= 1, got {interval}')
        self.draw = draw
        self.out_dir = out_dir
        self.interval = interval
        self.alpha = alpha
        self.ignore_index = ignore_index
        self.backend_args = backend_args
        self.max_images = max_images
        self.legend = legend
        self._drawn = 0

    def before_val(self, runner) -> None:
        self._drawn = 0

    def before_test(self, runner) -> None:
        self._drawn = 0

    def after_val_iter(self, runner, batch_idx: int, data_batch=None, outputs: Optional[Sequence] = None) -> None:
        if self.every_n_inner_iters(batch_idx, self.interval):
            self._draw_batch(runner, outputs, to_visualizer=True)

    def after_test_iter(self, runner, batch_idx: int, data_batch=None, outputs: Optional[Sequence] = None) -> None:
        self._draw_batch(runner, outputs)

    @staticmethod
    def _dataset_meta(runner) -> dict:
        return getattr(getattr(runner, 'visualizer', None), 'dataset_meta', None) or {}

    def _palette(self, runner) -> list:
        meta = self._dataset_meta(runner)
        if meta.get('palette') is None and meta.get('classes') is None:
            return get_palette(num_classes=256)  # no dataset colours: one for every uint8 label
        return get_palette(palette=meta.get('palette'), classes=meta.get('classes'))

    def _annotate(self, canvas, pred, gt, palette: list, classes) -> np.ndarray:
        titles = ['image', 'ground truth', 'prediction'] if gt is not None else ['image', 'prediction']
        maps = [pred] if gt is None else [gt, pred]
        canvas = add_titles(canvas, titles)
        return add_legend(canvas, legend_entries(maps, classes, palette, ignore_index=self.ignore_index))

    def _draw_batch(self, runner, outputs: Optional[Sequence], to_visualizer: bool = False) -> None:
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
            gt = _label_map(data_sample, 'gt_sem_seg')
            canvas = draw_side_by_side(image, pred, gt, palette=palette, alpha=self.alpha,
                                       ignore_index=self.ignore_index)
            if self.legend:
                canvas = self._annotate(canvas, pred, gt, palette, self._dataset_meta(runner).get('classes'))
            stem = osp.splitext(osp.basename(img_path))[0]
            mmcv.imwrite(canvas, osp.join(out_dir, f'{stem}.png'), backend_args=self.backend_args)
            if to_visualizer and hasattr(getattr(runner, 'visualizer', None), 'add_image'):
                runner.visualizer.add_image(f'val/{stem}', canvas[..., ::-1], step=runner.iter)
            self._drawn += 1
