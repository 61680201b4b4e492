"""Mutation testing of the privacy and releasability core: do the tests notice when it breaks?

    python -m ibet.benchmarks.mutation [--only privacy,validate,suppression,sql,publish] [--out benchmarks/RESULTS.md]

Python modules are mutated by cosmic-ray (every operator it has: comparisons, booleans,
numbers, binary and unary operators, loops, exceptions). The warehouse SQL and the audience
settings are mutated by the small table of hand-written mutants below (cosmic-ray does not
read SQL): each one is a way the caveat filters, the suppression predicates or the audience
definitions could plausibly be broken. Each mutant runs the tests that guard that module, in
a scratch copy of the repository (PYTHONPATH points there, so subprocesses see the mutant too);
a mutant is *killed* when they fail. Prints the kill rate per module and the survivors.
A benchmark: `make mutation`, not part of `make test`.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PYTEST = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:randomly", "-p", "no:cacheprovider"]

#: module -> (file, tests that guard it)
PYTHON_TARGETS: dict[str, tuple[str, list[str]]] = {
    "privacy": ("ibet/privacy.py", ["tests/test_privacy.py", "tests/test_linkage.py", "-k", "not pads",
                                    "tests/test_ingest_generated.py::test_linkage_one_pseudonym_per_person_across_agencies",
                                    "tests/test_ingest_generated.py::test_pseudonyms_are_64_hex"]),
    "validate": ("contracts/validate.py", ["tests/test_contracts.py", "tests/test_malformed.py",
                                          "tests/test_ingest_generated.py"]),
    "suppression": ("warehouse/suppression.py", ["tests/test_disclosure.py"]),
    "publish": ("warehouse/publish.py", ["tests/test_publish.py", "-k", "not two_builds and not need_to_know",
                                        "tests/test_warehouse_generated.py::"
                                        "test_publish_under_a_connected_reader_that_reads_after_the_switch"]),
}
SQL_TESTS = ["tests/test_warehouse_marts.py"]


@dataclass(frozen=True)
class TextMutant:
    """A hand-written mutant: replace ``old`` (which must occur exactly once) by ``new`` in ``file``."""

    file: str
    old: str
    new: str
    what: str


#: the caveat filters, audience definitions and suppression predicates, broken one way at a time
SQL_MUTANTS: list[TextMutant] = [
    TextMutant("ibet/settings.py", '"evaluator": (REL_IBET, REL_CAN, REL_USA),',
               '"evaluator": (REL_IBET, REL_CAN, REL_USA, "ORCON"),', "ORCON counted for evaluators"),
    TextMutant("ibet/settings.py", '"can": (REL_IBET, REL_CAN),', '"can": (REL_IBET, REL_CAN, REL_USA),',
               "REL_USA shown to Canada"),
    TextMutant("ibet/settings.py", '"usa": (REL_IBET, REL_USA),', '"usa": (REL_IBET, REL_USA, REL_CAN),',
               "REL_CAN shown to the US"),
    TextMutant("ibet/settings.py", '"ibet": (REL_IBET,),', '"ibet": (REL_IBET, REL_CAN),',
               "REL_CAN shown to every partner"),
    TextMutant("ibet/settings.py", "SUPPRESSION_THRESHOLD = 5", "SUPPRESSION_THRESHOLD = 4", "threshold 4"),
    TextMutant("ibet/settings.py", "SUPPRESSION_THRESHOLD = 5", "SUPPRESSION_THRESHOLD = 6", "threshold 6"),
    TextMutant("warehouse/sql/00_staging/00_macros.sql", "record_caveat IN (SELECT caveat FROM ibet_build_caveats)",
               "record_caveat NOT IN (SELECT caveat FROM ibet_build_caveats)", "visible() inverted"),
    TextMutant("warehouse/sql/00_staging/00_macros.sql", "record_caveat IN (SELECT caveat FROM ibet_build_caveats)",
               "record_caveat IS NOT NULL", "visible() lets every caveat through"),
    TextMutant("warehouse/sql/00_staging/10_stg_events.sql", "WHERE version_rank = 1 AND visible(caveat);",
               "WHERE version_rank = 1;", "events not filtered by caveat"),
    TextMutant("warehouse/sql/00_staging/10_stg_events.sql", "WHERE version_rank = 1 AND visible(caveat);",
               "WHERE visible(caveat);", "every version of an event kept"),
    TextMutant("warehouse/sql/00_staging/10_stg_events.sql", "    FROM staged.stg_events AS e\n",
               "    FROM (SELECT * FROM staged.stg_events WHERE visible(caveat)) AS e\n",
               "caveat filtered before the latest version is chosen"),
    TextMutant("warehouse/sql/00_staging/10_stg_events.sql",
               "JOIN stg_events AS e ON e.event_uid = c.event_uid AND e.extract_date = c.extract_date\n"
               "WHERE visible(c.caveat);\n\nCREATE OR REPLACE TEMP VIEW stg_seizures",
               "JOIN stg_events AS e ON e.event_uid = c.event_uid AND e.extract_date = c.extract_date;\n\n"
               "CREATE OR REPLACE TEMP VIEW stg_seizures", "subjects not filtered by caveat"),
    TextMutant("warehouse/sql/00_staging/10_stg_events.sql",
               "SELECT c.* FROM staged.stg_subjects AS c\nJOIN stg_events AS e ON e.event_uid = c.event_uid AND "
               "e.extract_date = c.extract_date",
               "SELECT c.* FROM staged.stg_subjects AS c\nJOIN stg_events AS e ON e.event_uid = c.event_uid",
               "subjects of every version of an event"),
    TextMutant("warehouse/sql/90_evaluator/10_evaluator.sql",
               "\n              OR (unit = 'count' AND value < ibet_suppression_threshold())\n", "\n",
               "counts below 5 on a large basis published"),
    TextMutant("warehouse/sql/90_evaluator/10_evaluator.sql",
               "OR basis_count - numerator < ibet_suppression_threshold()", "",
               "a share whose complement is small published"),
    TextMutant("warehouse/sql/90_evaluator/10_evaluator.sql", "coalesce(basis_count < ibet_suppression_threshold(), FALSE)",
               "coalesce(basis_count <= ibet_suppression_threshold(), FALSE)", "basis of exactly 5 withheld"),
    TextMutant("warehouse/sql/90_evaluator/10_evaluator.sql", "(unit = 'count' AND value < ibet_suppression_threshold())",
               "(unit = 'count' AND value <= ibet_suppression_threshold())", "count of exactly 5 withheld"),
    TextMutant("warehouse/sql/90_evaluator/10_evaluator.sql", "coalesce(basis_count < ibet_suppression_threshold(), FALSE)",
               "coalesce(basis_count < ibet_suppression_threshold(), TRUE)", "no basis: withheld"),
    TextMutant("warehouse/sql/90_evaluator/10_evaluator.sql", "CASE WHEN hidden THEN NULL ELSE value END AS value",
               "value", "a withheld value still published"),
    TextMutant("warehouse/sql/90_evaluator/10_evaluator.sql",
               "CASE WHEN hidden THEN NULL ELSE basis_count END AS basis_count", "basis_count",
               "a withheld cell's basis still published"),
    TextMutant("warehouse/sql/90_evaluator/10_evaluator.sql", "hidden AS suppressed", "FALSE AS suppressed",
               "withheld cells not flagged"),
    TextMutant("warehouse/sql/90_evaluator/10_evaluator.sql",
               "CREATE OR REPLACE TABLE fact_finance AS SELECT * FROM work.fact_finance;",
               "CREATE OR REPLACE TABLE fact_finance AS SELECT * FROM work.fact_finance;\n"
               "CREATE OR REPLACE TABLE fact_events AS SELECT * FROM work.fact_events;",
               "event-level table copied into the evaluator file"),
    TextMutant("warehouse/audience_build.py", "ibet_suppression_threshold() AS {int(SUPPRESSION_THRESHOLD)}",
               "ibet_suppression_threshold() AS {int(SUPPRESSION_THRESHOLD) - 1}", "macro threshold off by one"),
]


@dataclass
class Outcome:
    module: str
    total: int = 0
    killed: int = 0
    survivors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return self.killed / self.total if self.total else 0.0


def scratch_copy() -> Path:
    """The tracked files of the repository (with local changes) in a temporary folder."""
    target = Path(tempfile.mkdtemp(prefix="ibet-mutation-")) / "repo"
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True,
                           text=True, check=True).stdout.split()
    for f in files:
        src = ROOT / f
        if src.is_file():
            (target / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, target / f)
    return target


def _env(repo: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(repo), "PYTHONDONTWRITEBYTECODE": "1"}


def _passes(repo: Path, tests: list[str], timeout: float) -> bool:
    try:
        done = subprocess.run([*PYTEST, *tests], cwd=repo, env=_env(repo), capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return False  # a mutant that hangs the tests is caught by their safety timeout
    return done.returncode == 0


def run_cosmic_ray(repo: Path, name: str, timeout: float) -> Outcome:
    module, tests = PYTHON_TARGETS[name]
    work = repo.parent / f"cr-{name}"
    work.mkdir()
    command = " ".join([*PYTEST, *(f"'{t}'" if " " in t else t for t in tests)])
    (work / "config.toml").write_text(
        f'[cosmic-ray]\nmodule-path = "{module}"\ntimeout = {timeout}\nexcluded-modules = []\n'
        f'test-command = "{command}"\n\n[cosmic-ray.distributor]\nname = "local"\n')
    started = time.monotonic()
    cr = str(Path(sys.executable).with_name("cosmic-ray"))
    session = work / "session.sqlite"
    subprocess.run([cr, "init", str(work / "config.toml"), str(session)], cwd=repo, env=_env(repo), check=True,
                   capture_output=True)
    subprocess.run([cr, "exec", str(work / "config.toml"), str(session)], cwd=repo, env=_env(repo), check=True,
                   capture_output=True)
    out = Outcome(name)
    con = sqlite3.connect(session)
    rows = con.execute("SELECT r.test_outcome, m.operator_name, m.start_pos_row, m.occurrence FROM work_results r "
                       "JOIN mutation_specs m USING (job_id)").fetchall()
    con.close()
    for outcome, operator, line, occurrence in rows:
        out.total += 1
        if outcome in ("killed", "TestOutcome.KILLED", "INCOMPETENT") or "KILLED" in str(outcome).upper():
            out.killed += 1
        else:
            out.survivors.append(f"{module}:{line} {operator.split('/')[-1]} (occurrence {occurrence})")
    out.seconds = time.monotonic() - started
    return out


def run_text_mutants(repo: Path, name: str, mutants: list[TextMutant], tests: list[str], timeout: float) -> Outcome:
    out = Outcome(name)
    started = time.monotonic()
    for m in mutants:
        path = repo / m.file
        original = path.read_text()
        if original.count(m.old) != 1:
            raise ValueError(f"mutant '{m.what}': the text to replace occurs {original.count(m.old)} times in {m.file}")
        path.write_text(original.replace(m.old, m.new))
        try:
            killed = not _passes(repo, tests, timeout)
        finally:
            path.write_text(original)
        out.total += 1
        out.killed += killed
        if not killed:
            out.survivors.append(f"{m.file}: {m.what}")
        print(f"  {'killed ' if killed else 'SURVIVED'} {m.file}: {m.what}", flush=True)
    out.seconds = time.monotonic() - started
    return out


def report(outcomes: list[Outcome]) -> str:
    lines = ["| module | mutants | killed | kill rate | survivors | seconds |", "|---|---|---|---|---|---|"]
    for o in outcomes:
        lines.append(f"| {o.module} | {o.total} | {o.killed} | {o.rate:.0%} | {len(o.survivors)} | {o.seconds:.0f} |")
    total = sum(o.total for o in outcomes)
    killed = sum(o.killed for o in outcomes)
    lines.append(f"| **all** | {total} | {killed} | {killed / total if total else 0:.0%} | {total - killed} | "
                 f"{sum(o.seconds for o in outcomes):.0f} |")
    for o in outcomes:
        if o.survivors:
            lines.append(f"\nSurvivors in {o.module}:")
            lines += [f"- {s}" for s in o.survivors]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default="privacy,validate,suppression,sql,publish",
                        help="comma-separated: privacy,validate,sql,publish")
    parser.add_argument("--timeout", type=float, default=600.0, help="safety timeout per test run, seconds")
    parser.add_argument("--json", type=Path, help="also write the outcomes as JSON here")
    args = parser.parse_args(argv)
    repo = scratch_copy()
    print(f"scratch copy: {repo}", flush=True)
    outcomes = []
    try:
        for name in args.only.split(","):
            print(f"mutating {name} …", flush=True)
            if name == "sql":
                outcomes.append(run_text_mutants(repo, "sql+audiences", SQL_MUTANTS, SQL_TESTS, args.timeout))
            else:
                outcomes.append(run_cosmic_ray(repo, name, args.timeout))
            print(report(outcomes[-1:]), flush=True)
    finally:
        shutil.rmtree(repo.parent, ignore_errors=True)
    print("\n" + report(outcomes))
    if args.json:
        args.json.write_text(json.dumps([o.__dict__ for o in outcomes], indent=1))


if __name__ == "__main__":
    main()
