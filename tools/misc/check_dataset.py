"""The data doctor: read a config's train and val splits as the config reads them and print one table of what is
there and what is wrong, with the config keys to change.

    python tools/misc/check_dataset.py CONFIG [--nproc 2] [--splits train val] [--cfg-options k=v ...]

Per split: images and masks found and missing, unreadable files, mask size mismatches, image bands and dtype, what
the masks look like (class indices, 0/255, colour, 1-based), every raw mask value (or colour) with the label it
becomes and its pixel and image frequency, values outside the classes and the ignore index, the class weights of
the training masks (median frequency, inverse square root; as tools/analysis_tools/class_weights.py), the per-band
mean / std for the data preprocessor, and a verdict. Exits 1 when it finds an error.
"""
import argparse
import os.path as osp
import sys
import time
from typing import Dict, List, Optional, Tuple

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
sys.path.insert(0, osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))), 'dataset_converters'))

from mmengine.config import DictAction  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402

from segkit.datasets.doctor import format_report, judge, scan_sample, summarize_split  # noqa: E402
from segkit.datasets.doctor.verdicts import ModelFacts, Verdict  # noqa: E402
from segkit.engine.config_setup import load_config  # noqa: E402
from segkit.engine.consistency import check_ignore_index, check_num_classes  # noqa: E402
from segkit.registry import DATASETS, MODELS  # noqa: E402
from task_progress import run_tasks  # noqa: E402

IMAGE_LOADERS = ('LoadImageFromFile', 'LoadMultiBandImage')
WRAPPERS = ('RepeatDataset', 'ClassBalancedDataset', 'HardImageRepeatDataset')


def split_dataset_cfg(cfg, split: str) -> Optional[dict]:
    """The image/mask dataset config of ``{split}_dataloader`` (inside repeat wrappers), or None."""
    loader = cfg.get(f'{split}_dataloader')
    dataset = dict(loader.dataset) if loader else None
    while dataset is not None and str(dataset.get('type', '')).split('.')[-1] in WRAPPERS:
        dataset = dict(dataset['dataset'])
    return dataset


def loading_steps(dataset_cfg: dict) -> Tuple[dict, dict]:
    """(image loader, LoadAnnotations) configs of the dataset's pipeline: how the config reads its files."""
    loader, annotations = dict(type='LoadImageFromFile'), dict(type='LoadAnnotations')
    for step in dataset_cfg.get('pipeline') or []:
        kind = str(step.get('type', '')).split('.')[-1]
        if kind in IMAGE_LOADERS:
            loader = dict(step)
        elif kind == 'LoadAnnotations':
            annotations = dict(step)
    return loader, annotations


def model_facts(cfg, datasets: Dict[str, object]) -> ModelFacts:
    """What the built model expects, and its disagreements with the datasets (classes, ignore index)."""
    try:
        model = MODELS.build(cfg.model)
    except Exception as err:  # noqa: BLE001  (reported in the verdict)
        return ModelFacts(None, [0.0] * 3, [1.0] * 3, problems=[f'the model does not build: {err}'])
    pre = model.data_preprocessor
    problems = []
    for split, dataset in datasets.items():
        for check in (check_num_classes, check_ignore_index):
            try:
                check(model, dataset, f'{split}_dataloader')
            except ValueError as err:
                problems.append(str(err))
    backbone = getattr(model, 'backbone', None)
    return ModelFacts(getattr(backbone, 'in_channels', None), pre.mean.flatten().tolist(), pre.std.flatten().tolist(),
                      cfg.model.get('data_preprocessor', {}).get('bgr_to_rgb'), problems)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument('config')
    parser.add_argument('--splits', nargs='+', default=['train', 'val'], choices=['train', 'val', 'test'])
    parser.add_argument('--nproc', type=int, default=2, help='worker processes (default 2)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, help='override config keys')
    args = parser.parse_args(argv)
    cfg = load_config(args.config, args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'segkit'))
    summaries, datasets, verdicts = [], {}, []
    start, scanned = time.perf_counter(), 0
    for split in args.splits:
        dataset_cfg = split_dataset_cfg(cfg, split)
        if dataset_cfg is None:
            continue
        loader, annotations = loading_steps(dataset_cfg)
        try:
            dataset = DATASETS.build(dict(dataset_cfg, pipeline=[], lazy_init=True))
            listing = dataset.list_samples()
        except (OSError, ValueError) as err:
            verdicts.append(Verdict('error', split, str(err), f'{split}_dataloader.dataset'))
            continue
        tasks = [(p['img_path'], p['seg_map_path'], loader, annotations, True) for p in listing.pairs]
        scans = run_tasks(scan_sample, tasks, args.nproc, f'Scanning {split}')
        scanned += len(scans)
        summaries.append(summarize_split(split, f'{split}_dataloader.dataset', dataset, listing, scans,
                                         str(loader['type']).split('.')[-1]))
        datasets[split] = dataset
    seconds = time.perf_counter() - start
    facts = model_facts(cfg, {k: v for k, v in datasets.items() if k == 'train'})
    verdicts += judge(summaries, list(datasets.values()), facts)
    classes = next(iter(datasets.values())).metainfo['classes'] if datasets else ()
    print(format_report(summaries, classes, facts, verdicts))
    print(f'{scanned} image/mask pairs read in {seconds:.1f} s ({60 * scanned / max(seconds, 1e-9):.0f} per minute, '
          f'{args.nproc} processes)')
    return dict(summaries=summaries, verdicts=verdicts, seconds=seconds)


def run(argv=None) -> int:
    """The command line: 1 when the doctor finds an error."""
    verdicts: List[Verdict] = main(argv)['verdicts']
    return int(any(v.severity == 'error' for v in verdicts))


if __name__ == '__main__':
    sys.exit(run())
