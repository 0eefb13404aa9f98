"""The bad-input corpus: each case is an input a user gets wrong (or an unusual one that must work). A wrong one
must fail with a message naming the file or the config key and saying how to fix it, and leave nothing half
written; an unusual one must load correctly. test_corpus_summary prints the counts; silent failures must be 0."""
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, Tuple

import cv2
import numpy as np
import pytest
import torch
from PIL import Image

from segkit.engine.checkpoint import TMP_MARK, write_atomically
from segkit.engine.config_setup import load_config
from segkit.fileio.checkpoint import safe_load
from tests.test_train_tools import write_config

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / 'tools'))
import train as train_tool  # noqa: E402

CLASSES = ('background', 'road', 'car')
PIPELINE = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'), dict(type='PackSegInputs')]


def write_pair(root: Path, name='a', img=None, mask=None, size=(16, 20)):
    (root / 'img').mkdir(parents=True, exist_ok=True)
    (root / 'ann').mkdir(parents=True, exist_ok=True)
    img = np.random.default_rng(0).integers(0, 256, (*size, 3), dtype=np.uint8) if img is None else img
    mask = np.zeros(size, np.uint8) if mask is None else mask
    cv2.imwrite(str(root / 'img' / f'{name}.png'), img)
    cv2.imwrite(str(root / 'ann' / f'{name}.png'), mask)


def first_sample(root: Path, **kwargs):
    from segkit.datasets import FolderSegDataset
    dataset = FolderSegDataset(data_root=str(root), img_dir='img', ann_dir='ann', classes=CLASSES,
                               img_suffix='.png', binary=False, pipeline=PIPELINE, **kwargs)
    return dataset[0]


def train_until_error(cfg: str, work: Path, *options):
    train_tool.main([cfg, '--work-dir', str(work)] + (['--cfg-options', *options] if options else []))


