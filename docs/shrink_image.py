"""Make a picture small enough to commit: downscale to a width, then save as JPEG or as a palette PNG.

    python docs/shrink_image.py SRC DST [--width 640] [--quality 80] [--colors 64]

DST's suffix picks the format: ``.jpg`` (photos, overlays) or ``.png`` (plots, label maps: quantised to
``--colors`` colours unless the source is already a palette image, which is kept as it is).
"""
import argparse
from pathlib import Path

from PIL import Image


def shrink(src: str, dst: str, width: int = 640, quality: int = 80, colors: int = 64) -> Path:
    image = Image.open(src)
    if image.width > width:
        resample = Image.NEAREST if image.mode == 'P' else Image.LANCZOS  # label maps keep exact indices
        image = image.resize((width, round(image.height * width / image.width)), resample)
    dst = Path(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    if dst.suffix.lower() in ('.jpg', '.jpeg'):
        image.convert('RGB').save(dst, quality=quality, optimize=True)
    elif image.mode == 'P':
        image.save(dst, optimize=True)
    else:
        image.convert('RGB').quantize(colors=colors, method=Image.Quantize.MEDIANCUT).save(dst, optimize=True)
    return dst


def main(argv=None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('src')
    parser.add_argument('dst')
    parser.add_argument('--width', type=int, default=640, help='largest width in pixels (default 640)')
    parser.add_argument('--quality', type=int, default=80, help='JPEG quality (default 80)')
    parser.add_argument('--colors', type=int, default=64, help='palette size for PNG (default 64)')
    args = parser.parse_args(argv)
    out = shrink(args.src, args.dst, args.width, args.quality, args.colors)
    print(f'{args.src} -> {out} ({out.stat().st_size / 1024:.0f} KB)')
    return out


if __name__ == '__main__':
    main()
