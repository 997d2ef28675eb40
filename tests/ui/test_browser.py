"""The auditors' UI in a real browser: headless Chromium opens `tenken ui --read-only` after a demo.

Checked on the rendered page: the six stages on the lineage graph, a stage's checks, Japanese
text (drawn with the IPAex font tenken ships, via a fontconfig of its own), Materialize not
available, and no input 個人番号 or resident 氏名/住所/生年月日 in any page's text.
Screenshots go to $TENKEN_TEST_ARTEFACTS (default: the test's tmp_path); docs/*.png are made
this way. Needs Debian's ``chromium`` and ``chromium-driver`` (installed by .ci/run when
missing) and selenium (test extra); skipped with the reason otherwise.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipelines.reporting.files import font_path
from tests.e2e.test_ui_local_only import ROOT, free_port
from tests.leaks import Residents, leaked, numbers_in
from tests.ui.test_read_only import start_ui, stop, wait_until_served

pytestmark = pytest.mark.slow

CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")
STAGES = (
    "extract",
    "inquiry_request",
    "inquiry_result",
    "match_result",
    "mismatch_review",
    "periodic_report",
)
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]{2,}")


def _skip_reason() -> str:
    if CHROMIUM is None or CHROMEDRIVER is None:
        return "Debian's chromium and chromium-driver are not installed (.ci/run installs them as root)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install '.[test]')"
    return ""


@pytest.fixture(scope="module")
def ui(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path]]:
    if _skip_reason():
        pytest.skip(_skip_reason())
    tmp = tmp_path_factory.mktemp("browser")
    home = tmp / "home"
    demo = subprocess.run(
        [sys.executable, "-m", "tenken", "demo", "--home", str(home), "--scale", "0.03"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert demo.returncode == 0, demo.stderr[-2000:]
    port = free_port()
    server = start_ui(home, port, tmp / "ui.log", "--read-only")
    try:
        wait_until_served(server, port, tmp / "ui.log")
        yield port, home
    finally:
        stop(server)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    if _skip_reason():
        pytest.skip(_skip_reason())
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    fonts = tmp_path_factory.mktemp("fonts")
    (fonts / "fonts.conf").write_text(
        f'<?xml version="1.0"?><fontconfig><dir>{font_path().parent}</dir>'
        f"<cachedir>{fonts / 'cache'}</cachedir></fontconfig>",
        encoding="utf-8",
    )
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1500,950", "--lang=ja"):
        options.add_argument(arg)
    service = Service(str(CHROMEDRIVER), env={**os.environ, "FONTCONFIG_FILE": str(fonts / "fonts.conf")})
    driver = webdriver.Chrome(options=options, service=service)
    try:
        yield driver
    finally:
        driver.quit()


def wait_for(driver, words: tuple[str, ...], seconds: float = 60) -> str:
    """The page's text once every word is on it (a wait for rendering, not a timing assertion)."""
    deadline = time.monotonic() + seconds
    text = ""
    while time.monotonic() < deadline:
        text = driver.find_element("tag name", "body").text
        if all(w in text for w in words):
            return text
        time.sleep(0.5)
    raise AssertionError(f"not on the page: {[w for w in words if w not in text]}\n{text[:1500]}")


def artefacts(tmp_path: Path) -> Path:
    out = Path(os.environ.get("TENKEN_TEST_ARTEFACTS", tmp_path))
    out.mkdir(parents=True, exist_ok=True)
    return out


def test_an_auditor_sees_the_lineage_checks_in_japanese_and_cannot_launch(
    ui, browser, tmp_path: Path
) -> None:
    started = time.monotonic()
    port, home = ui
    out = artefacts(tmp_path)
    texts = []
    browser.get(f"http://127.0.0.1:{port}/locations/assets.definitions/asset-groups/inspection/lineage")
    texts.append(wait_for(browser, STAGES))
    browser.save_screenshot(str(out / "ui-lineage.png"))
    # Materialize is not available to an auditor: absent or disabled
    buttons = [b for b in browser.find_elements("tag name", "button") if "Materialize" in b.text]
    assert all(not b.is_enabled() or b.get_attribute("aria-disabled") == "true" for b in buttons), [
        b.text for b in buttons
    ]
    # the stage list of the same group: each stage with its Japanese label
    browser.get(f"http://127.0.0.1:{port}/locations/assets.definitions/asset-groups/inspection/list")
    texts.append(
        wait_for(browser, ("抽出:", "住基照会要求:", "照会結果:", "照合:", "不一致確認:", "定期報告"))
    )
    browser.save_screenshot(str(out / "ui-stages.png"))
    browser.get(f"http://127.0.0.1:{port}/assets/extract?view=checks")
    texts.append(wait_for(browser, ("evidence", "schema_contract")))
    browser.save_screenshot(str(out / "ui-checks.png"))
    assert JAPANESE.search(texts[-1])
    # nothing of the demo's residents on any page
    inputs = sorted((home / "data" / "demo").rglob("*.csv"))
    assert inputs
    assert leaked(numbers_in(inputs), texts=texts) == []
    assert Residents.of(inputs).found_in(texts=texts) == []
    print(f"browser checks: {time.monotonic() - started:.1f} s; screenshots in {out}")
