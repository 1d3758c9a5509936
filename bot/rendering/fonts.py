"""The font for pictures the bot draws (parcel cards, report charts): it must draw Latin,
Cyrillic and Chinese. RETURNDESK_LINK_FONT if set, else Noto Sans CJK from the
`cvttf-NotoSansCJK-Regular` package (a dependency), else one the system has."""

from __future__ import annotations

import importlib.resources
from pathlib import Path

FONT_PACKAGE = "cvttf_NotoSansCJK_Regular"
FONT_FILE = "NotoSansCJKtc-Regular.otf"
# Debian's and most distributions' places for a font with Chinese and Cyrillic.
SYSTEM_FONTS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
)


def find_font(configured: Path | None) -> Path:
    if configured is not None:
        return configured
    try:
        packaged = importlib.resources.files(FONT_PACKAGE) / FONT_FILE
        if packaged.is_file():
            return Path(str(packaged))
    except ModuleNotFoundError:
        pass
    for candidate in SYSTEM_FONTS:
        if Path(candidate).is_file():
            return Path(candidate)
    raise FileNotFoundError(
        "no font that draws Chinese and Cyrillic: set RETURNDESK_LINK_FONT to one "
        "(e.g. NotoSansCJK-Regular.ttc from the fonts-noto-cjk package)"
    )
