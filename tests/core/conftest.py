from .builders import dag_workflow, steps_workflow  # noqa: F401 - fixtures
