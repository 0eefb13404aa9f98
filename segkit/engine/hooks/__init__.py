"""Hooks registered in ``segkit.registry.HOOKS``."""
from .checkpoint_hook import CheckpointHook
from .nonfinite_loss_hook import NonFiniteLossError, NonFiniteLossHook
from .progress_hook import ProgressBarHook
from .resume_state_hook import ResumeStateHook
from .visualization_hook import SegVisualizationHook

__all__ = ['CheckpointHook', 'NonFiniteLossError', 'NonFiniteLossHook', 'ProgressBarHook', 'ResumeStateHook',
           'SegVisualizationHook']
