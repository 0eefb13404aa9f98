"""tools/inference.py on an image, a folder (with an unreadable file) and a video; the inference API's array
channel order, batches, probabilities, TTA and result saving."""
import sys

import cv2
import numpy as np
import pytest
import torch
from PIL import Image

from segkit.apis import SegmentationResult, inference_model, init_model
from segkit.visualization import read_label_png
from tests.tools_support import REPO, real_image, write_tiny_checkpoint

sys.path.insert(0, str(REPO / 'tools'))
import inference as inference_tool  # noqa: E402


@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('tiny')
    config, checkpoint = write_tiny_checkpoint(tmp)
    image_path = real_image(tmp)
    return dict(config=str(config), checkpoint=str(checkpoint), model=init_model(str(config), str(checkpoint)),
                image_path=image_path, image=cv2.resize(cv2.imread(str(image_path)), (64, 48)))


def test_arrays_in_either_channel_order_and_paths_give_one_answer(tiny, tmp_path):
    model, bgr = tiny['model'], tiny['image']
    path = tmp_path / 'frame.png'
    cv2.imwrite(str(path), bgr)
    from_bgr = inference_model(model, bgr)
    from_rgb = inference_model(model, bgr[..., ::-1].copy(), channel_order='rgb')
    from_path = inference_model(model, str(path))
    assert isinstance(from_bgr, SegmentationResult)
    assert torch.allclose(from_bgr.seg_logits.data, from_rgb.seg_logits.data, atol=1e-5)
    assert torch.allclose(from_bgr.seg_logits.data, from_path.seg_logits.data, atol=1e-5)
    swapped = inference_model(model, bgr[..., ::-1].copy())  # RGB passed as BGR: a different input
    assert not torch.allclose(from_bgr.seg_logits.data, swapped.seg_logits.data, atol=1e-3)
    with pytest.raises(ValueError, match='channel_order'):
        inference_model(model, bgr, channel_order='RGB ')
    with pytest.raises(FileNotFoundError, match='missing.png'):
        inference_model(model, str(tmp_path / 'missing.png'))


def test_batches_match_single_images_and_probabilities_sum_to_one(tiny):
    model, image = tiny['model'], tiny['image']
    other = cv2.resize(image, (40, 56))
    singles = [inference_model(model, img) for img in (image, other, image)]
    batched = inference_model(model, [image, other, image], batch_size=2)  # same-size images share a batch
    assert [r.label_map.shape for r in batched] == [(48, 64), (56, 40), (48, 64)]
    for single, result in zip(singles, batched):
        assert torch.allclose(single.seg_logits.data, result.seg_logits.data, atol=1e-4)
    probs = batched[0].probabilities
    assert probs.shape == (6, 48, 64)
    assert torch.allclose(probs.sum(0), torch.ones(48, 64), atol=1e-5)
    assert torch.equal(probs.argmax(0), batched[0].pred_sem_seg.data[0])


def test_result_saves_palette_label_png_and_overlay_with_legend(tiny, tmp_path):
    result = inference_model(tiny['model'], tiny['image'])
    result.save_label_map(tmp_path / 'label.png')
    with Image.open(tmp_path / 'label.png') as png:
        assert png.mode == 'P'
    assert np.array_equal(read_label_png(tmp_path / 'label.png'), result.label_map)
    result.save_overlay(tmp_path / 'overlay.png')
    overlay = cv2.imread(str(tmp_path / 'overlay.png'))
    assert overlay.shape[0] >= 48 and overlay.shape[1] > 64  # legend panel on the right
    bare = result.overlay(legend=False)
    assert bare.shape == (48, 64, 3) and np.array_equal(overlay[:48, :64], bare)
    names = [text.split()[0] for text, _ in result.legend()]
    assert names == [result.classes[i] for i in np.unique(result.label_map)]


def test_tta_model_averages_views(tiny):
    tta = init_model(tiny['config'], tiny['checkpoint'], tta=True)
    plain = inference_model(tiny['model'], tiny['image'])
    result = inference_model(tta, tiny['image'])
    assert result.label_map.shape == (48, 64)
    assert not torch.allclose(result.seg_logits.data, plain.seg_logits.data, atol=1e-4)


def test_folder_is_searched_recursively_and_unreadable_files_are_counted(tiny, tmp_path, capsys):
    images = tmp_path / 'images'
    (images / 'day').mkdir(parents=True)
    cv2.imwrite(str(images / 'a.png'), tiny['image'])
    cv2.imwrite(str(images / 'day' / 'b.jpg'), cv2.resize(tiny['image'], (40, 30)))
    (images / 'day' / 'broken.png').write_bytes(b'not a png')
    (images / 'notes.txt').write_text('not an image')
    out = tmp_path / 'out'
    stats = inference_tool.main([tiny['config'], tiny['checkpoint'], str(images), '--out', str(out),
                                 '--batch-size', '2'])
    assert stats['done'] == 2 and [p.name for p in stats['unreadable']] == ['broken.png']
    err = capsys.readouterr().err
    assert 'broken.png' in err and '1 unreadable skipped' in err and 'images/s' in err
    assert sorted(str(p.relative_to(out)) for p in out.rglob('*.png')) == [
        'label/a.png', 'label/day/b.png', 'overlay/a.png', 'overlay/day/b.png']
    labels = read_label_png(out / 'label' / 'day' / 'b.png')
    assert labels.shape == (30, 40) and labels.max() < 6
    assert cv2.imread(str(out / 'overlay' / 'a.png')).shape[1] > 64  # legend


def test_single_image_and_video(tiny, tmp_path, capsys):
    out = tmp_path / 'out'
    stats = inference_tool.main([tiny['config'], tiny['checkpoint'], str(tiny['image_path']), '--out', str(out),
                                 '--opacity', '0.7'])
    assert stats['done'] == 1
    name = tiny['image_path'].stem + '.png'
    full = cv2.imread(str(tiny['image_path']))
    assert read_label_png(out / 'label' / name).shape == full.shape[:2]
    video = tmp_path / 'clip.mp4'
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*'mp4v'), 12.0, (64, 48))
    for shift in range(4):
        writer.write(np.roll(tiny['image'], 4 * shift, axis=1))
    writer.release()
    stats = inference_tool.main([tiny['config'], tiny['checkpoint'], str(video), '--out', str(out)])
    assert stats['frames'] == 4 and stats['fps'] == pytest.approx(12.0)
    assert 'FPS' in capsys.readouterr().err
    written = cv2.VideoCapture(str(stats['out_file']))
    assert written.get(cv2.CAP_PROP_FPS) == pytest.approx(12.0)
    assert int(written.get(cv2.CAP_PROP_FRAME_COUNT)) == 4
    assert int(written.get(cv2.CAP_PROP_FRAME_WIDTH)) > 64  # the frame plus the legend panel
    written.release()
    with pytest.raises(FileNotFoundError, match='nowhere'):
        inference_tool.main([tiny['config'], tiny['checkpoint'], str(tmp_path / 'nowhere')])
