import sys

from handlers.cli import main

# Guarded: `serve --workers` spawns processes that import this module again.
if __name__ == "__main__":
    sys.exit(main())
