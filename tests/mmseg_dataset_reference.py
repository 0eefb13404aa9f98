"""What MMSegmentation 1.2.2 says about the datasets segkit takes over: its dataset config dicts and each dataset
class's METAINFO and constructor defaults, read from its source files (nothing of MMSegmentation is imported).

``tests/fixtures/mmseg_datasets.json`` is this module's output for the installed MMSegmentation, committed so that
CI checks segkit against it without MMSegmentation; rewrite it with

    python tests/mmseg_dataset_reference.py
"""
import ast
import glob
import json
from pathlib import Path
from typing import Dict, Optional

FIXTURE = Path(__file__).parent / 'fixtures' / 'mmseg_datasets.json'
#: MMSegmentation's configs/_base_/datasets files of the datasets below
CONFIGS = ('coco-stuff10k.py', 'coco-stuff164k.py', 'pascal_context.py', 'pascal_context_59.py', 'loveda.py',
           'potsdam.py', 'vaihingen.py', 'isaid.py', 'mapillary_v1.py', 'mapillary_v1_65.py')
#: dataset type -> its file in mmseg/datasets
DATASET_FILES = dict(COCOStuffDataset='coco_stuff.py', PascalContextDataset='pascal_context.py',
                     PascalContextDataset59='pascal_context.py', LoveDADataset='loveda.py',
                     PotsdamDataset='potsdam.py', ISPRSDataset='isprs.py', iSAIDDataset='isaid.py',
                     MapillaryDataset_v1='mapillary.py')
LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')
DEFAULT_ARGS = ('img_suffix', 'seg_map_suffix', 'reduce_zero_label', 'ignore_index')


def find_mmseg() -> Optional[Path]:
    """The installed MMSegmentation package of the peer venv, if there is one."""
    found = sorted(glob.glob('/tmp/peer_mmseg/lib/python3*/site-packages/mmseg'))
    return Path(found[-1]) if found else None


def _class_node(path: Path, name: str) -> ast.ClassDef:
    for node in ast.parse(path.read_text(encoding='utf-8')).body:
        if isinstance(node, ast.ClassDef) and node.name == name:
            return node
    raise LookupError(f'no class {name} in {path}')


def _init_defaults(cls: ast.ClassDef) -> Dict[str, object]:
    """The defaults of the DEFAULT_ARGS among ``cls.__init__``'s arguments."""
    for node in cls.body:
        if isinstance(node, ast.FunctionDef) and node.name == '__init__':
            args = node.args.args[len(node.args.args) - len(node.args.defaults):]
            return {a.arg: ast.literal_eval(d) for a, d in zip(args, node.args.defaults) if a.arg in DEFAULT_ARGS}
    return {}


def _metainfo(cls: ast.ClassDef) -> dict:
    """``cls.METAINFO``, a ``dict(...)`` call of literals."""
    for node in cls.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], 'id', '') == 'METAINFO':
            return {kw.arg: ast.literal_eval(kw.value) for kw in node.value.keywords}
    raise LookupError(f'{cls.name} has no METAINFO = dict(...)')


def dataset_reference(mmseg: Path, name: str) -> dict:
    """``dict(metainfo, defaults)`` of one MMSeg dataset class: BaseSegDataset's defaults, then its own."""
    defaults = _init_defaults(_class_node(mmseg / 'datasets' / 'basesegdataset.py', 'BaseSegDataset'))
    cls = _class_node(mmseg / 'datasets' / DATASET_FILES[name], name)
    defaults.update(_init_defaults(cls))
    metainfo = _metainfo(cls)
    return dict(metainfo=dict(classes=list(metainfo['classes']), palette=metainfo['palette']), defaults=defaults)


def config_reference(mmseg: Path, name: str) -> dict:
    """The dataset dicts (pipelines included) of one MMSeg dataset config, and its tta_pipeline."""
    from mmengine.config import Config
    cfg = Config.fromfile(str(mmseg / '.mim' / 'configs' / '_base_' / 'datasets' / name))
    out = {loader: cfg[loader].dataset.to_dict() for loader in LOADERS}
    out['tta_pipeline'] = cfg.get('tta_pipeline', [])
    return json.loads(json.dumps(out))  # tuples as lists, as the fixture holds them


def read_reference(mmseg: Path) -> dict:
    """Everything the fixture holds, from the MMSegmentation package at ``mmseg``."""
    return dict(configs={name: config_reference(mmseg, name) for name in CONFIGS},
                datasets={name: dataset_reference(mmseg, name) for name in DATASET_FILES})


def load_fixture() -> dict:
    """The committed reference."""
    return json.loads(FIXTURE.read_text(encoding='utf-8'))


def write_fixture(reference: dict) -> None:
    """One line per config or dataset, so that a change shows as the line of what changed."""
    lines = []
    for section, entries in reference.items():
        rows = [f'  {json.dumps(key)}: {json.dumps(value)}' for key, value in entries.items()]
        lines.append(f'{json.dumps(section)}: {{\n' + ',\n'.join(rows) + '\n }')
    FIXTURE.write_text('{\n ' + ',\n '.join(lines) + '\n}\n', encoding='utf-8')


if __name__ == '__main__':
    mmseg_dir = find_mmseg()
    if mmseg_dir is None:
        raise SystemExit('no MMSegmentation under /tmp/peer_mmseg; install it there first')
    write_fixture(read_reference(mmseg_dir))
    print(f'wrote {FIXTURE} from {mmseg_dir}')
