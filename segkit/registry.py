"""segkit's registries.

Kinds that mmengine's Runner builds (segmentors, datasets, transforms, metrics, hooks, visualizers, ...) are
children of mmengine's root registries under the scope ``segkit``: with ``default_scope='segkit'`` in a config the
Runner finds them, and mmengine/mmcv's own entries (``LoadImageFromFile``, ``CheckpointHook``, ...) are still found
through the parent. Model parts that only segkit builds (backbones, necks, heads, losses, data preprocessors,
post-processors) get registries of their own. Every registry imports its modules lazily through ``locations``.

A custom part lives in the user's own file::

    from segkit.registry import HEADS

    @HEADS.register_module()
    class MyHead(DecodeHead): ...

and a config loads it with ``custom_imports = dict(imports=['my_head'])``.
"""
import difflib
import inspect
from collections.abc import Mapping

from mmengine.registry import DATA_SAMPLERS as MMENGINE_DATA_SAMPLERS
from mmengine.registry import DATASETS as MMENGINE_DATASETS
from mmengine.registry import EVALUATOR as MMENGINE_EVALUATOR
from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import LOG_PROCESSORS as MMENGINE_LOG_PROCESSORS
from mmengine.registry import LOOPS as MMENGINE_LOOPS
from mmengine.registry import METRICS as MMENGINE_METRICS
from mmengine.registry import MODEL_WRAPPERS as MMENGINE_MODEL_WRAPPERS
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import OPTIM_WRAPPER_CONSTRUCTORS as MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS
from mmengine.registry import OPTIM_WRAPPERS as MMENGINE_OPTIM_WRAPPERS
from mmengine.registry import OPTIMIZERS as MMENGINE_OPTIMIZERS
from mmengine.registry import PARAM_SCHEDULERS as MMENGINE_PARAM_SCHEDULERS
from mmengine.registry import TRANSFORMS as MMENGINE_TRANSFORMS
from mmengine.registry import VISBACKENDS as MMENGINE_VISBACKENDS
from mmengine.registry import VISUALIZERS as MMENGINE_VISUALIZERS
from mmengine.registry import WEIGHT_INITIALIZERS as MMENGINE_WEIGHT_INITIALIZERS
from mmengine.registry import Registry

from segkit.config_errors import UnexpectedArgumentError, unexpected_argument

__all__ = [
    'SegkitRegistry', 'UnknownTypeError', 'UnexpectedArgumentError', 'registered_class', 'BACKBONES', 'NECKS',
    'HEADS', 'LOSSES', 'DATA_PREPROCESSORS', 'MODELS', 'SEGMENTORS', 'DATASETS', 'TRANSFORMS', 'METRICS', 'EVALUATOR',
    'HOOKS', 'VISUALIZERS', 'VISBACKENDS', 'LOOPS',
    'OPTIMIZERS', 'OPTIM_WRAPPERS', 'OPTIM_WRAPPER_CONSTRUCTORS', 'PARAM_SCHEDULERS', 'DATA_SAMPLERS',
    'LOG_PROCESSORS', 'MODEL_WRAPPERS', 'WEIGHT_INITIALIZERS', 'PIXEL_SAMPLERS', 'POSTPROCESSORS', 'RUNTIMES'
]


class UnknownTypeError(KeyError):
    """A config names a ``type`` that no registry on the lookup path holds."""

    def __str__(self):  # KeyError would repr() the message and show it quoted with escaped newlines
        return str(self.args[0])


class SegkitRegistry(Registry):
    """A Registry whose failed lookups say which registry was searched and which names come closest, and whose
    builds name the type, the unknown key, the accepted arguments and the closest one when a config passes a
    keyword the class does not take (instead of Python's TypeError from deep inside the build)."""

    variable = 'REGISTRY'  # the name users import, set below for each registry

    def get(self, key):
        obj = super().get(key)
        if obj is None and isinstance(key, str):
            raise UnknownTypeError(self._unknown_message(key))
        return obj

    def build(self, cfg, *args, **kwargs):
        try:
            return super().build(cfg, *args, **kwargs)
        except UnexpectedArgumentError:
            raise
        except TypeError as exc:
            cls = registered_class(cfg.get('type')) if isinstance(cfg, Mapping) else None
            clear = unexpected_argument(exc, cfg, cls)
            if clear is None:
                raise
            raise clear from exc

    def __contains__(self, key):
        try:
            return super().get(key) is not None
        except Exception:
            return False

    def known_names(self):
        self.import_from_location()
        names, registry = set(), self
        while registry is not None:
            names.update(registry.module_dict)
            registry = registry.parent
        return sorted(names)

    def _unknown_message(self, key):
        names = self.known_names()
        close = difflib.get_close_matches(key, names, n=3, cutoff=0.5)
        if not close:  # case-insensitive containment catches 'aspp' -> 'ASPPHead'
            close = [n for n in names if key.lower() in n.lower()][:3]
        hint = f' Closest registered names: {", ".join(close)}.' if close else ''
        return (f"type='{key}' is not registered in segkit's '{self.name}' registry.{hint} "
                f'If it is your own class, decorate it with @{self.variable}.register_module() '
                f"(from segkit.registry) and add its module to the config's custom_imports.")


