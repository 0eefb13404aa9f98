"""Which MMSegmentation configs segkit reads unchanged: translate, build the model, the datasets and every pipeline.

    python tools/misc/mmseg_config_status.py [CONFIGS_DIR] [--markdown] [--all]

CONFIGS_DIR is MMSegmentation's ``configs/`` folder (default: the one inside an installed ``mmseg`` package, or
``/tmp/peer_mmseg``'s). By default the DeepLab configs are checked (``deeplabv3/``, ``deeplabv3plus/`` and the
DeepLab files of ``mobilenet_v2/``); ``--all`` checks every config. Nothing is downloaded: the model is built
without its ImageNet initialisation and the datasets lazily (no files needed). ``--markdown`` prints the table
docs/migration.md holds.
"""
import argparse
import copy
import glob
import importlib.util
import os
import sys
from typing import List, Optional, Tuple

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

PEER_CONFIGS = '/tmp/peer_mmseg/lib/python3.11/site-packages/mmseg/.mim/configs'


def default_configs_dir() -> Optional[str]:
    spec = importlib.util.find_spec('mmseg')
    if spec is not None and spec.origin:
        found = os.path.join(os.path.dirname(spec.origin), '.mim', 'configs')
        if os.path.isdir(found):
            return found
    return PEER_CONFIGS if os.path.isdir(PEER_CONFIGS) else None


def deeplab_configs(configs_dir: str, everything: bool = False) -> List[str]:
    if everything:
        return sorted(p for p in glob.glob(os.path.join(configs_dir, '**', '*.py'), recursive=True)
                      if '_base_' not in p.split(os.sep))
    files = glob.glob(os.path.join(configs_dir, 'deeplabv3', '*.py'))
    files += glob.glob(os.path.join(configs_dir, 'deeplabv3plus', '*.py'))
    files += [p for p in glob.glob(os.path.join(configs_dir, 'mobilenet_v2', '*.py')) if 'deeplab' in p]
    return sorted(files)


def lazy_dataset(dataset_cfg):
    """A dataset config (and its children's, for ConcatDataset) with lazy_init: built without reading files."""
    dataset_cfg = copy.deepcopy(dataset_cfg)
    dataset_cfg['lazy_init'] = True
    for child in dataset_cfg.get('datasets', []):
        child['lazy_init'] = True
    return dataset_cfg


def dataset_pipelines(dataset_cfg):
    """Every pipeline of a dataset config (each child's, for ConcatDataset)."""
    if 'datasets' in dataset_cfg:
        for child in dataset_cfg['datasets']:
            yield from dataset_pipelines(child)
    else:
        yield dataset_cfg.get('pipeline', [])


def check_config(path: str) -> Tuple[bool, str]:
    """(True, what the model is) when segkit builds the config's model, datasets and pipelines; else (False, why)."""
    from mmengine.registry import DefaultScope

    from segkit.engine.config_setup import load_config, replace_sync_bn
    from segkit.registry import DATASETS, SEGMENTORS, TRANSFORMS
    try:
        cfg = load_config(path)
        with DefaultScope.overwrite_default_scope(cfg.default_scope):
            model_cfg = replace_sync_bn(copy.deepcopy(cfg.model))
            model_cfg.backbone.pop('init_cfg', None)  # structure only: no ImageNet file
            model = SEGMENTORS.build(model_cfg)
            for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
                dataset_cfg = cfg[loader].dataset
                DATASETS.build(lazy_dataset(dataset_cfg))
                for pipeline in dataset_pipelines(dataset_cfg):
                    for step in pipeline:
                        TRANSFORMS.build(step)
    except Exception as exc:  # noqa: BLE001  (the table reports any failure by its message)
        return False, f'{type(exc).__name__}: {" ".join(str(exc).split())}'
    backbone = type(model.backbone).__name__
    depth = getattr(model.backbone, 'depth', '')
    return True, f'{backbone}{depth} + {type(model.decode_head).__name__}, {cfg[loader].dataset.type}'


def main(argv=None) -> List[Tuple[str, bool, str]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('configs_dir', nargs='?', default=None, help="MMSegmentation's configs/ folder")
    parser.add_argument('--all', action='store_true', help='every config, not only the DeepLab ones')
    parser.add_argument('--markdown', action='store_true', help='print a Markdown table')
    args = parser.parse_args(argv)
    configs_dir = args.configs_dir or default_configs_dir()
    if configs_dir is None or not os.path.isdir(configs_dir):
        parser.error("no MMSegmentation configs folder found: pass CONFIGS_DIR (mmsegmentation's configs/), or "
                     'pip install mmsegmentation')
    from mmengine.logging import MMLogger
    MMLogger.get_current_instance().setLevel('WARNING')  # one translation line per config otherwise
    rows = []
    for path in deeplab_configs(configs_dir, args.all):
        ok, what = check_config(path)
        rows.append((os.path.relpath(path, configs_dir), ok, what))
    built = sum(ok for _, ok, _ in rows)
    if args.markdown:
        print('| MMSegmentation config | builds in segkit | model / dataset, or the error |\n|---|---|---|')
        for name, ok, what in rows:
            print(f"| `{name}` | {'yes' if ok else '**no**'} | {what.replace('|', '/')} |")
        print(f'\n{built} of {len(rows)} build.')
    else:
        for name, ok, what in rows:
            print(f"{'ok  ' if ok else 'FAIL'} {name}: {what}")
        print(f'{built} of {len(rows)} build')
    return rows


if __name__ == '__main__':
    rows = main()
    sys.exit(0 if all(ok for _, ok, _ in rows) else 1)
