from . import checkpoint, loops, model_wrapper, optim_wrapper

__all__ = ['checkpoint', 'loops', 'model_wrapper', 'optim_wrapper']
