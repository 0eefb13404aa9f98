"""Print a config as the tools see it: ``_base_`` files merged and ``--cfg-options`` applied.

    python tools/misc/print_config.py CONFIG [--cfg-options k=v ...] [--out resolved.py]
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from mmengine.config import DictAction  # noqa: E402

from segkit.engine.config_setup import load_config  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Print the resolved config')
    parser.add_argument('config', help='config file')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, help='override config keys')
    parser.add_argument('--out', help='also write the resolved config to this .py / .json / .yaml file')
    return parser.parse_args(argv)


def main(argv=None) -> str:
    args = parse_args(argv)
    cfg = load_config(args.config, args.cfg_options)
    text = cfg.pretty_text
    print(text)
    if args.out:
        cfg.dump(args.out)
        print(f'# written to {args.out}', file=sys.stderr)
    return text


if __name__ == '__main__':
    main()
