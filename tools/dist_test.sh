#!/usr/bin/env bash
# Multi-GPU / multi-node evaluation with torchrun:  tools/dist_test.sh CONFIG CHECKPOINT GPUS [test.py args]
exec "$(dirname "$0")/dist_launch.sh" test.py "$3" "$1" "$2" "${@:4}"
