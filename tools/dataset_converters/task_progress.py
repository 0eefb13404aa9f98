"""Running a converter: its command line (the options every converter takes) and its tasks, with a progress bar
(rich), in worker processes when asked."""
import argparse
from multiprocessing import Pool
from typing import Callable, Iterable, List, Optional, Sequence, TypeVar

from rich.progress import track

T = TypeVar('T')
R = TypeVar('R')


def converter_parser(doc: str, source_help: str, out_dir: Optional[str], out_help: str) -> argparse.ArgumentParser:
    """A parser with the converter's ``doc`` as help, the positional ``download_dir``, ``-o/--out-dir`` (default
    ``out_dir``) and ``--nproc``; the converter adds its own options."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=doc)
    parser.add_argument('download_dir', help=source_help)
    parser.add_argument('-o', '--out-dir', default=out_dir, help=out_help)
    parser.add_argument('--nproc', type=int, default=1, help='worker processes')
    return parser


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
