#!/usr/bin/env bash
# srun launcher shared by slurm_train.sh and slurm_test.sh:  slurm_launch.sh SCRIPT PARTITION JOB_NAME [script args]
# One task per GPU; mmengine reads the rank, world size and master node from SLURM's variables (--launcher slurm).
# Environment: GPUS (total, default 8), GPUS_PER_NODE (default 8, or GPUS when fewer), CPUS_PER_TASK (default 5),
# SRUN_ARGS (extra srun options, e.g. "--quotatype=auto" or "--time=24:00:00").
set -euo pipefail
SCRIPT=$1
PARTITION=$2
JOB_NAME=$3
GPUS=${GPUS:-8}
GPUS_PER_NODE=${GPUS_PER_NODE:-$(( GPUS < 8 ? GPUS : 8 ))}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck disable=SC2086  # SRUN_ARGS holds several options on purpose
PYTHONPATH="$ROOT:${PYTHONPATH:-}" exec srun --partition="$PARTITION" --job-name="$JOB_NAME" \
    --gres="gpu:$GPUS_PER_NODE" --ntasks="$GPUS" --ntasks-per-node="$GPUS_PER_NODE" \
    --cpus-per-task="$CPUS_PER_TASK" --kill-on-bad-exit=1 ${SRUN_ARGS:-} \
    python -u "$ROOT/tools/$SCRIPT" "${@:4}" --launcher slurm
