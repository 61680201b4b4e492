"""Commands that set a home up: init, config, keygen, generate, contracts."""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Optional

import typer

from ibet.cli.common import Exit, console, err, fail, home, say


def init(
    path: Annotated[Optional[Path], typer.Argument(help="Where to create the home (default: IBET_HOME or ./var).")]
    = None,
    dags_start: Annotated[Optional[str], typer.Option(help="First extract date the DAGs schedule (YYYY-MM-DD), "
                                                           "recorded in the home's ibet.env.")] = None,
    key: Annotated[bool, typer.Option(help="Create the pseudonymization key file when none is configured.")] = True,
) -> None:
    """Create an IBET home on purpose: folders, its ibet.env settings file and (by default) the key."""
    from foundation.keys import MissingKeyError, create_key, load_key
    from foundation.settings import SettingsError, init_home

    overrides = {"dags_start": dags_start} if dags_start else {}
    try:
        settings = init_home(path, overrides)
    except SettingsError as exc:
        fail(str(exc), Exit.CONFIG)
    say(f"IBET home ready at {settings.home} (settings: {settings.env_file})")
    if key:
        try:
            load_key(settings)
        except MissingKeyError:
            say(f"key written to {create_key(settings)} (mode 0600)")
    if path is not None:
        say(f"use it with: export IBET_HOME={settings.home}")


def config() -> None:
    """Every IBET_* option: its value in this home, where the value comes from, and what it does."""
    import os

    from rich.table import Table

    from foundation.settings import Options

    settings = home()
    opts = settings.options
    file_keys = {ln.split("=", 1)[0].strip() for ln in settings.env_file.read_text().splitlines()
                 if "=" in ln and not ln.lstrip().startswith("#")} if settings.env_file.is_file() else set()
    t = Table(title=f"settings of {settings.home}")
    for c in ("variable", "value", "from", "meaning"):
        t.add_column(c, overflow="fold")
    for name, field in Options.model_fields.items():
        var = f"IBET_{name.upper()}"
        source = "environment" if var in os.environ else ("ibet.env" if var in file_keys else "default")
        t.add_row(var, str(getattr(opts, name)), source, field.description or "")
    console.print(t)


def keygen(
    force: Annotated[bool, typer.Option(help="Replace an existing key (every pseudonym changes).")] = False,
    rotate: Annotated[bool, typer.Option("--rotate", help="Retire the key (kept sealed, 0400), make a new one, "
                                                          "re-key what the inbox still holds, and say what could "
                                                          "not be re-keyed.")] = False,
) -> None:
    """Create the pseudonymization key file under IBET_HOME/keys (mode 0600), or rotate it."""
    from foundation.keys import KeyRotationError, create_key, rotate_key

    settings = home().ensure()
    if rotate:
        try:
            old_id, new_id, sealed = rotate_key(settings)
        except KeyRotationError as exc:
            fail(str(exc), Exit.NO_KEY)
        say(f"key {old_id} retired (sealed in {sealed}, mode 0400); new key {new_id}")
        _rekey(settings, old_id)
        return
    try:
        path = create_key(settings, force=force)
    except FileExistsError as exc:
        err.print(f"[yellow]{exc}[/yellow]")
        raise typer.Exit(int(Exit.FAILED)) from None
    say(f"key written to {path} (mode 0600)")


def _rekey(settings, old_id: str) -> None:  # noqa: ANN001
    """Re-ingest every raw file the inbox still holds under the new key; list the partitions left behind."""
    from foundation.keys import load_key
    from foundation.registry import sources
    from ibet.ingest import ingest_file
    from ibet.retention import expired_partitions

    key = load_key(settings)
    todo = sorted((s.match(f.name), s.agency, f) for s in sources()
                  for f in (settings.inbox / s.agency).glob(s.file_glob) if s.match(f.name) is not None)
    done = [ingest_file(agency, f, settings=settings, key=key) for _, agency, f in todo]
    say(f"re-keyed {sum(r.ok for r in done):,} of {len(done):,} inbox files under the new key")
    import datetime as dt

    left = expired_partitions(settings, dt.datetime.now(dt.timezone.utc), key_id=old_id)
    if left:
        say(f"[yellow]{len(left):,} lake partitions are still under key {old_id} (their raw files are past "
            f"retention): the warehouse cannot build with two keys. Remove them with "
            f"`ibet purge --key-id {old_id}` (the retired key stays sealed for linking), then `ibet build "
            f"--full`.[/yellow]")
    else:
        say("every lake partition is under the new key: run `ibet build --full`")


def generate(
    out: Annotated[Optional[Path], typer.Option(help="Folder to write into (default IBET_HOME/inbox).")] = None,
    start: Annotated[str, typer.Option(help="First extract date, YYYY-MM-DD.")] = "2026-11-02",
    days: Annotated[int, typer.Option(min=1)] = 7,
    rows_per_day: Annotated[int, typer.Option(min=1, help="Records per agency per day.")] = 500,
    seed: int = 42,
    dirty_rate: Annotated[float, typer.Option(min=0.0, max=0.5, help="Share of records corrupted on purpose.")]
    = 0.02,
) -> None:
    """Write synthetic partner extracts exactly as the ICD says, with a ground-truth manifest."""
    from ibet.generator import GROUND_TRUTH
    from ibet.generator import generate as run

    target = out or home().inbox
    try:
        first = dt.date.fromisoformat(start)
    except ValueError:
        fail(f"--start {start!r} is not a YYYY-MM-DD date", Exit.USAGE)
    with console.status("generating…") as status:
        truth = run(target, first, days, rows_per_day, seed, dirty_rate,
                    progress=lambda f: status.update(f"generating {f}"))
    say(f"{len(truth['files'])} files written under {target}; ground truth in {target / GROUND_TRUTH}")


def contracts(
    source: Annotated[Optional[str], typer.Argument(help="Source name; all when omitted.")] = None,
    write: Annotated[Optional[Path], typer.Option("--write", help="Write one <source>.md per contract into this "
                                                  "folder (the DAG docs shown in the Airflow UI).")] = None,
) -> None:
    """Print the data contracts (columns, types, privacy classes, rules) as Markdown."""
    from contracts.base import describe_markdown
    from foundation.registry import sources
    from transforms.pipelines import pipeline

    known = [s.name for s in sources()]
    if source is not None and source not in known:
        fail(f"unknown source {source!r}; known: {', '.join(known)}", Exit.USAGE)
    for s in sources():
        if source in (None, s.name):
            text = describe_markdown(pipeline(s.name).contract)
            if write is not None:
                write.mkdir(parents=True, exist_ok=True)
                (write / f"{s.name}.md").write_text(text)
                say(f"wrote {write / f'{s.name}.md'}")
            else:
                typer.echo(f"## {s.title} (`{s.agency}/{s.file_glob}`)\n")
                typer.echo(text)
