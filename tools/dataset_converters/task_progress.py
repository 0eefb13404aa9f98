"""Running a converter's tasks with a progress bar (rich), in worker processes when asked."""
from multiprocessing import Pool
from typing import Callable, Iterable, List, Sequence, TypeVar

from rich.progress import track

T = TypeVar('T')
R = TypeVar('R')


def run_tasks(func: Callable[[T], R], tasks: Sequence[T], nproc: int = 1, description: str = 'Working') -> List[R]:
    """``func(task)`` for every task, in ``nproc`` processes when ``nproc > 1``, results in completion order.

    ``func`` must be a module-level function (worker processes import it); an exception in a task stops the run and
    is raised here."""
    if nproc > 1 and len(tasks) > 1:
        with Pool(min(nproc, len(tasks))) as pool:
            return _tracked(pool.imap_unordered(func, tasks), len(tasks), description)
    return _tracked(map(func, tasks), len(tasks), description)


def _tracked(results: Iterable[R], total: int, description: str) -> List[R]:
    return list(track(results, total=total, description=description))
