"""Input types the API's schemas and routes share: what the database can hold, checked at the
edge, so a bad value is a 422 that names the field rather than a database error (a 500).

- Ids are PostgreSQL INTEGER (and SQLite stops at 2^63): 1 .. 2^31 - 1.
- Text never holds NUL: PostgreSQL cannot store it in text or JSON.
- Numbers are JSON numbers and flags JSON booleans: pydantic's lax mode would also read
  `false` as 0, `0` as false, or a number as seconds since 1970, which no client means.
- Timestamps and dates are ISO 8601 text (timestamps with an offset).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any

from fastapi import Path, Query
from pydantic import AwareDatetime, BeforeValidator, Field, Strict

MAX_ID = 2**31 - 1
NO_NUL = r"^[^\x00]*$"


def _iso_text(value: Any) -> Any:
    if not isinstance(value, str | date):
        raise ValueError("give ISO 8601 text, e.g. 2026-03-02 or 2026-03-02T09:00:00Z")
    return value


Number = Annotated[int, Strict()]
Id = Annotated[Number, Field(ge=1, le=MAX_ID)]
IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
IdQuery = Annotated[int | None, Query(ge=1, le=MAX_ID)]
Text = Annotated[str, Field(pattern=NO_NUL)]
TextQuery = Annotated[str | None, Query(pattern=NO_NUL, max_length=200)]
Timestamp = Annotated[AwareDatetime, BeforeValidator(_iso_text)]
Day = Annotated[date, BeforeValidator(_iso_text)]


def _iso_date_text(value: Any) -> Any:
    # A query parameter is always text, and pydantic would read "0" as 1970-01-01.
    if isinstance(value, str) and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError("give an ISO 8601 date, e.g. 2026-03-02")
    return value


DayText = Annotated[date, BeforeValidator(_iso_date_text)]  # for query parameters
