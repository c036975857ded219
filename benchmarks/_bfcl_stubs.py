"""Import bfcl-eval's checker without its heavy dependencies: stand-ins for modules never called.

bfcl-eval is installed with `--no-deps` (see the Makefile), so the imports its checker modules make
at the top but never use while checking must be stood in for. Nothing here imports funreason, so
a timed bfcl-eval process pays for bfcl-eval's imports alone.

- `bfcl_eval.constants.model_config` imports every model SDK; the checker reads one flag of it
  (`underscore_to_dot`, False for prompting models).
- `pandas` and `dotenv` (eval_runner_helper, eval_runner): used only to write the leaderboard CSV
  and to read `.env` in `main`; `overrides.final` (base_handler) decorates at class definition.

Importing bfcl-eval creates folders under BFCL_PROJECT_ROOT, pointed at a temporary folder.
"""

from __future__ import annotations

import os
import sys
import tempfile
import types
from dataclasses import dataclass


@dataclass
class ModelConfig:
    underscore_to_dot: bool = False


class ModelConfigMapping(dict):
    """Every model name maps to a prompting model's config."""

    def __missing__(self, key: str) -> ModelConfig:
        return ModelConfig()


def _module(name: str, **attributes: object) -> None:
    module = types.ModuleType(name)
    module.__dict__.update(attributes)
    sys.modules.setdefault(name, module)


def stub_model_config() -> None:
    """Point BFCL_PROJECT_ROOT at a temporary folder and stand in for `constants.model_config`."""
    os.environ.setdefault("BFCL_PROJECT_ROOT", os.path.join(tempfile.gettempdir(), "funreason-bfcl-root"))
    _module("bfcl_eval.constants.model_config", MODEL_CONFIG_MAPPING=ModelConfigMapping())


def stub_runner_imports() -> None:
    """`stub_model_config`, plus what `eval_checker.eval_runner` imports and the checking never calls."""
    stub_model_config()

    def never(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a stand-in for a module bfcl-eval's checking does not use was called")

    for name in ("pandas", "dotenv", "overrides"):
        try:
            __import__(name)
        except ImportError:
            _module(name, read_csv=never, DataFrame=never, load_dotenv=never,
                    final=lambda f: f, override=lambda f: f)  # fmt: skip
