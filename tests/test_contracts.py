"""The contracts are the single source of truth: every column classed, every class honoured."""
from __future__ import annotations

import datetime as dt

import pytest

from contracts.base import FREE_TEXT, IDENTIFIER, PRIVACY_CLASSES, describe_markdown, privacy_of
from foundation.registry import AGENCIES, sources
from transforms.canonical import PSEUDONYM_COLUMNS, TABLES
from transforms.pipelines import pipeline


@pytest.mark.parametrize("source", sources(), ids=lambda s: s.name)
def test_every_column_has_a_privacy_class(source):
    contract = pipeline(source.name).contract
    assert contract.levels
    for level, sch in contract.levels.items():
        classes = privacy_of(sch)
        assert classes, level
        unclassed = [c for c, p in classes.items() if p not in PRIVACY_CLASSES]
        assert not unclassed, f"{source.name}.{level}: no privacy class for {unclassed}"


def test_identifiers_and_free_text_of_the_icd_are_classed_as_such():
    expected = {"rcmp": {"subject_surname", "subject_given_names", "subject_dob", "licence_plate", "narrative"},
                "cbp": {"subject_name", "dob", "a_number", "passport_no", "remarks"},
                "cbsa": {"family_name", "given_name", "birth_date", "doc_number", "conveyance_plate", "officer_notes"},
                "ice": {"name", "dob", "passport_no", "summary"},
                "uscg": {"vessel_hin", "master_name", "master_dob", "narrative"}}
    for s in sources():
        if s.name not in expected:
            continue
        sensitive = {c for sch in pipeline(s.name).contract.levels.values()
                     for c, p in privacy_of(sch).items() if p in (IDENTIFIER, FREE_TEXT)}
        assert sensitive == expected[s.name], s.name


def test_no_sensitive_column_name_in_canonical_model():
    canonical = {c for cols in TABLES.values() for c, _ in cols}
    sensitive = {c for s in sources() for sch in pipeline(s.name).contract.levels.values()
                 for c, p in privacy_of(sch).items() if p in (IDENTIFIER, FREE_TEXT)}
    assert not canonical & sensitive
    assert set(PSEUDONYM_COLUMNS) <= canonical


def test_contract_docs_show_classes():
    md = describe_markdown(pipeline(AGENCIES["cbsa"].sources[0].name).contract)
    assert "| family_name | String | identifier → person_key |" in md
    assert "free_text" in md


def test_registry_file_names():
    rcmp = AGENCIES["rcmp"].sources[0]
    assert rcmp.match("RCMP_IBET_OCC_20261103.csv") == "2026-11-03"
    assert rcmp.match("RCMP_IBET_OCC_20261340.csv") is None
    assert AGENCIES["program"].sources[0].match("finance_2006-07.csv") == "2006-07"
    import datetime as dt
    assert AGENCIES["cbsa"].sources[0].filename_for(dt.date(2026, 1, 2)) == "cbsa_enforcement_2026-01-02.jsonl"


def test_quarantine_keeps_failing_values_of_operational_columns_only():
    """A bad occurrence type is kept (it helps the agency fix its feed); a bad date of birth, a bad
    citizenship or a bad plate jurisdiction next to a plate is a person's data: reason only, no value."""
    import polars as pl

    from contracts.rcmp import CONTRACT
    from contracts.validate import validate
    from contracts.readers import ROW

    good = {c: None for c in CONTRACT.levels["occurrences"].columns}
    good.update(occurrence_id="2026-000001", reported_local="2026-11-03 10:00", detachment_tz="America/Toronto",
                detachment="Lacolle", occurrence_type="DRUG", intel_led="N", caveat="REL_IBET")
    rows = [dict(good), dict(good, occurrence_id="2026-000002", subject_dob="03.12.1971"),
            dict(good, occurrence_id="2026-000003", subject_citizenship="Qxzzkmw"),
            dict(good, occurrence_id="2026-000004", occurrence_type="SMUGGLING_X")]
    df = pl.DataFrame(rows, schema={c: pl.Utf8 for c in good}).with_row_index(ROW, offset=1).with_columns(
        pl.col(ROW).cast(pl.Int64))
    v = validate(CONTRACT, {"occurrences": df})
    q = {r["source_id"]: r for r in v.quarantine.to_dicts()}
    assert set(q) == {"2026-000002", "2026-000003", "2026-000004"} and v.loaded == {"occurrences": 1}
    assert q["2026-000004"]["operational_values"] == "occurrence_type=SMUGGLING_X"
    for sid, column in (("2026-000002", "subject_dob"), ("2026-000003", "subject_citizenship")):
        assert q[sid]["columns"] == column and column in q[sid]["reason"]
        assert not q[sid]["operational_values"]  # neither the value nor the column=value pair
    text = str(v.quarantine.to_dicts())
    assert "1971" not in text and "Qxzzkmw" not in text


