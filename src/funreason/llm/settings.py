"""The endpoint settings every command and config section shares: where the server is, which model it
serves, and what each request carries.

One model, `EndpointSettings`, is the `cot`, `refine` (judge and regenerator), `evaluate` and
`selfrefine` options and the config sections of `funreason run`, with the same names in YAML as in
the flags (`--request-timeout` is `request_timeout`); `generator()` is the one place that turns them
into an `EndpointGenerator`. What a section leaves out comes from OpenAI's own variables
(`$OPENAI_BASE_URL`, `$OPENAI_API_KEY`) and, for the model, from the server's `/v1/models`.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

MODEL_HELP = "Model name served by the endpoint; default: the only model its /v1/models lists."
LOAD_HELP = ("How the server gets a model trained in this run: none (it serves one model; only that one is "
             "asked), lora (vLLM runtime LoRA loading: adapters are posted to /v1/load_lora_adapter), or path "
             "(the server loads the checkpoint folder named as the model, as `transformers serve` does).")
Load = Literal["none", "lora", "path"]


class EndpointSettings(BaseModel):
    """An OpenAI-compatible server and the settings of every request sent to it."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    endpoint: str | None = Field(None, description="OpenAI-compatible API root, e.g. http://localhost:8000/v1; "
                                                   "default $OPENAI_BASE_URL.")
    model: str | None = Field(None, description=MODEL_HELP)
    api_key: str | None = Field(None, description="API key; default $OPENAI_API_KEY, else EMPTY (vLLM accepts any).")
    request_timeout: float = Field(60.0, gt=0, validation_alias=AliasChoices("request_timeout", "timeout"),
                                   description="Seconds one request may take before it is retried.")
    concurrency: int = Field(64, ge=1, description="Requests in flight at once (halved while the server falls behind).")
    max_tokens: int | None = Field(None, ge=1, description="Longest reply; default: the role's (teacher 2048, "
                                                           "judge 1024, regenerator 4096, evaluation 1024).")
    temperature: float | None = Field(None, ge=0.0, description="Sampling temperature; default: the role's.")
    extra_body: dict[str, Any] = Field(default_factory=dict, description="Merged into every request body, e.g. "
                                       "{chat_template_kwargs: {enable_thinking: false}}.")
    deadline: float | None = Field(None, gt=0, description="Seconds the command may spend on this endpoint in all; "
                                                           "past it the run stops, keeping what finished.")

    def resolved(self) -> EndpointSettings:
        """These settings with `$OPENAI_BASE_URL` and `$OPENAI_API_KEY` filling what is not set."""
        return self.model_copy(update={
            "endpoint": self.endpoint or os.environ.get("OPENAI_BASE_URL") or None,
            "api_key": self.api_key or os.environ.get("OPENAI_API_KEY") or "EMPTY",
        })

    def generator(self, *, model: str | None = None, role: str = "an LLM", **options: Any) -> Any:
        """The `EndpointGenerator` these settings describe (`model` overrides theirs; without either,
        the only model the server lists). `options` go to the generator as is (mode, tokenizer...)."""
        from funreason.llm.endpoint import EndpointGenerator, served_model

        settings = self.resolved()
        if not settings.endpoint:
            raise ValueError(f"{role} needs an endpoint: `endpoint` in its config section, --endpoint URL, "
                             "or $OPENAI_BASE_URL")
        name = model or settings.model or served_model(settings.endpoint, settings.api_key, settings.request_timeout)
        return EndpointGenerator(settings.endpoint, name, api_key=settings.api_key, concurrency=settings.concurrency,
                                 timeout=settings.request_timeout, extra_body=settings.extra_body,
                                 deadline=settings.deadline, **options)  # fmt: skip

    def request_settings(self, max_tokens: int, temperature: float = 0.0) -> dict[str, Any]:
        """`max_tokens` and `temperature` for a role: these settings' where set, else the role's defaults."""
        return {"max_tokens": self.max_tokens or max_tokens,
                "temperature": temperature if self.temperature is None else self.temperature}


class ModelEndpoint(EndpointSettings):
    """An endpoint that generates with the model under training (evaluation, self-refinement rollouts)."""

    load: Load = Field("none", description=LOAD_HELP)

    def generator_for(self, model: str, base: str, **options: Any) -> Any:
        """A generator that asks the server for `model`: the served model when `model` is the run's
        starting model `base`, else the trained checkpoint as `load` says the server gets it."""
        if model == base:
            return self.generator(role="evaluation through an endpoint", **options)
        folder = Path(model)
        if self.load == "none":
            raise ValueError(f"the endpoint serves one model, and {model} was trained in this run: set `load: lora` "
                             "(vLLM with runtime LoRA loading) or `load: path` (a server that loads a folder by "
                             "path), or generate locally (no endpoint)")
        if self.load == "path":
            if (folder / "adapter_config.json").is_file():
                raise ValueError(f"{model} is a LoRA adapter, and `load: path` needs a full checkpoint: train with "
                                 "lora_r: 0, or serve with vLLM and `load: lora`")
            return self.generator(model=str(folder.resolve()), **options)
        _check_adapter_base(folder, base)
        settings = self.resolved()
        name = load_lora_adapter(settings.endpoint or "", folder, settings.api_key or "EMPTY", settings.request_timeout)
        return self.generator(model=name, **options)


