"""Train a segmentor: python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] [--amp] [--cfg-options k=v]."""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # run from a source checkout

from mmengine.config import DictAction  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

from segkit.engine.checkpoint import safe_checkpoint_io  # noqa: E402
from segkit.engine.config_setup import (check_pretrained_reachable, default_work_dir,  # noqa: E402
                                        explain_config_errors, load_config, prepare_for_launcher,
                                        shutdown_distributed)
from segkit.engine.auto_scale_lr import enable_auto_scale_lr  # noqa: E402
from segkit.engine.dependencies import check_dependencies  # noqa: E402
from segkit.engine.launcher import init_distributed, local_rank_first  # noqa: E402
from segkit.engine.precision import resolve_precision, run_device  # noqa: E402
from segkit.engine.rank_failure import rank_lost_error  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Train a segkit segmentor')
    parser.add_argument('config', help='config file, e.g. configs/deeplabv3plus/r101_512x512_voc.py')
    parser.add_argument('--work-dir', help='where logs and checkpoints go (default work_dirs/<config name>)')
    parser.add_argument('--resume', nargs='?', const='auto', default=None, metavar='CKPT',
                        help='resume from CKPT, or without a value from the latest checkpoint in the work dir')
    parser.add_argument('--amp', action='store_true',
                        help='mixed precision: float16 + loss scaling on CUDA, bfloat16 autocast on CPU')
    parser.add_argument('--auto-scale-lr', action='store_true',
                        help='scale the LR by (GPUs x batch x accumulation) / auto_scale_lr.base_batch_size')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config keys, e.g. train_cfg.max_iters=1000 model.decode_head.num_classes=5')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none',
                        help='job launcher (tools/dist_train.sh uses torchrun with --launcher pytorch)')
    return parser.parse_args(argv)


def build_config(args):
    cfg = load_config(args.config, args.cfg_options)
    cfg.work_dir = args.work_dir or cfg.get('work_dir') or default_work_dir(args.config)
    prepare_for_launcher(cfg, args.launcher)
    cfg.optim_wrapper = resolve_precision(cfg.optim_wrapper, args.amp, run_device())
    if args.auto_scale_lr:
        enable_auto_scale_lr(cfg)
    if args.resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif args.resume:
        cfg.resume, cfg.load_from = True, args.resume
    return cfg


def main(argv=None):
    args = parse_args(argv)
    check_dependencies()
    cfg = build_config(args)
    init_distributed(args.launcher, cfg.get('env_cfg'))  # the Runner finds the process group and uses it
    with local_rank_first():  # one download per machine; the other ranks then read the cached file
        check_pretrained_reachable(cfg)
    with safe_checkpoint_io(), explain_config_errors(cfg):
        runner = Runner.from_cfg(cfg)
        try:
            runner.train()
        except RuntimeError as exc:
            lost = rank_lost_error(exc, runner)
            if lost is None:
                raise
            raise lost from exc
    shutdown_distributed()


if __name__ == '__main__':
    main()
