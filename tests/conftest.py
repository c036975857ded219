"""Suite-wide fixtures: one model cache for the whole run, never the user's real cache."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import types
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

# tests/llm/fake_server.py, the scripted loopback server, is imported by name (`import fake_server`)
# wherever a test talks to an endpoint.
sys.path.insert(0, str(Path(__file__).parent / "llm"))

# bfcl-eval (the reference in tests) creates result/score folders under BFCL_PROJECT_ROOT when
# imported; set before any test imports it, one fixed folder so runs do not pile up directories.
os.environ.setdefault("BFCL_PROJECT_ROOT", os.path.join(tempfile.gettempdir(), "funreason-bfcl-root"))


@pytest.fixture(scope="session", autouse=True)
def funreason_cache(pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Point FUNREASON_CACHE at pytest's cache, so the embedded model is converted once per machine."""
    cache = getattr(pytestconfig, "cache", None)  # absent under -p no:cacheprovider
    root = Path(cache.mkdir("funreason")) if cache else tmp_path_factory.mktemp("funreason")
    old = os.environ.get("FUNREASON_CACHE")
    os.environ["FUNREASON_CACHE"] = str(root)
    yield root
    if old is None:
        os.environ.pop("FUNREASON_CACHE", None)
    else:
        os.environ["FUNREASON_CACHE"] = old


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random 2-layer Qwen2 and a BPE trained on rendered synth samples (ChatML template), saved
    like a hub model: small enough to train and generate with in seconds."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM

    from funreason.synth import generate
    from funreason.train.segments import CHATML_TEMPLATE, render_text

    samples = list(generate(24, seed=5))
    folder = tmp_path_factory.mktemp("tiny-model")
    backend = Tokenizer(models.BPE())
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    special = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    bpe = trainers.BpeTrainer(
        vocab_size=1500, special_tokens=special, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    bare = PreTrainedTokenizerFast(tokenizer_object=Tokenizer(models.BPE()))
    texts = [render_text(s, bare)[0] for s in samples]
    backend.train_from_iterator(texts, trainer=bpe)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend, pad_token="<|endoftext|>", eos_token="<|im_end|>",
        additional_special_tokens=["<|im_start|>", "<|im_end|>"],
    )  # fmt: skip
    tokenizer.chat_template = CHATML_TEMPLATE
    tokenizer.save_pretrained(folder)
    torch.manual_seed(0)
    config = Qwen2Config(
        vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=4096,
        pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id, tie_word_embeddings=True,
    )  # fmt: skip
    Qwen2ForCausalLM(config).save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_lm():
    """A builder of random, small Qwen2 causal LMs in float32 eval mode: `tiny_lm(vocab_size, **config)`.

    The defaults (2 layers, 4 heads over 2 KV heads, initializer_range 0.2 for confident logits, so
    greedy meets no near-ties) suit generation tests; any `Qwen2Config` field can be overridden.
    """
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    def build(vocab_size: int, *, seed: int = 0, **overrides):
        torch.manual_seed(seed)
        config = dict(
            hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
            num_key_value_heads=2, max_position_embeddings=256, initializer_range=0.2, tie_word_embeddings=True,
        )  # fmt: skip
        return Qwen2ForCausalLM(Qwen2Config(vocab_size=vocab_size, **config | overrides)).float().eval()

    return build


@pytest.fixture(scope="session")
def smollm2_checkpoint(funreason_cache: Path) -> Path:
    """The embedded SmolLM2-135M-Instruct as a plain transformers checkpoint."""
    from funreason.models import embedded_checkpoint

    return embedded_checkpoint(funreason_cache)


# --- a real OpenAI-compatible server: `transformers serve` on the embedded model ---------------

SERVER_START_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class RealServer:
    """A running `transformers serve`: its API root (`.../v1`), the model id it lists, its log file."""

    url: str
    model: str
    log: Path

    def log_tail(self, lines: int = 40) -> str:
        return _tail(self.log, lines)


