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

from ibet.benchmarks.equivalents import declared_reason
from ibet.benchmarks.sql_mutants import SQL_MUTANTS, TextMutant

ROOT = Path(__file__).resolve().parents[2]
PYTEST = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:randomly", "-p", "no:cacheprovider"]

#: module -> (file, tests that guard it)
PYTHON_TARGETS: dict[str, tuple[str, list[str]]] = {
    "privacy": ("foundation/privacy.py", ["tests/test_privacy.py", "tests/test_linkage.py", "-k", "not pads",
                                    "tests/test_ingest_generated.py::test_linkage_one_pseudonym_per_person_across_agencies",
                                    "tests/test_ingest_generated.py::test_pseudonyms_are_64_hex"]),
    "validate": ("contracts/validate.py", ["tests/test_contracts.py", "tests/test_malformed.py",
                                          "tests/test_hostile_values.py", "tests/test_ingest_generated.py"]),
    # the synthetic cubes (seconds); the attack on a whole published warehouse stays in make test
    "suppression": ("warehouse/suppression.py", ["tests/test_suppression_cube.py", "tests/test_disclosure.py",
                                                 "-k", "not published_evaluator_file"]),
    # hand-made build directories (seconds); the slow tests below run on the survivors only
    "publish": ("warehouse/publish.py", ["tests/test_publish_unit.py"]),
}
#: Slower tests that guard a module too: run only on the mutants its fast tests let through (a mutant is
#: killed when any guarding test fails, so the order changes the time, never the result).
SLOW_TESTS: dict[str, list[str]] = {
    "publish": ["tests/test_publish.py", "-k", "not two_builds and not need_to_know",
                "tests/test_warehouse_generated.py::test_publish_under_a_connected_reader_that_reads_after_the_switch"],
}
SQL_TESTS = ["tests/test_warehouse_marts.py"]

#: Equivalence probes: a program printing everything a module lets the rest of the system see. A
#: surviving mutant whose probe prints the same as the original's changes nothing observable: it
#: is *equivalent* (no test can kill it) and is counted apart, named in the report, never hidden.
#: privacy: every statement ``install_macros`` sends to DuckDB for a fixed key (the pads, the
#: transliteration and look-alike tables, every macro) is the module's whole effect.
PROBES: dict[str, str] = {
    "privacy": (
        "import hashlib\n"
        "from foundation import privacy\n"
        "class Recorder:\n"
        "    def __init__(self): self.sql = []\n"
        "    def execute(self, q, *a): self.sql.append(q)\n"
        "for key in (b'k' * 32, b'x' * 80):\n"
        "    r = Recorder(); privacy.install_macros(r, key)\n"
        "    print(hashlib.sha256('\\n'.join(r.sql).encode()).hexdigest())\n"
        "print(privacy.PARTICLES)\n"),
}


@dataclass
class Outcome:
    module: str
    total: int = 0
    killed: int = 0
    equivalent: list[str] = field(default_factory=list)
    survivors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        """Killed over the mutants that could be killed (equivalent ones change nothing observable)."""
        killable = self.total - len(self.equivalent)
        return self.killed / killable if killable else 0.0


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
    rows = con.execute("SELECT r.test_outcome, m.operator_name, m.start_pos_row, m.occurrence, m.start_pos_col "
                       "FROM work_results r "
                       "JOIN mutation_specs m USING (job_id)").fetchall()
    con.close()
    baseline = _probe(repo, name)
    annotations = annotation_spans((repo / module).read_text())
    source = (repo / module).read_text().splitlines()
    for outcome, operator, line, occurrence, col in rows:
        out.total += 1
        label = f"{module}:{line} {operator.split('/')[-1]} (occurrence {occurrence})"
        if outcome in ("killed", "TestOutcome.KILLED", "INCOMPETENT") or "KILLED" in str(outcome).upper():
            out.killed += 1
        elif any(span[0] <= (line, col) < span[1] for span in annotations):
            out.equivalent.append(label + ": inside a type annotation (never evaluated: PEP 563)")
        elif declared_reason(module, source, line, operator.split("/")[-1]):
            out.equivalent.append(f"{label}: declared, {declared_reason(module, source, line, operator.split('/')[-1])}")
        elif baseline is not None and _probe(repo, name, (module, operator, occurrence)) == baseline:
            out.equivalent.append(label)
        elif name in SLOW_TESTS and _killed_by_slow_tests(repo, name, (module, operator, occurrence), timeout):
            out.killed += 1
        else:
            out.survivors.append(label)
    out.seconds = time.monotonic() - started
    return out


