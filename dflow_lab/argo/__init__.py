"""Argo Workflows side of dflow-lab: manifest compile/parse helpers and the Argo server client (the
Argo-compatible API server is :mod:`dflow_lab.apiserver`).

The expression languages live in :mod:`dflow_lab.expr`."""
