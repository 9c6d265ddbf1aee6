"""The console pages benchmark, at a tiny size: it builds its trust, signs in and every page
it times answers 200 (the full size is run by hand: benchmarks/console_pages.py)."""

from __future__ import annotations

from benchmarks import console_pages


def test_the_benchmark_runs_and_every_page_answers_200(capsys):
    code = console_pages.main(["--patients", "300", "--appointments", "100", "--handovers",
                               "20", "--audit-events", "500", "--requests", "2", "--sqlite"])
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert "Console pages (SQLite" in printed
    for label, _ in console_pages.pages(console_pages.Trust()):
        assert label in printed
