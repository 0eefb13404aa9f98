"""Hooks registered in ``segkit.registry.HOOKS``."""
from .progress_hook import ProgressBarHook
from .visualization_hook import SegVisualizationHook

__all__ = ['ProgressBarHook', 'SegVisualizationHook']
