"""The exceptions of flowcert.

Every error of the library reaches Python as one of these, with the message the command
line prints after ``error:`` (it names the field and the fix)::

    FlowcertError                      every flowcert error
    +-- InvalidInputError (ValueError) bad input: mixture, points, times, settings
    |   +-- ModelOutputError           your callable returned the wrong shape, dtype or a NaN
    +-- ComputationError (RuntimeError) a computation failed or left double precision

An exception raised *inside* your callable (``assess_score``, ``assess_flowmap``)
propagates unchanged.
"""

from __future__ import annotations

__all__ = ["FlowcertError", "InvalidInputError", "ModelOutputError", "ComputationError"]


class FlowcertError(Exception):
    """Base class of every flowcert error."""


class InvalidInputError(FlowcertError, ValueError):
    """Bad input (the command line's exit status 2): the message names the field and the fix."""


class ModelOutputError(InvalidInputError):
    """A model callable returned an answer of the wrong shape or dtype, or a NaN/inf."""


class ComputationError(FlowcertError, RuntimeError):
    """A computation failed (e.g. the ODE solver) or produced a non-finite number."""