def _rcmp_frame(rows: list[dict]):
    import polars as pl

    from contracts.rcmp import CONTRACT
    from contracts.readers import ROW

    good = {c: None for c in CONTRACT.levels["occurrences"].columns}
    good.update(occurrence_id="2026-000001", reported_local="2026-11-03 10:00", detachment_tz="America/Toronto",
                detachment="Lacolle", occurrence_type="DRUG", intel_led="N", caveat="REL_IBET")
    data = [dict(good, occurrence_id=f"2026-{i + 1:06d}", **r) for i, r in enumerate(rows)]
    return pl.DataFrame(data, schema={c: pl.Utf8 for c in good}).with_row_index(ROW, offset=1).with_columns(
        pl.col(ROW).cast(pl.Int64))


def test_missing_columns_are_named_with_their_level_when_a_file_has_several():
    import polars as pl

    from contracts.cbsa import CONTRACT as CBSA
    from contracts.rcmp import CONTRACT as RCMP
    from contracts.validate import missing_columns

    rcmp = _rcmp_frame([{}]).drop("caveat", "detachment")
    assert missing_columns(RCMP, {"occurrences": rcmp}) == ["detachment", "caveat"]
    frames = {lvl: pl.DataFrame(schema={c: pl.Utf8 for c in sch.columns}) for lvl, sch in CBSA.levels.items()}
    frames["persons"] = frames["persons"].drop("sex")
    assert missing_columns(CBSA, frames) == ["persons.sex"]
    assert missing_columns(CBSA, {lvl: pl.DataFrame(schema={c: pl.Utf8 for c in sch.columns})
                                  for lvl, sch in CBSA.levels.items()}) == []


def test_a_column_of_the_wrong_type_rejects_the_whole_file_naming_it():
    import polars as pl

    from contracts.cbsa import CONTRACT
    from contracts.validate import validate
    from contracts.readers import PARENT, ROW, RejectedFile

    events = pl.DataFrame([{c: None for c in CONTRACT.levels["events"].columns}],
                          schema={c: pl.Utf8 for c in CONTRACT.levels["events"].columns}).with_columns(
        pl.lit(1, pl.Int64).alias(ROW))
    kids = {lvl: pl.DataFrame(schema={**{c: sch.columns[c].dtype.type for c in sch.columns}, ROW: pl.Int64,
                                      PARENT: pl.Int64}) for lvl, sch in CONTRACT.levels.items() if lvl != "events"}
    with pytest.raises(RejectedFile) as rejected:
        validate(CONTRACT, {"events": events, **kids})
    assert rejected.value.reason == ("events: column between_ports fails dtype('Boolean') "
                                     "(wrong type or structure for the whole file)")


def test_quarantine_lists_failures_in_column_order_keeps_only_code_like_values_in_record_order():
    from contracts.rcmp import CONTRACT
    from contracts.validate import validate

    long_code = "X" * 100
    df = _rcmp_frame([{"occurrence_type": long_code}, {},
                      {"detachment_tz": "Mars/Base", "occurrence_type": "Z", "intel_led": "maybe", "seizure_unit": "lb",
                       "caveat": "SECRET"},
                      {"intel_led": "?"}])
    v = validate(CONTRACT, {"occurrences": df})
    q = v.quarantine.to_dicts()
    assert [r["record"] for r in q] == [1, 3, 4]  # in file order
    assert q[0]["operational_values"] == ""  # 100 characters: not a code, not kept
    assert q[1]["columns"] == "detachment_tz;occurrence_type;intel_led;seizure_unit;caveat"
    assert q[1]["checks"].count(";") == 4 and q[1]["reason"].startswith("detachment_tz: not one of")


