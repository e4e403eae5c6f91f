"""Allow ``python -m ctdetect``."""

from ctdetect.cli import main

if __name__ == "__main__":
    main()
