"""A local web page to try a model: upload an image, see the overlay, the classes found and the time taken.

    python tools/web_demo.py CONFIG CHECKPOINT [--port 7860] [--host 127.0.0.1] [--device cpu]
    python tools/web_demo.py SAVED_MODEL_DIR [...]     # a folder from model.save_pretrained(DIR)

then open http://127.0.0.1:7860. Served by Flask (``pip install -e '.[demo]'``) on the loopback interface only,
unless ``--host 0.0.0.0`` is given on purpose (the page has no authentication).
"""
import argparse
import base64
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # run from a source checkout

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from mmengine.config import DictAction  # noqa: E402

from segkit.apis import inference_model, init_model  # noqa: E402
from segkit.fileio.saved_model import is_saved_model  # noqa: E402

MAX_UPLOAD_BYTES = 32 * 1024 * 1024

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>segkit demo</title>
<style>
 body { font-family: sans-serif; margin: 2em; color: #222; }
 #result { display: flex; gap: 2em; align-items: flex-start; margin-top: 1em; }
 #overlay { max-width: 70vw; border: 1px solid #ccc; }
 #legend { list-style: none; padding: 0; margin: 0; }
 #legend li { margin: 0.2em 0; }
 .swatch { display: inline-block; width: 1em; height: 1em; border: 1px solid #000; vertical-align: middle;
           margin-right: 0.4em; }
 #status { color: #555; margin-top: 0.5em; }
</style></head>
<body>
<h2>segkit: {{TITLE}}</h2>
<form id="form"><input type="file" id="file" name="image" accept="image/*">
<button type="submit">Segment</button></form>
<div id="status"></div>
<div id="result"><img id="overlay" alt=""><ul id="legend"></ul></div>
<script>
const form = document.getElementById('form');
form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const file = document.getElementById('file').files[0];
  const status = document.getElementById('status');
  if (!file) { status.textContent = 'Choose an image first.'; return; }
  status.textContent = 'Segmenting ' + file.name + ' ...';
  const body = new FormData(); body.append('image', file);
  const reply = await fetch('segment', {method: 'POST', body: body});
  const data = await reply.json();
  if (!reply.ok) { status.textContent = 'Error: ' + data.error; return; }
  const legend = document.getElementById('legend');
  legend.innerHTML = '';
  for (const item of data.legend) {
    const li = document.createElement('li');
    const swatch = document.createElement('span');
    swatch.className = 'swatch'; swatch.style.background = item.color;
    li.appendChild(swatch); li.appendChild(document.createTextNode(item.text));
    legend.appendChild(li);
  }
  const overlay = document.getElementById('overlay');
  overlay.src = data.overlay;
  status.textContent = file.name + ': ' + data.width + 'x' + data.height + ' segmented in '
    + data.seconds.toFixed(3) + ' s';
  status.dataset.done = '1';
});
</script></body></html>
"""


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Local web demo: upload an image, see the segmentation')
    parser.add_argument('config', help='config file, or a saved-model folder (then CHECKPOINT is optional)')
    parser.add_argument('checkpoint', nargs='?', help='checkpoint file (segkit or MMSegmentation); default for a '
                        'saved-model folder: its model.safetensors')
    parser.add_argument('--host', default='127.0.0.1', help='interface to listen on (default: loopback only)')
    parser.add_argument('--port', type=int, default=7860, help='port (default 7860)')
    parser.add_argument('--device', default='cpu', help="torch device, e.g. 'cuda:0'")
    parser.add_argument('--no-fast', action='store_true',
                        help='run the model as trained: no BN folding, default memory layout (the fast defaults are '
                             'exact)')
    parser.add_argument('--opacity', type=float, default=0.5, help='weight of the class colours in the overlay')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, help='override config keys')
    args = parser.parse_args(argv)
    if args.checkpoint is None and not is_saved_model(args.config):
        parser.error(f'{args.config}: give the CHECKPOINT (only a saved-model folder carries its own weights)')
    return args


def create_app(model, *, opacity: float = 0.5, title: str = 'semantic segmentation'):
    """The Flask app: ``GET /`` the page, ``POST /segment`` (multipart field ``image``) -> JSON with the overlay
    (PNG data URL), the legend (``'road 41.3%'`` and a CSS colour per class present) and the model's seconds."""
    try:
        from flask import Flask, jsonify, request
    except ImportError as exc:
        raise ImportError("the web demo needs Flask: pip install -e '.[demo]' (or pip install flask)") from exc
    app = Flask('segkit_web_demo')
    app.config['MAX_CONTENT_LENGTH'] = MAX_UPLOAD_BYTES
    lock = threading.Lock()  # one inference at a time: the model is not shared across threads
    page = PAGE.replace('{{TITLE}}', title)

    @app.get('/')
    def index():
        return page

    @app.post('/segment')
    def segment():
        upload = request.files.get('image')
        if upload is None:
            return jsonify(error="no file in the form field 'image'"), 400
        image = cv2.imdecode(np.frombuffer(upload.read(), dtype=np.uint8), cv2.IMREAD_COLOR)
        if image is None:
            return jsonify(error=f'cannot read {upload.filename!r} as an image'), 400
        with lock:
            start = time.perf_counter()
            result = inference_model(model, image)
            seconds = time.perf_counter() - start
        ok, png = cv2.imencode('.png', result.overlay(opacity=opacity, legend=False))
        legend = [dict(text=text, color='#%02x%02x%02x' % tuple(rgb)) for text, rgb in result.legend()]
        return jsonify(overlay='data:image/png;base64,' + base64.b64encode(png.tobytes()).decode(),
                       legend=legend, seconds=seconds, width=int(image.shape[1]), height=int(image.shape[0]))

    return app


def main(argv=None) -> None:
    args = parse_args(argv)
    model = init_model(args.config, args.checkpoint, device=args.device, cfg_options=args.cfg_options,
                       fast=not args.no_fast)
    title = os.path.splitext(os.path.basename(os.path.normpath(args.config)))[0]
    app = create_app(model, opacity=args.opacity, title=title)
    print(f'segkit web demo on http://{args.host}:{args.port} (Ctrl+C stops it)', flush=True)
    app.run(host=args.host, port=args.port, threaded=True, use_reloader=False)


if __name__ == '__main__':
    main()
