"""The one error of the content package: a lesson bundle that cannot be used."""

from __future__ import annotations


class BundleError(Exception):
    """A bundle refused at load. ``bundle`` names it (a path), ``problem`` says why.

    ``str(error)`` is ``"<bundle>: <problem>"``, ready to show to a guide or in a log.
    """

    def __init__(self, bundle: str, problem: str) -> None:
        super().__init__(f"{bundle}: {problem}")
        self.bundle = bundle
        self.problem = problem
