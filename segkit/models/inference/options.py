"""How a segmentor runs inference: one frozen object, built and validated once from ``model.test_cfg``.

Every consumer (the segmentor's forward, slide windows, MS + flip, the fast network copy, the runtime backends,
the CRF, the binary threshold, the export) reads :class:`InferenceOptions`; nothing else parses ``test_cfg``.
An unknown or misspelt key is an error naming its config path and the closest known key, and combinations that
cannot work together are refused here, before the first image.

===============  ==========================================================================================
``test_cfg`` key  meaning
===============  ==========================================================================================
``mode``          ``'whole'`` (the padded image at once) or ``'slide'`` (windows of ``crop_size`` moved by
                  ``stride``, logits averaged; both ``(h, w)``)
``autocast``      ``None`` (float32), ``'bfloat16'`` or ``'float16'``: the network under ``torch.autocast``
``fuse_bn``       fold every BatchNorm into the convolution before it (exact up to float rounding)
``compile``       ``True`` or a dict of ``torch.compile`` arguments (Inductor, weights frozen)
``backend``       ``'onnxruntime'`` / ``'openvino'`` or ``dict(type, precision='fp32'|'bf16'|'int8',
                  calibration=dict(images=FOLDER_OR_LIST, num=32) | 'random', threads=N)``
``tta``           ``dict(scales=(...), flip=True)``: multi-scale + flip inside the model
``crf``           a post-processor config (``type`` defaults to ``'DenseCRF'``): the fully connected CRF
``threshold``     foreground probability cut of a one-class sigmoid model (``num_classes=1``; default 0.5)
===============  ==========================================================================================

The memory layout is not a ``test_cfg`` key: ``model.channels_last`` is the one switch, for training and
inference alike; the options carry it so that the fast copy and the backends see it.
"""
import difflib
import math
import numbers
from dataclasses import dataclass, field, fields, replace
from types import MappingProxyType
from typing import Any, Mapping, Optional, Tuple, Union

from segkit.registry import POSTPROCESSORS

AUTOCAST_DTYPES = ('bfloat16', 'float16')
BACKEND_PRECISIONS = {'onnxruntime': ('fp32', ), 'openvino': ('fp32', 'bf16', 'int8')}
WHERE = 'model.test_cfg'
MOVED = {
    'channels_last': 'the memory layout is one switch for training and inference: set model.channels_last=True',
    'autocast_dtype': "write model.test_cfg.autocast='bfloat16'",
}


class InferenceOptionError(ValueError):
    """A ``test_cfg`` key or value that inference cannot honour; the message names the key and the fix."""


def backend_needs_cpu(device) -> RuntimeError:
    """The error for ``test_cfg.backend`` on a model that is not on the CPU."""
    return RuntimeError(f'{WHERE}.backend runs the network on the CPU (ONNX Runtime / OpenVINO), but this model '
                        f"is on {device}: on GPUs use {WHERE}.autocast='bfloat16' (with fuse_bn / compile) instead, "
                        "or run on the CPU (CUDA_VISIBLE_DEVICES='')")


def _unknown(where: str, key: str, known) -> InferenceOptionError:
    if key in MOVED and where == WHERE:
        return InferenceOptionError(f'{where}.{key}: {MOVED[key]}')
    close = difflib.get_close_matches(str(key), list(known), n=1, cutoff=0.5)
    hint = f" Did you mean '{close[0]}'?" if close else ''
    return InferenceOptionError(f"{where}.{key}: unknown key.{hint} Known keys: {', '.join(known)}.")


def _check_keys(value: Mapping, where: str, known) -> None:
    for key in value:
        if key not in known:
            raise _unknown(where, key, known)


def _pair(value, where: str) -> Tuple[int, int]:
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = (value, value)
    try:
        pair = tuple(int(v) for v in value)
        whole = all(int(v) == v and not isinstance(v, bool) for v in value)
    except (TypeError, ValueError):
        pair, whole = (), False
    if len(pair) != 2 or not whole or min(pair) < 1:
        raise InferenceOptionError(f'{where} must be (height, width) in pixels, two whole numbers >= 1; got {value!r}')
    return pair


def _flag(value, where: str) -> bool:
    if value is None or isinstance(value, bool):
        return bool(value)
    raise InferenceOptionError(f'{where} must be True or False, got {value!r}')


@dataclass(frozen=True)
class Calibration:
    """Where int8 calibration images come from: a folder (searched recursively) or a text file of paths."""
    images: str
    num: int = 32


