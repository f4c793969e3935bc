"""Helpers shared by the chapter notebooks (kept tiny: the chapters should read on their own).

    from _common import FAST, savefig, seed_everything

FAST     True when the environment variable MINIGRAD_FAST=1 is set (the test suite does this):
         chapters then use tiny data and a few epochs so each runs in seconds. The default is
         the full chapter: real training, accuracy targets asserted.
savefig  saves the current matplotlib figure to notebooks/figures/<name>.png (or to the folder
         in MINIGRAD_FIGURES) and leaves it open so Jupyter still shows it inline.
"""

from __future__ import annotations

import os
import random
import warnings
from pathlib import Path

import numpy as np

FAST = os.environ.get("MINIGRAD_FAST", "0").strip().lower() not in ("", "0", "false", "no")
MODE = "fast" if FAST else "full"

FIGURES = Path(os.environ.get("MINIGRAD_FIGURES", Path(__file__).resolve().parent / "figures"))

# tqdm.auto falls back to a text bar when ipywidgets is not installed; the bar still works,
# so the warning about it is only noise in a chapter.
warnings.filterwarnings("ignore", message="IProgress not found")


def seed_everything(seed: int = 0):
    """Seed Python, NumPy and minigrad, so that every run of a chapter gives the same numbers."""
    import minigrad as mg

    random.seed(seed)
    np.random.seed(seed)
    mg.manual_seed(seed)


def savefig(name: str, fig=None, dpi: int = 110):
    """Save ``fig`` (default: the current figure) as FIGURES/<name>.png; returns the path."""
    import matplotlib.pyplot as plt

    fig = fig or plt.gcf()
    FIGURES.mkdir(parents=True, exist_ok=True)
    path = FIGURES / f"{name}.png"
    fig.savefig(path, dpi=dpi, bbox_inches="tight")
    return path


def banner():
    """One line saying which mode the chapter runs in."""
    print(f"mode: {MODE}  (set MINIGRAD_FAST=1 for the quick version)" if not FAST
          else "mode: fast (tiny data, few epochs: numbers are NOT the chapter's results)")
