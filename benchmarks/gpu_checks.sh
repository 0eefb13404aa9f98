#!/usr/bin/env bash
# GPU checks, on a machine with NVIDIA GPUs, CamVid and the MobileNetV2 ImageNet file; run from the repository root:
#   CAMVID=../shared/data/camvid SEGKIT_WEIGHTS=../shared/weights benchmarks/gpu_checks.sh [OUT_DIR]
# (defaults: data/camvid and $SEGKIT_WEIGHTS, else checkpoints/, as the configs read them).
# 1. fp16 AMP training of the CamVid config for 200 iterations (`--amp` turns its CPU bf16 wrapper into
#    AmpOptimWrapper float16): the log's loss falls, validation prints mIoU.
# 2. SyncBN under torchrun with NCCL on every GPU (the config's own SyncBN, kept when distributed on CUDA).
# 3. bf16 autocast inference of checkpoint 1 (model.test_cfg.autocast='bfloat16').
set -euo pipefail
OUT=${1:-work_dirs/gpu_checks}
CAMVID=${CAMVID:-data/camvid}
WEIGHTS=${WEIGHTS:-${SEGKIT_WEIGHTS:-checkpoints}/mobilenet_v2-b0353104.pth}
CFG=configs/deeplabv3plus/mobilenetv2_256x256_camvid.py
DATA=(data_root="$CAMVID" train_dataloader.dataset.data_root="$CAMVID" val_dataloader.dataset.data_root="$CAMVID"
      test_dataloader.dataset.data_root="$CAMVID" model.backbone.init_cfg.checkpoint="$WEIGHTS")
SHORT=(train_cfg.max_iters=200 train_cfg.val_interval=200 param_scheduler.0.end=200
       default_hooks.checkpoint.interval=200 default_hooks.logger.interval=20)
GPUS=$(nvidia-smi -L | wc -l)

python tools/train.py "$CFG" --amp --work-dir "$OUT/amp_fp16" --cfg-options "${DATA[@]}" "${SHORT[@]}"
grep -E "AmpOptimWrapper|loss:|mIoU" "$OUT"/amp_fp16/*/*.log | tail -15

PORT=${PORT:-29511} tools/dist_train.sh "$CFG" "$GPUS" --work-dir "$OUT/syncbn_nccl" --cfg-options "${DATA[@]}" \
    "${SHORT[@]}"
grep -E "SyncBatchNorm|nccl|loss:|mIoU" "$OUT"/syncbn_nccl/*/*.log | tail -10

python tools/test.py "$CFG" "$OUT/amp_fp16/iter_200.pth" --work-dir "$OUT/bf16_inference" \
    --cfg-options "${DATA[@]}" model.test_cfg.autocast=bfloat16
