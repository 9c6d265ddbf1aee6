"""Reading a trust's CSV file: its header, its rows, and each cell in the formats trusts export.

Files come from PAS reports and from Excel, so dates are read as YYYY-MM-DD or DD/MM/YYYY,
times as HH:MM (or HH:MM:SS) Europe/London wall-clock time and stored as UTC instants, flags as
Y/N (yes/no, true/false, 1/0), and UTF-8 with or without Excel's byte-order mark. A cell that
cannot be read adds an error naming its column; personal columns are never quoted in it.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path

from api.config import Settings
from api.system import localtime

TRUE = {"y", "yes", "true", "1"}
FALSE = {"n", "no", "false", "0", ""}


class UnusableFile(Exception):
    """The file as a whole cannot be read (not UTF-8, not CSV, required columns missing)."""


@dataclass(frozen=True)
class RowError:
    line: int
    column: str
    reason: str


def read_rows(path: Path, *, columns: tuple[str, ...], required: tuple[str, ...],
              aliases: dict[str, str] | None = None
              ) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, {column: value}) for every data row; raises `UnusableFile`.
    `aliases` reads another column name as one of ours (TREATMENT_FUNCTION_CODE)."""
    aliases = aliases or {}
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle)
            header = [name.strip().upper() for name in next(reader, [])]
            header = [aliases.get(name, name) if aliases.get(name) not in header else name
                      for name in header]
            _check_header(header, required)
            known = [(i, name) for i, name in enumerate(header) if name in columns]
            for values in reader:
                if not any(v.strip() for v in values):
                    continue
                row = {name: values[i].strip() if i < len(values) else ""
                       for i, name in known}
                if len(values) > len(header):
                    row["_extra"] = "1"
                yield reader.line_num, row
    except UnicodeDecodeError as exc:
        raise UnusableFile("the file is not UTF-8 text (save it from Excel as "
                           "\"CSV UTF-8\")") from exc
    except csv.Error as exc:
        raise UnusableFile(f"the file is not readable as CSV: {exc}") from exc
    except OSError as exc:
        raise UnusableFile(f"the file cannot be opened: {exc.strerror or exc}") from exc


def _check_header(header: list[str], required: tuple[str, ...]) -> None:
    if not header:
        raise UnusableFile("the file is empty: it needs a header row naming its columns")
    missing = [name for name in required if name not in header]
    if missing:
        raise UnusableFile(f"the header row lacks the required column(s) {', '.join(missing)}"
                           " (is it the right file, comma separated?)")
    repeated = sorted({name for name in header if name and header.count(name) > 1})
    if repeated:
        raise UnusableFile(f"the header row names {', '.join(repeated)} more than once")


class Cells:
    """One row's cells, read by column; each unreadable cell adds a `RowError`."""

    def __init__(self, line: int, values: dict[str, str], *, settings: Settings,
                 personal: frozenset[str] = frozenset()):
        self.line = line
        self.values = values
        self.settings = settings
        self.personal = personal
        self.errors: list[RowError] = []
        if values.get("_extra"):
            self.error("", "the row has more values than the header has columns")

    def error(self, column: str, reason: str) -> None:
        self.errors.append(RowError(self.line, column, reason))

    def _shown(self, column: str, value: str) -> str:
        return "the value" if column in self.personal else repr(value)

    def text(self, column: str, *, required: bool = False, max_length: int = 200) -> str:
        value = self.values.get(column, "")
        if required and not value:
            self.error(column, "a value is required")
        elif len(value) > max_length:
            self.error(column, f"longer than {max_length} characters")
        return value

    def date(self, column: str, *, required: bool = False) -> date | None:
        value = self.text(column, required=required)
        if not value:
            return None
        parsed = parse_date(value)
        if parsed is None:
            self.error(column, f"{self._shown(column, value)} is not a date "
                       "(YYYY-MM-DD or DD/MM/YYYY)")
        return parsed

    def time(self, column: str, *, required: bool = False) -> time | None:
        value = self.text(column, required=required)
        if not value:
            return None
        try:
            return time.fromisoformat(value if value[1:2] != ":" else "0" + value)
        except ValueError:
            self.error(column, f"{value!r} is not a time (HH:MM, 24-hour)")
            return None

    def moment(self, column: str, *, required: bool = False) -> datetime | None:
        """A date and time in one cell: local wall-clock time, or ISO 8601 with an offset."""
        value = self.text(column, required=required)
        if not value:
            return None
        day, _, clock = value.replace("T", " ").partition(" ")
        parsed_day = parse_date(day)
        try:
            if parsed_day is None:
                raise ValueError(value)
            if "+" in clock or clock.endswith("Z") or clock.count("-"):
                return datetime.fromisoformat(f"{parsed_day.isoformat()}T{clock}").astimezone(UTC)
            return self.local(parsed_day, time.fromisoformat(clock.zfill(5)))
        except ValueError:
            self.error(column, f"{value!r} is not a date and time (YYYY-MM-DD HH:MM or "
                       "DD/MM/YYYY HH:MM)")
            return None

    def local(self, day: date, clock: time) -> datetime:
        """A London wall-clock time as the UTC instant stored."""
        return localtime.at_local(day, clock, self.settings)

    def flag(self, column: str, *, default: bool = False) -> bool:
        value = self.values.get(column, "").lower()
        if not value:
            return default
        if value in TRUE:
            return True
        if value not in FALSE:
            self.error(column, f"{value!r} is not Y or N")
        return False

    def integer(self, column: str, *, default: int, low: int, high: int) -> int:
        value = self.values.get(column, "")
        if not value:
            return default
        if not value.isdigit() or not low <= int(value) <= high:
            self.error(column, f"{value!r} is not a whole number from {low} to {high}")
            return default
        return int(value)

    def choice(self, column: str, words: dict, *, default=None):
        """A value from `words` (lower-case word -> meaning); `default` when empty."""
        value = self.values.get(column, "")
        if not value:
            if default is None:
                self.error(column, "a value is required")
            return default
        meaning = words.get(value.lower())
        if meaning is None:
            self.error(column, f"{value!r} is not one of {', '.join(sorted(words))}")
        return meaning if meaning is not None else default

    def code(self, column: str, codes: set[str], noun: str, *, required: bool = False) -> str:
        value = self.text(column, required=required, max_length=16)
        if value and value not in codes:
            self.error(column, f"{noun} code {value!r} is not in Rebook's reference data")
        return value


def parse_date(value: str) -> date | None:
    """YYYY-MM-DD or DD/MM/YYYY (also D/M/YYYY); None when it is not a real date."""
    try:
        if "/" in value:
            day, month, year = value.split("/")
            if len(year) != 4:
                return None
            return date(int(year), int(month), int(day))
        return date.fromisoformat(value) if len(value) == 10 else None
    except ValueError:
        return None


def local_date_time(moment: datetime | None, settings: Settings) -> tuple[str, str]:
    """An instant as the London date and time cells ('' for none)."""
    if moment is None:
        return "", ""
    local = localtime.to_local(moment, settings)
    return local.date().isoformat(), local.strftime("%H:%M")


def local_moment(moment: datetime | None, settings: Settings) -> str:
    """An instant as one London 'YYYY-MM-DD HH:MM' cell."""
    return " ".join(local_date_time(moment, settings)).strip()


def yes_no(value: bool) -> str:
    return "Y" if value else "N"