def test_children_of_a_quarantined_record_follow_it_in_record_order():
    import polars as pl

    from contracts.ice import CONTRACT
    from contracts.validate import validate
    from contracts.readers import PARENT, ROW

    cases = pl.DataFrame({
        "case_number": ["HSI-1", "HSI-2", "HSI-3"], "opened_on": [dt.date(2026, 1, 1)] * 3,
        "updated_at": [dt.datetime(2026, 11, 3, tzinfo=dt.timezone.utc)] * 3, "category": ["NARCOTICS", "BAD", "BAD"],
        "status": ["OPEN"] * 3, "best_team": [True] * 3, "ibet_region": [None] * 3, "arrests": [0] * 3,
        "seized_usd": [0.0] * 3, "partner_agencies": [""] * 3, "summary": [None] * 3, "caveat": ["REL_IBET"] * 3,
    }, schema_overrides={"ibet_region": pl.Utf8, "summary": pl.Utf8,
                         "updated_at": pl.Datetime("us", "UTC")}).with_row_index(ROW, offset=1).with_columns(
        pl.col(ROW).cast(pl.Int64))
    subjects = pl.DataFrame({PARENT: [2, 1, 2, 0, 1], ROW: [1, 1, 2, 1, 2], "name": ["a"] * 5,
                             "dob": [dt.date(1970, 1, 1)] * 5, "passport_no": [None] * 5, "nationality": ["CAN"] * 5},
                            schema_overrides={"passport_no": pl.Utf8})
    v = validate(CONTRACT, {"cases": cases, "subjects": subjects})
    kids = [r for r in v.quarantine.to_dicts() if r["level"] == "subjects"]
    assert [(r["parent_record"], r["record"]) for r in kids] == [(3, 1), (2, 1), (3, 2), (2, 2)]
    assert all(r["checks"] == "parent_quarantined" for r in kids) and v.loaded == {"cases": 1, "subjects": 1}


def test_counted_goods_are_whole_numbers():
    """2.5 firearms is an error (quarantined, with the reason); 2.5 kg of cocaine is not."""
    from contracts.rcmp import CONTRACT
    from contracts.validate import validate

    seized = dict(seizure_commodity="FIREARMS", seizure_unit="units")
    df = _rcmp_frame([dict(seized, seizure_quantity="3"), dict(seized, seizure_quantity="2.5"),
                      dict(seizure_commodity="COCAINE", seizure_unit="kg", seizure_quantity="2.5")])
    v = validate(CONTRACT, {"occurrences": df})
    q = v.quarantine.to_dicts()
    assert v.loaded == {"occurrences": 2} and [r["source_id"] for r in q] == ["2026-000002"]
    assert q[0]["columns"] == "seizure_quantity" and "whole number" in q[0]["reason"]


def test_every_registry_source_has_exactly_one_pipeline():
    """The registry (files) and the pipelines (contract, reader, normalizer objects) name the same sources."""
    from transforms.pipelines import PIPELINES

    assert sorted(PIPELINES) == sorted(s.name for s in sources())
    for name, p in PIPELINES.items():
        assert p.contract.levels and callable(p.read) and callable(p.canonical), name
    with pytest.raises(KeyError, match="no pipeline for source 'nope'"):
        pipeline("nope")


def test_a_quasi_identifier_from_a_fixed_list_never_keeps_its_failing_value():
    """A code list does not make a column operational: a bad gender code is quarantined without its value
    (only operational columns keep a failing code)."""
    from contracts.rcmp import CONTRACT
    from contracts.validate import validate

    v = validate(CONTRACT, {"occurrences": _rcmp_frame([{"subject_gender": "ZQ"}, {"occurrence_type": "ZQX"}])})
    q = {r["source_id"]: r for r in v.quarantine.to_dicts()}
    assert "subject_gender" in q["2026-000001"]["columns"] and not q["2026-000001"]["operational_values"]
    assert q["2026-000002"]["operational_values"] == "occurrence_type=ZQX"


def test_missing_columns_of_a_two_level_file_are_named_with_their_level():
    import polars as pl

    from contracts.ice import CONTRACT as ICE
    from contracts.validate import missing_columns

    frames = {lvl: pl.DataFrame(schema={c: pl.Utf8 for c in sch.columns}) for lvl, sch in ICE.levels.items()}
    child = [lvl for lvl in ICE.levels if lvl != ICE.top][0]
    dropped = list(ICE.levels[child].columns)[-1]
    frames[child] = frames[child].drop(dropped)
    assert missing_columns(ICE, frames) == [f"{child}.{dropped}"]


