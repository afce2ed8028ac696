"""The expression languages Argo evaluates, as a package that imports nothing else of dflow-lab.

- :mod:`.evaluate` — the entry points: ``when:`` conditions (govaluate), ``{{=…}}`` expressions
  (expr-lang with Argo's functions), ``{{…}}`` template rendering and tag discovery;
- :mod:`.lexer`, :mod:`.parser`, :mod:`.interp`, :mod:`.builtins` — expr-lang;
- :mod:`.govaluate` — Argo's ``when`` language; :mod:`.sprig` — Argo's ``sprig.*`` functions;
- :mod:`.gofmt`, :mod:`.gotime`, :mod:`.jsonpath`, :mod:`.regex` — Go's formatting, time, JSONPath
  and RE2 semantics; :mod:`.errors` — the error type and the work/size budget every evaluation obeys.

Nothing here calls ``eval``/``exec``/``compile``; values are data, never code.
"""

from dflow_lab.expr.evaluate import (
    ExpressionError,
    UnresolvedVariableError,
    eval_expr,
    eval_when,
    nest_variables,
    render_template,
    tags_in,
)

__all__ = [
    "ExpressionError",
    "UnresolvedVariableError",
    "eval_expr",
    "eval_when",
    "nest_variables",
    "render_template",
    "tags_in",
]
