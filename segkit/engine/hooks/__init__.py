"""Hooks registered in ``segkit.registry.HOOKS``."""
from .visualization_hook import SegVisualizationHook

__all__ = ['SegVisualizationHook']
