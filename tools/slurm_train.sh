#!/usr/bin/env bash
# Train on a SLURM cluster with srun:  tools/slurm_train.sh PARTITION JOB_NAME CONFIG [train.py args]
# e.g. GPUS=16 tools/slurm_train.sh gpu deeplab configs/deeplabv3plus/r101_512x1024_cityscapes.py --resume
exec "$(dirname "$0")/slurm_launch.sh" train.py "$1" "$2" "$3" "${@:4}"
