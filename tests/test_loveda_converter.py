"""tools/dataset_converters/loveda.py on tiny Train.zip / Val.zip / Test.zip with the official member names."""
from pathlib import Path

import numpy as np
import pytest
from mmengine.config import Config

from archive_builders import encoded, random_image, write_zip
from segkit.registry import DATASETS

import loveda  # noqa: E402 (tools/dataset_converters, put on the path by archive_builders)

REPO = Path(__file__).resolve().parents[1]
LABELS = np.array([[0, 1, 2, 3], [4, 5, 6, 7]], np.uint8)  # 0 no data, 1-7 the classes
FILES = dict(Train=dict(Rural=['0', '1'], Urban=['1366']), Val=dict(Rural=['2522'], Urban=['3514']),
             Test=dict(Rural=['4191'], Urban=['5000']))


def loveda_downloads(root: Path, drop: str = '') -> dict:
    """The three archives; ``{output path: bytes}`` of every file they hold (``drop``: a member left out)."""
    expected = {}
    for archive, areas in FILES.items():
        members, split = {}, archive.lower()
        for area, names in areas.items():
            for i, name in enumerate(names):
                image, labels = encoded(random_image(2, 4, int(name)), '.png'), encoded(np.roll(LABELS, i), '.png')
                members[f'{archive}/{area}/images_png/{name}.png'] = image
                expected[f'img_dir/{split}/{name}.png'] = image
                if archive != 'Test':
                    members[f'{archive}/{area}/masks_png/{name}.png'] = labels
                    expected[f'ann_dir/{split}/{name}.png'] = labels
        write_zip(root / f'{archive}.zip', {k: v for k, v in members.items() if k != drop})
    return expected


def test_loveda_copies_rural_and_urban_into_split_folders(tmp_path):
    expected = loveda_downloads(tmp_path / 'dl')
    out = tmp_path / 'loveDA'
    assert loveda.main([str(tmp_path / 'dl'), '-o', str(out), '--nproc', '2']) == dict(train=3, val=2, test=2)
    written = {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob('*.png')}
    assert written == expected  # the same files, unchanged

    cfg = Config.fromfile(str(REPO / 'configs/_base_/datasets/loveda.py')).train_dataloader.dataset
    dataset = DATASETS.build(dict(cfg, data_root=str(out), pipeline=cfg.pipeline[:2]))
    assert len(dataset) == 3 and dataset[0]['img_path'].endswith('img_dir/train/0.png')
    assert dataset[0]['gt_seg_map'].tolist() == [[255, 0, 1, 2], [3, 4, 5, 6]]  # reduce_zero_label


def test_loveda_without_test_zip(tmp_path, capsys):
    loveda_downloads(tmp_path / 'dl')
    (tmp_path / 'dl' / 'Test.zip').unlink()
    assert loveda.main([str(tmp_path / 'dl'), '-o', str(tmp_path / 'out')]) == dict(train=3, val=2)
    assert 'Test.zip is not in' in capsys.readouterr().err and not (tmp_path / 'out' / 'img_dir' / 'test').exists()


def test_loveda_bad_downloads_are_named(tmp_path):
    dl = tmp_path / 'dl'
    args = [str(dl), '-o', str(tmp_path / 'out')]
    loveda_downloads(dl, drop='Val/Urban/masks_png/3514.png')
    with pytest.raises(FileNotFoundError, match=r'Val.zip lacks the masks of 1 images: Val/Urban/masks_png/3514.png'):
        loveda.main(args)
    (dl / 'Val.zip').unlink()
    with pytest.raises(FileNotFoundError, match=r'Val.zip is not in .*dl: it is the val split of the LoveDA release'):
        loveda.main(args)
    write_zip(dl / 'Val.zip', {'Val/Rural/images_png/7.png': b'a', 'Val/Urban/images_png/7.png': b'b'})
    with pytest.raises(ValueError, match=r'Val/Rural/images_png/7.png and Val/Urban/images_png/7.png would both '
                                         r'become val/7.png'):
        loveda.main(args)
