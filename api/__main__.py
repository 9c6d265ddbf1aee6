"""`python -m api` is the `rebook` command."""

from api.cli import app

app(prog_name="rebook")
