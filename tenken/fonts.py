"""Whether the browser that shows the Dagster UI can draw Japanese.

The UI's labels, descriptions and metadata are Japanese; a machine without a Japanese font
shows them as tofu boxes (□□□). ``fc-list`` (fontconfig, what Chromium and Firefox use on
Linux) is asked for fonts that cover Japanese; when it finds none, ``tenken ui`` says so and
how to fix it. On a system without fontconfig (Windows, macOS) nothing is checked.
"""

from __future__ import annotations

import shutil
import subprocess

from pipelines.reporting.files import font_path

#: printed by ``tenken ui`` when no Japanese font is installed
NO_FONT_WARNING = (
    "警告: 日本語フォントがインストールされていません。画面の日本語が □ で表示されます。"
    "フォント（例 Debian/Ubuntu: sudo apt-get install fonts-noto-cjk、または fonts-ipaexfont）を"
    "入れるか、tenken に同梱の IPAex ゴシック {font} を ~/.local/share/fonts/ にコピーしてください。"
)


def japanese_fonts() -> list[str] | None:
    """Families of the installed fonts that cover Japanese; None when fontconfig is absent."""
    exe = shutil.which("fc-list")
    if exe is None:
        return None
    found = subprocess.run(
        [exe, ":lang=ja", "family"], capture_output=True, text=True, timeout=60, check=False
    )
    return sorted({line.strip() for line in found.stdout.splitlines() if line.strip()})


def font_warning() -> str | None:
    """The warning to print, or None when a Japanese font is there (or cannot be checked)."""
    fonts = japanese_fonts()
    if fonts is None or fonts:
        return None
    return NO_FONT_WARNING.format(font=font_path())
