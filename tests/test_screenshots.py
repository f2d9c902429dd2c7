"""Screenshots after each step, in a real Chromium: the visible window after a step, the whole
page up to a height after a failure (a 48,000 px list must neither time out nor weigh 13 MB), and
a reason when there is none."""
from __future__ import annotations

import struct

import pytest

from bot.browser import SCREENSHOT_MAX_HEIGHT_PX, ScreenshotMissing, take_screenshot


def png_size(path) -> tuple[int, int]:
    width, height = struct.unpack(">II", path.read_bytes()[16:24])
    return width, height


@pytest.fixture
def tall_page(page):
    page.set_viewport_size({"width": 1280, "height": 900})
    page.set_content("<body style='margin:0'><div style='height:30000px;background:linear-gradient(#fff,#06c)'>"
                     "parents</div></body>")
    return page


def test_after_a_step_the_visible_window(tall_page, tmp_path):
    take_screenshot(tall_page, tmp_path / "step.png", whole_page=False, timeout_ms=15000)
    assert png_size(tmp_path / "step.png") == (1280, 900)


def test_after_a_failure_the_page_from_its_top_down_to_the_cap(tall_page, tmp_path):
    take_screenshot(tall_page, tmp_path / "failed.png", whole_page=True, timeout_ms=15000)
    assert png_size(tmp_path / "failed.png") == (1280, SCREENSHOT_MAX_HEIGHT_PX)


def test_a_short_page_is_taken_whole(page, tmp_path):
    page.set_viewport_size({"width": 1280, "height": 900})
    page.set_content("<body style='margin:0'><div style='height:1500px'>court</div></body>")
    take_screenshot(page, tmp_path / "failed.png", whole_page=True, timeout_ms=15000)
    assert png_size(tmp_path / "failed.png") == (1280, 1500)


def test_no_screenshot_says_why(page, tmp_path):
    page.set_content("<p>bientôt fermée</p>")
    page.close()
    with pytest.raises(ScreenshotMissing) as closed:
        take_screenshot(page, tmp_path / "x.png", whole_page=False, timeout_ms=15000)
    assert "fermée" in closed.value.reason


def test_an_unwritable_folder_says_why(page, tmp_path):
    page.set_content("<p>page</p>")
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(ScreenshotMissing) as unwritable:
        take_screenshot(page, blocker / "x.png", whole_page=False, timeout_ms=15000)
    assert unwritable.value.reason.startswith("impossible d'écrire l'image sur ce poste")
