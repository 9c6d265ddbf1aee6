"""What every `rebook` command shares: tables, JSON, errors in words, London times, tidy help.

The command modules (`api/*/cli.py`, `*_cli.py`) print results for people as rich tables and
sentences on standard output, and for scripts as JSON with `--json`; messages about the run
(progress, warnings, errors) go to standard error so that `--json` output stays parseable.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Sequence
from datetime import datetime
from types import SimpleNamespace
from typing import NoReturn

import typer
from rich.console import Console
from rich.table import Table
from typer.core import TyperArgument, TyperGroup, TyperOption

from api.system import localtime

out = Console()
err = Console(stderr=True)

JsonOption = typer.Option(False, "--json", help="Print JSON for scripts instead of a table.")
SiteFilter = typer.Option(None, "--site", metavar="CODE",
                          help="Only this site (repeat; see `rebook codes`)")
SpecialtyFilter = typer.Option(None, "--specialty", metavar="CODE",
                               help="Only this specialty (repeat; see `rebook codes`)")


def fail(message: str, code: int = 2) -> NoReturn:
    """Print why the command refused, and stop with `code` (2: nothing was changed)."""
    err.print(f"[red]error:[/red] {message}", highlight=False)
    raise typer.Exit(code=code)


def in_words(values: Iterable[str]) -> str:
    """'a, b, c' for an error message (never a Python list)."""
    return ", ".join(str(v) for v in values) or "(none yet)"


def unknown(kind: str, value: str, valid: Iterable[str] | dict[str, str]) -> str:
    """"unknown specialty 'xyz': choose one of CARD (Cardiology), DERM (Dermatology)" """
    labels = valid if isinstance(valid, dict) else {}
    choices = (f"{v} ({labels[v]})" if labels.get(v) else v for v in sorted(valid))
    return f"unknown {kind} '{value}': choose one of {in_words(choices)}"


def check_all(kind: str, values: Iterable[str],
              valid: Iterable[str] | dict[str, str]) -> list[str]:
    """`values` when each is one of `valid` (codes, or codes to their names); otherwise stop
    with the valid values in words."""
    valid = valid if isinstance(valid, dict) else set(valid)
    values = list(values)
    for value in values:
        if value not in valid:
            fail(unknown(kind, value, valid))
    return values


def zone_name() -> str:
    """'London' for Europe/London: the trust's time zone as people say it."""
    return localtime.patient_zone().key.rpartition("/")[2].replace("_", " ")


def local(moment: datetime | None, fmt: str = "%a %d %b %Y %H:%M") -> str:
    """An instant as the trust's wall-clock time ('-' for none)."""
    return localtime.to_local(moment).strftime(fmt) if moment else "-"


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[object]],
          caption: str | None = None) -> None:
    """Print a rich table on standard output."""
    grid = Table(title=title, caption=caption, title_justify="left")
    for column in columns:  # headers whole (never "disru…"); cells wrap instead
        grid.add_column(column, min_width=max((len(w) for w in column.split()), default=0))
    for row in rows:
        grid.add_row(*("-" if cell is None else str(cell) for cell in row))
    out.print(grid)


def print_json(data: object) -> None:
    typer.echo(json.dumps(data, indent=1, default=str))


def secret(value: str | None, *, variable: str, prompt: str, confirm: bool = True) -> str:
    """A password from its option or `variable`, else asked for at a terminal, else read from
    piped standard input (one line, then the same again to confirm).

    With nothing to read there is nobody to ask: refuse in words naming the variable (exit 2)
    instead of "Aborted!".
    """
    if value is not None:
        return value
    if os.environ.get(variable):
        return os.environ[variable]
    if sys.stdin.isatty():
        return typer.prompt(prompt, hide_input=True, confirmation_prompt=confirm, err=True)
    given = sys.stdin.readline().rstrip("\r\n")
    if not given:
        fail(f"no password given and no terminal to ask for one: set {variable} "
             "(or pass the option) and run again")
    again = sys.stdin.readline().rstrip("\r\n") if confirm else ""
    if again and again != given:
        fail("the two passwords given on standard input differ")
    return given


# -- help without type noise --------------------------------------------------------------------
# Typer 0.2x prints each parameter's Python type (<str>, <bool>, <list[int]>) and wraps required
# arguments in braces ({username}). These subclasses show a metavar that means something instead
# (set per option with `metavar=`, else a plain word for the type), none for on/off flags.

_TYPE_WORDS = {"int": "NUMBER", "float": "NUMBER", "str": "TEXT", "Path": "FILE",
               "datetime": "WHEN"}


class _PlainOption(TyperOption):
    def display_type_rich(self, ctx):
        if self.is_flag or self.count:
            return None
        if self.metavar is not None:
            return self.metavar
        label = (self.display_type(ctx) or "").strip("<>")
        if label.startswith("list[") and label.endswith("]"):
            label = label[5:-1]
        return label if "|" in label else _TYPE_WORDS.get(label, "VALUE")


class _PlainArgument(TyperArgument):
    def display_type_rich(self, ctx):
        return None

    def _usage_display_name(self) -> str:
        name = self.display_name_raw
        name = name if self.required else f"[{name}]"
        return f"{name}..." if self.nargs != 1 else name


def _plain(param) -> None:
    if type(param) is TyperOption:
        param.__class__ = _PlainOption
    elif type(param) is TyperArgument:
        param.__class__ = _PlainArgument
        param.metavar = param.metavar or (param.name or "value").upper()


class TidyGroup(TyperGroup):
    """The root command group: tidies the help of the whole tree once it is built."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        tidy_help(self)

    def get_params(self, ctx):
        """The root's own options (shell completion) are added after it is built."""
        params = super().get_params(ctx)
        for param in params:
            _plain(param)
        return params


def tidy_help(command) -> None:
    """Give every parameter of `command` and its subcommands plain help (see above)."""
    # --help is made on first use and kept: made now, it gets the same plain help.
    names = (command.context_settings or {}).get("help_option_names", ["--help"])
    help_option = command.get_help_option(SimpleNamespace(help_option_names=names))
    for param in [*command.params, *([help_option] if help_option else [])]:
        _plain(param)
    for sub in getattr(command, "commands", {}).values():
        tidy_help(sub)
