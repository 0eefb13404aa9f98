"""matplotlib for the plotting tools: an optional dependency, drawn off-screen."""

__all__ = ['pyplot']


def pyplot():
    """``matplotlib.pyplot`` on the Agg backend (no display needed), or a clear message how to install it."""
    try:
        import matplotlib
    except ImportError as exc:
        raise ImportError("plots need matplotlib: pip install -e '.[optional]' (or pip install matplotlib)") from exc
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    return plt
