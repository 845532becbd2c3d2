"""`python -m py302` is the `py302` command."""

from py302.cli import main

if __name__ == "__main__":
    main()
