"""Screenshot of tools/web_demo.py in headless Chromium after an upload (the picture in docs/tools.md).

    python docs/web_demo_screenshot.py CONFIG CHECKPOINT IMAGE --out docs/images/web_demo.png

Starts the demo on a free loopback port, uploads IMAGE, waits for the overlay and saves the page. Needs Chromium,
playwright and flask (pip install -e '.[tests]').
"""
import argparse
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.tools_support import web_demo_server  # noqa: E402


def main(argv=None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('image')
    parser.add_argument('--out', default='web_demo.png')
    parser.add_argument('--width', type=int, default=760, help='browser window width in CSS pixels')
    args = parser.parse_args(argv)
    chromium = next(filter(None, map(shutil.which, ('chromium', 'chromium-browser', 'google-chrome'))), None)
    if chromium is None:
        raise SystemExit('no Chromium found (Debian/Ubuntu: sudo apt-get install -y chromium)')
    from playwright.sync_api import sync_playwright
    with web_demo_server(args.config, args.checkpoint) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=['--no-sandbox'])
        try:
            page = browser.new_page(viewport={'width': args.width, 'height': 600})
            page.goto(url)
            page.set_input_files('#file', args.image)
            page.click('button[type=submit]')
            page.wait_for_function("document.getElementById('status').dataset.done === '1'", timeout=120_000)
            page.wait_for_function("document.getElementById('overlay').complete && "
                                   "document.getElementById('overlay').naturalWidth > 0")
            page.screenshot(path=args.out, full_page=True)
        finally:
            browser.close()
    print(f'screenshot -> {args.out}')
    return Path(args.out)


if __name__ == '__main__':
    main()
