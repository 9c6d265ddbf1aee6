"""Page numbers for long console tables (GET ?page=N), keeping the page's other filters."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode


@dataclass(frozen=True)
class Page:
    number: int  # 1-based, clamped to the pages there are
    size: int
    total: int
    params: tuple[tuple[str, str], ...]  # the other GET parameters, kept in the links

    @classmethod
    def of(cls, *, total: int, number: int | None, size: int, params: dict | None = None
           ) -> Page:
        pages = max(1, -(-total // size))
        kept = tuple((k, str(v)) for k, v in (params or {}).items() if v not in (None, ""))
        return cls(number=min(max(1, number or 1), pages), size=size, total=total, params=kept)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size

    @property
    def first_shown(self) -> int:
        return self.offset + 1 if self.total else 0

    @property
    def last_shown(self) -> int:
        return min(self.offset + self.size, self.total)

    def slice(self, rows: list) -> list:
        return rows[self.offset:self.offset + self.size]

    def link(self, number: int) -> str:
        """The query string of another page with the same filters."""
        return "?" + urlencode([*self.params, ("page", str(number))])

    @property
    def previous(self) -> str | None:
        return self.link(self.number - 1) if self.number > 1 else None

    @property
    def next(self) -> str | None:
        return self.link(self.number + 1) if self.number < self.pages else None
