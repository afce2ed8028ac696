"""Argo Workflows side of dflow-lab: manifest compile/parse helpers, the safe expression evaluator
(``expressions``) and the Argo server client."""
