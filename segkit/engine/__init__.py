from . import checkpoint, optim_wrapper

__all__ = ['checkpoint', 'optim_wrapper']
