"""MathJax served from the pages' own folder, so maths renders offline and without a CDN.

The files come from the ``jupyter-server-mathjax`` package (MathJax 2.7, in the lock).
Every page that shows maths (a feedback page, the class report, an nbgrader feedback
page) gets a ``mathjax/`` folder beside it holding the part of MathJax that TeX input
and HTML-CSS output need (about 2 MB; hard links where the file system allows), and
loads ``mathjax/MathJax.js`` by a relative URL: the folder can be zipped, moved or
opened with no network.
"""

from __future__ import annotations

import functools
import os
import shutil
from pathlib import Path

CONFIG = "TeX-AMS-MML_HTMLorMML-full,Safe"
FOLDER = "mathjax"
URL = f"{FOLDER}/MathJax.js?config={CONFIG}"

# What the combined TeX/HTML-CSS configuration loads, and nothing else (no other
# languages, no SVG fonts, no speech-rule maps).
_KEEP = (
    "LICENSE", "MathJax.js", "config/", "jax/input/", "jax/element/", "jax/output/HTML-CSS/",
    "jax/output/NativeMML/", "jax/output/PreviewHTML/", "jax/output/CommonHTML/",
    "fonts/HTML-CSS/STIX-Web/woff/", "extensions/TeX/", "extensions/HTML-CSS/", "extensions/MathML/",
    "extensions/a11y/accessibility-menu.js", "localization/en/",
)
_KEEP_EXTENSIONS = {"Safe.js", "MathMenu.js", "MathZoom.js", "MathEvents.js", "FontWarnings.js",
                    "tex2jax.js", "mml2jax.js", "toMathML.js", "fast-preview.js", "AssistiveMML.js",
                    "CHTML-preview.js", "MatchWebFonts.js", "HelpDialog.js"}


class MathJaxMissing(RuntimeError):
    """The ``jupyter-server-mathjax`` package is not installed."""


def static_dir() -> Path:
    try:
        import jupyter_server_mathjax
    except ImportError as exc:  # pragma: no cover - it is in the lock
        raise MathJaxMissing("MathJax is missing: install the locked environment (./run setup), "
                             "which holds jupyter-server-mathjax") from exc
    return Path(jupyter_server_mathjax.__file__).parent / "static"


def _wanted(rel: str) -> bool:
    if rel.startswith("extensions/") and rel.count("/") == 1:
        return rel.split("/", 1)[1] in _KEEP_EXTENSIONS
    return any(rel == k or (k.endswith("/") and rel.startswith(k)) for k in _KEEP)


@functools.cache
def files() -> dict[str, Path]:
    """``relative path -> installed file`` for the part of MathJax the pages use."""
    root = static_dir()
    out = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_file() and _wanted(rel):
            out[rel] = path
    return out


def install(folder: Path) -> str:
    """Put MathJax in ``folder/mathjax`` (if not already there) and return the URL pages use."""
    target = folder / FOLDER
    for rel, src in files().items():
        dest = target / rel
        if dest.exists() and dest.stat().st_size == src.stat().st_size:
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(dest.name + ".tmp")
        tmp.unlink(missing_ok=True)
        try:
            os.link(src, tmp)
        except OSError:
            shutil.copyfile(src, tmp)
        tmp.replace(dest)
    return URL


def script(url: str = URL) -> str:
    """The tags a page needs: MathJax with ``$…$`` and ``$$…$$`` as maths, as Jupyter writes it."""
    return (
        '<script type="text/x-mathjax-config">MathJax.Hub.Config({tex2jax:{inlineMath:[["$","$"],'
        '["\\\\(","\\\\)"]],displayMath:[["$$","$$"],["\\\\[","\\\\]"]],processEscapes:true,'
        'processEnvironments:true},messageStyle:"none",showMathMenu:false,'
        '"HTML-CSS":{availableFonts:[],webFont:"STIX-Web",imageFont:null}});</script>\n'
        f'<script src="{url}"></script>'
    )