@pytest.fixture(scope="session")
def real_server(smollm2_checkpoint: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealServer]:
    """`transformers serve` on the embedded SmolLM2-135M, on CPU and a free loopback port, for the
    whole session: the endpoint client meets a real server's answers, errors and pace.

    Skipped (with the reason) only when the serving packages are not installed; a server that does
    not come up fails the test with its log. The server runs in a session of its own, and its whole
    process group is stopped at the end, so no server outlives the tests.
    """
    yield from _serve(smollm2_checkpoint, tmp_path_factory, pinned=True)


@pytest.fixture(scope="session")
def real_server_by_path(smollm2_checkpoint: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealServer]:
    """`transformers serve` started without a model: it loads the checkpoint folder a request names
    (how a run's trained models reach it, `load: path`); the embedded model is asked for once first,
    so `/v1/models` lists it."""
    yield from _serve(smollm2_checkpoint, tmp_path_factory, pinned=False)


def _serve(checkpoint: Path, tmp_path_factory: pytest.TempPathFactory, *, pinned: bool) -> Iterator[RealServer]:
    from transformers.utils.import_utils import is_serve_available

    if not is_serve_available():
        pytest.skip("transformers serve needs its serving packages (fastapi, uvicorn): "
                    "pip install 'transformers[serving]' (the test extra installs them)")
    port = _free_port()
    log = tmp_path_factory.mktemp("real-server") / "serve.log"
    command = [sys.executable, "-c", "from transformers.cli.transformers import main; main()", "serve",
               *([str(checkpoint)] if pinned else []), "--host", "127.0.0.1", "--port", str(port), "--device", "cpu"]
    # One torch thread: a thread per core runs far slower when another job (or this test's client) takes a core.
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    with log.open("wb") as sink:
        process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   env=env, start_new_session=True)
    try:
        root = f"http://127.0.0.1:{port}"
        _wait_until_healthy(process, root, log)
        if not pinned:
            _ask_once(root, str(checkpoint))
        yield RealServer(url=f"{root}/v1", model=_listed_model(root), log=log)
    finally:
        _stop_group(process)


def _ask_once(root: str, model: str) -> None:
    """One one-token request for `model`, which a server without a pinned model loads on the way."""
    body = json.dumps({"model": model, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 1}).encode()
    request = urllib.request.Request(f"{root}/v1/chat/completions", data=body,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=SERVER_START_TIMEOUT_S):
        pass


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_healthy(process: subprocess.Popen, root: str, log: Path) -> None:
    """Return once `GET /health` answers ok; fail with the server's log if it exits or takes too long."""
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"transformers serve exited with code {process.returncode} before it answered:\n{_tail(log)}")
        try:
            with urllib.request.urlopen(f"{root}/health", timeout=2) as answer:
                if json.load(answer).get("status") == "ok":
                    return
        except (OSError, ValueError):
            pass  # not listening yet
        time.sleep(0.25)
    pytest.fail(f"transformers serve did not answer /health within {SERVER_START_TIMEOUT_S:.0f} s:\n{_tail(log)}")


def _listed_model(root: str) -> str:
    """The one model id `GET /v1/models` lists (the checkpoint's path, as given on the command line)."""
    with urllib.request.urlopen(f"{root}/v1/models", timeout=30) as answer:
        ids = [model["id"] for model in json.load(answer)["data"]]
    assert len(ids) == 1, f"transformers serve lists {ids}, expected the one model it was started with"
    return ids[0]


def _stop_group(process: subprocess.Popen) -> None:
    """Stop the server and every process it started: SIGTERM to its group, then SIGKILL to what is left."""
    with contextlib.suppress(ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=5)


def _tail(path: Path, lines: int = 40) -> str:
    return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])

