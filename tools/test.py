"""Evaluate a checkpoint: python tools/test.py CONFIG CHECKPOINT [--show-dir DIR] [--out DIR] [--output-stride N]
[--confusion-matrix DIR] [--tta] [--crf] [--no-fast] [--cfg-options k=v].

A saved-model folder (model.save_pretrained(DIR), tools/train.py --save-pretrained DIR) takes the place of both:
python tools/test.py DIR [...] evaluates DIR/model.safetensors with DIR/config.py.

Inference folds BN into the convolutions and runs channels-last by default (exact: float32, the same labels);
--no-fast runs the model as trained.

CHECKPOINT may also be an exported model (.onnx, OpenVINO .xml, .torchscript from tools/deployment/export.py): it
is run with its own runtime and scored with the same metrics.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # run from a source checkout

from mmengine.config import ConfigDict, DictAction  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

from segkit.engine.checkpoint import safe_checkpoint_io  # noqa: E402
from segkit.engine.config_setup import (default_work_dir, load_config, prepare_for_launcher,  # noqa: E402
                                        shutdown_distributed)
from segkit.deployment import use_exported_model  # noqa: E402
from segkit.engine.dependencies import check_dependencies  # noqa: E402
from segkit.engine.launcher import init_distributed  # noqa: E402
from segkit.evaluation.prediction_writer import OUTPUT_FORMATS  # noqa: E402
from segkit.evaluation.test_outputs import add_test_outputs  # noqa: E402
from segkit.fileio.saved_model import open_saved_model  # noqa: E402
from segkit.models.inference.switches import (TTA_PIPELINE_REMOVED, enable_crf,  # noqa: E402
                                              enable_fast_defaults, enable_tta)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Evaluate a segkit checkpoint on the config\'s test set')
    parser.add_argument('config', help='config file, or a saved-model folder (then CHECKPOINT is optional)')
    parser.add_argument('checkpoint', nargs='?', help='checkpoint file (segkit or MMSegmentation), or an exported '
                        'model (.onnx, .xml, .torchscript) to evaluate with its runtime; default for a saved-model '
                        'folder: its model.safetensors')
    parser.add_argument('--work-dir', help='where the evaluation log goes')
    parser.add_argument('--show-dir', help='write image | ground truth | prediction colour overlays here')
    parser.add_argument('--out', help="write the predicted label maps here, a PNG per image in the dataset's "
                        'submission format: Cityscapes labelIds, VOC palette PNGs, ADE20K 1-150, else class indices')
    parser.add_argument('--out-format', choices=OUTPUT_FORMATS, default='auto', help='override that format')
    parser.add_argument('--confusion-matrix', metavar='DIR',
                        help='save the confusion matrix here: .npy counts and labelled heat maps, raw and normalised')
    parser.add_argument('--tta', action='store_true',
                        help="multi-scale + flip inference inside the model (model.test_cfg.tta) at the config's "
                        'tta_scales')
    parser.add_argument('--tta-pipeline', action='store_true', help=argparse.SUPPRESS)  # removed: a clear error
    parser.add_argument('--output-stride', type=int, choices=[8, 16, 32],
                        help='evaluate at this output stride (sets model.output_stride: the backbone\'s strides and '
                             'dilations and the ASPP rates follow; the weights are used as they are)')
    parser.add_argument('--crf', action='store_true',
                        help='refine predictions with the fully connected CRF (DenseCRF, the DeepLab defaults; tune '
                             'it with --cfg-options model.test_cfg.crf.bi_w=5)')
    parser.add_argument('--no-fast', action='store_true',
                        help='run the model as trained: no BN folding, default memory layout (the fast defaults are '
                             'exact; this is for comparison)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, help='override config keys')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none')
    return parser.parse_args(argv)


def build_config(args):
    work_dir = default_work_dir(args.config)
    if os.path.isdir(args.config):  # a saved model: its config, and its weights unless others are given
        saved = open_saved_model(args.config)
        args.config, args.checkpoint = str(saved.config), args.checkpoint or str(saved.weights)
        work_dir = default_work_dir(saved.folder.name)
    elif args.checkpoint is None:
        raise ValueError(f'{args.config}: give the CHECKPOINT to evaluate (only a saved-model folder carries its own)')
    cfg = load_config(args.config, args.cfg_options)
    cfg.work_dir = args.work_dir or cfg.get('work_dir') or work_dir
    if args.output_stride:
        cfg.model.output_stride = args.output_stride
    prepare_for_launcher(cfg, args.launcher, training=False)
    cfg.load_from = args.checkpoint
    cfg.resume = False
    if not os.path.isfile(args.checkpoint):
        raise FileNotFoundError(f'checkpoint not found: {args.checkpoint}')
    if args.tta_pipeline:
        raise ValueError(f'--tta-pipeline: {TTA_PIPELINE_REMOVED}')
    if args.crf:  # with --tta the CRF runs once, on the merged probabilities
        enable_crf(cfg)  # --cfg-options model.test_cfg.crf.bi_w=5 tunes it
    if args.tta:
        enable_tta(cfg, args.config)
    if not use_exported_model(cfg, args.checkpoint) and not args.no_fast:
        enable_fast_defaults(cfg)
    hooks = cfg.setdefault('default_hooks', ConfigDict())
    if args.show_dir:
        vis = hooks.get('visualization') or ConfigDict(type='SegVisualizationHook')
        vis.update(draw=True, out_dir=os.path.abspath(args.show_dir), max_images=None)
        hooks['visualization'] = vis
    if args.out or args.confusion_matrix:
        add_test_outputs(cfg, out_dir=args.out, out_format=args.out_format, confusion_dir=args.confusion_matrix)
    return cfg


def main(argv=None):
    args = parse_args(argv)
    check_dependencies()
    cfg = build_config(args)
    init_distributed(args.launcher, cfg.get('env_cfg'))  # before the model is built: exported models pick a GPU
    with safe_checkpoint_io():
        metrics = Runner.from_cfg(cfg).test()
    shutdown_distributed()
    return metrics


if __name__ == '__main__':
    main()
