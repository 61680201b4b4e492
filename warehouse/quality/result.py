"""What a gate run found: one outcome per suite, and the verdict (read by the gate, its history and the build)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class SuiteOutcome:
    audience: str
    suite: str
    success: bool
    evaluated: int
    failed: list[str]
    blocking: bool = True


@dataclass
class GateResult:
    run_at: str
    outcomes: list[SuiteOutcome] = field(default_factory=list)
    docs_index: str = ""

    @property
    def success(self) -> bool:
        return all(o.success for o in self.outcomes if o.blocking)

    @property
    def warnings(self) -> list[str]:
        return [f for o in self.outcomes if not o.blocking for f in o.failed]

    @property
    def failures(self) -> list[str]:
        return [f"{o.audience}/{o.suite}: {f}" for o in self.outcomes if o.blocking for f in o.failed]

    def message(self) -> str:
        passed = sum(o.success for o in self.outcomes)
        text = f"{passed}/{len(self.outcomes)} suites passed"
        if self.failures:
            text += "; failed: " + "; ".join(self.failures)
        if self.warnings:
            text += "; warnings: " + "; ".join(self.warnings)
        return text

    def to_dict(self) -> dict:
        return {"run_at": self.run_at, "success": self.success, "docs_index": self.docs_index,
                "outcomes": [asdict(o) for o in self.outcomes]}
