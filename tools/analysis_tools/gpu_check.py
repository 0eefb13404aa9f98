"""segkit's GPU path, checked in one command on a machine with an NVIDIA GPU (about 8 minutes on one GPU).

    python tools/analysis_tools/gpu_check.py [--work-dir work_dirs/gpu_check] [--only amp-fp16 resume ...]
    python tools/analysis_tools/gpu_check.py --dry-run   # on the CPU, tiny sizes, the CUDA checks skipped

Needs the repository and ``pip install -e .`` only: the data is generated (segkit's Shapes scenes), the models
start from random weights (nothing is downloaded) and torchvision's ``deeplabv3_resnet50`` is built locally. Each
check prints one PASS / FAIL / SKIP line with its figures; the exit status is 1 when a check failed. Logs of every
run, the configs and ``summary.json`` go to the work dir.

Checks (``--only`` takes these names):

amp-fp16      ``tools/train.py --amp``, 40 iterations: AmpOptimWrapper float16; model, batches and loss on the GPU,
              convolutions in float16, the loss finite and falling
bf16          the same with a CPU-bfloat16 config (AutocastOptimWrapper): bfloat16 autocast on GPUs that run it
              natively (compute capability 8.0 on), the float16 fallback elsewhere
torchrun-nccl ``tools/dist_train.sh CONFIG 1`` (torchrun, one process) with NCCL and SyncBN, then
              ``tools/dist_test.sh`` on its checkpoint
two-ranks     two processes on the one GPU over gloo (NCCL refuses two ranks on one GPU): real SyncBN (retried
              with BN, and said, if SyncBN fails over gloo), DDP's all-reduce (both ranks end with the same weights
              and BN statistics) and the metric collected from two ranks (the same mIoU as one process)
resume        a run killed at the halfway checkpoint and resumed ends with the weights of an uninterrupted run, to
              within the difference between two uninterrupted runs (cuDNN deterministic, ``cudnn_benchmark=False``;
              non-deterministic CUDA kernels remain: docs/distributed.md)
tta-crf       ``tools/test.py --tta --crf`` on that checkpoint
inference     DeepLabv3+ R50-D8 at 512x512, batch 1: float32, float16 and bfloat16 autocast, fuse_bn +
              channels-last, torch.compile (fuse_bn + channels-last + compile): ms per image, peak memory, agreement
              with float32
throughput    training steps of DeepLabv3+ R50-D8, segkit's torchvision-form DeepLabv3 R50 and torchvision's
              ``deeplabv3_resnet50`` at batch 8, 512x512, float32: images/s, peak memory
"""
import argparse
import json
import math
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))  # run from a source checkout

CHECKS = ('amp-fp16', 'bf16', 'torchrun-nccl', 'two-ranks', 'resume', 'tta-crf', 'inference', 'throughput')
SHAPES_CONFIG = REPO / 'configs/deeplabv3plus/r18_96x96_shapes.py'
V3PLUS_R50 = REPO / 'configs/_base_/models/deeplabv3plus_r50-d8.py'
V3_R50_TORCHVISION_FORM = REPO / 'configs/_base_/models/deeplabv3_r50_torchvision.py'

CONFIG = '''_base_ = [{base!r}]
norm = dict(type={norm!r}, requires_grad=True)
crop_size = ({crop}, {crop})
model = dict(data_preprocessor=dict(size=crop_size), backbone=dict(norm_cfg=norm), decode_head=dict(norm_cfg=norm),
             auxiliary_head=dict(norm_cfg=norm))
_data = dict(type='ShapesDataset', data_root={data!r}, generate=False)
train_pipeline = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'),
                  dict(type='RandomResize', scale=({image}, {image}), ratio_range=(0.75, 1.5), keep_ratio=True),
                  dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75), dict(type='RandomFlip', prob=0.5),
                  dict(type='PackSegInputs')]
train_dataloader = dict(batch_size={batch}, num_workers={workers}, persistent_workers={persistent},
                        dataset=dict(_data, pipeline=train_pipeline))
val_dataloader = dict(batch_size={batch}, num_workers={workers}, persistent_workers={persistent}, dataset=_data)
test_dataloader = val_dataloader
train_cfg = dict(max_iters={iters}, val_interval={iters})
param_scheduler = [dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=0, end={iters}, by_epoch=False)]
default_hooks = dict(logger=dict(interval={log_interval}), checkpoint=dict(interval={checkpoint}, max_keep_ckpts=4),
                     visualization=dict(draw=False))
custom_imports = dict(imports=['gpu_check_probe'], allow_failed_imports=False)
custom_hooks = [dict(type='GpuCheckProbe')]
env_cfg = dict(cudnn_benchmark={benchmark})
randomness = dict(seed=0, deterministic={deterministic})
{extra}
'''

