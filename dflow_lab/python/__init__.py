"""Python OPs (``dflow.python``): OPs as Python classes or annotated functions, their signatures,
and ``PythonOPTemplate``, which compiles an OP to a template that runs it through
``dflow_lab.python.runtime``."""

from .errors import FatalError, TransientError
from .op import OP
from .opio import OPIO, Artifact, BigParameter, HDF5Datasets, NestedDict, OPIOSign, Parameter
from .python_op_template import PythonOPTemplate, Slices, upload_packages

__all__ = [
    "OP",
    "OPIO",
    "Artifact",
    "BigParameter",
    "OPIOSign",
    "Parameter",
    "FatalError",
    "PythonOPTemplate",
    "Slices",
    "TransientError",
    "upload_packages",
    "NestedDict",
    "HDF5Datasets",
]
