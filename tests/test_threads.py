"""torch's thread count follows the cores other jobs leave free, or --threads."""

import os
import subprocess
import sys
import time

import pytest
import torch

from funreason import threads


@pytest.fixture
def busy_core():
    """One process spinning on one core for the test's duration."""
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    time.sleep(0.3)
    yield
    spinner.kill()
    spinner.wait()


@pytest.mark.skipif(not os.path.exists("/proc/stat"), reason="needs Linux /proc/stat")
def test_a_busy_core_is_seen_and_left_alone(busy_core):
    busy = threads.busy_cores(0.5)
    assert busy is not None and busy >= 0.6
    if threads.usable_cores() == 2 and busy < 1.5:
        assert threads.free_cores() == 1


def test_threads_asked_for_win_and_bad_values_are_clear(monkeypatch):
    before = torch.get_num_threads()
    try:
        monkeypatch.setenv(threads.ENV, "1")
        assert threads.configure_threads() == 1 and torch.get_num_threads() == 1
        monkeypatch.setenv(threads.ENV, "two")
        with pytest.raises(ValueError, match="whole number"):
            threads.configure_threads()
        monkeypatch.setenv(threads.ENV, "0")
        with pytest.raises(ValueError, match="at least 1"):
            threads.configure_threads()
        monkeypatch.delenv(threads.ENV)
        assert 1 <= threads.configure_threads() <= threads.usable_cores()
    finally:
        torch.set_num_threads(before)


def test_the_cli_option_reaches_the_environment(monkeypatch):
    from typer.testing import CliRunner

    from funreason.cli import app

    monkeypatch.delenv(threads.ENV, raising=False)
    result = CliRunner().invoke(app, ["--threads", "1", "evaluate", "--out", "/nonexistent/x"])
    assert result.exit_code == 2  # no model given: the option was taken, the command refused
    assert os.environ.get(threads.ENV) == "1"
    monkeypatch.delenv(threads.ENV)
