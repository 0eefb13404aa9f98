"""MMSegmentation 1.x configs, read as they are: their vocabulary mapped onto segkit's in one place.

:func:`translate_mmseg_config` runs inside segkit's config loading (every entry point: ``tools/train.py``,
``tools/test.py``, ``tools/inference.py``, the web demo, ``segkit.apis.init_model``), when a config says
``default_scope='mmseg'`` or names ``mmseg.`` types; segkit's own configs are left as they are. What it does is
logged once ("read as an MMSegmentation 1.x config: ...").

============================================  ================================================================
MMSegmentation                                segkit
============================================  ================================================================
``default_scope='mmseg'``, ``type='mmseg.X'``  ``default_scope='segkit'``, ``type='X'``
``model.pretrained=P``                         ``model.backbone.init_cfg=dict(type='Pretrained', checkpoint=P)``
``ResNet`` (V1b, 7x7 stem)                     ``ResNetV1b`` (``ResNetV1c``: the 3-conv stem, same name)
``style='pytorch'``                            the stride on the 3x3 conv: segkit's only form (``'caffe'`` refused)
``multi_grid=(1, 2, 4)``                       ``multi_grid_mode='absolute'``: MMSeg's numbers are the dilations
``MobileNetV2(strides, dilations)``            ``dilate_first_block_only=True``: MMSeg dilates a stage's first
                                               block only
``ASPPHead``, ``DepthwiseSeparableASPPHead``   ``project_kernel_size=3`` (MMSeg's bottleneck is a 3x3 conv);
                                               ``c1_in_channels`` / ``c1_channels`` -> ``low_level_in_channels``
                                               / ``low_level_channels``
``CrossEntropyLoss(use_sigmoid=False)``        ``CrossEntropyLoss`` (softmax cross-entropy)
``CrossEntropyLoss(use_sigmoid=True)``         the same: binary cross-entropy on one sigmoid channel
``out_channels=1`` (``num_classes=2``)         ``num_classes=1``: one sigmoid channel, the dataset keeps its 2
                                               classes (background 0, foreground 1)
``decode_head.threshold=t``                    ``model.test_cfg.threshold=t``, the foreground cut; MMSeg's default
                                               0.3 when ``out_channels=1`` gives none (a softmax head's threshold,
                                               unused by MMSeg too, is dropped)
``SegLocalVisualizer``                         segkit's ``Visualizer`` (its hook draws the overlays)
``SegVisualizationHook(draw=True)``            writes ``WORK_DIR/vis_data/`` (``show=True`` windows refused)
``tta_model=dict(type='SegTTAModel')``,        ``--tta`` runs multi-scale + flip inside the model at the
``tta_pipeline`` (TestTimeAug)                 tta_pipeline's scales (``model.test_cfg.tta``)
============================================  ================================================================

Everything else (data preprocessor, transforms, datasets, ``ConcatDataset``, samplers, optimizers,
``AmpOptimWrapper``, schedulers, loops, hooks) has the same type names and arguments in segkit. A key segkit
cannot honour is an error naming it.
"""
from typing import Callable, Dict, List, Optional

from mmengine.config import Config, ConfigDict
from mmengine.logging import print_log

from segkit.config_errors import typed_dicts

PREFIX = 'mmseg.'


class MMSegConfigError(ValueError):
    """An MMSegmentation config key that segkit cannot honour."""


def is_mmseg_config(cfg: Config) -> bool:
    """Whether ``cfg`` is written for MMSegmentation 1.x (its scope, or ``mmseg.``-prefixed types)."""
    return cfg.get('default_scope') == 'mmseg' or any(
        isinstance(node.get('type'), str) and node['type'].startswith(PREFIX) for _, node in typed_dicts(cfg._cfg_dict))


class _Notes:
    """What the translation changed, for the one log line."""

    def __init__(self):
        self.items: List[str] = []

    def add(self, text: str) -> None:
        if text not in self.items:
            self.items.append(text)