def _check_adapter_base(adapter: Path, base: str) -> None:
    """A LoRA adapter the server applies to the model it serves must have been trained on that model
    (an adapter trained on an earlier round's merged model would be applied to other weights)."""
    from funreason.models import adapter_base

    recorded = adapter_base(adapter)
    if recorded is not None and _canonical(recorded) != _canonical(base):
        raise ValueError(f"{adapter} was trained on {recorded}, not on {base}, the model the server serves: vLLM would "
                         "apply it to the wrong weights; run one self-refinement round per served model, or use "
                         "`load: path` with full fine-tuning")


def _canonical(model: str) -> str:
    """A model name or path as `record_adapter_base` writes it: a local path resolved, a hub id as is."""
    from funreason.models import resolve_model

    try:
        name = resolve_model(model)
    except FileNotFoundError:
        return model
    return str(Path(name).resolve()) if Path(name).exists() else name


# How far a server reaches down the chain served model -> the model trained on it -> round 1's -> ...,
# by `load`: only the model it serves; also an adapter trained on that model (vLLM applies an adapter
# to the weights it serves, and every later model is trained on a merged one); any folder.
_REACH = {"none": 0, "lora": 1, "path": math.inf}
_UNREACHABLE = {
    "none": "{what} models trained in this run, which a server that serves one model cannot answer for: set {key} "
            "to lora or path (vLLM runtime LoRA loading, or a server that loads a folder by path), or generate locally",
    "lora": "{what} adapters trained on a merged model, which vLLM's LoRA loading would apply to the wrong weights: "
            "use `{key}: path` with full fine-tuning, run fewer rounds per served model, or generate locally",
}


def check_reach(load: Load, needs: int, what: str, key: str = "load") -> None:
    """Refuse, before anything runs, an endpoint whose `load` cannot give its server model `needs`
    of the chain (0: the served model, 1: the model trained on it, 2: round 1's...). `what` says who
    asks ("evaluation asks for"), `key` names the setting to change."""
    if needs > _REACH[load]:
        raise ValueError(_UNREACHABLE[load].format(what=what, key=key))


def check_rounds(rounds: int, starts_served: bool, rollouts: Load | None, evaluations: Load | None,
                 key: str = "load") -> None:
    """`check_reach` for self-refinement rounds: round k rolls out with the model round k-1 trained and
    evaluates its own, counted from where the rounds start, the served model itself or a model
    trained on it. `rollouts`/`evaluations`: the `load` of their endpoint, None when they run locally."""
    if not rounds:
        return
    first = 0 if starts_served else 1
    if rollouts is not None:
        check_reach(rollouts, first + rounds - 1, "self-refinement rolls out with", key)
    if evaluations is not None:
        check_reach(evaluations, first + rounds, "self-refinement evaluates", key)


def model_generator(model: str, endpoint: ModelEndpoint | None, base: str, batch_size: int) -> Any:
    """What generates with `model`: `endpoint` when it names a server (which gets `model` as its
    `load` says, `base` being the model it serves), else `model` loaded here, batched."""
    if endpoint is not None and endpoint.endpoint:
        return endpoint.generator_for(model, base)
    from funreason.llm.local import LocalGenerator
    from funreason.models import load_model

    loaded, tokenizer = load_model(model)
    return LocalGenerator(loaded, tokenizer, batch_size=batch_size)


def load_lora_adapter(base_url: str, adapter: Path, api_key: str, timeout: float) -> str:
    """Ask a vLLM server to load `adapter` (`POST /v1/load_lora_adapter`, which needs
    VLLM_ALLOW_RUNTIME_LORA_UPDATING=True); returns the name to request it by. A name the server
    has loaded already is fine: the name is made from the folder's path."""
    path = adapter.resolve()
    if not (path / "adapter_config.json").is_file():
        raise ValueError(f"{adapter} is no LoRA adapter (no adapter_config.json); `load: lora` serves adapters only")
    name = f"{path.parent.name}-{hashlib.sha1(str(path).encode()).hexdigest()[:8]}"
    request = urllib.request.Request(
        base_url.rstrip("/") + "/load_lora_adapter", method="POST",
        data=json.dumps({"lora_name": name, "lora_path": str(path)}).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {api_key}"},
    )  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=timeout):
            return name
    except urllib.error.HTTPError as exc:
        text = exc.read().decode("utf-8", "replace")[:300]
        if exc.code == 400 and "already" in text.lower():
            return name
        raise ValueError(f"{base_url} refused to load the adapter {path} (HTTP {exc.code}: {text}); start vLLM "
                         "with --enable-lora and VLLM_ALLOW_RUNTIME_LORA_UPDATING=True") from None
    except (urllib.error.URLError, OSError) as exc:
        raise ValueError(f"{base_url}/load_lora_adapter could not be reached: {exc}") from None
