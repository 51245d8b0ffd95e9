"""The benchmark report: ``python bench/report.py [--quick] [--sizes ...] [--families ...]``.

A thin wrapper: it prints the same table as ``fastlr bench`` (the logic lives in ``fastlr/cli/bench.py``).
"""

import os
import sys

if __name__ == "__main__":
    try:
        import fastlr  # noqa: F401
    except ImportError:  # run from a source checkout without installing
        sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from fastlr.cli import main

    sys.exit(main(["bench", *sys.argv[1:]]))
