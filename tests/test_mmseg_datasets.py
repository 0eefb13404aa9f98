"""MMSegmentation's dataset types build unchanged in segkit: its dataset config dicts (from the installed
MMSegmentation when there is one, always from the committed fixture), each class's metadata and defaults, and
segkit's own configs of these datasets, which are MMSegmentation's."""
import copy
import json
import os.path as osp
from pathlib import Path

import pytest
from mmengine.config import Config

from mmseg_dataset_reference import (CONFIGS, DATASET_FILES, DEFAULT_ARGS, LOADERS, find_mmseg, load_fixture,
                                     read_reference)
from segkit.registry import DATASETS, TRANSFORMS

REPO = Path(__file__).resolve().parents[1]
MMSEG = find_mmseg()
NO_MMSEG = pytest.mark.skipif(MMSEG is None, reason='MMSegmentation is not installed under /tmp/peer_mmseg')
#: segkit's configs/_base_/datasets files of these datasets (MMSegmentation's names); pascal_context_59.py is older
SEGKIT_CONFIGS = [name for name in CONFIGS if name != 'pascal_context_59.py']


@pytest.fixture(scope='module', params=['fixture', pytest.param('mmseg', marks=NO_MMSEG)])
def reference(request) -> dict:
    return load_fixture() if request.param == 'fixture' else read_reference(MMSEG)


@NO_MMSEG
def test_fixture_is_what_the_installed_mmsegmentation_says():
    assert read_reference(MMSEG) == load_fixture(), 'rewrite it: python tests/mmseg_dataset_reference.py'


def lazy(dataset_cfg: dict) -> dict:
    return dict(copy.deepcopy(dataset_cfg), lazy_init=True)


@pytest.mark.parametrize('name', sorted(DATASET_FILES))
def test_class_metadata_and_defaults_are_mmsegmentations(reference, name):
    expected = reference['datasets'][name]
    dataset = DATASETS.build(dict(type=name, lazy_init=True))
    assert type(dataset).__name__ == name
    assert list(dataset.metainfo['classes']) == expected['metainfo']['classes']
    assert dataset.metainfo['palette'] == expected['metainfo']['palette']
    assert {arg: getattr(dataset, arg) for arg in DEFAULT_ARGS} == expected['defaults']


def check_built(dataset, dataset_cfg: dict, reference: dict) -> None:
    """``dataset`` is what MMSegmentation builds from ``dataset_cfg``: classes, labels, files, pipeline."""
    mmseg_class = reference['datasets'][dataset_cfg['type']]
    metainfo = dataset_cfg.get('metainfo') or mmseg_class['metainfo']
    assert type(dataset).__name__ == dataset_cfg['type']
    assert list(dataset.metainfo['classes']) == list(metainfo['classes'])
    assert dataset.metainfo['palette'] == [list(c) for c in metainfo['palette']]
    assert dataset.reduce_zero_label == dataset_cfg.get('reduce_zero_label',
                                                        mmseg_class['defaults']['reduce_zero_label'])
    root = dataset_cfg['data_root']
    assert dataset.data_prefix == {k: osp.join(root, v) for k, v in dataset_cfg['data_prefix'].items()}
    if 'ann_file' in dataset_cfg:
        assert dataset.ann_file == osp.join(root, dataset_cfg['ann_file'])
    steps = [type(t).__name__ for t in dataset.pipeline.transforms]
    assert steps == [step['type'] for step in dataset_cfg['pipeline']]


@pytest.mark.parametrize('config', CONFIGS)
def test_mmseg_dataset_configs_build_unchanged(reference, config):
    cfg = reference['configs'][config]
    for loader in LOADERS:
        check_built(DATASETS.build(lazy(cfg[loader])), cfg[loader], reference)
    for step in cfg['tta_pipeline']:
        TRANSFORMS.build(step)


def without_redundant_options(dataset_cfg: dict) -> dict:
    """``dataset_cfg`` with the data_root's trailing slash and LoadAnnotations' ``reduce_zero_label`` dropped where
    it repeats the dataset's (MMSegmentation's configs write it in one file and not in another)."""
    cfg = copy.deepcopy(dataset_cfg)
    cfg['data_root'] = cfg['data_root'].rstrip('/')
    dataset_value = DATASETS.build(lazy(dataset_cfg)).reduce_zero_label
    for step in cfg['pipeline']:
        if step['type'] == 'LoadAnnotations' and step.get('reduce_zero_label') == dataset_value:
            del step['reduce_zero_label']
    return cfg


@pytest.mark.parametrize('config', SEGKIT_CONFIGS)
def test_segkit_dataset_configs_are_mmsegmentations(reference, config):
    cfg = Config.fromfile(str(REPO / 'configs' / '_base_' / 'datasets' / config))
    for loader in LOADERS:
        ours = json.loads(json.dumps(cfg[loader].dataset.to_dict()))  # tuples as lists, as the fixture holds them
        theirs = reference['configs'][config][loader]
        assert without_redundant_options(ours) == without_redundant_options(theirs)
        check_built(DATASETS.build(lazy(ours)), theirs, reference)


@NO_MMSEG
def test_every_mmseg_deeplab_config_builds_its_datasets():
    configs = sorted((MMSEG / '.mim' / 'configs').glob('deeplabv3*/*.py'))
    assert len(configs) >= 90
    types = set()
    for path in configs:
        cfg = Config.fromfile(str(path))
        for loader in LOADERS:
            dataset_cfg = lazy(cfg[loader].dataset)
            for child in dataset_cfg.get('datasets', []):  # ConcatDataset of VOC and SBD
                child['lazy_init'] = True
            types.add(type(DATASETS.build(dataset_cfg)).__name__)
        for step in cfg.get('tta_pipeline', []):
            TRANSFORMS.build(step)
    assert set(DATASET_FILES) <= types
