"""Built-in PEFT methods (family ``peft_methods``), registered as a third party's would be.

- the harness's own: ``lora``, ``qlora``, ``dora``, ``ia3``, ``prefix``, ``prompt``, ``loha``,
  ``lokr`` (:mod:`.builtin`);
- every other PEFT tuner by its type in lower case (``vera``, ``oft``, ``boft``, ``fourierft``,
  ``hra``, ``vblora``, ``beft``, ``ln_tuning``, …) and ``peft`` (any tuner by config class name)
  (:mod:`.generic`);
- ``bitfit``, with ``beft`` and ``ln_tuning`` as its stand-ins on bias-free models (:mod:`.bitfit`);
- ``houlsby``, ``pfeiffer`` and ``compacter`` from AdapterHub ``adapters`` (:mod:`.adapterhub`;
  the optional extra ``harness[adapterhub]``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness import hookimpl
from harness_plugins.peft_methods.adapterhub import Compacter, Houlsby, Pfeiffer
from harness_plugins.peft_methods.bitfit import BitFit
from harness_plugins.peft_methods.builtin import BUILTIN
from harness_plugins.peft_methods.generic import AnyTuner, tuner_class, tuner_methods

if TYPE_CHECKING:
    from harness.hookspecs import Register


class Beft(tuner_class("BEFT")):  # type: ignore[misc]
    """PEFT's BEFT, labelled as the stand-in for BitFit it is on bias-free models."""

    description = "PEFT BeftConfig: new bias vectors on linear layers (a stand-in for BitFit)"

    def label(self) -> str:
        """Say it is not BitFit."""
        return "PEFT BeftConfig, stand-in for BitFit"


class LnTuning(tuner_class("LN_TUNING")):  # type: ignore[misc]
    """PEFT's LN tuning, labelled as a stand-in for BitFit."""

    description = "PEFT LNTuningConfig: the norm layers' weights (a stand-in for BitFit)"

    def label(self) -> str:
        """Say it is not BitFit."""
        return "PEFT LNTuningConfig, stand-in for BitFit"


@hookimpl
def register_peft_methods(register: Register) -> None:
    """Register the built-in methods and every other PEFT tuner."""
    for name, cls in BUILTIN.items():
        register(name, cls)
    covered = {cls.peft_type for cls in BUILTIN.values()} | {"BEFT", "LN_TUNING"}
    for name, cls in tuner_methods(covered).items():
        register(name, cls)
    register("beft", Beft)
    register("ln_tuning", LnTuning)
    register("peft", AnyTuner)
    register("bitfit", BitFit)
    register("houlsby", Houlsby)
    register("pfeiffer", Pfeiffer)
    register("compacter", Compacter)