# --- bfcl-eval as the reference: its prompt builder, python decoder and AST checker -------------
# Importing `bfcl_eval.eval_checker.ast_eval.ast_checker` pulls in `constants.model_config`, which
# imports every model SDK. The checker only reads one flag from it (`underscore_to_dot`, to rename
# dotted function names for some API models), so a stand-in module with that flag goes in first.


@dataclass
class _ModelConfig:
    underscore_to_dot: bool = False


class _ModelConfigMapping(dict):
    def __missing__(self, key: str) -> _ModelConfig:
        # "dotted-model" stands for an API model whose function names get "." -> "_".
        return _ModelConfig(underscore_to_dot=key == "dotted-model")


def _import_bfcl() -> types.SimpleNamespace:
    stand_in = types.ModuleType("bfcl_eval.constants.model_config")
    stand_in.MODEL_CONFIG_MAPPING = _ModelConfigMapping()
    sys.modules.setdefault("bfcl_eval.constants.model_config", stand_in)

    from bfcl_eval.constants.enums import Language, ReturnFormat
    from bfcl_eval.eval_checker.ast_eval.ast_checker import ast_checker
    from bfcl_eval.model_handler.utils import (
        default_decode_ast_prompting,
        system_prompt_pre_processing_chat_model,
    )
    from bfcl_eval.utils import is_empty_output, is_function_calling_format_output, load_dataset_entry

    return types.SimpleNamespace(
        Language=Language,
        ReturnFormat=ReturnFormat,
        ast_checker=ast_checker,
        decode=default_decode_ast_prompting,
        system_prompt=system_prompt_pre_processing_chat_model,
        load_dataset_entry=load_dataset_entry,
        is_empty_output=is_empty_output,
        is_function_calling_format_output=is_function_calling_format_output,
    )


@pytest.fixture(scope="session")
def bfcl():
    pytest.importorskip("bfcl_eval")
    pytest.importorskip("tree_sitter_java")
    return _import_bfcl()


def _seconds(run: Callable[[Any], Any], value: Any, errors: tuple[type[BaseException], ...], repeat: int) -> float:
    """The best of `repeat` timings of `run(value)`, which must return or raise one of `errors`."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        try:
            run(value)
        except errors:
            pass
        best = min(best, time.perf_counter() - start)
    return best


def assert_time_per_kb(
    run: Callable[[Any], Any],
    build: Callable[[int], Any],
    errors: tuple[type[BaseException], ...] = (),
    *,
    small: int = 1024,
    large: int = 64 * 1024,
    ceiling: float = 10.0,
) -> None:
    """`run` on `build(large)` takes at most 8x the time per KB it takes on `build(small)`, plus
    0.05 ms per KB, and at most `ceiling` seconds; it returns or raises one of `errors`, nothing else.

    Each size is timed at its best of 3 (load from other jobs only ever adds time), and the slack
    absorbs timer noise on inputs read in microseconds; time quadratic in the input is 64x at
    these sizes, far past the bound. `build(n)` gives an input of about n characters.
    """
    small_value, large_value = build(small), build(large)
    per_kb_small = _seconds(run, small_value, errors, 3) / (_size(small_value) / 1024)
    seconds = _seconds(run, large_value, errors, 2)
    per_kb_large = seconds / (_size(large_value) / 1024)
    assert seconds < ceiling, f"{seconds:.2f} s on {_size(large_value):,} characters"
    assert per_kb_large <= 8 * per_kb_small + 5e-5, (
        f"{1000 * per_kb_large:.3f} ms/KB at {_size(large_value):,} characters, "
        f"{1000 * per_kb_small:.3f} ms/KB at {_size(small_value):,}"
    )


def _size(value: Any) -> int:
    return len(value) if isinstance(value, str) else len(json.dumps(value))


@pytest.fixture
def time_per_kb() -> Callable[..., None]:
    """`assert_time_per_kb`: a hostile input of growing size is read in time linear in its size."""
    return assert_time_per_kb
