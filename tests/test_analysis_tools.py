"""After a (tiny, real) training run: loss / lr / mIoU curves, TensorBoard scalars and overlays, the per-class IoU
chart of a tools/test.py run, multiply-add counting and the resolved config."""
import importlib.util
import sys

import cv2
import numpy as np
import pytest
import torch

from tests.tools_support import REPO, write_tiny_config

sys.path.insert(0, str(REPO / 'tools'))
sys.path.insert(0, str(REPO / 'tools' / 'analysis_tools'))
sys.path.insert(0, str(REPO / 'tools' / 'misc'))
import get_flops  # noqa: E402
import plot_class_iou  # noqa: E402
import plot_curves  # noqa: E402
import print_config  # noqa: E402
import test as test_tool  # noqa: E402
import train as train_tool  # noqa: E402

HAVE_TENSORBOARD = importlib.util.find_spec('tensorboard') is not None
needs_matplotlib = pytest.mark.skipif(importlib.util.find_spec('matplotlib') is None,
                                      reason="matplotlib is not installed (pip install -e '.[optional]')")
TENSORBOARD = '''
visualizer = dict(vis_backends=[dict(type='LocalVisBackend'), dict(type='TensorboardVisBackend')])
'''


@pytest.fixture(scope='module')
def run(tmp_path_factory):
    """4 iterations of the tiny model, validated at iterations 2 and 4, then evaluated by tools/test.py."""
    tmp = tmp_path_factory.mktemp('run')
    config = str(write_tiny_config(tmp, extra=TENSORBOARD if HAVE_TENSORBOARD else ''))
    work_dir = tmp / 'work'
    train_tool.main([config, '--work-dir', str(work_dir)])
    metrics = test_tool.main([config, str(work_dir / 'iter_4.pth'), '--work-dir', str(tmp / 'test')])
    return dict(tmp=tmp, config=config, work_dir=work_dir, test_dir=tmp / 'test', metrics=metrics)


def png_is_a_drawing(path, min_size=(150, 200)):
    image = cv2.imread(str(path))
    assert image is not None and image.shape[0] >= min_size[0] and image.shape[1] >= min_size[1]
    assert len(np.unique(image.reshape(-1, 3), axis=0)) > 20  # lines, text and colours, not a blank canvas
    assert path.stat().st_size < 200_000


def test_scalars_are_read_from_the_run(run):
    train, val = plot_curves.read_scalars(plot_curves.find_scalar_files(run['work_dir']))
    assert [step for step, _ in train['loss']] == [1, 2, 3, 4]
    assert train['lr'][0][1] == pytest.approx(0.002)  # AdamW lr of the Shapes config, poly decay from there
    assert train['lr'][-1][1] < train['lr'][0][1]
    assert [step for step, _ in val['mIoU']] == [2, 4]
    assert all(0 <= v <= 100 for _, v in val['mIoU'])


@needs_matplotlib
def test_plot_curves_writes_a_png(run, tmp_path):
    out = plot_curves.main([str(run['work_dir']), '--out', str(tmp_path / 'curves.png'),
                            '--keys', 'loss', 'decode.loss_ce'])
    png_is_a_drawing(out)
    with pytest.raises(KeyError, match='decode.loss_ce'):  # the message lists what was logged
        plot_curves.main([str(run['work_dir']), '--keys', 'no_such_loss'])
    with pytest.raises(FileNotFoundError, match='scalars.json'):
        plot_curves.main([str(tmp_path)])


@pytest.mark.skipif(not HAVE_TENSORBOARD, reason="tensorboard is not installed (pip install -e '.[optional]')")
def test_tensorboard_gets_scalars_and_validation_overlays(run):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    events = list(run['work_dir'].glob('*/vis_data/events.out.tfevents.*'))
    assert events, 'TensorboardVisBackend wrote no event file'
    acc = EventAccumulator(str(events[0].parent), size_guidance={'images': 0, 'scalars': 0})
    acc.Reload()
    assert {'loss', 'lr', 'mIoU'} <= set(acc.Tags()['scalars'])
    assert [e.step for e in acc.Scalars('mIoU')] == [2, 4]
    images = [tag for tag in acc.Tags()['images'] if tag.startswith('val/')]
    assert images, acc.Tags()['images']
    encoded = acc.Images(images[0])[0]
    drawn = cv2.imdecode(np.frombuffer(encoded.encoded_image_string, np.uint8), cv2.IMREAD_COLOR)
    assert drawn.shape[1] > 3 * 32  # image | ground truth | prediction, plus the legend


@needs_matplotlib
def test_class_iou_chart_from_a_test_run(run, tmp_path):
    log = plot_class_iou.find_log(run['test_dir'])
    table = plot_class_iou.read_class_table(log)
    names = [name for name, _ in table['IoU']]
    assert names == ['background', 'disk', 'square', 'triangle', 'ring', 'cross']
    present = [v for _, v in table['IoU'] if not np.isnan(v)]
    assert np.mean(present) == pytest.approx(run['metrics']['mIoU'], abs=0.01)  # the table the metric printed
    out = plot_class_iou.main([str(run['test_dir']), '--out', str(tmp_path / 'iou.png')])
    png_is_a_drawing(out)
    with pytest.raises(KeyError, match='Dice'):
        plot_class_iou.main([str(run['test_dir']), '--metric', 'Dice'])


def test_get_flops_counts_convolution_multiply_adds(run, capsys):
    """The convolution count equals the hand count of every conv run in inference: out pixels x k x k x c_in/g."""
    from segkit.apis import init_model
    model = init_model(run['config'])
    hand = []

    def count(conv, inputs, output):
        hand.append(output.numel() * conv.in_channels // conv.groups * conv.kernel_size[0] * conv.kernel_size[1])

    handles = [m.register_forward_hook(count) for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    with torch.no_grad():
        model(torch.zeros(1, 3, 64, 96), mode='tensor')
    for handle in handles:
        handle.remove()
    stats = get_flops.main([run['config'], '--shape', '64', '96', '--table'])
    assert stats['analyzer'].by_operator()['conv'] == sum(hand)
    assert stats['macs'] > sum(hand)  # plus batch norm, upsampling and pooling
    assert stats['inference_params'] + stats['aux_params'] == sum(p.numel() for p in model.parameters())
    out = capsys.readouterr().out
    assert 'multiply-adds' in out and '2 x multiply-adds' in out and 'backbone' in out


def test_print_config_resolves_bases_and_options(run, tmp_path, capsys):
    text = print_config.main([run['config'], '--cfg-options', 'train_cfg.max_iters=7',
                              '--out', str(tmp_path / 'resolved.py')])
    assert "max_iters=7" in text.replace(' ', '') and '_base_' not in text
    assert "type='DepthwiseSeparableASPPHead'" in text  # from the base config
    from mmengine.config import Config
    assert Config.fromfile(str(tmp_path / 'resolved.py')).train_cfg.max_iters == 7
