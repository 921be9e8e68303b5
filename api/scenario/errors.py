"""The error a scenario raises: one line naming the file, the line and the field at fault."""

from network.errors import GongpeiError


class ScenarioError(GongpeiError):
    """A scenario file (or a stage it drives) that cannot be run as written.

    ``problems`` keeps every problem found (``validate`` prints them all); the message is the first
    one, so the CLI still shows exactly one readable line.
    """

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        extra = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(f"{problems[0]}{extra}")