# Imported by the runs' configs (custom_imports): what each rank trained with, where, and what it ended with.
PROBE = '''
import hashlib
import json
import math
import os
import time

import torch
import torch.distributed as dist
from mmengine.hooks import Hook

from segkit.registry import HOOKS


def digest(tensors):
    h = hashlib.sha256()
    for t in tensors:
        h.update(t.detach().float().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()[:16]


@HOOKS.register_module()
class GpuCheckProbe(Hook):
    priority = 'LOWEST'

    def before_train(self, runner):
        model = getattr(runner.model, 'module', runner.model)
        rec = self.record = dict(
            rank=runner.rank, world_size=runner.world_size, wrapper=type(runner.model).__name__,
            broadcast_buffers=getattr(runner.model, 'broadcast_buffers', None),
            optim_wrapper=type(runner.optim_wrapper).__name__,
            backend=dist.get_backend() if dist.is_available() and dist.is_initialized() else None,
            sync_bn=sum(isinstance(m, torch.nn.SyncBatchNorm) for m in model.modules()),
            param_device=str(next(model.parameters()).device), losses=[], iter_end=[], val={})
        first_conv = next(m for m in model.backbone.modules() if isinstance(m, torch.nn.Conv2d))

        def batch_device(module, args):  # inside DDP's forward: after it broadcast rank 0's buffers
            if module.training:
                rec['batch_device'] = str(args[0].device)
                rec['buffers_at_forward'] = digest(model.buffers())

        def conv_dtype(module, args, out):
            if module.training:
                rec['conv_dtype'] = str(out.dtype).replace('torch.', '')

        model.backbone.register_forward_pre_hook(batch_device)
        first_conv.register_forward_hook(conv_dtype)
        if torch.cuda.is_available():
            torch.cuda.reset_peak_memory_stats()

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        loss = outputs['loss']
        self.record['loss_device'] = str(loss.device)
        self.record['losses'].append(float(loss))
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        self.record['iter_end'].append(time.perf_counter())

    def after_val_epoch(self, runner, metrics=None):
        self.record['val'] = {k: float(v) for k, v in (metrics or {}).items() if isinstance(v, (int, float))}

    def after_train(self, runner):
        model = getattr(runner.model, 'module', runner.model)
        self.record.update(params=digest(model.parameters()), buffers=digest(model.buffers()),
                           peak_gib=torch.cuda.max_memory_allocated() / 2**30 if torch.cuda.is_available() else None)
        with open(os.path.join(runner.work_dir, f'probe_rank{runner.rank}.json'), 'w') as f:
            json.dump(self.record, f)
'''


@dataclass
class Result:
    name: str
    status: str  # PASS, FAIL, SKIP
    summary: str
    figures: Dict = field(default_factory=dict)


class CheckFailed(AssertionError):
    pass


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


