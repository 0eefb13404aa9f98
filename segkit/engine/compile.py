"""Compiled training: ``train_cfg.compile`` decided in one place.

``train_cfg.compile=True`` (or a dict of ``torch.compile`` arguments) runs each training step's forward and losses,
and through AOTAutograd its backward, as code that Inductor generated for this model, crop size and precision (CPU
and CUDA; float32, or bfloat16 under the optimizer wrapper's autocast, which is read at each call). What is
compiled is :meth:`~segkit.models.segmentors.EncoderDecoder.train_losses`: preprocessed images and int64 labels ->
the loss dict, tensors only (the data preprocessor, the loss sum and the optimizer step stay eager).

==============  ==========  =================================================================================
key             default     meaning
==============  ==========  =================================================================================
``dynamic``     ``False``   static shapes: training crops have one size; each new input shape compiles again,
                            and after :data:`MAX_SHAPES` shapes training runs eagerly (logged). ``None``: torch's
                            automatic dynamic shapes (one more compile with symbolic sizes), for size-varying
                            batches
``mode``        ``None``    ``torch.compile`` mode, e.g. ``'max-autotune'`` (longer compile)
``backend``     inductor    a ``torch.compile`` backend
``options``     ``None``    Inductor options
``fullgraph``   ``False``   ``True`` raises at a graph break (then training falls back to eager, logged)
==============  ==========  =================================================================================

The time of the first steps (the compile) is logged once by segkit's ``IterBasedTrainLoop``, with the number of
graph breaks dynamo met. If ``torch.compile`` is unavailable (no C++ compiler for Inductor on the CPU, an
unsupported Python) or fails on this model, one warning says why and training goes on eagerly.
Channels-last is the model's own switch (``model.channels_last=True``), which compiled code keeps.
"""
import difflib
import inspect
import logging
import time
from typing import Any, Callable, Dict, Mapping, Optional

import torch
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper

from segkit.models.segmentors.encoder_decoder import COMPILED_TRAIN_LOSSES

WHERE = 'train_cfg.compile'
KEYS = ('dynamic', 'mode', 'backend', 'options', 'fullgraph')
MAX_SHAPES = 8  # torch._dynamo's default recompile limit


class TrainCompileError(ValueError):
    pass


def resolve_compile(value: Any, where: str = WHERE) -> Optional[Dict[str, Any]]:
    """``train_cfg.compile`` as ``torch.compile`` keyword arguments, or None (eager): validated once here."""
    if value is None or value is False:
        return None
    if value is True:
        value = {}
    if not isinstance(value, Mapping):
        raise TrainCompileError(f"{where} must be True, False or a dict of torch.compile arguments (keys "
                                f"{', '.join(KEYS)}), e.g. {where}=dict(mode='max-autotune'); got {value!r}")
    for key in value:
        if key not in KEYS:
            close = difflib.get_close_matches(str(key), KEYS, n=1, cutoff=0.5)
            hint = f'; did you mean {close[0]!r}?' if close else ''
            raise TrainCompileError(f"{where}: unknown key {key!r}{hint} (accepted: {', '.join(KEYS)})")
    kwargs = dict(value)
    kwargs.setdefault('dynamic', False)
    if kwargs['dynamic'] not in (None, True, False):
        raise TrainCompileError(f"{where}.dynamic must be False (static shapes), None (automatic) or True, got "
                                f"{kwargs['dynamic']!r}")
    if not isinstance(kwargs.get('fullgraph', False), bool):
        raise TrainCompileError(f"{where}.fullgraph must be True or False, got {kwargs['fullgraph']!r}")
    if kwargs.get('options') is not None and not isinstance(kwargs['options'], Mapping):
        raise TrainCompileError(f"{where}.options must be a dict of Inductor options, got {kwargs['options']!r}")
    if kwargs.get('options') is not None:
        kwargs['options'] = dict(kwargs['options'])
    return kwargs


def _is_compile_error(exc: BaseException) -> bool:
    """An error of dynamo / Inductor (tracing, a backend or C++ compiler failure), not of the model itself."""
    from torch._dynamo import exc as dynamo_exc
    if isinstance(exc, dynamo_exc.TorchDynamoException):
        return True
    module = type(exc).__module__ or ''
    return module.startswith(('torch._dynamo', 'torch._inductor', 'torch._functorch', 'torch._subclasses'))


