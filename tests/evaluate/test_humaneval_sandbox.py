"""The HumanEval sandbox against hostile programs: file system, shells, and forged passes.

Each escape program here would pass (or leave its mark) if the escape worked; in the sandbox it must
fail. Tests that need the private root or the seccomp filter skip, saying so, where `sandbox()`
reports neither (no mount namespace, or no seccomp, on this machine).
"""

import os
import sys
import sysconfig
from pathlib import Path

import pytest

from funreason.evaluate import humaneval as he

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the sandbox's isolation is Linux's")

FAST = he.Limits(timeout=3.0, memory_mb=512)
NOT_PERMITTED = "failed: PermissionError: [Errno 1] Operation not permitted"


@pytest.fixture
def private_root():
    if "private read-only root" not in he.sandbox():
        pytest.skip(f"no mount namespace here, so no private root: {he.sandbox()}")


@pytest.fixture
def seccomp():
    if "seccomp:" not in he.sandbox():
        pytest.skip(f"no seccomp filter here: {he.sandbox()}")


def run(code: str) -> str:
    return he.run_program(code, FAST)


# --- reading ---------------------------------------------------------------------------------------


def test_a_file_outside_the_sandbox_is_unreadable(private_root, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("the secret")
    result = run(f"print(open({str(secret)!r}).read())\n")
    assert result == f"failed: FileNotFoundError: [Errno 2] No such file or directory: {str(secret)!r}"


def test_etc_shadow_is_unreadable(private_root):
    if not os.access("/etc/shadow", os.R_OK):
        pytest.skip("/etc/shadow is absent or unreadable to this user even outside the sandbox")
    assert run("print(open('/etc/shadow').read())\n") == (
        "failed: FileNotFoundError: [Errno 2] No such file or directory: '/etc/shadow'"
    )


def test_the_home_folder_is_hidden(private_root):
    """Only the interpreter's own folders (its stdlib may live under the home) stay visible."""
    needed = [Path(path) for path in sys.path if path]
    hidden = [
        entry for entry in Path.home().iterdir() if not any(entry in (p, *p.parents) for p in needed)
    ]
    if not hidden:
        pytest.skip(f"{Path.home()} holds nothing but the interpreter's folders")
    code = f"import os\nfor name in {[str(entry) for entry in hidden]!r}:\n    os.lstat(name)\n"
    assert run(code).startswith("failed: FileNotFoundError: [Errno 2] No such file or directory")


def test_no_shell_is_in_the_private_root(private_root):
    shells = ["/bin/sh", "/bin/bash", "/usr/bin/env", "/usr/bin/python3", "/sbin/init"]
    assert run(f"import os\nassert any(os.path.exists(p) for p in {shells!r})\n") == "failed: AssertionError"


# --- writing ---------------------------------------------------------------------------------------


@pytest.fixture
def outside_targets(tmp_path):
    """Paths outside the program's folder, one in the interpreter's own site-packages."""
    targets = [tmp_path / "written.txt", Path(sysconfig.get_paths()["purelib"]) / "funreason-sandbox-test.pth"]
    yield targets
    for target in targets:
        target.unlink(missing_ok=True)


def test_nothing_outside_its_folder_is_writable(private_root, outside_targets):
    for target in outside_targets:
        result = run(f"open({str(target)!r}, 'w').write('import os')\n")
        assert result != "passed" and not target.exists(), result
    assert run("open('/written.txt', 'w')\n") == "failed: OSError: [Errno 30] Read-only file system: '/written.txt'"


def test_its_own_folder_is_writable_and_private(private_root):
    code = (
        "import os\n"
        "with open('out.txt', 'w') as handle:\n"
        "    handle.write('x' * 1000)\n"
        "assert open(os.path.join(os.environ['HOME'], 'out.txt')).read() == 'x' * 1000\n"
        "assert sorted(os.listdir('.')) == ['out.txt', 'program.py']\n"
    )
    assert run(code) == "passed"


# --- shells and other programs -----------------------------------------------------------------------

# Each passes if the shell ran (it exits 7); without exec, it cannot.
SHELLS = {
    "ctypes system": "import ctypes\nassert ctypes.CDLL(None).system(b'exit 7') == 7 << 8\n",
    "posix.system": "import posix\nassert posix.system('exit 7') == 7 << 8\n",
    "posix_spawn": (
        "import posix\npid = posix.posix_spawn('/bin/sh', ['sh', '-c', 'exit 7'], {})\n"
        "assert posix.waitpid(pid, 0)[1] == 7 << 8\n"
    ),
    "_posixsubprocess": (
        "import subprocess, importlib\nimportlib.reload(subprocess)\n"
        "assert subprocess.run(['/bin/sh', '-c', 'exit 7']).returncode == 7\n"
    ),
}


@pytest.mark.parametrize("code", SHELLS.values(), ids=SHELLS.keys())
def test_no_shell_runs(seccomp, code):
    assert run(code) in ("failed: AssertionError", f"{NOT_PERMITTED}: '/bin/sh'")


@pytest.mark.parametrize(
    "argv", [["/bin/sh", "-c", "exit 7"], [sys.executable, "-c", "raise SystemExit(7)"]], ids=["sh", "python"]
)
def test_exec_is_refused(seccomp, argv):
    """execv would replace the runner by the shell, or even by the interpreter itself, exiting 7."""
    assert run(f"import posix\nposix.execv({argv[0]!r}, {argv!r})\n") == NOT_PERMITTED


# --- forged passes -----------------------------------------------------------------------------------


def test_printing_what_it_was_given_and_exiting_0_does_not_pass():
    """Everything the program can see of its start (argv, environment) printed, then a clean exit."""
    code = "import os, sys\nfor value in [*os.environ.values(), *sys.argv]:\n    print(value, flush=True)\nos._exit(0)\n"
    assert run(code) == "failed: exited before the tests finished"


EARLY_EXITS = {
    "sys.exit in check": "import sys\n\ndef check(f):\n    sys.exit(0)\n    assert False\n\ncheck(None)\n",
    "SystemExit": "raise SystemExit(0)\n",
    "exit from a signal handler": (
        "import os, signal\nsignal.signal(signal.SIGALRM, lambda *_: os._exit(0))\n"
        "signal.setitimer(signal.ITIMER_REAL, 0.05)\nwhile True:\n    pass\n"
    ),
    "libc's _exit": "import ctypes\nctypes.CDLL(None)._exit(0)\n",
    "every descriptor read, then written": (
        "import os\nseen = b''\nfor fd in range(3, 256):\n    try:\n        seen += os.read(fd, 64)\n"
        "    except OSError:\n        pass\nfor fd in range(3, 256):\n    try:\n"
        "        os.write(fd, seen or b'0' * 32)\n    except OSError:\n        pass\nos._exit(0)\n"
    ),
}


@pytest.mark.parametrize("code", EARLY_EXITS.values(), ids=EARLY_EXITS.keys())
def test_an_exit_before_the_checks_end_does_not_pass(code):
    assert run(code) != "passed"


# --- degrading ---------------------------------------------------------------------------------------


@pytest.fixture
def no_mount_namespace(monkeypatch):
    """The runner as where `unshare --mount` is refused but the other namespaces work."""
    kept = {name: entry for name, entry in he._NAMESPACES.items() if not entry[1]}
    monkeypatch.setattr(he, "_NAMESPACES", kept)
    he._isolation.cache_clear()
    yield
    he._isolation.cache_clear()


def test_without_a_mount_namespace_the_description_says_the_file_system_is_open(no_mount_namespace, tmp_path):
    if "namespaces" not in he.sandbox():
        pytest.skip(f"no namespaces here at all: {he.sandbox()}")
    assert "no private root: the file system is open" in he.sandbox()
    secret = tmp_path / "secret.txt"
    secret.write_text("readable")
    assert run(f"assert open({str(secret)!r}).read() == 'readable'\n") == "passed"
