"""What a view of a run shows, without any widget machinery: used by the notebook widgets
(:mod:`dflow_lab.widgets`) and by the Jupyter server extension (:mod:`dflow_lab.jupyter`) alike.

- :mod:`.status` — Argo status nodes folded into one status per canvas node, progress text;
- :mod:`.live` — following a run on an engine (its event stream folded into per-node status);
- :mod:`.palette` — palette entries: a workflow's templates and the OPs of named modules;
- :mod:`.preview` — bounded previews of artifacts (text, tables, images, arrays, directories).

Nothing here imports ``anywidget`` or the widgets package, so the Jupyter server process does not load
the notebook widget stack.
"""