def _graph_breaks() -> int:
    from torch._dynamo.utils import counters
    return sum(counters['graph_break'].values())


class CompiledTrainLosses:
    """``torch.compile`` of a segmentor's ``train_losses`` that falls back to the eager method, saying why once:
    when ``torch.compile`` is unavailable, when compiling fails, and (static shapes) after :data:`MAX_SHAPES`
    input shapes. Not copied with the model (a deep copy runs eagerly)."""

    def __init__(self, eager: Callable, kwargs: Mapping[str, Any]) -> None:
        self.eager = eager
        self.kwargs = dict(kwargs)
        self.shapes = set()
        self.fallback: Optional[str] = None
        self.compiled = None
        self.breaks_before = _graph_breaks()
        extra = {}
        if 'isolate_recompiles' in inspect.signature(torch.compile).parameters:
            extra['isolate_recompiles'] = True  # its compiles count against its own limit, not other models'
        try:
            self.compiled = torch.compile(eager, **self.kwargs, **extra)
        except Exception as exc:  # noqa: BLE001  (unsupported Python, missing backend, bad argument...)
            self._fall_back(f'torch.compile is unavailable: {type(exc).__name__}: {_first_line(exc)}')

    def __deepcopy__(self, memo):
        return None

    @property
    def graph_breaks(self) -> int:
        return _graph_breaks() - self.breaks_before

    def __call__(self, inputs: torch.Tensor, labels: torch.Tensor, data_samples=None):
        if self.fallback is None and self.kwargs.get('dynamic') is False:
            shape = (tuple(inputs.shape), tuple(labels.shape))
            if shape not in self.shapes and len(self.shapes) >= MAX_SHAPES:
                self._fall_back(f'{MAX_SHAPES} input shapes were compiled already and {shape[0]} would be one '
                                'more (fixed crop sizes train compiled; for size-varying batches set '
                                f'{WHERE}=dict(dynamic=None))')
            self.shapes.add(shape)
        if self.fallback is None:
            try:
                return self.compiled(inputs, labels, data_samples)
            except Exception as exc:  # noqa: BLE001
                if not _is_compile_error(exc):
                    raise
                self._fall_back(f'compiling failed: {type(exc).__name__}: {_first_line(exc)}')
        return self.eager(inputs, labels, data_samples)

    def _fall_back(self, reason: str) -> None:
        self.fallback = reason
        print_log(f'{WHERE}: {reason}; training runs eagerly (not compiled) from here on', logger='current',
                  level=logging.WARNING)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:300] if text else ''


def unwrapped(model):
    return model.module if is_model_wrapper(model) else model


def compile_training(model, kwargs: Optional[Mapping[str, Any]]) -> Optional[CompiledTrainLosses]:
    """Make ``model`` (or the model inside a wrapper such as DDP) run its training losses compiled; None (and
    eager training) when ``kwargs`` is None or the model has no ``train_losses``."""
    model = unwrapped(model)
    if kwargs is None:
        model.__dict__.pop(COMPILED_TRAIN_LOSSES, None)
        return None
    if not hasattr(model, 'train_losses'):
        print_log(f'{WHERE}: {type(model).__name__} has no train_losses method (segkit segmentors have): training '
                  'runs eagerly', logger='current', level=logging.WARNING)
        return None
    compiled = CompiledTrainLosses(model.train_losses, kwargs)
    model.__dict__[COMPILED_TRAIN_LOSSES] = compiled
    return compiled


class CompileTimer:
    """Logs, once, how long the first training steps took: the first compiles forward and backward."""

    def __init__(self, compiled: CompiledTrainLosses) -> None:
        self.compiled = compiled
        self.times = []

    @property
    def done(self) -> bool:
        return len(self.times) >= 2

    def time_step(self, step: Callable[[], Any]) -> Any:
        start = time.perf_counter()
        result = step()
        self.times.append(time.perf_counter() - start)
        if self.done:
            self.report()
        return result

    def report(self) -> None:
        first, second = self.times[:2]
        if self.compiled.fallback is not None:
            return  # the warning said it already
        settings = ', '.join(f'{k}={v!r}' for k, v in self.compiled.kwargs.items())
        print_log(f'{WHERE}: compiling the training step took {first - second:.1f} s (first step {first:.1f} s, '
                  f'second {second:.2f} s; torch.compile({settings}), {self.compiled.graph_breaks} graph breaks)',
                  logger='current')
