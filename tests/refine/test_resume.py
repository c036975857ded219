"""A refine run killed with SIGKILL mid-way and started again ends exactly like one that was never killed."""

import importlib.util
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from funreason.records import write_jsonl
from funreason.refine.faults import inject_faults
from funreason.refine.pipeline import FILES, refine
from funreason.synth import generate

WORKER = Path(__file__).with_name("_scripted.py")
_spec = importlib.util.spec_from_file_location("_scripted", WORKER)
_scripted = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_scripted)
OUTPUTS = [*FILES.values(), "report.md", "funnel.png"]  # no rejects.jsonl: the input has no malformed line


def worker(*args):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.Popen([sys.executable, str(WORKER), *map(str, args)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def logged(path):
    return Counter(tuple(line.split("\t")) for line in path.read_text().splitlines())


@pytest.mark.slow
def test_kill_9_then_resume_gives_the_same_files_and_judges_nothing_twice(tmp_path):
    source = tmp_path / "in.jsonl"
    write_jsonl(source, inject_faults(generate(400, seed=4), share=0.3, seed=4))
    with source.open("a") as handle:
        handle.write("not json\n")

    # The reference: one uninterrupted run, in this process, with the same judge and regenerator.
    reference_log = tmp_path / "reference.log"
    judge = _scripted.ScriptedJudge(_scripted.hashed, log=reference_log)
    refine(source, tmp_path / "reference", judge, regenerator=_scripted.ScriptedRegenerator(reference_log),
           batch_size=16, concurrency=3, progress=False)

    # The same run in a subprocess whose judge hangs after 40 calls (batches are mid-way through
    # their stages), killed with SIGKILL, then started again.
    out, log, marker = tmp_path / "out", tmp_path / "run.log", tmp_path / "blocked"
    killed = worker(source, out, log, 40, marker)
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert killed.poll() is None, killed.stdout.read().decode()
        assert time.monotonic() < deadline, "the worker never reached its 40th judge call"
        time.sleep(0.05)
    time.sleep(0.5)  # every batch in flight is now waiting on the hung judge
    killed.send_signal(signal.SIGKILL)
    killed.wait(timeout=30)
    assert killed.returncode == -signal.SIGKILL
    assert not (out / "refined.jsonl").exists()
    judged_before = sum(logged(log).values())
    assert 0 < judged_before < sum(logged(reference_log).values())

    resumed = worker(source, out, log)
    output, _ = resumed.communicate(timeout=120)
    assert resumed.returncode == 0, output.decode()
    assert "resumed=0 " not in output.decode() and "regenerated=0\n" not in output.decode()

    for name in OUTPUTS:
        assert (out / name).read_bytes() == (tmp_path / "reference" / name).read_bytes(), name
    calls = logged(log)
    assert max(calls.values()) == 1, [call for call, n in calls.items() if n > 1][:5]
    assert calls == logged(reference_log)
    assert {call[0] for call in calls} == {"judge", "regenerate"}
