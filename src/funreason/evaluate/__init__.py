"""Evaluation on the Berkeley Function Calling Leaderboard (BFCL), scored as the official checker scores.

The pieces, in the order an evaluation uses them:

- `bfcl`: the single-turn categories' questions and possible answers, read as data files from the
  installed `bfcl-eval` package (never imported) or a `--bfcl-data` folder, and the exact prompt
  BFCL gives prompting models (`BfclEntry.messages`);
- `checker`: `check_entry(entry, answer)` decodes the calls of an answer whose reasoning is removed
  (`remove_reasoning`, as BFCL's model handlers do) without evaluating anything (python:
  `decode_python`, BFCL's decoder with a bounded evaluator for its arithmetic; Java/JavaScript:
  tree-sitter, `decode_java_js`) and judges them with BFCL's rules (`ast_rules`, `java_js_types`) or
  its relevance rule, returning a `CheckResult` with BFCL's error_type; tests hold it to the
  official checker's verdict on every entry;
- `multi_turn`, `multi_turn_exec`, `multi_turn_checker`, `multi_turn_run`: the multi-turn
  categories: data, an executor that dispatches calls to BFCL's simulated APIs (nothing evaluated),
  BFCL's multi-turn checker, and the turn-by-turn generation loop;
- `scores`: accuracy per category and BFCL's summaries (Non-Live AST, Live, Irrelevance,
  Relevance, Multi-Turn) plus the paper's Overall;
- `responses` and `run`: answers generated elsewhere (bfcl-eval's `result/<model>/...` folders, our
  JSONL) split into answer sets and scored each on its own; `run` also generates and scores;
- `report`: `scores.md`, `scores.png`, and the comparison of runs.

Typical use::

    entries = load_bfcl("all")
    answers = [remove_reasoning(generate(e.messages))[1] for e in entries]
    results = [(e.category, check_entry(e, a).valid) for e, a in zip(entries, answers)]
    summary = summarize(category_scores(results))
"""

from funreason.evaluate.bfcl import BfclEntry, load_bfcl, resolve_categories
from funreason.evaluate.checker import CheckResult, check_entry, remove_reasoning
from funreason.evaluate.scores import CategoryScore, category_scores, summarize

__all__ = [
    "BfclEntry",
    "CategoryScore",
    "CheckResult",
    "category_scores",
    "check_entry",
    "load_bfcl",
    "remove_reasoning",
    "resolve_categories",
    "summarize",
]
