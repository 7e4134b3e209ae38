"""Figures drawn on their own Agg canvas: no pyplot state, and the caller's matplotlib backend is left alone."""

from __future__ import annotations


def new_figure(**options):
    """A `matplotlib.figure.Figure` attached to an Agg canvas, so that `savefig` works without pyplot."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(**options)
    FigureCanvasAgg(figure)
    return figure


def image_formats() -> dict[str, str]:
    """The file formats `savefig` can write, suffix -> description."""
    from matplotlib.backend_bases import FigureCanvasBase

    return FigureCanvasBase.get_supported_filetypes()
