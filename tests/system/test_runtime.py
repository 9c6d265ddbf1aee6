"""Process set-up for the long-running processes: CPU priority and the frozen start-up heap."""

import os
import subprocess
import sys

from api.config import Settings
from api.supervisor import stack_environment, stack_processes
from api.system.runtime import with_lower_priority


def test_lower_priority_wraps_the_command_in_nice():
    assert with_lower_priority(["rebook", "worker"], niceness=0) == ["rebook", "worker"]
    assert with_lower_priority(["rebook", "worker"], niceness=10) == [
        "nice", "-n", "10", "rebook", "worker"]


def test_a_lowered_process_really_runs_at_that_niceness():
    argv = with_lower_priority([sys.executable, "-c", "import os; print(os.nice(0))"],
                               niceness=5)
    printed = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    assert int(printed) == min(19, os.nice(0) + 5)


def test_rebook_run_lowers_every_queue_driven_process_but_not_the_webhook():
    settings = Settings(database_url="sqlite:///unused.db", background_nice=7)
    commands = stack_processes(settings=settings, port=8000)
    assert not commands["api"].startswith("nice")
    for name in ("worker", "dispatcher", "scheduler", "actions", "rasa"):
        assert commands[name].startswith("nice -n 7 "), name


def test_rebook_run_gives_the_assistant_processes_a_shared_token(monkeypatch):
    monkeypatch.delenv("ASSISTANT_TOKEN", raising=False)
    settings = Settings(database_url="sqlite:///unused.db")
    first = stack_environment(settings=settings)["ASSISTANT_TOKEN"]
    assert len(first) >= 32 and first != stack_environment(settings=settings)["ASSISTANT_TOKEN"]
    chosen = Settings(database_url="sqlite:///unused.db", assistant_token="chosen-" + "k" * 30)
    assert stack_environment(settings=chosen)["ASSISTANT_TOKEN"] == "chosen-" + "k" * 30


def test_the_served_app_freezes_its_start_up_heap(tmp_path):
    code = ("import gc; from api.main import create_server_app; create_server_app(); "
            "print(gc.get_freeze_count())")
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}")
    printed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             check=True, env=env, cwd=os.path.dirname(os.path.dirname(
                                 os.path.dirname(os.path.abspath(__file__))))).stdout
    assert int(printed) > 10_000  # the imported framework and app, out of the collector's way
