"""What ``tools/test.py --out`` and ``--confusion-matrix`` add to a config's test evaluator."""
import os.path as osp
from typing import Optional

from mmengine.config import Config, ConfigDict

from .prediction_writer import resolve_output_format

__all__ = ['add_test_outputs']


def add_test_outputs(cfg: Config, *, out_dir: Optional[str] = None, out_format: str = 'auto',
                     confusion_dir: Optional[str] = None) -> Config:
    """Write predictions to ``out_dir`` (through the evaluator's IoUMetric, in ``out_format``) and add a
    ConfusionMatrixMetric writing to ``confusion_dir``; ``test_evaluator`` may be one metric config or a list."""
    resolve_output_format(out_format, None)
    metrics = list(cfg.test_evaluator) if isinstance(cfg.test_evaluator, (list, tuple)) else [cfg.test_evaluator]
    iou = [m for m in metrics if str(m.get('type', '')).split('.')[-1] == 'IoUMetric']
    if out_dir:
        if not iou:
            raise KeyError('--out writes predictions through the IoUMetric of test_evaluator, and this config has '
                           f'none: {[m.get("type") for m in metrics]}')
        iou[0].update(output_dir=osp.abspath(out_dir), output_format=out_format)
    if confusion_dir:
        ignore_index = iou[0].get('ignore_index', 255) if iou else 255
        metrics.append(ConfigDict(type='ConfusionMatrixMetric', output_dir=osp.abspath(confusion_dir),
                                  ignore_index=ignore_index))
    cfg.test_evaluator = metrics if len(metrics) > 1 else metrics[0]
    return cfg