def _killed_by_slow_tests(repo: Path, name: str, mutant: tuple[str, str, int], timeout: float) -> bool:
    """Apply ``mutant``, run the module's slow tests, undo it: True when they fail."""
    path = repo / PYTHON_TARGETS[name][0]
    original = path.read_text()
    try:
        cr = str(Path(sys.executable).with_name("cosmic-ray"))
        subprocess.run([cr, "apply", mutant[0], mutant[1], str(mutant[2])], cwd=repo, env=_env(repo), check=True,
                       capture_output=True)
        return not _passes(repo, SLOW_TESTS[name], timeout)
    finally:
        path.write_text(original)


def annotation_spans(source: str) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """(start, end) of every annotation, when the module has ``from __future__ import annotations``: such
    annotations are strings never evaluated, so a mutant inside one changes nothing (equivalent)."""
    import ast

    tree = ast.parse(source)
    if not any(isinstance(n, ast.ImportFrom) and n.module == "__future__" and any(a.name == "annotations"
                                                                                  for a in n.names)
               for n in tree.body):
        return []
    spans = []
    for node in ast.walk(tree):
        found = []
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.returns is not None:
            found.append(node.returns)
        if isinstance(node, ast.arg) and node.annotation is not None:
            found.append(node.annotation)
        if isinstance(node, ast.AnnAssign):
            found.append(node.annotation)
        spans += [((a.lineno, a.col_offset), (a.end_lineno, a.end_col_offset)) for a in found]
    return spans


def _probe(repo: Path, name: str, mutant: tuple[str, str, int] | None = None) -> str | None:
    """What the module's probe prints, with ``mutant`` applied (then undone); None without a probe."""
    if name not in PROBES:
        return None
    path = repo / PYTHON_TARGETS[name][0]
    original = path.read_text()
    try:
        if mutant is not None:
            cr = str(Path(sys.executable).with_name("cosmic-ray"))
            subprocess.run([cr, "apply", mutant[0], mutant[1], str(mutant[2])], cwd=repo, env=_env(repo), check=True,
                           capture_output=True)
        done = subprocess.run([sys.executable, "-c", PROBES[name]], cwd=repo, env=_env(repo), capture_output=True,
                              text=True, timeout=300)
        return done.stdout if done.returncode == 0 else f"failed: {done.returncode}"
    finally:
        path.write_text(original)


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
    lines = ["| module | mutants | killed | equivalent | kill rate | survivors | seconds |",
             "|---|---|---|---|---|---|---|"]
    for o in outcomes:
        lines.append(f"| {o.module} | {o.total} | {o.killed} | {len(o.equivalent)} | {o.rate:.0%} | "
                     f"{len(o.survivors)} | {o.seconds:.0f} |")
    total = sum(o.total for o in outcomes)
    killed = sum(o.killed for o in outcomes)
    equivalent = sum(len(o.equivalent) for o in outcomes)
    killable = total - equivalent
    lines.append(f"| **all** | {total} | {killed} | {equivalent} | {killed / killable if killable else 0:.0%} | "
                 f"{killable - killed} | {sum(o.seconds for o in outcomes):.0f} |")
    for o in outcomes:
        if o.survivors:
            lines.append(f"\nSurvivors in {o.module}:")
            lines += [f"- {s}" for s in o.survivors]
        if o.equivalent:
            lines.append(f"\nEquivalent in {o.module} (its probe prints the same as the original's):")
            lines += [f"- {s}" for s in o.equivalent]
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
