"""Declared keys: keyed models are created with their keys and filled once; a key that does not
hold fails the build naming the table, never the value; ``apply`` keys what was copied in plain."""
from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from warehouse.constraints import ConstraintError, apply, run_models

PLANTED = "PLANTED-REGION-Z9"


def _model(tmp_path: Path, rows: str) -> Path:
    f = tmp_path / "10_dim_region.sql"
    f.write_text("-- a model as the warehouse writes them\n"
                 "CREATE OR REPLACE TABLE dim_region AS\n"
                 f"SELECT * FROM (VALUES {rows}) AS t(region_code, region_name) ORDER BY region_code DESC;\n"
                 "COMMENT ON TABLE dim_region IS 'Regions.';\n")
    return f


def _keys(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    return sorted(t for (t,) in con.execute("SELECT constraint_type FROM duckdb_constraints() WHERE table_name = ? "
                                            "AND constraint_type IN ('PRIMARY KEY', 'FOREIGN KEY')",
                                            [table]).fetchall())


def test_a_keyed_model_is_created_with_its_key_in_its_query_order(tmp_path):
    con = duckdb.connect(str(tmp_path / "t.duckdb"))
    run_models(con, [_model(tmp_path, "('R1', 'One'), ('R3', 'Three'), ('R2', 'Two')")], "t")
    assert _keys(con, "dim_region") == ["PRIMARY KEY"]
    assert [r for (r,) in con.execute("SELECT region_code FROM dim_region").fetchall()] == ["R3", "R2", "R1"]
    assert con.execute("SELECT comment FROM duckdb_tables() WHERE table_name = 'dim_region'").fetchall() == \
        [("Regions.",)]
    apply(con, "t")  # already keyed: left as it is, not copied a second time
    assert _keys(con, "dim_region") == ["PRIMARY KEY"]
    assert con.execute("SELECT count(*) FROM dim_region").fetchall() == [(3,)]


def test_a_duplicate_key_fails_naming_the_table_never_the_value(tmp_path):
    con = duckdb.connect(str(tmp_path / "t.duckdb"))
    with pytest.raises(ConstraintError) as err:
        run_models(con, [_model(tmp_path, f"('{PLANTED}', 'A'), ('{PLANTED}', 'B')")], "t")
    text = str(err.value)
    assert "dim_region" in text and "primary key" in text
    assert PLANTED not in text and err.value.__context__ is None and err.value.__cause__ is None


def test_apply_keys_a_table_copied_in_without_keys(tmp_path):
    con = duckdb.connect(str(tmp_path / "t.duckdb"))
    con.execute("CREATE TABLE dim_region AS SELECT 'R1' AS region_code, 'One' AS region_name")
    assert _keys(con, "dim_region") == []
    apply(con, "t")
    assert _keys(con, "dim_region") == ["PRIMARY KEY"]
    con.execute(f"CREATE OR REPLACE TABLE dim_region AS SELECT * FROM (VALUES ('{PLANTED}', 'a'), ('{PLANTED}', 'b')) "
                "t(region_code, region_name)")
    with pytest.raises(ConstraintError) as err:
        apply(con, "t")
    assert PLANTED not in str(err.value) and err.value.__context__ is None


def test_an_engine_error_in_a_model_names_its_file_in_both_runners(tmp_path):
    """The analysts' runner (keyed models) and the plain one report a broken model alike: the layer's file."""
    from warehouse.runner import SqlFileError, run_files

    bad = tmp_path / "20_fact_broken.sql"
    bad.write_text("CREATE OR REPLACE TABLE dim_region AS SELECT no_such_column FROM (VALUES (1)) t(x);\n")
    for run in (lambda con: run_models(con, [bad], "t"), lambda con: run_files(con, [bad])):
        con = duckdb.connect(str(tmp_path / "t.duckdb"))
        with pytest.raises(SqlFileError) as err:
            run(con)
        assert f"{tmp_path.name}/20_fact_broken.sql" in str(err.value) and "no_such_column" in str(err.value)
        con.close()


def test_every_file_lists_its_keys_and_the_engine_holds_only_the_engine_ones(published):
    """``meta_keys`` holds every declared key of a file's tables; DuckDB's constraints are exactly those marked
    ``engine`` (the event facts' are the gate's: no index on millions of rows), and the gate's integrity checks
    cover every one, however checked."""
    from foundation.settings import AUDIENCES
    from warehouse.build import published_path
    from warehouse.constraints import checks_sql, declared

    gate_checked = {t for t, spec in declared().items() if spec.get("keys_checked_by") == "gate"}
    assert {"fact_events", "fact_seizures", "fact_subject_sightings"} <= gate_checked
    for audience in AUDIENCES:
        con = duckdb.connect(str(published_path(published["settings"], audience)), read_only=True)
        shape = ("table_name, constraint_type, constraint_column_names, coalesce(referenced_table, ''), "
                 "coalesce(referenced_column_names, [])")
        listed = con.execute(f"SELECT {shape}, checked_by FROM meta_keys").fetchall()
        engine = con.execute(f"SELECT {shape} FROM duckdb_constraints() WHERE constraint_type IN "
                             "('PRIMARY KEY', 'FOREIGN KEY')").fetchall()
        present = {t for (t,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        con.close()
        assert sorted(engine) == sorted(k[:-1] for k in listed if k[-1] == "engine"), audience
        expected = {(t, "PRIMARY KEY", tuple(spec["primary_key"])) for t, spec in declared().items()
                    if t in present and spec.get("primary_key")}
        expected |= {(t, "FOREIGN KEY", (c,), *target.split(".")) for t, spec in declared().items() if t in present
                     for c, target in (spec.get("references") or {}).items() if target.split(".")[0] in present}
        assert {(t, kind, tuple(cols), *((rt, rc[0]) if rt else ())) for t, kind, cols, rt, rc, _ in listed} \
            == expected, audience
        assert {t for t, *_, by in listed if by == "gate"} == gate_checked & present, audience
        assert ("fact_events" in present) == ("fact_events" in gate_checked & present)  # analyst files hold them
        rules = checks_sql(present)
        for t, kind, cols, rt, rc, _ in listed:
            rule = f"'unique {', '.join(cols)}'" if kind == "PRIMARY KEY" else f"'{cols[0]} -> {rt}.{rc[0]}'"
            assert rule in rules, (audience, t, rule)


def test_an_unknown_checker_of_keys_is_refused():
    from warehouse.constraints import keys_checked_by

    assert keys_checked_by("t", {}) == "engine"
    with pytest.raises(ValueError, match="t.yml: keys_checked_by is 'nobody'"):
        keys_checked_by("t", {"keys_checked_by": "nobody"})