def test_a_record_moved_to_quarantine_after_validation_takes_its_children(tmp_path):
    """CBSA events with persons and goods: moving an event to quarantine (the transform failed on it) marks
    it 'normalization' with the reason and each of its children 'parent_quarantined'; counts follow."""
    import datetime as dt

    import polars as pl

    from contracts.validate import validate
    from ibet.generator import generate

    generate(tmp_path, dt.date(2026, 11, 3), 1, 30, seed=3, dirty_rate=0.0, agencies_=["cbsa"])
    path = next((tmp_path / "cbsa").glob("*.jsonl"))
    p = pipeline("cbsa")
    v = validate(p.contract, p.read(path))
    events = v.valid["events"]
    with_kids = events.join(v.valid["persons"].select(pl.col("_parent").alias("_pos")).unique(), on="_pos")
    victim = int(with_kids["_pos"][0])
    kids = {lvl: v.valid[lvl].filter(pl.col("_parent") == victim).height for lvl in ("persons", "goods")}
    before = {lvl: (v.loaded[lvl], v.quarantined[lvl]) for lvl in v.loaded}
    v.move_to_quarantine(p.contract, [victim], "record could not be normalized (X)")
    q = v.quarantine
    top = q.filter(pl.col("level") == "events")
    assert top.select("checks", "reason").rows() == [("normalization", "record could not be normalized (X)")]
    for lvl, n in kids.items():
        rows = q.filter(pl.col("level") == lvl)
        assert rows.height == n and set(rows["checks"]) <= {"parent_quarantined"}
        assert set(rows["reason"]) <= {"events record quarantined"}
        assert v.loaded[lvl] == before[lvl][0] - n and v.quarantined[lvl] == before[lvl][1] + n
        assert v.valid[lvl].filter(pl.col("_parent") == victim).height == 0
    assert v.loaded["events"] == before["events"][0] - 1 and kids["persons"] >= 1
    assert victim not in v.valid["events"]["_pos"].to_list()


def test_validating_a_file_loads_neither_pandas_nor_pandera_pandas_api(tmp_path):
    """The contracts validate polars frames: an ingest process must not pay for pandas' import."""
    import subprocess
    import sys

    from ibet.generator import generate

    generate(tmp_path / "in", dt.date(2026, 10, 1), 1, 50, seed=5, dirty_rate=0.2, agencies_=["rcmp"])
    f = next((tmp_path / "in" / "rcmp").glob("*.csv"))
    code = ("import sys\n"
            "from transforms.pipelines import pipeline\n"
            "from contracts.validate import validate\n"
            f"p = pipeline('rcmp')\n"
            f"raw = p.read({str(f)!r})\n"
            "v = validate(p.contract, raw)\n"
            "print(v.quarantine.height, sum(v.loaded.values()), 'pandas' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    quarantined, loaded, pandas_loaded = out.stdout.split()
    assert int(quarantined) > 0 and int(loaded) > 0  # the checks ran, failures were collected by pandera
    assert pandas_loaded == "False"


def test_the_ingest_command_loads_no_pandas_and_pyarrow_still_converts_to_it(tmp_path):
    """``ibet ingest`` is a process that only ingests: pyarrow's conversions do not import pandas to ask
    whether a value is a pandas object (0.3 s of its start-up), and in such a process ``to_pandas`` still
    imports pandas when something does call it."""
    import json
    import secrets
    import subprocess
    import sys

    from ibet.generator import generate

    generate(tmp_path / "in", dt.date(2026, 10, 1), 1, 50, seed=5, dirty_rate=0.2, agencies_=["rcmp"])
    f = next((tmp_path / "in" / "rcmp").glob("*.csv"))
    code = ("import runpy, sys, json\n"
            f"sys.argv = ['ibet', 'ingest', 'rcmp', {str(f)!r}, '--format', 'json']\n"
            "try:\n"
            "    runpy.run_module('ibet.cli', run_name='__main__')\n"
            "except SystemExit as e:\n"
            "    code = e.code\n"
            "loaded = 'pandas' in sys.modules\n"
            "import pyarrow as pa\n"
            "df = pa.table({'a': [1, 2]}).to_pandas()\n"
            "print(json.dumps({'code': code, 'pandas_during_ingest': loaded, 'to_pandas': int(df['a'].sum())}))\n")
    env = {**__import__("os").environ, "IBET_HOME": str(tmp_path / "home"), "IBET_PSEUDONYM_KEY": secrets.token_hex(32)}
    subprocess.run([sys.executable, "-m", "ibet.cli", "init", str(tmp_path / "home"), "--no-key"], env=env,
                   check=True, capture_output=True, timeout=300)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    lines = out.stdout.strip().splitlines()
    ingest, report = json.loads("\n".join(lines[:-1])), json.loads(lines[-1])
    assert ingest["status"] == "loaded" and ingest["rows_loaded"] > 0 and ingest["rows_quarantined"] > 0
    assert report["code"] in (0, None) and report["pandas_during_ingest"] is False
    assert report["to_pandas"] == 3
