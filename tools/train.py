"""Train a segmentor: python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] [--amp] [--cfg-options k=v]
[--save-pretrained DIR] (the trained model as one folder: weights, config, classes, a card with the last validation
metrics; segkit.from_pretrained(DIR), tools/test.py DIR and tools/inference.py DIR read it)."""
import argparse
import os
import shlex
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # run from a source checkout

from mmengine.config import DictAction  # noqa: E402
from mmengine.dist import is_main_process  # noqa: E402
from mmengine.model import is_model_wrapper  # noqa: E402
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
    parser.add_argument('--save-pretrained', metavar='DIR',
                        help='at the end, write the trained model to DIR as a saved model (model.safetensors, '
                             'config.py, meta.json, README.md with the last validation metrics)')
    return parser.parse_args(argv)


#: validation metrics the model card reports, when the run measured them
CARD_METRICS = ('mIoU', 'mAcc', 'aAcc', 'mDice', 'mFscore')


def save_trained_model(runner, folder: str, command: str):
    """The trained model as a saved-model folder, with the last validation metrics and the command in its card."""
    model = runner.model.module if is_model_wrapper(runner.model) else runner.model
    scalars = runner.message_hub.log_scalars
    metrics = {key: float(scalars[f'val/{key}'].current()) for key in CARD_METRICS if f'val/{key}' in scalars}
    path = model.save_pretrained(folder, config=runner.cfg, dataset_meta=runner.train_dataloader.dataset.metainfo,
                                 metrics=metrics, command=command)
    runner.logger.info(f'saved the trained model to {path} (segkit.from_pretrained({str(path)!r}), '
                       f'tools/test.py {path}, tools/inference.py {path} IMAGE)')
    return path


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
    command = shlex.join(['python', 'tools/train.py', *(sys.argv[1:] if argv is None else argv)])
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
        if args.save_pretrained and is_main_process():
            save_trained_model(runner, args.save_pretrained, command)
    shutdown_distributed()


if __name__ == '__main__':
    main()
