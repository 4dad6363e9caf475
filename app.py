"""`python app.py` does what `peercoach` does: wiring lives in bot/, this only runs it."""

import sys

from bot.cli import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