def _backbone(path: str, cfg: dict, notes: _Notes) -> None:
    kind = cfg.get('type')
    if kind in ('ResNet', 'ResNetV1c', 'ResNetV1d'):
        style = cfg.pop('style', 'pytorch')
        if style != 'pytorch':
            raise MMSegConfigError(
                f"{path}.style={style!r}: segkit's ResNet puts the stride on the 3x3 conv of the bottleneck "
                "(style='pytorch', what every MMSegmentation DeepLab config uses); the 'caffe' style (stride on "
                "the 1x1 conv) is not implemented. Use style='pytorch'.")
        if kind == 'ResNet':
            cfg['type'] = 'ResNetV1b'
            notes.add("ResNet -> ResNetV1b (MMSegmentation's V1b: the 7x7 stem)")
        if kind == 'ResNetV1d':
            raise MMSegConfigError(f"{path}.type='ResNetV1d' (average-pool shortcuts) is not implemented in segkit; "
                                   "ResNetV1c and ResNet (V1b) are")
        if cfg.get('multi_grid'):
            cfg.setdefault('multi_grid_mode', 'absolute')
            notes.add('multi_grid as absolute dilations')
    elif kind == 'MobileNetV2' and ('strides' in cfg or 'dilations' in cfg):
        cfg.setdefault('dilate_first_block_only', True)
        notes.add("MobileNetV2 dilates each stage's first block only")


def _head(path: str, cfg: dict, notes: _Notes) -> None:
    kind = cfg.get('type')
    if kind in ('ASPPHead', 'DepthwiseSeparableASPPHead'):
        cfg.setdefault('project_kernel_size', 3)
        notes.add('ASPP bottleneck 3x3 (project_kernel_size=3)')
    for old, new in (('c1_in_channels', 'low_level_in_channels'), ('c1_channels', 'low_level_channels')):
        if old in cfg:
            cfg[new] = cfg.pop(old)
            notes.add('c1_in_channels/c1_channels -> low_level_in_channels/low_level_channels')


def _binary_head(path: str, cfg: dict, model: dict, notes: _Notes) -> None:
    """MMSegmentation's binary head (``num_classes=2, out_channels=1``) and its ``threshold``."""
    out_channels = cfg.pop('out_channels', None)
    threshold = cfg.pop('threshold', None)
    num_classes = cfg.get('num_classes')
    if out_channels not in (None, 1, num_classes):
        raise MMSegConfigError(f'{path}.out_channels={out_channels} with num_classes={num_classes}: MMSegmentation '
                               'takes out_channels equal to num_classes, or 1 for binary segmentation')
    if out_channels == 1 and num_classes != 1:
        cfg['num_classes'] = 1
        notes.add(f'{path}: out_channels=1 -> num_classes=1 (one sigmoid channel)')
        if threshold is None and path == 'model.decode_head':
            threshold = 0.3
            notes.add("no threshold on a binary head: MMSegmentation's 0.3")
    if threshold is None:
        return
    if cfg.get('num_classes') != 1 or path != 'model.decode_head':
        notes.add(f'{path}.threshold={threshold} dropped (MMSegmentation uses only a binary decode head\'s)')
        return
    test_cfg = model.get('test_cfg')
    if test_cfg is None:
        test_cfg = model['test_cfg'] = ConfigDict()
    if test_cfg.get('threshold') not in (None, threshold):
        raise MMSegConfigError(f"{path}.threshold={threshold} and model.test_cfg.threshold={test_cfg['threshold']} "
                               'differ; keep one (segkit reads model.test_cfg.threshold)')
    test_cfg['threshold'] = threshold
    notes.add(f'{path}.threshold -> model.test_cfg.threshold ({threshold})')


def _loss(path: str, cfg: dict, notes: _Notes) -> None:
    if cfg.get('type') == 'CrossEntropyLoss' and cfg.get('use_sigmoid') is False:
        cfg.pop('use_sigmoid')  # segkit's softmax cross-entropy


