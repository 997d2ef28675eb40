"""`python -m tenken`: the same as the `tenken` command."""

from tenken.cli import main

main()
