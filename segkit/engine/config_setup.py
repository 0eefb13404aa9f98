"""Config adjustments the tools make before handing a config to mmengine's Runner, and the errors around it."""
import os.path as osp
from contextlib import contextmanager
from typing import Optional

import torch
from mmengine.config import Config, ConfigDict

from segkit.config_errors import (check_cfg_options, config_syntax_error, typed_dicts, unexpected_argument,
                                  unexpected_key)
from segkit.mmseg_config import translate_mmseg_config
from segkit.registry import registered_class


def replace_sync_bn(node):
    """SyncBN -> BN everywhere in a (model) config; used where training is not distributed."""
    if isinstance(node, dict):
        if node.get('type') == 'SyncBN':
            node['type'] = 'BN'
        for value in node.values():
            replace_sync_bn(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            replace_sync_bn(value)
    return node


def load_config(path: str, cfg_options: Optional[dict] = None) -> Config:
    if not osp.isfile(path):
        raise FileNotFoundError(f'config file not found: {path} (configs live under configs/, e.g. '
                                f'configs/deeplabv3plus/r50_512x512_voc.py)')
    try:
        cfg = Config.fromfile(path)
    except SyntaxError as exc:  # mmengine parses the text as "<unknown>": name the file and line
        clear = config_syntax_error(path)
        if clear is None:
            raise
        raise clear from exc
    if cfg_options:
        check_cfg_options(cfg, cfg_options)
        cfg.merge_from_dict(cfg_options)
    translate_mmseg_config(cfg, path)  # MMSegmentation 1.x configs read as they are
    cfg.setdefault('default_scope', 'segkit')
    return cfg


DIST_TIMEOUT_S = 1800  # env_cfg.dist_cfg.timeout unless the config sets it


def prepare_for_launcher(cfg: Config, launcher: str, training: bool = True) -> Config:
    """Fit the config to where it runs.

    Distributed on GPUs: SyncBN and NCCL as configured. Distributed on CPUs: gloo and plain BN (torch's SyncBN
    needs a GPU). Single process: plain BN.

    Training on several processes (unless the config has a ``model_wrapper_cfg``): DDP with
    ``broadcast_buffers=True``, so that rank 0's BN running statistics are copied to every rank at each forward
    pass. mmengine's default wrapper does not broadcast them: with plain BN each rank would keep statistics of its
    own share of the data and rank 0 would save its own (SyncBN keeps them equal anyway; the broadcast then costs
    one small collective per step). ``find_unused_parameters`` is read from the config as mmengine does.
    Evaluating on several processes (``training=False``, ``tools/test.py``): :class:`LocalModelWrapper`, no DDP.

    ``env_cfg.dist_cfg.timeout`` (seconds) defaults to :data:`DIST_TIMEOUT_S`: how long a collective waits for a
    rank that stopped answering before the run fails (docs/distributed.md, "When a rank dies").
    """
    cfg.launcher = launcher
    cuda = torch.cuda.is_available()
    if launcher == 'none' or not cuda:
        replace_sync_bn(cfg.model)
    env_cfg = cfg.setdefault('env_cfg', ConfigDict())
    dist_cfg = env_cfg.setdefault('dist_cfg', ConfigDict(backend='nccl'))
    if not cuda:
        dist_cfg['backend'] = 'gloo'
    dist_cfg['timeout'] = _timeout_seconds(dist_cfg.get('timeout', DIST_TIMEOUT_S))
    if launcher != 'none' and cfg.get('model_wrapper_cfg') is None:
        if not training:
            cfg.model_wrapper_cfg = ConfigDict(type='segkit.LocalModelWrapper')
        else:
            cfg.model_wrapper_cfg = ConfigDict(type='MMDistributedDataParallel', broadcast_buffers=True,
                                               find_unused_parameters=cfg.get('find_unused_parameters', False))
            if not cuda:  # mmengine's default device_ids=[LOCAL_RANK] names a GPU
                cfg.model_wrapper_cfg['device_ids'] = None
    return cfg


def _timeout_seconds(value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError(f'env_cfg.dist_cfg.timeout must be a number of seconds > 0 (how long a collective waits '
                         f'for a rank that stopped answering), got {value!r}; e.g. --cfg-options '
                         f'env_cfg.dist_cfg.timeout={DIST_TIMEOUT_S}')
    return value


def default_work_dir(config_path: str) -> str:
    return osp.join('work_dirs', osp.splitext(osp.basename(config_path))[0])


def shutdown_distributed() -> None:
    """Wait for every rank, then tear the process group down before the interpreter exits.

    Left to the interpreter's exit, gloo's worker threads can be destroyed while still joinable and the process
    aborts ("terminate called without an active exception", exit -6) after a run that succeeded. Called on the
    success path only: after a failure the other ranks may never reach the barrier.
    """
    import torch.distributed as dist
    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


def check_pretrained_reachable(cfg: Config) -> None:
    """Fail before training when the backbone's ImageNet weights are remote and cannot be fetched.

    The backbone itself only warns in that case (so configs build and benchmark offline); training from a random
    initialisation by accident would waste the whole run, so the training tool checks first. Skipped when the
    run resumes or loads a checkpoint, which replaces those weights anyway.
    """
    from mmengine.runner.checkpoint import CheckpointLoader

    from segkit.models.backbones.pretrained import remote_checkpoint, unreachable_message
    if cfg.get('resume') or cfg.get('load_from'):
        return
    checkpoint = remote_checkpoint(cfg.model.get('backbone', {}).get('init_cfg'))
    if checkpoint is None:
        return
    try:
        CheckpointLoader.load_checkpoint(checkpoint, map_location='cpu')  # downloads once into the hub cache
    except OSError as exc:
        raise RuntimeError(f'model.backbone.init_cfg: {unreachable_message(checkpoint, exc)}') from exc


@contextmanager
def explain_config_errors(cfg):
    """Re-raise an unexpected-keyword ``TypeError`` from building ``cfg``'s parts (mmengine's Runner builds them)
    as :class:`~segkit.config_errors.UnexpectedArgumentError` naming the config path, the type and its arguments."""
    try:
        yield
    except TypeError as exc:
        key = getattr(exc, 'key', None) or unexpected_key(exc)
        if key is None:
            raise
        for path, node in typed_dicts(cfg.to_dict() if hasattr(cfg, 'to_dict') else cfg):
            if key in node and (not getattr(exc, 'type_name', '') or str(node['type']).endswith(exc.type_name)):
                clear = unexpected_argument(TypeError(f"__init__() got an unexpected keyword argument '{key}'"),
                                            node, registered_class(node['type']), path)
                if clear is not None:
                    raise clear from exc
        raise
