"""``python -m smilepay``: the same command as ``smilepay``."""

from smilepay.cli import main

if __name__ == "__main__":
    main()
