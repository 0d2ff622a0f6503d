"""`python -m mla`: the same as the `mla` command."""

from mla.cli import main

if __name__ == "__main__":
    main()
