"""Evaluation on the Berkeley Function Calling Leaderboard (BFCL), scored as the official checker scores.

The pieces, in the order an evaluation uses them:

- `bfcl`: the single-turn categories' questions and possible answers, read as data files from the
  installed `bfcl-eval` package (never imported) or a `--bfcl-data` folder, and the exact prompt
  BFCL gives prompting models (`BfclEntry.messages`);
- `checker`: `check_entry(entry, output)` strips the reasoning, decodes the calls without evaluating
  anything (python: `calls.parse_calls`; Java/JavaScript: tree-sitter, `decode_java_js`) and judges
  them with BFCL's rules (`ast_rules`, `java_js_types`) or its relevance rule, returning a
  `CheckResult` with BFCL's error_type; tests hold it to the official checker's verdict on every
  entry;
- `multi_turn`, `multi_turn_exec`, `multi_turn_checker`, `multi_turn_run`: the multi-turn
  categories: data, an executor that dispatches calls to BFCL's simulated APIs (nothing evaluated),
  BFCL's multi-turn checker, and the turn-by-turn generation loop;
- `scores`: accuracy per category and BFCL's summaries (Non-Live AST, Live, Irrelevance,
  Relevance, Multi-Turn) plus the paper's Overall.

Typical use::

    entries = load_bfcl("all")
    results = [(e.category, check_entry(e, generate(e.messages)).valid) for e in entries]
    summary = summarize(category_scores(results))
"""

from funreason.evaluate.bfcl import BfclEntry, load_bfcl, resolve_categories
from funreason.evaluate.checker import CheckResult, check_entry
from funreason.evaluate.scores import CategoryScore, category_scores, summarize

__all__ = [
    "BfclEntry",
    "CategoryScore",
    "CheckResult",
    "category_scores",
    "check_entry",
    "load_bfcl",
    "resolve_categories",
    "summarize",
]
