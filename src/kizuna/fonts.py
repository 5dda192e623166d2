"""The Japanese font shipped with kizuna: IPAexGothic, for PDFs and charts.

IPAexGothic (``ipaexg.ttf``, IPA Font License v1.0, which allows redistribution and embedding) ships inside
the ``japanize-matplotlib`` package. Only the file is used: the package is located with
:func:`importlib.util.find_spec` and never imported, since importing it changes matplotlib's settings.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from kizuna.errors import ConfigError

#: Where IPAexGothic lies inside the japanize-matplotlib package.
BUNDLED_FONT = ("japanize_matplotlib", "fonts/ipaexg.ttf")


def bundled_font_path() -> Path:
    """The path of IPAexGothic as installed with kizuna; ConfigError when the package is missing."""
    package, relative = BUNDLED_FONT
    spec = importlib.util.find_spec(package)
    folders = list(spec.submodule_search_locations or []) if spec is not None else []
    for folder in folders:
        path = Path(folder) / relative
        if path.is_file():
            return path
    raise ConfigError(
        "the Japanese font IPAexGothic was not found: install kizuna with its dependencies "
        "(pip install japanize-matplotlib) or set KIZUNA_DM_FONT_PATH to a TrueType font"
    )
