"""Deterministic fault points for the crash-and-resume tests.

``SEGKIT_FAULT=<point>@<n>`` in the environment makes the n-th pass through ``fault_point('<point>')`` in that
process send SIGKILL, to itself or to ``pid``; with ``SEGKIT_FAULT_RANK=<r>`` only in the process of that rank
(torchrun's ``RANK``). Unset (always, outside the tests) a fault point does nothing but read one environment
variable. segkit's own code has one point, ``'checkpoint_write'``, halfway through writing a
checkpoint; the tests add the others (mid-backward, validation, data loading, right after a save) from a plugin.
"""
import os
import signal
from collections import Counter

FAULT_ENV = 'SEGKIT_FAULT'
RANK_ENV = 'SEGKIT_FAULT_RANK'
_passes: Counter = Counter()


def fault_point(name: str, pid: int = 0) -> None:
    spec = os.environ.get(FAULT_ENV)
    if not spec:
        return
    point, _, nth = spec.partition('@')
    if point != name or os.environ.get(RANK_ENV, os.environ.get('RANK', '0')) != os.environ.get('RANK', '0'):
        return
    _passes[name] += 1
    if _passes[name] == int(nth or 1):
        os.kill(pid or os.getpid(), signal.SIGKILL)
