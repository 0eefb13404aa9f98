from . import checkpoint, loops, optim_wrapper

__all__ = ['checkpoint', 'loops', 'optim_wrapper']
