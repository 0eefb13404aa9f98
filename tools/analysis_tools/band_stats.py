"""Per-band mean and std of a config's training images, read as its pipeline reads them, for the data preprocessor.

    python tools/analysis_tools/band_stats.py CONFIG [--split train] [--nproc 2] [--cfg-options k=v ...]

Prints ``mean=[...], std=[...]`` in the model's channel order (the data preprocessor's ``bgr_to_rgb`` applied) to
paste into ``model.data_preprocessor``; the same figures appear in tools/misc/check_dataset.py's table.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
sys.path.insert(0, osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))), 'dataset_converters'))
sys.path.insert(0, osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))), 'misc'))

from mmengine.config import DictAction  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402

from check_dataset import loading_steps, split_dataset_cfg  # noqa: E402
from segkit.datasets.band_stats import combine, preprocessor_values  # noqa: E402
from segkit.datasets.doctor import scan_sample  # noqa: E402
from segkit.engine.config_setup import load_config  # noqa: E402
from segkit.models.data_preprocessor import model_channel_order, resolve_bgr_to_rgb  # noqa: E402
from segkit.registry import DATASETS  # noqa: E402
from task_progress import run_tasks  # noqa: E402


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument('config')
    parser.add_argument('--split', default='train', choices=['train', 'val', 'test'])
    parser.add_argument('--nproc', type=int, default=2, help='worker processes (default 2)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, help='override config keys')
    args = parser.parse_args(argv)
    cfg = load_config(args.config, args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'segkit'))
    dataset_cfg = split_dataset_cfg(cfg, args.split)
    if dataset_cfg is None:
        raise SystemExit(f'{args.config} has no {args.split}_dataloader')
    loader, annotations = loading_steps(dataset_cfg)
    dataset = DATASETS.build(dict(dataset_cfg, pipeline=[], lazy_init=True))
    tasks = [(p['img_path'], None, loader, annotations, True) for p in dataset.list_samples().pairs]
    scans = run_tasks(scan_sample, tasks, args.nproc, 'Reading images')
    failed = [s for s in scans if s.error]
    if failed:
        raise SystemExit(f'{len(failed)} images cannot be read, e.g. {failed[0].img_path}: {failed[0].error}')
    moments = combine([s.moments for s in scans])
    bands = len(moments.mean)
    bgr_to_rgb = resolve_bgr_to_rgb(cfg.model.get('data_preprocessor', {}).get('bgr_to_rgb'), bands)
    order = model_channel_order(bands, bgr_to_rgb and bands >= 3)
    mean, std = preprocessor_values(moments.mean, order), preprocessor_values(moments.std, order)
    print(f'{len(scans)} {args.split} images, {bands} bands ({", ".join(sorted({s.dtype for s in scans}))}), '
          f'{moments.count} pixels each band; in model order (bgr_to_rgb={bgr_to_rgb}):')
    print(f'model.data_preprocessor: mean={mean}, std={std}')
    return dict(mean=mean, std=std, bands=bands)


if __name__ == '__main__':
    main()