@dataclass(frozen=True)
class BackendOptions:
    """``test_cfg.backend``: the network exported once and run by another runtime."""
    type: str
    precision: str = 'fp32'
    calibration: Union[None, str, Calibration] = None  # 'random': calibrate on noise (timing only)
    threads: Optional[int] = None

    @classmethod
    def parse(cls, value, where: str) -> 'BackendOptions':
        value = dict(type=value) if isinstance(value, str) else value
        if not isinstance(value, Mapping):
            raise InferenceOptionError(f'{where} must be a runtime name or dict(type=..., precision=...), '
                                       f'got {value!r}')
        _check_keys(value, where, [f.name for f in fields(cls)])
        kind = value.get('type')
        if kind not in BACKEND_PRECISIONS:
            raise InferenceOptionError(f'{where}.type must be one of {sorted(BACKEND_PRECISIONS)}, got {kind!r}')
        precision = value.get('precision', 'fp32')
        if precision not in BACKEND_PRECISIONS[kind]:
            raise InferenceOptionError(
                f"{where}.precision: {kind} runs precision {' / '.join(BACKEND_PRECISIONS[kind])}, got {precision!r}"
                + ("; bf16 and int8 need type='openvino'" if kind == 'onnxruntime' else ''))
        calibration = value.get('calibration')
        if precision == 'int8':
            if isinstance(calibration, Mapping):
                _check_keys(calibration, f'{where}.calibration', ('images', 'num'))
            if calibration != 'random' and not (isinstance(calibration, Mapping) and calibration.get('images')):
                raise InferenceOptionError(
                    f"{where}: precision='int8' needs calibration=dict(images=FOLDER_OR_LIST, num=32) (training "
                    "images), or calibration='random' for timing only")
            if isinstance(calibration, Mapping):
                num = calibration.get('num', 32)
                if isinstance(num, bool) or not isinstance(num, numbers.Integral) or num < 1:
                    raise InferenceOptionError(f'{where}.calibration.num must be a whole number >= 1, got {num!r}')
                calibration = Calibration(images=str(calibration['images']), num=int(num))
        elif calibration is not None:
            raise InferenceOptionError(f"{where}.calibration is only used with precision='int8', not {precision!r}")
        threads = value.get('threads')
        if threads is not None and (isinstance(threads, bool) or not isinstance(threads, numbers.Integral)
                                    or threads < 1):
            raise InferenceOptionError(f'{where}.threads must be a whole number >= 1 or None, got {threads!r}')
        return cls(type=kind, precision=precision, calibration=calibration, threads=threads)


@dataclass(frozen=True)
class TTAOptions:
    """``test_cfg.tta``: the mean class probabilities of every scale of the image (and of its mirror image)."""
    scales: Tuple[float, ...] = (1.0, )
    flip: bool = True

    @classmethod
    def parse(cls, value, where: str) -> 'TTAOptions':
        if not isinstance(value, Mapping):
            raise InferenceOptionError(f'{where} must be a dict like dict(scales=(0.5, 1.0, 1.5), flip=True), '
                                       f'got {value!r}')
        _check_keys(value, where, ('scales', 'flip'))
        try:
            scales = tuple(float(s) for s in value.get('scales', (1.0, )))
        except (TypeError, ValueError):
            scales = ()
        if not scales or not all(math.isfinite(s) and s > 0 for s in scales):
            raise InferenceOptionError(f'{where}.scales must be positive scale factors, got {value.get("scales")!r}')
        return cls(scales=scales, flip=_flag(value.get('flip', True), f'{where}.flip'))


KEYS = ('mode', 'crop_size', 'stride', 'autocast', 'fuse_bn', 'compile', 'backend', 'tta', 'crf', 'threshold')