def _model(model: dict, notes: _Notes) -> None:
    pretrained = model.pop('pretrained', None)
    backbone = model.get('backbone') or {}
    if pretrained is not None:
        if backbone.get('init_cfg'):
            raise MMSegConfigError('model.pretrained and model.backbone.init_cfg both name pretrained weights: '
                                   'keep one')
        backbone['init_cfg'] = ConfigDict(type='Pretrained', checkpoint=pretrained)
        notes.add(f'model.pretrained -> model.backbone.init_cfg ({pretrained})')
    _backbone('model.backbone', backbone, notes)
    heads = [('model.decode_head', model.get('decode_head'))]
    aux = model.get('auxiliary_head')
    heads += [('model.auxiliary_head', aux)] if isinstance(aux, dict) else [
        (f'model.auxiliary_head.{i}', h) for i, h in enumerate(aux or [])]
    for path, head in heads:
        if head:
            _head(path, head, notes)
            _binary_head(path, head, model, notes)


_TOP_LEVEL: Dict[str, Callable[[Config, _Notes], None]] = {}


def _top_level(name: str):
    def register(fn):
        _TOP_LEVEL[name] = fn
        return fn
    return register


@_top_level('tta_model')
def _tta_model(cfg: Config, notes: _Notes) -> None:
    tta_model = cfg.pop('tta_model')
    kind = str(tta_model.get('type', '')).replace(PREFIX, '')
    if kind != 'SegTTAModel':
        raise MMSegConfigError(f"tta_model type={kind!r}: segkit runs test-time augmentation inside the model; only "
                               "MMSegmentation's SegTTAModel (mean of the views) is understood")
    notes.add('tta_model/tta_pipeline -> --tta runs multi-scale + flip inside the model')


@_top_level('default_hooks')
def _visualization_hook(cfg: Config, notes: _Notes) -> None:
    hook = cfg.default_hooks.get('visualization')
    if not hook or hook.get('type') != 'SegVisualizationHook':
        return
    if hook.pop('show', False):
        raise MMSegConfigError('default_hooks.visualization.show=True: segkit writes the drawn images to files '
                               '(tools/test.py --show-dir DIR) and opens no windows; remove show')
    hook.pop('wait_time', None)  # only meaningful with show=True
    if hook.get('draw') and not hook.get('out_dir'):
        hook['out_dir'] = 'vis_data'  # inside the work dir, where MMSegmentation's visualizer saves them
        notes.add('SegVisualizationHook(draw=True) writes to WORK_DIR/vis_data')


@_top_level('visualizer')
def _visualizer(cfg: Config, notes: _Notes) -> None:
    visualizer = cfg.visualizer
    if visualizer.get('type') == 'SegLocalVisualizer':
        visualizer['type'] = 'Visualizer'
        visualizer.pop('name', None)  # one per Runner, named after the run (mmengine's default)
        notes.add('SegLocalVisualizer -> Visualizer')


def translate_mmseg_config(cfg: Config, source: Optional[str] = None) -> bool:
    """Rewrite an MMSegmentation 1.x config in place into segkit's vocabulary; False (untouched) for others."""
    if not is_mmseg_config(cfg):
        return False
    notes = _Notes()
    cfg.default_scope = 'segkit'
    for _, node in typed_dicts(cfg._cfg_dict):
        if isinstance(node['type'], str) and node['type'].startswith(PREFIX):
            node['type'] = node['type'][len(PREFIX):]
            notes.add("'mmseg.' type prefixes dropped")
    if cfg.get('model'):
        _model(cfg.model, notes)
    for _, node in typed_dicts(cfg._cfg_dict):
        _loss('', node, notes)
    for key, translate in _TOP_LEVEL.items():
        if cfg.get(key) is not None:
            translate(cfg, notes)
    where = f' {source}' if source else ''
    print_log(f"read{where} as an MMSegmentation 1.x config: {'; '.join(notes.items) or 'scope mmseg -> segkit'}",
              logger='current')
    return True