def registered_class(type_name):
    """The class a config's ``type`` names: the class itself, or what the first of segkit's registries (their
    mmengine parents included) holds under that name; None when no registry does."""
    if inspect.isclass(type_name):
        return type_name
    if not isinstance(type_name, str):
        return None
    for registry in _registries():
        if type_name in registry:
            return registry.get(type_name)
    return None


def _registries():
    found = [value for value in globals().values() if isinstance(value, SegkitRegistry)]
    return list(dict.fromkeys(found))  # each once (SEGMENTORS is MODELS)


def _child(name, parent, locations):
    return SegkitRegistry(name, parent=parent, scope='segkit', locations=locations)


def _own(name, locations):
    return SegkitRegistry(name, scope='segkit', locations=locations)


def _name_variables():
    for variable, value in list(globals().items()):
        if isinstance(value, SegkitRegistry) and value.variable == SegkitRegistry.variable:  # first name wins
            value.variable = variable


# Model parts built by segkit's own modules.
BACKBONES = _own('backbone', ['segkit.models.backbones'])
NECKS = _own('neck', ['segkit.models.necks'])
HEADS = _own('head', ['segkit.models.heads'])
LOSSES = _own('loss', ['segkit.models.losses'])
PIXEL_SAMPLERS = _own('pixel_sampler', ['segkit.models.samplers'])
DATA_PREPROCESSORS = _own('data_preprocessor', ['segkit.models.data_preprocessor'])
POSTPROCESSORS = _own('postprocessor', ['segkit.models.postprocessors'])  # test_cfg.crf: refine the probabilities
# test_cfg.backend.type: runtimes that run an exported copy of the network (filled by segkit.deployment, so that
# models/ reaches them by name, never by import).
RUNTIMES = _own('runtime', ['segkit.deployment.runtime_net'])

# Kinds built by mmengine's Runner (found through default_scope='segkit').
# segkit's child of mmengine's MODELS: the Runner builds segmentors from it, and mmcv's build_norm_layer /
# build_conv_layer look layer types up in it under default_scope='segkit' before mmengine's own (so
# norm_cfg=dict(type='FrozenBN') is found here, and mmengine's root registry is left as it was).
MODELS = _child('model', MMENGINE_MODELS,
                ['segkit.models.segmentors', 'segkit.deployment', 'segkit.models.frozen_bn'])
SEGMENTORS = MODELS  # segmentors register here
DATASETS = _child('dataset', MMENGINE_DATASETS, ['segkit.datasets'])
TRANSFORMS = _child('transform', MMENGINE_TRANSFORMS, ['segkit.datasets.transforms'])
METRICS = _child('metric', MMENGINE_METRICS, ['segkit.evaluation'])
EVALUATOR = _child('evaluator', MMENGINE_EVALUATOR, ['segkit.evaluation'])
HOOKS = _child('hook', MMENGINE_HOOKS, ['segkit.engine.hooks'])
VISUALIZERS = _child('visualizer', MMENGINE_VISUALIZERS, ['segkit.visualization'])
VISBACKENDS = _child('vis_backend', MMENGINE_VISBACKENDS, ['segkit.visualization'])
LOOPS = _child('loop', MMENGINE_LOOPS, ['segkit.engine'])
OPTIMIZERS = _child('optimizer', MMENGINE_OPTIMIZERS, ['segkit.engine'])
OPTIM_WRAPPERS = _child('optim_wrapper', MMENGINE_OPTIM_WRAPPERS, ['segkit.engine'])
OPTIM_WRAPPER_CONSTRUCTORS = _child('optimizer wrapper constructor', MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS,
                                    ['segkit.engine'])
PARAM_SCHEDULERS = _child('parameter scheduler', MMENGINE_PARAM_SCHEDULERS, ['segkit.engine'])
DATA_SAMPLERS = _child('data sampler', MMENGINE_DATA_SAMPLERS, ['segkit.datasets'])
LOG_PROCESSORS = _child('log_processor', MMENGINE_LOG_PROCESSORS, ['segkit.engine'])
MODEL_WRAPPERS = _child('model_wrapper', MMENGINE_MODEL_WRAPPERS, ['segkit.engine'])
WEIGHT_INITIALIZERS = _child('weight initializer', MMENGINE_WEIGHT_INITIALIZERS, ['segkit.engine'])

_name_variables()
