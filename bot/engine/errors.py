"""Ways a handler stops early with a polite answer instead of a change."""

from __future__ import annotations

from typing import Any


class Refusal(Exception):  # noqa: N818 - a refusal is an answer, not a failure
    """The person may not do this, or the thing no longer exists.

    The handler's changes are rolled back; the person gets `template` (as a message, or as the
    button's pop-up when they pressed one) and, when `audit` is set, an audit row is written.
    """

    def __init__(self, template: str, *, audit: str | None = None, **variables: Any) -> None:
        super().__init__(template)
        self.template = template
        self.audit = audit
        self.variables = variables


class Stale(Refusal):
    """A button from an earlier step: the case has moved on."""

    def __init__(self, template: str = "common/stale", **variables: Any) -> None:
        super().__init__(template, **variables)
