"""Policy errors: every problem names its file and line."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.errors import SluisError


@dataclass(frozen=True, order=True)
class PolicyProblem:
    """One thing wrong in the policy files, located as ``file:line``."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class PolicyInvalid(SluisError):
    """The policy files break one or more rules; ``problems`` lists every one."""

    code = "policy-invalid"
    title = "Policy files are not valid"
    status = 422

    def __init__(self, problems: list[PolicyProblem]) -> None:
        self.problems = sorted(problems)
        first = self.problems[0] if self.problems else "no details"
        super().__init__(f"{len(self.problems)} problem(s) in the policy files; first: {first}")