# ----------------------------------------------------------------------------------------------------- data files
def truncated_jpeg(tmp, tiny):
    write_pair(tmp)
    _, encoded = cv2.imencode('.jpg', np.full((16, 20, 3), 120, np.uint8))
    (tmp / 'img' / 'a.png').write_bytes(encoded.tobytes()[:len(encoded) * 9 // 10])
    return lambda: first_sample(tmp), [str(tmp / 'img' / 'a.png')]


def png_not_an_image(tmp, tiny):
    write_pair(tmp)
    (tmp / 'img' / 'a.png').write_text('<html>404 not found</html>')
    return lambda: first_sample(tmp), [str(tmp / 'img' / 'a.png')]


def empty_file(tmp, tiny):
    write_pair(tmp)
    (tmp / 'ann' / 'a.png').write_bytes(b'')
    return lambda: first_sample(tmp), [str(tmp / 'ann' / 'a.png')]


def missing_mask(tmp, tiny):
    write_pair(tmp)
    (tmp / 'ann' / 'a.png').unlink()
    return lambda: first_sample(tmp), [str(tmp / 'ann' / 'a.png'), 'seg_map_path']


def mask_of_another_size(tmp, tiny):
    write_pair(tmp, mask=np.zeros((8, 20), np.uint8))
    return lambda: first_sample(tmp), [str(tmp / 'ann' / 'a.png'), '16x20', '8x20']


def labels_outside_classes_and_ignore(tmp, tiny):
    mask = np.zeros((16, 20), np.uint8)
    mask[0, :3] = (2, 7, 255)  # a class, a label out of range, the ignore index
    write_pair(tmp, mask=mask)
    return lambda: first_sample(tmp), [str(tmp / 'ann' / 'a.png'), '[7]', 'label_map']


def mask_16bit_out_of_range(tmp, tiny):
    write_pair(tmp)
    cv2.imwrite(str(tmp / 'ann' / 'a.png'), np.full((16, 20), 1000, np.uint16))
    return lambda: first_sample(tmp), [str(tmp / 'ann' / 'a.png'), '[1000]']


def colour_mask(tmp, tiny):
    write_pair(tmp)
    cv2.imwrite(str(tmp / 'ann' / 'a.png'), np.zeros((16, 20, 3), np.uint8))
    return lambda: first_sample(tmp), [str(tmp / 'ann' / 'a.png'), 'colour_masks=True', 'colour_masks.py']


def colour_mask_with_unknown_colour(tmp, tiny):
    write_pair(tmp)
    mask = np.zeros((16, 20, 3), np.uint8)
    mask[0, 0] = (1, 2, 3)  # BGR on disk: the RGB colour [3, 2, 1]
    cv2.imwrite(str(tmp / 'ann' / 'a.png'), mask)
    return (lambda: first_sample(tmp, palette=[[0, 0, 0], [255, 0, 0], [0, 255, 0]], colour_masks=True),
            [str(tmp / 'ann' / 'a.png'), '[3, 2, 1]: 1 pixels', "unknown_colour='ignore'"])


def colour_mask_through_palette(tmp, tiny):
    write_pair(tmp)
    mask = np.zeros((16, 20, 3), np.uint8)
    mask[:, 10:] = (0, 0, 255)  # red, class 1
    cv2.imwrite(str(tmp / 'ann' / 'a.png'), mask)

    def check():
        sample = first_sample(tmp, palette=[[0, 0, 0], [255, 0, 0], [0, 255, 0]], colour_masks=True)
        labels = sample['data_samples'].gt_sem_seg.data[0]
        assert labels[:, :10].eq(0).all() and labels[:, 10:].eq(1).all()
    return check, []


def empty_split_list(tmp, tiny):
    write_pair(tmp)
    (tmp / 'train.txt').write_text('\n\n')
    return lambda: first_sample(tmp, ann_file='train.txt'), [str(tmp / 'train.txt'), 'lists no names']


def split_list_names_missing_file(tmp, tiny):
    write_pair(tmp)
    (tmp / 'train.txt').write_text('a\nb\n')
    return lambda: first_sample(tmp, ann_file='train.txt'), [str(tmp / 'train.txt'), str(tmp / 'img' / 'b.png')]


# ------------------------------------------------------------------------------------------ inputs that must work
def rgba_image(tmp, tiny):
    write_pair(tmp)
    rgba = np.zeros((16, 20, 4), np.uint8)
    rgba[..., 0], rgba[..., 3] = 200, 10  # red, nearly transparent: the colour is kept, alpha dropped
    Image.fromarray(rgba, 'RGBA').save(tmp / 'img' / 'a.png')

    def check():
        img = first_sample(tmp)['inputs']  # BGR, 3 channels
        assert img.shape == (3, 16, 20) and img[2].unique().tolist() == [200] and img[:2].max() == 0
    return check, []


def grayscale_image(tmp, tiny):
    write_pair(tmp, img=np.zeros((16, 20, 3), np.uint8))
    cv2.imwrite(str(tmp / 'img' / 'a.png'), np.full((16, 20), 77, np.uint8))

    def check():
        img = first_sample(tmp)['inputs']
        assert img.shape == (3, 16, 20) and img.unique().tolist() == [77]
    return check, []


def mask_16bit(tmp, tiny):
    write_pair(tmp)
    mask = np.zeros((16, 20), np.uint16)
    mask[4:] = 2
    cv2.imwrite(str(tmp / 'ann' / 'a.png'), mask)

    def check():
        labels = first_sample(tmp)['data_samples'].gt_sem_seg.data
        assert labels.shape == (1, 16, 20) and int((labels == 2).sum()) == 12 * 20
    return check, []


def palette_mask(tmp, tiny):
    write_pair(tmp)
    indices = np.zeros((16, 20), np.uint8)
    indices[:, 10:] = 1
    palette = Image.fromarray(indices, 'P')
    palette.putpalette([0, 0, 0, 128, 64, 128] + [0] * 762)  # index 1 shown as purple: the index is the label
    palette.save(tmp / 'ann' / 'a.png')

    def check():
        labels = first_sample(tmp)['data_samples'].gt_sem_seg.data
        assert labels.unique().tolist() == [0, 1] and int(labels.sum()) == 16 * 10
    return check, []


def path_with_spaces_and_non_ascii(tmp, tiny):
    root = tmp / 'données d\'été' / 'ñ 数据'
    write_pair(root, mask=np.ones((16, 20), np.uint8))
    ckpt = root / 'modèle 1.pth'

    def check():
        assert first_sample(root)['data_samples'].gt_sem_seg.data.min() == 1
        import io
        buffer = io.BytesIO()
        torch.save({'state_dict': {'w': torch.ones(2)}}, buffer)
        write_atomically(ckpt, buffer.getvalue())
        assert torch.equal(safe_load(str(ckpt))['state_dict']['w'], torch.ones(2))
        cfg_path = root / 'mon config.py'
        cfg_path.write_text("_base_ = ['" + str(REPO / 'configs/deeplabv3plus/r18_96x96_shapes.py') + "']\n")
        assert load_config(str(cfg_path)).model.decode_head.num_classes == 6
    return check, []


def folder_of_10000_files(tmp, tiny):
    for sub in ('img', 'ann'):
        (tmp / sub).mkdir()
        for i in range(10000):
            (tmp / sub / f'{i:05d}.png').touch()

    def check():
        from segkit.datasets import FolderSegDataset
        start = time.perf_counter()
        dataset = FolderSegDataset(data_root=str(tmp), img_dir='img', ann_dir='ann', classes=CLASSES,
                                   img_suffix='.png', binary=False, pipeline=PIPELINE)
        seconds = time.perf_counter() - start
        assert len(dataset) == 10000 and dataset.get_data_info(9999)['img_path'].endswith('09999.png')
        assert seconds < 20, f'listing 10,000 files took {seconds:.1f} s'  # ~0.3 s here; catches reading files
        print(f'\nlisting 10,000 image/mask pairs: {seconds:.2f} s')
    return check, []


# ------------------------------------------------------------------------------------------------ config / model
def num_classes_mismatch(tmp, tiny):
    return (lambda: train_until_error(tiny, tmp / 'work', 'model.decode_head.num_classes=4',
                                      'model.auxiliary_head.num_classes=4'),
            ['model.decode_head.num_classes', 'num_classes=6'])


def ignore_index_mismatch(tmp, tiny):
    return (lambda: train_until_error(tiny, tmp / 'work', 'model.decode_head.ignore_index=11'),
            ['model.decode_head.ignore_index=11', 'train_dataloader.dataset.ignore_index=255'])


def misspelt_head_argument(tmp, tiny):
    return (lambda: train_until_error(tiny, tmp / 'work', 'model.decode_head.dilation=[1,2,3]'),
            ['model.decode_head.dilation', 'DepthwiseSeparableASPPHead', "'dilations'"])


def misspelt_loop_argument(tmp, tiny):
    return (lambda: train_until_error(tiny, tmp / 'work', 'train_cfg.max_iter=5'),
            ['train_cfg.max_iter', 'IterBasedTrainLoop', "'max_iters'"])


def unknown_type(tmp, tiny):
    return (lambda: train_until_error(tiny, tmp / 'work', 'model.decode_head.type=DepthwiseSeparableAsppHead'),
            ["'DepthwiseSeparableAsppHead'", 'DepthwiseSeparableASPPHead', 'register_module'])


def cfg_options_bad_path(tmp, tiny):
    return (lambda: train_until_error(tiny, tmp / 'work', 'param_scheduler.3.end=5'),
            ['param_scheduler.3.end', "'param_scheduler'", '0..0'])


def cfg_options_misspelt_section(tmp, tiny):
    return (lambda: train_until_error(tiny, tmp / 'work', 'model.decode_haed.num_classes=5'),
            ['model.decode_haed', "'model.decode_head'"])


def checkpoint_of_another_architecture(tmp, tiny):
    from segkit.models.backbones import MobileNetV2
    other = {f'backbone.{k}': v for k, v in MobileNetV2(widen_factor=0.25).state_dict().items()}
    path = tmp / 'mobilenet_deeplab.pth'
    torch.save({'state_dict': other}, path)
    return (lambda: train_until_error(tiny, tmp / 'work', f'load_from={path}'),
            [str(path), 'missing in the checkpoint', 'unexpected', 'backbone.stem',
             'the config the checkpoint was trained with'])


def checkpoint_needing_unsafe_unpickling(tmp, tiny):
    path = tmp / 'pickled.pth'
    torch.save({'state_dict': {}, 'callback': Path('/')}, path)  # unpickling runs pathlib's constructor
    return (lambda: train_until_error(tiny, tmp / 'work', f'load_from={path}'),
            [str(path), 'SEGKIT_TRUSTED_CHECKPOINTS'])


def config_syntax_error(tmp, tiny):
    path = tmp / 'typo.py'
    path.write_text(f"_base_ = [{tiny!r}]\ntrain_cfg = dict(max_iters=2 val_interval=1)\n")
    return lambda: train_until_error(str(path), tmp / 'work'), [str(path), 'line 2']


def truncated_checkpoint(tmp, tiny):
    path = tmp / 'iter_2.pth'
    torch.save({'state_dict': {'w': torch.zeros(1000)}}, path)
    path.write_bytes(path.read_bytes()[:2000])  # a copy cut short
    return (lambda: train_until_error(tiny, tmp / 'work', f'load_from={path}'),
            [str(path), 'truncated', 'Download or copy it again'])


@dataclass
class Case:
    setup: Callable
    works: bool = False
    fix_words: Tuple[str, ...] = field(default=('check', 'replace', 'set ', 'use ', 'did you mean', 'fix',
                                                'give', 'must', 'decorate', 'map '))


CASES: Dict[str, Case] = {f.__name__: Case(f) for f in [
    truncated_jpeg, png_not_an_image, empty_file, missing_mask, mask_of_another_size,
    labels_outside_classes_and_ignore, mask_16bit_out_of_range, colour_mask, colour_mask_with_unknown_colour,
    empty_split_list,
    split_list_names_missing_file, num_classes_mismatch, ignore_index_mismatch, misspelt_head_argument,
    misspelt_loop_argument, unknown_type, cfg_options_bad_path, cfg_options_misspelt_section,
    checkpoint_of_another_architecture, checkpoint_needing_unsafe_unpickling, config_syntax_error,
    truncated_checkpoint]}
CASES.update({f.__name__: Case(f, works=True) for f in [
    rgba_image, grayscale_image, mask_16bit, palette_mask, colour_mask_through_palette, path_with_spaces_and_non_ascii,
    folder_of_10000_files]})
OUTCOMES: Dict[str, str] = {}


def half_written(root: Path, before: set) -> list:
    return [p for p in root.rglob('*') if p not in before and (p.suffix == '.pth' or TMP_MARK in p.name)]


def run_case(name: str, tmp: Path, tiny: str) -> Tuple[str, str]:
    """('works' | 'clear' | 'unclear' | 'silent', detail)."""
    case = CASES[name]
    action, names = case.setup(tmp, tiny)
    before = set(tmp.rglob('*'))
    try:
        action()
    except Exception as exc:  # noqa: BLE001  (every error is judged by its message)
        message = f'{type(exc).__name__}: {exc}'
        written = half_written(tmp, before)
        clear = (not case.works and all(n in message for n in names) and not written
                 and any(w in message.lower() for w in case.fix_words))
        outcome = 'clear' if clear else 'unclear'
        OUTCOMES[name] = outcome
        return outcome, f'{message}\nnames expected: {names}; written: {written}'
    OUTCOMES[name] = 'works' if case.works else 'silent'
    return OUTCOMES[name], ''


@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    return write_config(tmp_path_factory.mktemp('tiny'), iters=2)


@pytest.mark.parametrize('name', list(CASES))
def test_case(name, tmp_path, tiny):
    outcome, detail = run_case(name, tmp_path, tiny)
    assert outcome == ('works' if CASES[name].works else 'clear'), detail


def test_corpus_summary(tmp_path, tiny):
    for name in CASES:
        if name not in OUTCOMES:  # run alone: try the cases here
            case_dir = tmp_path / name
            case_dir.mkdir()
            run_case(name, case_dir, tiny)
    errors = [n for n in CASES if not CASES[n].works]
    counts = dict(tried=len(CASES), should_fail=len(errors),
                  clear_errors=sum(OUTCOMES[n] == 'clear' for n in errors),
                  unclear_errors=sum(OUTCOMES[n] == 'unclear' for n in CASES),
                  silent_failures=sum(OUTCOMES[n] == 'silent' for n in CASES),
                  worked=sum(OUTCOMES[n] == 'works' for n in CASES))
    print('\nbad-input corpus: ' + ', '.join(f'{k.replace("_", " ")} {v}' for k, v in counts.items()))
    assert counts['silent_failures'] == 0
    assert counts['clear_errors'] == len(errors) and counts['worked'] == len(CASES) - len(errors)
