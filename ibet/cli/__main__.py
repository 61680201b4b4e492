"""`python -m ibet.cli`: the same as the `ibet` command."""
from ibet.cli import main

main()
