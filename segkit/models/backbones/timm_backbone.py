"""Any timm model as the DeepLab encoder: timm's ``features_only`` network under ``model.output_stride``."""
from collections.abc import Mapping
from typing import Optional, Sequence, Tuple, Union

from mmengine.logging import print_log
from mmengine.model import BaseModule
from torch import Tensor

from segkit.models.feature_info import FeatureInfo, FeatureSpec
from segkit.models.output_stride import check_output_stride
from segkit.registry import BACKBONES

from .input_channels import RGB, expand_input_conv
from .pretrained import load_backbone_weights, read_state_dict
from .timm_features import create_features, network_stride


@BACKBONES.register_module()
class TimmBackbone(BaseModule):
    """``timm.create_model(model_name, features_only=True, in_chans=in_channels, out_indices=...,
    output_stride=...)``: its features, unchanged (``self.model`` is that network).

    ``feature_info`` gives each returned feature's channels and reduction at the output stride built, which
    is how the segmentor fills the heads' ``in_channels`` / ``in_index`` and the v3+ decoder's stride-4 input
    (:mod:`segkit.models.feature_info`): a config names the timm model only.

    Args:
        model_name: a timm model, optionally with a pretrained tag (``'convnext_tiny'``,
            ``'resnet50d.ra2_in1k'``).
        out_indices: the stages returned (timm's ``out_indices``); None: timm's default, every stage.
        in_channels: input channels (timm's ``in_chans``). RGB weights reach other band counts by segkit's one rule
            (:func:`.input_channels.expand_input_conv`: RGB filters kept, further bands their mean, x 3/N), as on
            every other backbone, not timm's cyclic repeat.
        output_stride: 8, 16 or 32, set by ``model.output_stride``; 8 and 16 dilate through timm's own
            ``output_stride`` (the CNN families of :data:`.timm_features.DILATED_FAMILIES`), 32 / None build the
            undilated network. Refused with those families named when timm cannot reach it.
        pretrained: ImageNet weights: a file (timm's ``model.safetensors`` / ``pytorch_model.bin``, or a
            TimmBackbone state_dict), or True for timm's own source through the Hugging Face cache (offline
            with ``HF_HUB_OFFLINE=1`` once cached). Read by :meth:`init_weights` (which the Runner calls before
            training), as ``init_cfg=dict(type='Pretrained', checkpoint=PATH, prefix=None)`` is; give one of the
            two. Building never reads them, so configs build and load checkpoints without the file.
        model_kwargs: more ``timm.create_model`` arguments (e.g. ``drop_path_rate=0.1``).
    """

    def __init__(self, model_name: str, *, out_indices: Optional[Sequence[int]] = None, in_channels: int = 3,
                 output_stride: Optional[int] = None, pretrained: Union[bool, str] = False,
                 model_kwargs: Optional[dict] = None, init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        check_output_stride('TimmBackbone', output_stride)
        if not (isinstance(pretrained, bool) or (isinstance(pretrained, str) and pretrained)):
            raise ValueError(f'TimmBackbone: pretrained={pretrained!r} must be False, True (the Hugging Face cache) '
                             'or the path of a weights file')
        if pretrained and _pretrained_init_cfg(init_cfg) is not None:
            raise ValueError(f'TimmBackbone: pretrained={pretrained!r} and init_cfg={dict(init_cfg)} both name '
                             'weights: keep one (init_cfg.checkpoint or pretrained)')
        if not isinstance(in_channels, int) or in_channels < 1:
            raise ValueError(f'TimmBackbone: in_channels={in_channels!r} must be a positive int')
        self.model_name, self.pretrained = model_name, pretrained
        self._build_args = dict(out_indices=None if out_indices is None else tuple(out_indices),
                                in_channels=in_channels, output_stride=output_stride,
                                model_kwargs=dict(model_kwargs or {}))
        self.model = create_features(model_name, **self._build_args)
        info = self.model.feature_info
        self.feature_info: FeatureInfo = tuple(
            FeatureSpec(int(c), int(r)) for c, r in zip(info.channels(), info.reduction()))
        self.output_stride = network_stride(self.model)

    def forward(self, x: Tensor) -> Tuple[Tensor, ...]:
        return tuple(self.model(x))

    # -------------------------------------------------------------------------------------------------- weights
    def init_weights(self) -> None:
        """Load the weights ``pretrained`` / a ``Pretrained`` init_cfg name; other init_cfgs go to mmengine.
        Without either, timm's own initialisation (done when building) stays."""
        cfg = _pretrained_init_cfg(self.init_cfg)
        if cfg is not None:
            self.load_pretrained(cfg['checkpoint'], prefix=cfg.get('prefix'),
                                 map_location=cfg.get('map_location', 'cpu'))
        elif self.pretrained:
            self.load_pretrained(self.pretrained)
        elif self.init_cfg is not None:
            super().init_weights()
        self._is_init = True

    def load_pretrained(self, checkpoint: Union[str, bool], prefix: Optional[str] = None,
                        map_location: str = 'cpu') -> None:
        """Load ``checkpoint``: True for timm's Hugging Face source (its cache when offline), a file of timm's
        (classifier weights; timm's own checkpoint filter and input-channel adaptation apply) or a TimmBackbone
        state_dict (``prefix='backbone.'`` for a whole segmentor's)."""
        name = f'TimmBackbone({self.model_name!r})'
        if checkpoint is True:
            source = self._timm_loaded({}, 'the Hugging Face cache')
        else:
            state_dict = read_state_dict(checkpoint, prefix=prefix, map_location=map_location)
            own = self.state_dict()
            if prefix or all(key in own for key in state_dict):
                load_backbone_weights(self, checkpoint, name, prefix=prefix, map_location=map_location,
                                      expected='The file must hold timm weights of this model or a TimmBackbone '
                                               'state_dict.')
                return
            source = self._timm_loaded(dict(state_dict=state_dict), checkpoint)
        self.model.load_state_dict(self._bands_expanded(source.state_dict()), strict=True)

    def _bands_expanded(self, rgb_state: dict) -> dict:
        """The RGB network's weights with each convolution that reads the image expanded to ``in_channels``."""
        in_channels = self._build_args['in_channels']
        own = self.model.state_dict()
        for key, weight in rgb_state.items():
            if weight.dim() == 4 and weight.shape[1] == RGB and own[key].shape[1] == in_channels != RGB:
                rgb_state[key] = expand_input_conv(weight, in_channels)
                print_log(f'TimmBackbone({self.model_name!r}): {key} expanded from 3 (RGB) to {in_channels} input '
                          f'bands (RGB filters kept, further bands from their mean, all x 3/{in_channels})',
                          logger='current')
        return rgb_state

    def _timm_loaded(self, overlay: dict, where: str):
        """The same features network with timm's pretrained loading from ``overlay`` (timm's
        ``pretrained_cfg_overlay``)."""
        try:
            return create_features(self.model_name, pretrained_cfg_overlay=overlay,
                                   **dict(self._build_args, in_channels=RGB))
        except (OSError, RuntimeError, KeyError) as exc:
            hub = where == 'the Hugging Face cache'
            fix = ('Fetch the file once with network access (python -c "import timm; timm.create_model('
                   f"'{self.model_name}', pretrained=True)\"), or set pretrained to a local file"
                   if hub else 'Use the file of this model (or set model_name to the file\'s model)')
            error = OSError if isinstance(exc, OSError) else RuntimeError
            raise error(f'TimmBackbone({self.model_name!r}): ImageNet weights from {where} did not load '
                        f'({type(exc).__name__}: {exc}). {fix}.') from exc


def _pretrained_init_cfg(init_cfg) -> Optional[Mapping]:
    if isinstance(init_cfg, Mapping) and init_cfg.get('type') == 'Pretrained':
        return init_cfg
    return None