@dataclass(frozen=True)
class InferenceOptions:
    """How inference runs; see the module's table for what each field means. Build it with :meth:`from_test_cfg`."""
    mode: str = 'whole'
    crop_size: Optional[Tuple[int, int]] = None
    stride: Optional[Tuple[int, int]] = None
    autocast: Optional[str] = None
    fuse_bn: bool = False
    compile: Optional[Mapping[str, Any]] = None  # torch.compile keyword arguments ({} for compile=True)
    backend: Optional[BackendOptions] = None
    tta: Optional[TTAOptions] = None
    crf: Optional[Mapping[str, Any]] = None  # POSTPROCESSORS config, type included
    threshold: Optional[float] = None
    channels_last: bool = False  # model.channels_last, not a test_cfg key
    num_classes: Optional[int] = field(default=None, compare=False)

    @classmethod
    def from_test_cfg(cls, test_cfg: Optional[Mapping] = None, *, num_classes: Optional[int] = None,
                      channels_last: bool = False, where: str = WHERE) -> 'InferenceOptions':
        """Validate ``test_cfg`` (a plain dict or ConfigDict) once and freeze it."""
        test_cfg = {} if test_cfg is None else test_cfg
        if not isinstance(test_cfg, Mapping):
            raise InferenceOptionError(f'{where} must be a dict, got {test_cfg!r}')
        _check_keys(test_cfg, where, KEYS)
        mode = test_cfg.get('mode', 'whole')
        if mode not in ('whole', 'slide'):
            raise InferenceOptionError(f"{where}.mode must be 'whole' or 'slide', got {mode!r}")
        crop_size = stride = None
        if mode == 'slide':
            missing = [k for k in ('crop_size', 'stride') if test_cfg.get(k) is None]
            if missing:
                raise InferenceOptionError(f"{where}: mode='slide' needs crop_size=(h, w) and stride=(h, w); "
                                           f"missing {', '.join(missing)}")
            crop_size = _pair(test_cfg['crop_size'], f'{where}.crop_size')
            stride = _pair(test_cfg['stride'], f'{where}.stride')
        else:
            given = [k for k in ('crop_size', 'stride') if test_cfg.get(k) is not None]
            if given:
                raise InferenceOptionError(f"{where}.{given[0]} is only used with mode='slide' (sliding windows); "
                                           f"set {where}.mode='slide' or remove it")
        autocast = test_cfg.get('autocast')
        if autocast not in (None, *AUTOCAST_DTYPES):
            raise InferenceOptionError(f"{where}.autocast must be None, 'bfloat16' or 'float16', got {autocast!r}")
        compile_opts = test_cfg.get('compile')
        if compile_opts in (None, False):
            compile_opts = None
        elif compile_opts is True:
            compile_opts = MappingProxyType({})
        elif isinstance(compile_opts, Mapping):
            compile_opts = MappingProxyType(dict(compile_opts))
        else:
            raise InferenceOptionError(f"{where}.compile must be True, False or a dict of torch.compile arguments "
                                       f"(e.g. dict(mode='max-autotune')), got {compile_opts!r}")
        backend = test_cfg.get('backend')
        backend = None if backend in (None, False) else BackendOptions.parse(backend, f'{where}.backend')
        tta = test_cfg.get('tta')
        tta = None if tta in (None, False) else TTAOptions.parse(tta, f'{where}.tta')
        options = cls(mode=mode, crop_size=crop_size, stride=stride, autocast=autocast,
                      fuse_bn=_flag(test_cfg.get('fuse_bn'), f'{where}.fuse_bn'), compile=compile_opts,
                      backend=backend, tta=tta, crf=_crf_config(test_cfg.get('crf'), f'{where}.crf'),
                      threshold=_threshold(test_cfg.get('threshold'), f'{where}.threshold'),
                      channels_last=_flag(channels_last, 'model.channels_last'), num_classes=num_classes)
        options.check_combinations(where)
        return options

    def check_combinations(self, where: str = WHERE) -> None:
        """Refuse the options that cannot run together."""
        if self.backend is not None:
            for other in ('compile', 'autocast'):
                if getattr(self, other) is not None:
                    raise InferenceOptionError(
                        f'{where}.backend and {where}.{other} exclude each other: the backend runs the network '
                        "itself (its bf16 is backend.precision='bf16')")
        if self.threshold is not None and self.num_classes not in (None, 1):
            raise InferenceOptionError(
                f'{where}.threshold cuts the foreground probability of a one-class sigmoid model (num_classes=1); '
                f'this model has {self.num_classes} classes and takes the arg-max: remove the threshold')

    @property
    def copies_network(self) -> bool:
        """Whether inference runs a transformed copy of the network (:mod:`.fast_net`) instead of the modules."""
        return self.fuse_bn or self.compile is not None or self.backend is not None

    @property
    def binary_threshold(self) -> float:
        return 0.5 if self.threshold is None else self.threshold

    def outside_the_network(self) -> Tuple[str, ...]:
        """The options an exported graph (one whole-image float32 forward) does not contain."""
        return tuple(name for name, used in (("mode='slide'", self.mode == 'slide'), ('tta', self.tta),
                                             ('crf', self.crf), ('autocast', self.autocast)) if used)

    def replace(self, **changes) -> 'InferenceOptions':
        """A copy with ``changes``, validated again."""
        options = replace(self, **changes)
        options.check_combinations()
        return options

    def describe(self) -> str:
        """The options that differ from plain whole-image fp32 inference, e.g. for a log line."""
        parts = [f'{f.name}={_plain(getattr(self, f.name))!r}' for f in fields(self)
                 if f.compare and getattr(self, f.name) != f.default]
        return ', '.join(parts) or 'whole image, float32'


def _plain(value):
    """Dataclasses and read-only mappings as plain dicts (for log lines)."""
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if hasattr(value, '__dataclass_fields__'):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value) if getattr(value, f.name) is not None}
    return value


def _crf_config(value, where: str) -> Optional[Mapping]:
    if value in (None, False):
        return None
    if value is True:
        value = {}
    if not isinstance(value, Mapping):
        raise InferenceOptionError(f"{where} must be a dict like dict(type='DenseCRF', bi_w=4), got {value!r}")
    config = dict(dict(type='DenseCRF'), **value)
    try:
        POSTPROCESSORS.build(dict(config))  # validates the post-processor's own keys and values
    except (TypeError, ValueError, KeyError) as exc:  # same kind of error, its config path in front
        raise type(exc)(f'{where}: {exc}') from None
    return MappingProxyType(config)


def _threshold(value, where: str) -> Optional[float]:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 < value < 1:
        raise InferenceOptionError(f'{where} must be a probability between 0 and 1 (exclusive), got {value!r}')
    return float(value)
