"""Argo Workflows side of dflow-lab: manifest compile/parse helpers and the Argo server client.

The expression languages live in :mod:`dflow_lab.expr`."""
