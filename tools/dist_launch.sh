#!/usr/bin/env bash
# torchrun launcher shared by dist_train.sh and dist_test.sh:  dist_launch.sh SCRIPT GPUS [script args]
# Multi-node: set NNODES, NODE_RANK, MASTER_ADDR (and PORT) on every node.
SCRIPT=$1
GPUS=$2
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PYTHONPATH="$ROOT:$PYTHONPATH" exec python -m torch.distributed.run \
    --nnodes="${NNODES:-1}" --node_rank="${NODE_RANK:-0}" --master_addr="${MASTER_ADDR:-127.0.0.1}" \
    --nproc_per_node="$GPUS" --master_port="${PORT:-29500}" \
    "$ROOT/tools/$SCRIPT" "${@:3}" --launcher pytorch
