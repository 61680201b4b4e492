"""Keyed pseudonyms: equal to Python's HMAC, normalized, keyed, refused without a key."""
from __future__ import annotations

import hashlib
import hmac
import os
import stat
import subprocess
import sys

import pytest

from foundation import privacy
from foundation.keys import MissingKeyError, create_key, load_key
from foundation.settings import get_settings
from tests.leakscan import text_of
from transforms.common import register_reference

KEY = bytes(range(32))


def _one(sql: str, key: bytes = KEY):
    con = privacy.connect(key)
    register_reference(con)
    return con.sql(sql).fetchall()[0][0]


def test_duckdb_hmac_equals_python_hmac():
    expected = hmac.new(KEY, b"PERSON|GAGNE|HELENE|1980-02-03", hashlib.sha256).hexdigest()
    assert _one("SELECT ibet_hmac('PERSON', 'GAGNE|HELENE|1980-02-03')") == expected


def test_a_missing_value_has_no_pseudonym():
    """NULL in, NULL out, for every pseudonym (the macros rely on NULL propagating, not on a CASE)."""
    assert _one("SELECT ibet_hmac('PERSON', NULL::VARCHAR)") is None
    assert _one("SELECT ibet_person(NULL, 'Helene', DATE '1980-02-03')") is None
    assert _one("SELECT ibet_person('Gagne', 'Helene', NULL)") is None
    assert _one("SELECT ibet_document('CAN', NULL)") is None and _one("SELECT ibet_plate('ON', '--')") is None
    assert _one("SELECT ibet_hmac('ANUMBER', ibet_norm(' '))") is None
    assert _one("SELECT ibet_document(NULL, 'AB123')") is not None  # an unknown issuer still keys the number


@pytest.mark.parametrize("length", [32, 63, 64, 65, 100])
def test_duckdb_hmac_equals_python_hmac_for_any_key_length(length):
    """RFC 2104: keys longer than the block (64 bytes) are hashed first, shorter ones padded."""
    key = bytes((i * 7 + 3) % 256 for i in range(length))
    expected = hmac.new(key, b"PLATE|ABC123", hashlib.sha256).hexdigest()
    assert _one("SELECT ibet_hmac('PLATE', 'ABC123')", key=key) == expected


def test_one_person_one_key_across_spellings():
    rcmp = _one("SELECT ibet_person('Gagné', 'Hélène Marie', DATE '1980-02-03')")
    cbp = _one("SELECT ibet_person(ibet_surname('GAGNE, HELENE MARIE'), ibet_given('GAGNE, HELENE MARIE'), "
               "DATE '1980-02-03')")
    uscg = _one("SELECT ibet_person(ibet_surname('Hélène Gagné'), ibet_given('Hélène Gagné'), DATE '1980-02-03')")
    other = _one("SELECT ibet_person('Gagné', 'Hélène', DATE '1980-02-04')")
    assert rcmp == cbp == uscg != other
    assert _one("SELECT ibet_norm('O''Brien-St. Pierre ')") == "OBRIENSTPIERRE"


def test_documents_normalized_and_domains_separate():
    a = _one("SELECT ibet_hmac('DOCUMENT', ibet_norm('ab 123456'))")
    b = _one("SELECT ibet_hmac('DOCUMENT', ibet_norm('AB-123456'))")
    c = _one("SELECT ibet_hmac('PLATE', ibet_norm('AB123456'))")
    assert a == b != c
    assert _one("SELECT ibet_hmac('PLATE', ibet_norm(NULL))") is None


def test_identifiers_that_differ_only_in_digits_never_collide():
    """Normalization removes punctuation and spaces, never digits: two A-numbers, passports or plates that
    differ only in their digits are two different people or vehicles."""
    pairs = {"ANUMBER": ("A123456789", "A987654321"), "DOCUMENT": ("AB123456", "AB654321"),
             "PLATE": ("ABC 123", "ABC 456"), "VESSEL": ("XYZ123456789", "XYZ123456780")}
    for domain, (a, b) in pairs.items():
        ka = _one(f"SELECT ibet_hmac('{domain}', ibet_norm('{a}'))")
        kb = _one(f"SELECT ibet_hmac('{domain}', ibet_norm('{b}'))")
        assert ka != kb, domain
    assert _one("SELECT ibet_norm('a-123 456 789')") == "A123456789"
    # the same person born on another day is another person; the digits of the date count
    assert _one("SELECT ibet_person('Roy', 'Luc', DATE '1970-01-01')") != \
        _one("SELECT ibet_person('Roy', 'Luc', DATE '1970-01-11')")


def test_another_key_gives_other_pseudonyms():
    sql = "SELECT ibet_person('Roy', 'Luc', DATE '1970-01-01')"
    assert _one(sql) != _one(sql, key=bytes(32))


def test_key_sources_and_refusal(tmp_path, monkeypatch):
    monkeypatch.setenv("IBET_HOME", str(tmp_path))
    monkeypatch.delenv("IBET_PSEUDONYM_KEY", raising=False)
    s = get_settings()
    with pytest.raises(MissingKeyError, match="ibet keygen"):
        load_key(s)
    path = create_key(s.ensure())
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert len(load_key(s)) == 32
    with pytest.raises(FileExistsError):
        create_key(s)
    monkeypatch.setenv("IBET_PSEUDONYM_KEY", "00" * 8)
    with pytest.raises(MissingKeyError, match="at least 32"):
        load_key(s)


def test_cli_refuses_without_key(tmp_path):
    f = tmp_path / "RCMP_IBET_OCC_20261103.csv"
    f.write_text("x\n")
    env = {k: v for k, v in os.environ.items() if k != "IBET_PSEUDONYM_KEY"} | {"IBET_HOME": str(tmp_path / "h")}
    made = subprocess.run([sys.executable, "-m", "ibet.cli", "init", "--no-key"], env=env, capture_output=True,
                          text=True)
    assert made.returncode == 0, made.stderr
    proc = subprocess.run([sys.executable, "-m", "ibet.cli", "ingest", "rcmp", str(f)], env=env, capture_output=True,
                          text=True)
    assert proc.returncode == 3 and "no pseudonymization key" in proc.stderr
    assert not (tmp_path / "h" / "lake").exists() or not any((tmp_path / "h" / "lake").rglob("*.parquet"))


def test_key_and_its_pads_never_in_any_output(published):
    """Neither the key nor the HMAC pads derived from it (which are as good as the key) appear in any file
    under IBET_HOME but the key file: lake, quarantine, logs, warehouse, quality reports, data dictionary."""
    key = bytes.fromhex(os.environ["IBET_PSEUDONYM_KEY"])
    ipad, opad = privacy._pads(key)
    secrets_ = {key.hex(), key.hex().upper(), ipad, opad, ipad.upper(), opad.upper()}
    raw = {key, bytes.fromhex(ipad), bytes.fromhex(opad)}
    s = published["settings"]
    scanned = 0
    for p in sorted(s.home.rglob("*")):
        if not p.is_file() or p.is_relative_to(s.keys) or p.is_relative_to(s.inbox):
            continue
        data = p.read_bytes()
        text = text_of(p) if p.suffix in (".parquet", ".duckdb") else data.decode("utf-8", "ignore")
        assert not any(n in text for n in secrets_) and not any(r in data for r in raw), p
        scanned += 1
    assert scanned > 50 and any(s.warehouse.glob("*.duckdb")) and any((s.home / "quality").rglob("*.html"))
