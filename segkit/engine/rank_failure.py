"""A clear error on the ranks that survive when one rank of a distributed run dies."""
from typing import Optional

import torch.distributed as dist

# What gloo / NCCL / the c10d store raise on a rank whose peer went away or stopped answering.
PEER_LOST_SIGNS = ('Connection closed by peer', 'Connection reset by peer', 'Broken pipe', 'Connection refused',
                   'timed out', 'Timeout', 'NCCL communicator was aborted', 'DistBackendError')


class RankLostError(RuntimeError):
    pass


def rank_lost_error(exc: BaseException, runner) -> Optional[RankLostError]:
    """A :class:`RankLostError` explaining ``exc`` when it is a collective failing because another rank died."""
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() < 2:
        return None
    text = f'{type(exc).__name__}: {exc}'
    if not any(sign in text for sign in PEER_LOST_SIGNS):
        return None
    last = runner.message_hub.get_info('last_ckpt')
    resume = f'continue from {last}' if last else 'start again (no checkpoint was saved yet)'
    detail = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__
    return RankLostError(
        f'rank {dist.get_rank()} of {dist.get_world_size()}: another rank stopped answering during iteration '
        f'{runner.iter + 1} ({detail}); it died, was killed or hangs, so this rank stops too. Check the other '
        f'ranks\' logs for the cause, then relaunch every node with --resume to {resume}.')
