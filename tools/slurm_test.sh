#!/usr/bin/env bash
# Evaluate on a SLURM cluster with srun:  tools/slurm_test.sh PARTITION JOB_NAME CONFIG CHECKPOINT [test.py args]
# e.g. GPUS=4 tools/slurm_test.sh gpu eval configs/deeplabv3plus/r101_512x512_voc.py iter_40000.pth --tta
exec "$(dirname "$0")/slurm_launch.sh" test.py "$1" "$2" "$3" "$4" "${@:5}"
