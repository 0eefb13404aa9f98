"""tools/web_demo.py end to end in a real headless Chromium: start the server on a free loopback port, upload a real
image, wait for the overlay and the legend, check the overlay's pixels, stop the server."""
import importlib.util
import shutil

import cv2
import numpy as np
import pytest

from tests.tools_support import real_image, web_demo_server, write_tiny_checkpoint

CHROMIUM = next(filter(None, (shutil.which(name) for name in ('chromium', 'chromium-browser', 'google-chrome'))),
                None)
pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason='web demo browser test: no Chromium '
                                                '(Debian/Ubuntu: sudo apt-get install -y chromium)'),
    pytest.mark.skipif(importlib.util.find_spec('playwright') is None or importlib.util.find_spec('flask') is None,
                       reason="web demo browser test: needs playwright and flask (pip install -e '.[tests]')"),
]


@pytest.fixture
def server(tmp_path):
    config, checkpoint = write_tiny_checkpoint(tmp_path)
    with web_demo_server(str(config), str(checkpoint), cwd=tmp_path) as url:
        yield url


def test_upload_shows_overlay_legend_and_time(server, tmp_path):
    from playwright.sync_api import sync_playwright
    image_path = real_image(tmp_path)
    height, width = cv2.imread(str(image_path)).shape[:2]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=['--no-sandbox'])
        try:
            page = browser.new_page()
            page.goto(server)
            page.set_input_files('#file', str(image_path))
            page.click('button[type=submit]')
            page.wait_for_function("document.getElementById('status').dataset.done === '1'", timeout=120_000)
            page.wait_for_function("document.getElementById('overlay').complete && "
                                   "document.getElementById('overlay').naturalWidth > 0")
            natural = page.eval_on_selector('#overlay', 'img => [img.naturalWidth, img.naturalHeight]')
            status = page.inner_text('#status')
            legend = page.locator('#legend li').all_inner_texts()
            shot = page.locator('#overlay').screenshot()
        finally:
            browser.close()
    assert natural == [width, height]
    assert 'segmented in' in status and f'{width}x{height}' in status
    assert legend and all('%' in item for item in legend)
    pixels = cv2.imdecode(np.frombuffer(shot, np.uint8), cv2.IMREAD_COLOR)
    assert pixels.std() > 10 and len(np.unique(pixels.reshape(-1, 3), axis=0)) > 100  # a picture, not blank
