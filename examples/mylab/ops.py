"""The OPs of the molecule-screening example graph (``examples/screen.graph.json``).

``Prepare`` writes one structure file per molecule (a stand-in for a conformer generator: it writes the
SMILES string and a seeded pseudo-coordinate line) and counts them. It needs nothing beyond the standard
library, so the example runs anywhere dflow-lab does.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import List

from dflow_lab.python import OP, OPIO, Artifact, OPIOSign


class Prepare(OP):
    """Write ``structures/<i>.txt`` for each molecule; output the count and the folder."""

    @classmethod
    def get_input_sign(cls):
        return OPIOSign({"smiles": List[str], "seed": int})

    @classmethod
    def get_output_sign(cls):
        return OPIOSign({"count": int, "structures": Artifact(Path)})

    @OP.exec_sign_check
    def execute(self, op_in: OPIO) -> OPIO:
        rng = random.Random(op_in["seed"])
        out = Path("structures")
        out.mkdir(exist_ok=True)
        for i, smiles in enumerate(op_in["smiles"]):
            (out / f"{i}.txt").write_text(f"{smiles}\n{rng.random():.6f}\n")
        return OPIO({"count": len(op_in["smiles"]), "structures": out})
