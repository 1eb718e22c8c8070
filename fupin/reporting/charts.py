"""PNG charts of the quarterly overview, drawn with matplotlib's Agg backend and a Chinese font from a package.

The font is Noto Sans SC from the pinned `pylopdf-fonts-zh-cn` package (SIL Open Font License), so charts
look the same on every machine and nothing is downloaded at run time. Without it, any Chinese font
matplotlib knows is used; with none, the charts are still drawn (labels as boxes) and a warning is logged.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

# Chinese fonts matplotlib may find on a machine, most suitable first (used when the package is missing).
_CJK_FAMILIES = (
    "Noto Sans SC",
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Microsoft YaHei",
    "SimHei",
    "PingFang SC",
    "Noto Sans CJK JP",
    "Noto Sans CJK TC",
)
_DONE = "#2e7d32"
_DEEP = "#e65100"
_PLAIN = "#1565c0"
_TARGET = "#e0e0e0"


@lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """The family name of the Chinese font charts use, registering the packaged one; None when none exists."""
    from matplotlib import font_manager

    try:
        import pylopdf_fonts_zh_cn
    except ImportError:
        logger.info("pylopdf-fonts-zh-cn is not installed: looking for a Chinese font on the machine")
    else:
        path = pylopdf_fonts_zh_cn.sans_path()
        if path.is_file():
            font_manager.fontManager.addfont(str(path))
            return str(font_manager.FontProperties(fname=str(path)).get_name())
        logger.warning("font package present but %s is missing", path)
    known = {font.name for font in font_manager.fontManager.ttflist}
    for family in _CJK_FAMILIES:
        if family in known:
            return family
    logger.warning(
        "no Chinese font found (pip install -r requirements.txt brings Noto Sans SC): chart labels will show as boxes"
    )
    return None


@contextmanager
def _chinese_text() -> Iterator[None]:
    import matplotlib

    family = cjk_font()
    settings: dict[str, Any] = {
        "font.family": "sans-serif",
        "font.sans-serif": [*([family] if family else []), "DejaVu Sans"],
        "axes.unicode_minus": False,  # the CJK font has no U+2212 minus sign
    }
    with matplotlib.rc_context(settings), warnings.catch_warnings():
        # Without a Chinese font every label would warn once per glyph; one log line says it already.
        warnings.filterwarnings("ignore", message="Glyph .* missing from current font")
        yield


@dataclass(frozen=True)
class TargetBar:
    """One bar of the progress chart: what it measures, the share of its target reached, and its caption."""

    label: str
    ratio: Decimal
    caption: str


def progress_chart(path: Path, title: str, bars: Sequence[TargetBar], pace: Decimal | None = None) -> Path:
    """Horizontal bars of the share of each annual target reached, with the expected pace as a line."""
    from matplotlib.figure import Figure

    with _chinese_text():
        figure = Figure(figsize=(10, 1.2 + 0.55 * len(bars)), dpi=110)
        axes = figure.subplots()
        labels = [bar.label for bar in reversed(bars)]
        values = [float(bar.ratio) * 100 for bar in reversed(bars)]
        top = max([100.0, *values]) * 1.35
        axes.barh(labels, [100.0] * len(bars), color=_TARGET, label="年度目标（100%）")
        axes.barh(labels, values, color=_DONE, label="已完成")
        for index, bar in enumerate(reversed(bars)):
            axes.text(min(values[index], 100.0) + top * 0.01, index, bar.caption, va="center", fontsize=9)
        if pace is not None:
            axes.axvline(float(pace) * 100, color=_DEEP, linestyle="--", linewidth=1.2, label=f"时序进度 {pace:.0%}")
        axes.set_xlim(0, top)
        axes.set_xlabel("完成年度目标（%）")
        axes.set_title(title)
        axes.legend(loc="lower right", fontsize=8)
        figure.tight_layout()
        path.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(path)
    return path


def township_chart(path: Path, title: str, townships: Sequence[tuple[str, int, bool]]) -> Path:
    """Horizontal bars of sales by township in 万元, largest first, deep-poverty townships in their own colour."""
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    shown = sorted(((n, f, d) for n, f, d in townships if f > 0), key=lambda t: (-t[1], t[0]))
    with _chinese_text():
        figure = Figure(figsize=(10, max(3.0, 1.4 + 0.32 * len(shown))), dpi=110)
        axes = figure.subplots()
        if not shown:
            axes.text(0.5, 0.5, "本季度暂无销售记录", ha="center", va="center", fontsize=14, transform=axes.transAxes)
            axes.set_axis_off()
        else:
            names = [name for name, _fen, _deep in reversed(shown)]
            values = [fen / 1_000_000 for _name, fen, _deep in reversed(shown)]
            colours = [_DEEP if deep else _PLAIN for _name, _fen, deep in reversed(shown)]
            axes.barh(names, values, color=colours)
            for index, value in enumerate(values):
                axes.text(value, index, f" {value:.2f}", va="center", fontsize=8)
            axes.set_xlim(0, max(values) * 1.2)
            axes.set_xlabel("销售额（万元）")
            axes.legend(
                handles=[Patch(color=_DEEP, label="深度贫困镇"), Patch(color=_PLAIN, label="其他乡镇（街道）")],
                loc="best",
                fontsize=8,
            )
        axes.set_title(title)
        figure.tight_layout()
        path.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(path)
    return path