class GpuCheck:
    """Shared state of the checks: sizes, the work dir, the generated data, the runs' logs."""

    def __init__(self, work_dir: Path, dry_run: bool, iters: int):
        import torch
        self.work = work_dir
        self.dry_run = dry_run
        self.cuda = torch.cuda.is_available()
        self.device = 'cuda' if self.cuda else 'cpu'
        self.iters = 4 if dry_run else iters
        self.batch = 2 if dry_run else 8
        self.crop = 32 if dry_run else 96
        self.image = 32 if dry_run else 128
        self.workers = 0 if dry_run else 2
        self.data = work_dir / 'shapes'
        self.bin = work_dir / 'bin'
        self.results: List[Result] = []

    # ------------------------------------------------------------------------------------------------ set-up
    def prepare(self) -> None:
        from segkit.datasets.shapes_generator import generate_shapes
        self.work.mkdir(parents=True, exist_ok=True)
        (self.work / 'gpu_check_probe.py').write_text(PROBE)
        self.bin.mkdir(exist_ok=True)
        python = self.bin / 'python'  # tools/dist_*.sh run `python`: make it this interpreter
        if not python.exists():
            python.symlink_to(sys.executable)
        num_train, num_val = (8, 4) if self.dry_run else (64, 16)
        generate_shapes(str(self.data), num_train=num_train, num_val=num_val, size=self.image, seed=0)

    def config(self, name: str, norm: str = 'BN', iters: Optional[int] = None, checkpoint: Optional[int] = None,
               deterministic: bool = False, extra: str = '') -> Path:
        iters = iters or self.iters
        path = self.work / f'{name}.py'
        path.write_text(CONFIG.format(
            base=str(SHAPES_CONFIG), norm=norm, crop=self.crop, image=self.image, data=str(self.data),
            batch=self.batch, workers=self.workers, persistent=self.workers > 0, iters=iters,
            log_interval=max(1, iters // 4), checkpoint=checkpoint or iters, benchmark=not deterministic,
            deterministic=deterministic, extra=extra))
        return path

    def env(self, **extra) -> dict:
        path = os.pathsep.join([str(self.work), str(REPO), os.environ.get('PYTHONPATH', '')])
        env = dict(os.environ, PYTHONPATH=path,
                   PATH=f"{self.bin}{os.pathsep}{os.environ.get('PATH', '')}", **extra)
        if self.dry_run:
            env.update(CUDA_VISIBLE_DEVICES='', OMP_NUM_THREADS='1')
        return env

    def run(self, name: str, cmd: List[str], timeout: float = 600, **env) -> str:
        """Run ``cmd`` from the repository root, its output to ``<work>/<name>.log``; fail on a non-zero exit."""
        log = self.work / f'{name}.log'
        start = time.perf_counter()
        with open(log, 'w') as out:
            code = subprocess.run(cmd, cwd=str(REPO), env=self.env(**env), stdout=out, stderr=subprocess.STDOUT,
                                  timeout=timeout).returncode
        text = log.read_text(errors='replace')
        expect(code == 0, f'{" ".join(cmd[1:4])} exited with {code} after {time.perf_counter() - start:.0f} s; '
                          f'last lines of {log}:\n    ' + '\n    '.join(text.strip().splitlines()[-6:]))
        return text

    def train(self, name: str, config: Path, *args: str) -> dict:
        work = self.work / name
        shutil.rmtree(work, ignore_errors=True)
        self.run(name, [sys.executable, 'tools/train.py', str(config), '--work-dir', str(work), *args])
        return probe(work)

    def test(self, name: str, config: Path, checkpoint: Path, *args: str) -> float:
        text = self.run(name, [sys.executable, 'tools/test.py', str(config), str(checkpoint), '--work-dir',
                               str(self.work / name), *args])
        return miou(text, name)

    # ------------------------------------------------------------------------------------------------ checks
    def needs_cuda(self) -> Optional[str]:
        if self.cuda:
            return None
        return 'needs CUDA (dry run on the CPU)' if self.dry_run else 'needs CUDA: torch.cuda.is_available() is False'

    def check_amp_fp16(self) -> Result:
        record = self.train('amp_fp16', self.config('amp_fp16'), '--amp')
        expect(record['optim_wrapper'] == 'AmpOptimWrapper', f"trained with {record['optim_wrapper']}")
        expect(record.get('conv_dtype') == 'float16', f"convolutions ran in {record.get('conv_dtype')}")
        return self.training_result('amp-fp16', record)

    def check_bf16(self) -> Result:
        import torch
        from segkit.engine.precision import cuda_supports_bfloat16
        extra = "optim_wrapper = dict(type='AutocastOptimWrapper', dtype='bfloat16', device_type='cpu')"
        record = self.train('bf16', self.config('bf16', extra=extra))
        native = not self.cuda or cuda_supports_bfloat16()
        expected = ('AutocastOptimWrapper', 'bfloat16') if native else ('AmpOptimWrapper', 'float16')
        expect((record['optim_wrapper'], record.get('conv_dtype')) == expected,
               f"trained with {record['optim_wrapper']}, convolutions in {record.get('conv_dtype')}; expected "
               f'{expected}')
        result = self.training_result('bf16', record)
        if self.cuda and not native:
            result.summary += (f'; {torch.cuda.get_device_name()} has no native bfloat16: the float16 fallback, '
                               'as designed')
        return result

    def training_result(self, name: str, record: dict) -> Result:
        losses = record['losses']
        for key in ('param_device', 'batch_device', 'loss_device'):
            expect(str(record.get(key)).startswith(self.device), f'{key} is {record.get(key)}, not {self.device}')
        expect(len(losses) == self.iters and all(math.isfinite(v) for v in losses), f'losses: {losses}')
        k = max(1, len(losses) // 4)
        first, last = statistics.mean(losses[:k]), statistics.mean(losses[-k:])
        if not self.dry_run:
            expect(last < first, f'the loss did not fall: {first:.3f} -> {last:.3f}')
        figures = dict(iters=len(losses), s_per_iter=seconds_per_iter(record), loss_first=first, loss_last=last,
                       peak_gib=record.get('peak_gib'), optim_wrapper=record['optim_wrapper'],
                       conv_dtype=record.get('conv_dtype'))
        return Result(name, 'PASS', f"{len(losses)} it, {fmt(figures['s_per_iter'], 's/it')}, loss {first:.3f} -> "
                      f"{last:.3f}, peak {fmt(record.get('peak_gib'), 'GiB')}, {record['optim_wrapper']}, convs in "
                      f"{record.get('conv_dtype')}, model/batch/loss on {record['loss_device']}", figures)

    def check_torchrun_nccl(self) -> Result:
        config = self.config('torchrun_nccl', norm='SyncBN')
        work = self.work / 'torchrun_nccl'
        shutil.rmtree(work, ignore_errors=True)
        port = str(free_port())
        self.run('torchrun_nccl', ['bash', 'tools/dist_train.sh', str(config), '1', '--work-dir', str(work)], PORT=port)
        record = probe(work)
        expect(record['backend'] == 'nccl' and record['world_size'] == 1, f"backend {record['backend']}, world size "
               f"{record['world_size']}")
        expect(record['wrapper'] == 'MMDistributedDataParallel' and record['broadcast_buffers'] is True,
               f"wrapper {record['wrapper']}, broadcast_buffers={record['broadcast_buffers']}")
        expect(record['sync_bn'] > 0, 'no SyncBatchNorm in the model')
        text = self.run('torchrun_nccl_test', ['bash', 'tools/dist_test.sh', str(config),
                                               str(work / f'iter_{self.iters}.pth'), '1', '--work-dir',
                                               str(self.work / 'torchrun_nccl_test')], PORT=str(free_port()))
        figures = dict(s_per_iter=seconds_per_iter(record), sync_bn_layers=record['sync_bn'],
                       test_miou=miou(text, 'dist_test'))
        return Result('torchrun-nccl', 'PASS', f"torchrun, 1 rank, nccl, {record['sync_bn']} SyncBN layers, "
                      f"{fmt(figures['s_per_iter'], 's/it')}; dist_test.sh mIoU {figures['test_miou']:.2f}", figures)

    def check_two_ranks(self) -> Result:
        notes = []
        norm = 'SyncBN' if self.cuda else 'BN'
        if not self.cuda:
            notes.append('SyncBN not exercised (torch has it on GPUs only)')
        try:
            records = self.two_rank_training(norm)
        except CheckFailed as exc:
            if norm != 'SyncBN':
                raise
            notes.append(f'SyncBN over gloo failed ({str(exc).splitlines()[-1].strip()[:160]}), so SyncBN needs '
                         'NCCL here (one GPU per rank); retried with BN')
            norm = 'BN'
            records = self.two_rank_training(norm)
        a, b = records
        expect(a['backend'] == b['backend'] == 'gloo' and a['world_size'] == 2, f"backend {a['backend']}")
        expect(a['params'] == b['params'], 'the two ranks ended with different weights: no all-reduce')
        expect(a['buffers_at_forward'] == b['buffers_at_forward'],
               'the two ranks ran their last forward pass with different BN statistics')
        if norm == 'SyncBN':
            expect(a['sync_bn'] > 0, 'no SyncBatchNorm in the model')
        two = a['val'].get('mIoU')
        expect(two is not None, 'no validation mIoU from the two-rank run')
        one = self.test('two_ranks_single_test', self.work / 'two_ranks.py',
                        self.work / 'two_ranks' / f'iter_{self.iters}.pth', '--no-fast')
        expect(abs(one - two) < 0.02, f'mIoU collected from two ranks {two:.3f} != one process {one:.3f}')
        figures = dict(norm=norm, miou_two_ranks=two, miou_one_process=one, s_per_iter=seconds_per_iter(a))
        return Result('two-ranks', 'PASS', f'2 ranks on {self.device} over gloo with {norm}: same weights, and BN '
                      f'statistics at each forward, on both; mIoU {two:.2f} from two ranks = {one:.2f} from one process'
                      + ''.join(f'; {n}' for n in notes), figures)

    def two_rank_training(self, norm: str):
        """Two processes as torchrun would start them, but both on GPU 0 (LOCAL_RANK=0 for both)."""
        config = self.config('two_ranks', norm=norm, extra="env_cfg = dict(dist_cfg=dict(backend='gloo'))")
        work = self.work / 'two_ranks'
        shutil.rmtree(work, ignore_errors=True)
        port = str(free_port())
        procs = []
        for rank in (0, 1):
            log = open(self.work / f'two_ranks.rank{rank}.log', 'w')
            procs.append((subprocess.Popen(
                [sys.executable, 'tools/train.py', str(config), '--work-dir', str(work), '--launcher', 'pytorch'],
                cwd=str(REPO), stdout=log, stderr=subprocess.STDOUT,
                env=self.env(RANK=str(rank), LOCAL_RANK='0', WORLD_SIZE='2', LOCAL_WORLD_SIZE='1',
                             MASTER_ADDR='127.0.0.1', MASTER_PORT=port)), log))
        for proc, log in procs:
            try:
                proc.wait(timeout=600)
            finally:
                if proc.poll() is None:
                    proc.kill()
                log.close()
        texts = [(self.work / f'two_ranks.rank{r}.log').read_text(errors='replace') for r in (0, 1)]
        for (proc, _), text in zip(procs, texts):
            expect(proc.returncode == 0, f'a rank exited with {proc.returncode}:\n    '
                   + '\n    '.join(text.strip().splitlines()[-6:]))
        return [probe(work, rank) for rank in (0, 1)]

    def check_resume(self) -> Result:
        from segkit.fileio.checkpoint import safe_load
        half = max(2, self.iters // 2)
        config = self.config('resume', iters=2 * half, checkpoint=half, deterministic=True)
        self.train('resume_clean', config)
        runs = ['resume_clean']
        if self.cuda:  # CPU kernels are deterministic: there the resumed run must match exactly
            self.train('resume_clean_again', config)
            runs.append('resume_clean_again')
        resumed = self.work / 'resume_resumed'
        shutil.rmtree(resumed, ignore_errors=True)
        resumed.mkdir()
        shutil.copy(self.work / 'resume_clean' / f'iter_{half}.pth', resumed / f'iter_{half}.pth')
        (resumed / 'last_checkpoint').write_text(str(resumed / f'iter_{half}.pth'))
        text = self.run('resume_resumed', [sys.executable, 'tools/train.py', str(config), '--work-dir',
                                           str(resumed), '--resume'])
        expect(f'Resuming at iteration {half}:' in text, 'the run did not resume at the saved iteration')
        inexact = [line.strip() for line in text.splitlines() if 'not exactly as an uninterrupted run' in line]
        expect(not inexact, f'the resume was not exact: {inexact[:1]}')
        saved = safe_load(str(self.work / 'resume_clean' / f'iter_{half}.pth'))
        states = saved['random_state']['ranks']
        expect(not self.cuda or 'cuda' in states[0], 'the checkpoint holds no CUDA generator state')
        final = {name: safe_load(str(self.work / name / f'iter_{2 * half}.pth'))['state_dict']
                 for name in runs + ['resume_resumed']}

        def max_diff(a, b):
            return max(float((a[k].float() - b[k].float()).abs().max()) for k in a if a[k].is_floating_point())

        resumed_diff = max_diff(final['resume_resumed'], final['resume_clean'])
        noise = max_diff(final['resume_clean_again'], final['resume_clean']) if self.cuda else 0.0
        expect(resumed_diff <= 100 * noise, f'resumed vs uninterrupted weights differ by {resumed_diff:.3g}; two '
               f'uninterrupted runs differ by {noise:.3g}')
        figures = dict(resumed_vs_uninterrupted=resumed_diff, uninterrupted_vs_uninterrupted=noise,
                       bit_exact=resumed_diff == 0.0, cuda_generator_saved=self.cuda)
        floor = f'two uninterrupted runs: {noise:.3g}' if self.cuda else 'on the CPU it must be 0'
        return Result('resume', 'PASS', f'resumed at {half} of {2 * half}: max |weight difference| '
                      f'{resumed_diff:.3g} against an uninterrupted run ({floor})'
                      + ('; bit for bit' if resumed_diff == 0 else ''), figures)

    def check_tta_crf(self) -> Result:
        checkpoint = self.work / 'resume_clean' / f'iter_{2 * max(2, self.iters // 2)}.pth'
        if not checkpoint.is_file():
            self.check_resume()
        start = time.perf_counter()
        value = self.test('tta_crf', self.work / 'resume.py', checkpoint, '--tta', '--crf')
        seconds = time.perf_counter() - start
        return Result('tta-crf', 'PASS', f'tools/test.py --tta --crf: mIoU {value:.2f}, {seconds:.0f} s in all',
                      dict(miou=value, seconds=seconds))

    def check_inference(self) -> Result:
        import torch

        from segkit.models.inference.options import InferenceOptions
        size = 32 if self.dry_run else 512
        torch.backends.cudnn.benchmark = True  # as the default runtime sets it (env_cfg.cudnn_benchmark)
        model = build_model(V3PLUS_R50, self.device, calibrate_bn=True, size=size)
        model.eval()
        x = torch.randn(1, 3, size, size, device=self.device)
        metas = [dict(img_shape=(size, size), ori_shape=(size, size), pad_shape=(size, size))]
        variants = [('fp32', {}, False, True), ('fp16', dict(autocast='float16'), False, False),
                    ('bf16', dict(autocast='bfloat16'), False, False),
                    ('fuse_bn+channels_last', dict(fuse_bn=True), True, True),
                    ('compile', dict(fuse_bn=True, compile=True), True, True)]
        rows, failures, reference = [], [], None
        for name, test_cfg, channels_last, exact in variants:
            skip = None
            if name == 'fp16' and not self.cuda:
                skip = 'CUDA check'
            elif name == 'compile' and self.dry_run:
                skip = 'dry run (compiling takes minutes on a CPU)'
            elif name == 'bf16' and self.cuda:
                from segkit.engine.precision import cuda_supports_bfloat16
                skip = None if cuda_supports_bfloat16() else 'no native bfloat16 on this GPU'
            if skip:
                rows.append(dict(variant=name, skipped=skip))
                continue
            model.inference_options = InferenceOptions.from_test_cfg(dict(mode='whole', **test_cfg), num_classes=21,
                                                                     channels_last=channels_last)
            try:
                ms, peak, logits = time_inference(model, x, metas, warmup=1 if self.dry_run else 5,
                                                  iters=2 if self.dry_run else 20)
            except Exception as exc:  # one variant failing is a finding; the others still run
                failures.append(f'{name}: {type(exc).__name__}: {str(exc).strip().splitlines()[0][:200]}')
                rows.append(dict(variant=name, error=failures[-1]))
                continue
            if reference is None:
                reference = logits
            scale = float(reference.abs().max())
            diff = float((logits - reference).abs().max()) / scale
            agree = float((logits.argmax(1) == reference.argmax(1)).float().mean())
            rows.append(dict(variant=name, ms=ms, peak_gib=peak, rel_diff=diff, label_agreement=agree))
            fast = model.__dict__.get('_fast_net')
            eager_reason = getattr(getattr(fast, 'net', None), 'eager_reason', None)
            if eager_reason:
                failures.append(f'{name}: torch.compile fell back to eager ({eager_reason})')
            elif not torch.isfinite(logits).all():
                failures.append(f'{name}: non-finite logits')
            elif exact and diff > 1e-2:
                failures.append(f'{name}: logits differ from float32 by {diff:.2g} of their range')
        table = '; '.join(f"{r['variant']} {fmt(r['ms'], 'ms')} {fmt(r['peak_gib'], 'GiB')} agree "
                          f"{r['label_agreement']:.3f}" if 'ms' in r else f"{r['variant']} "
                          f"{'skipped: ' + r['skipped'] if 'skipped' in r else 'FAILED'}" for r in rows)
        status = 'FAIL' if failures else 'PASS'
        return Result('inference', status, f'DeepLabv3+ R50-D8 {size}x{size}, batch 1: {table}'
                      + ''.join(f'; {f}' for f in failures), dict(size=size, rows=rows))

    def check_throughput(self) -> Result:
        import torch
        torch.backends.cudnn.benchmark = True
        batch, size = (2, 32) if self.dry_run else (8, 512)  # BN's image pooling needs 2 in training
        warmup, iters = (0, 1) if self.dry_run else (5, 15)
        rows = []
        for name, build in (('segkit DeepLabv3+ R50-D8', lambda: segkit_trainer(V3PLUS_R50, self.device, batch, size)),
                            ('segkit DeepLabv3 R50 (torchvision form)',
                             lambda: segkit_trainer(V3_R50_TORCHVISION_FORM, self.device, batch, size)),
                            ('torchvision deeplabv3_resnet50', lambda: torchvision_trainer(self.device, batch, size))):
            rows.append(dict(model=name, **time_training(build, warmup, iters, batch)))
        by_name = {r['model']: r for r in rows}
        ratio = (by_name['segkit DeepLabv3 R50 (torchvision form)']['images_per_s']
                 / by_name['torchvision deeplabv3_resnet50']['images_per_s'])
        table = '; '.join(f"{r['model']} {r['images_per_s']:.2f} img/s, peak {fmt(r['peak_gib'], 'GiB')}"
                          for r in rows)
        figures = dict(batch=batch, size=size, rows=rows, same_architecture_ratio=ratio)
        return Result('throughput', 'PASS', f'training, batch {batch}, {size}x{size}, float32: {table}; same '
                      f'architecture segkit / torchvision = {ratio:.2f}', figures)

    # ------------------------------------------------------------------------------------------------- driver
    def run_checks(self, names: List[str]) -> List[Result]:
        gpu_only = {'amp-fp16', 'torchrun-nccl'}
        for name in names:
            reason = self.needs_cuda() if name in gpu_only else None
            if reason:
                result = Result(name, 'SKIP', reason)
            else:
                method: Callable[[], Result] = getattr(self, 'check_' + name.replace('-', '_'))
                start = time.perf_counter()
                try:
                    result = method()
                except CheckFailed as exc:
                    result = Result(name, 'FAIL', str(exc))
                except Exception as exc:
                    (self.work / f'{name}.traceback.txt').write_text(traceback.format_exc())
                    result = Result(name, 'FAIL', f'{type(exc).__name__}: {str(exc).strip()[:400]} (traceback in '
                                    f'{self.work / (name + ".traceback.txt")})')
                result.figures['seconds'] = round(time.perf_counter() - start, 1)
            print(f'[{result.status}] {result.name:<14} {result.summary}', flush=True)
            self.results.append(result)
        return self.results


# ---------------------------------------------------------------------------------------------------- helpers
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def probe(work: Path, rank: int = 0) -> dict:
    path = work / f'probe_rank{rank}.json'
    expect(path.is_file(), f'{path} was not written: the run did not train')
    return json.loads(path.read_text())


def miou(text: str, what: str) -> float:
    found = re.findall(r'mIoU: ([0-9.]+)', text)
    expect(bool(found), f'{what}: no mIoU in the output')
    return float(found[-1])


def seconds_per_iter(record: dict) -> Optional[float]:
    ends = record.get('iter_end') or []
    steps = [b - a for a, b in zip(ends, ends[1:])][len(ends) // 4:]  # past the warm-up
    return statistics.median(steps) if steps else None


def fmt(value, unit: str) -> str:
    if value is None:
        return f'- {unit}'
    return f'{value:.3g} {unit}'


def build_model(config: Path, device: str, calibrate_bn: bool = False, size: int = 64):
    """A segkit model of a base model config: 21 classes, plain BN, random weights (no download)."""
    import torch
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from segkit.engine.config_setup import replace_sync_bn
    from segkit.registry import SEGMENTORS
    init_default_scope('segkit')
    cfg = replace_sync_bn(Config.fromfile(str(config)).model)
    cfg.backbone.pop('init_cfg', None)
    for head in [cfg.decode_head] + ([cfg.auxiliary_head] if cfg.get('auxiliary_head') else []):
        head.num_classes = 21
    torch.manual_seed(0)
    model = SEGMENTORS.build(cfg).to(device)
    if calibrate_bn:  # measured BN statistics: default ones blow activations up in a deep random network
        norms = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
        for norm in norms:
            norm.reset_running_stats()
            norm.momentum = None
        model.train()
        with torch.no_grad():
            for _ in range(3):
                model(torch.randn(2, 3, size, size, device=device), mode='tensor')
    return model


def synchronize() -> None:
    import torch
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def peak_gib() -> Optional[float]:
    import torch
    return torch.cuda.max_memory_allocated() / 2**30 if torch.cuda.is_available() else None


def reset_peak() -> None:
    import torch
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()


def time_inference(model, x, metas, warmup: int, iters: int):
    import torch
    reset_peak()
    with torch.inference_mode():
        for _ in range(warmup):
            logits = model.encode_decode(x, metas)
        synchronize()
        times = []
        for _ in range(iters):
            start = time.perf_counter()
            logits = model.encode_decode(x, metas)
            synchronize()
            times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times), peak_gib(), logits.float()


def segkit_trainer(config: Path, device: str, batch: int, size: int):
    import torch

    from segkit.structures import PixelData, SegDataSample
    model = build_model(config, device).train()
    g = torch.Generator().manual_seed(0)
    samples = []
    for _ in range(batch):
        sample = SegDataSample(metainfo=dict(img_shape=(size, size), ori_shape=(size, size), pad_shape=(size, size)))
        sample.gt_sem_seg = PixelData(data=torch.randint(0, 21, (1, size, size), generator=g).to(device))
        samples.append(sample)
    x = torch.randn(batch, 3, size, size, generator=g).to(device)

    def loss():
        losses = model(x, samples, mode='loss')
        return sum(v for k, v in losses.items() if 'loss' in k)
    return model, loss


def torchvision_trainer(device: str, batch: int, size: int):
    import torch
    import torch.nn.functional as F
    from torchvision.models.segmentation import deeplabv3_resnet50
    torch.manual_seed(0)
    model = deeplabv3_resnet50(weights=None, weights_backbone=None, num_classes=21, aux_loss=True).to(device).train()
    g = torch.Generator().manual_seed(0)
    x = torch.randn(batch, 3, size, size, generator=g).to(device)
    labels = torch.randint(0, 21, (batch, size, size), generator=g).to(device)

    def loss():
        out = model(x)
        return F.cross_entropy(out['out'], labels, ignore_index=255) + 0.5 * F.cross_entropy(
            out['aux'], labels, ignore_index=255)
    return model, loss


def time_training(build, warmup: int, iters: int, batch: int) -> dict:
    import torch
    reset_peak()
    model, loss_fn = build()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

    def step():
        loss = loss_fn()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return loss

    for _ in range(warmup):
        step()
    synchronize()
    start = time.perf_counter()
    for _ in range(iters):
        loss = step()
    synchronize()
    seconds = time.perf_counter() - start
    expect(math.isfinite(float(loss.detach())), 'non-finite training loss')
    return dict(images_per_s=batch * iters / seconds, peak_gib=peak_gib())


def environment() -> dict:
    import torch
    info = dict(torch=torch.__version__, cuda=torch.version.cuda, cuda_available=torch.cuda.is_available())
    if torch.cuda.is_available():
        index = torch.cuda.current_device()
        major, minor = torch.cuda.get_device_capability(index)
        info.update(gpu=torch.cuda.get_device_name(index), capability=f'{major}.{minor}',
                    gpus=torch.cuda.device_count(), cudnn=torch.backends.cudnn.version(),
                    memory_gib=round(torch.cuda.get_device_properties(index).total_memory / 2**30, 1))
    try:
        import onnxruntime
        info['onnxruntime_providers'] = onnxruntime.get_available_providers()
    except ImportError:
        pass
    return info


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument('--work-dir', default='work_dirs/gpu_check', help='logs, configs, data and summary.json')
    parser.add_argument('--dry-run', action='store_true',
                        help='on the CPU with tiny sizes (CUDA hidden): the CUDA checks are skipped')
    parser.add_argument('--only', nargs='+', choices=CHECKS, metavar='CHECK', help=f'run these: {", ".join(CHECKS)}')
    parser.add_argument('--iters', type=int, default=40, help='training iterations of the training checks')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.dry_run:
        os.environ['CUDA_VISIBLE_DEVICES'] = ''  # before anything asks CUDA
    work = Path(args.work_dir).resolve()
    check = GpuCheck(work, args.dry_run, args.iters)
    info = environment()
    print('gpu_check: ' + ', '.join(f'{k} {v}' for k, v in info.items()), flush=True)
    start = time.perf_counter()
    check.prepare()
    results = check.run_checks(list(args.only or CHECKS))
    counts = {status: sum(r.status == status for r in results) for status in ('PASS', 'FAIL', 'SKIP')}
    (work / 'summary.json').write_text(json.dumps(dict(environment=info, dry_run=args.dry_run,
                                                       results=[asdict(r) for r in results]), indent=1, default=str))
    print(f"gpu_check: {counts['PASS']} passed, {counts['FAIL']} failed, {counts['SKIP']} skipped in "
          f'{time.perf_counter() - start:.0f} s; logs and summary.json in {work}', flush=True)
    return 1 if counts['FAIL'] else 0


if __name__ == '__main__':
    sys.exit(main())
