"""Format readers: a partner file -> flat polars frames of raw values, one per record level.

Readers never interpret values (that is the contract's job) and never put a file's
content into an error message: parser messages can quote a row, and a row can hold a
name. A file that cannot be read as its format says raises ``RejectedFile`` with a
reason that names the file and the cause only.
"""
from __future__ import annotations

import csv
import io
import mmap
import re
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.csv as pacsv

from foundation.sqltext import literal

ROW = "_row"  #: 1-based record number within the file (or within the parent record)
PARENT = "_parent"  #: 0-based position of the parent record in the parent level frame
#: a reader's extra frame of top-level records it could not parse: ``(record, reason)``, no content
MALFORMED = "_malformed"


class RejectedFile(Exception):
    """The whole file is rejected; ``reason`` is safe to print and to store."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def safe_parser_message(exc: BaseException) -> str:
    """The parser's message up to where it would start quoting content."""
    msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    # pyarrow: "CSV parse error: Expected 22 columns, got 5: <row text>" -> keep up to "got 5"
    msg = re.sub(r"(got \d+).*", r"\1", msg)
    msg = re.split(r":\s*['\"<{\[]", msg)[0]
    return msg[:160]


def _header(path: Path, delimiter: str) -> list[str]:
    with open(path, "rb") as fh:
        first = fh.readline()
    if not first.strip():
        raise RejectedFile("empty file or missing header row")
    try:
        text = first.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise RejectedFile("header row is not UTF-8") from None
    names = next(csv.reader([text.rstrip("\r\n")], delimiter=delimiter))
    if len(names) < 2:
        raise RejectedFile(f"header row is not {delimiter!r}-delimited")
    return [n.strip() for n in names]


#: the block pyarrow's CSV reader parses at a time (see ``iter_delimited``)
READ_BLOCK = 1 << 20


def iter_delimited(path: Path, delimiter: str, required: list[str], batch_bytes: int) -> Iterator[pl.DataFrame]:
    """The records of a delimited text file with a header, in batches of about ``batch_bytes`` of text
    (pyarrow's streaming reader: memory holds about one batch, whatever the file's size); every column as
    text (empty -> null), ``_row`` the record's number in the file. At least one batch, maybe empty.

    The reader parses blocks of at most ``READ_BLOCK`` and a batch is made of several: pyarrow's
    streaming reader reads up to 32 blocks ahead of its consumer, so 16 MB blocks held up to half a
    gigabyte of a big file in memory (the growth of the 5M-record runs), 1 MB blocks hold 32 MB."""
    names = _header(path, delimiter)
    missing = [c for c in required if c not in names]
    if missing:
        raise RejectedFile(f"missing required columns: {', '.join(missing)}")
    if len(set(names)) != len(names):
        raise RejectedFile("duplicate column names in header")
    _check_complete_text(path)

    def unreadable(exc: BaseException) -> RejectedFile:
        return RejectedFile(f"unreadable as {delimiter!r}-delimited UTF-8 text: {safe_parser_message(exc)}")

    block_size = max(min(int(batch_bytes), READ_BLOCK), 1 << 16)
    try:
        reader = pacsv.open_csv(
            path, read_options=pacsv.ReadOptions(use_threads=True, block_size=block_size),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, quote_char='"', newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in names},
                                                 strings_can_be_null=True, quoted_strings_can_be_null=True),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        raise unreadable(exc) from None
    first = 1

    def batch_of(parts: list[pa.RecordBatch]) -> pl.DataFrame:
        df = pl.from_arrow(pa.Table.from_batches(parts, reader.schema))
        assert isinstance(df, pl.DataFrame)
        return df.with_row_index(ROW, offset=first).with_columns(pl.col(ROW).cast(pl.Int64)).rechunk()

    parts: list[pa.RecordBatch] = []
    held = 0
    while True:
        try:
            block = reader.read_next_batch()
        except StopIteration:
            break
        except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
            raise unreadable(exc) from None
        parts.append(block)
        held += block_size  # the text a block was parsed from: batches of about ``batch_bytes`` of the file
        if held >= batch_bytes:
            df = batch_of(parts)
            parts, held = [], 0
            yield df
            first += df.height
    if parts or first == 1:
        yield batch_of(parts) if parts else pl.DataFrame(schema={ROW: pl.Int64, **{n: pl.Utf8 for n in names}})


def _check_complete_text(path: Path) -> None:
    """A text extract ends with a line break; a file cut mid-record does not."""
    with open(path, "rb") as fh:
        fh.seek(0, 2)
        if fh.tell() == 0:
            raise RejectedFile("empty file")
        fh.seek(-1, 2)
        if fh.read(1) not in (b"\n", b"\r"):
            raise RejectedFile("truncated: the file does not end with a complete record")


#: the reasons a JSON Lines line is quarantined (never its content)
_LINE_REASONS = """CASE WHEN s IS NULL THEN 'line is not UTF-8 text'
                        WHEN j IS NULL AND NOT json_valid(s) THEN 'line is not valid JSON'
                        WHEN j IS NULL OR NOT (ascii(s) = 123 OR ascii(ltrim(s, chr(32) || chr(9) || chr(13))) = 123)
                          THEN 'line is not a JSON object'
                        WHEN NOT ({conforms}) THEN 'a value of the wrong JSON type for its key' END"""


def _json_fits(expr: str, dtype: pl.DataType, depth: int = 0) -> str:
    """SQL: whether the JSON value ``expr`` has a JSON type ``dtype`` takes ("TRUE" when any does).

    Text takes any value (a number as its digits), a number an integer or a decimal, a boolean only
    ``true``/``false``, an object or an array only that; null fits everything. ``json_transform`` alone
    would turn a misfit into NULL or coerce it (``"ten"`` -> NULL, ``"yes"`` -> true) without a word."""
    kind = f"json_type({expr})"
    if dtype == pl.Utf8:
        return "TRUE"
    if dtype == pl.Float64:
        return f"coalesce({kind} IN ('BIGINT', 'UBIGINT', 'DOUBLE', 'NULL'), TRUE)"
    if dtype == pl.Boolean:
        return f"coalesce({kind} IN ('BOOLEAN', 'NULL'), TRUE)"
    if isinstance(dtype, pl.Struct):
        fields = [ok for f in dtype.fields if (ok := _json_fits(f"({expr} -> '$.\"{f.name}\"')", f.dtype, depth)) != "TRUE"]
        return "(" + " AND ".join([f"coalesce({kind} IN ('OBJECT', 'NULL'), TRUE)", *fields]) + ")"
    if isinstance(dtype, pl.List):
        e = f"e{depth}"
        ok = _json_fits(e, dtype.inner, depth + 1)
        fits = f"coalesce({kind} IN ('ARRAY', 'NULL'), TRUE)"
        if ok != "TRUE":
            fits += (f" AND coalesce(CASE WHEN {kind} = 'ARRAY' THEN list_bool_and(list_transform(CAST({expr} AS JSON[]), "
                     f"lambda {e}: {ok})) END, TRUE)")
        return f"({fits})"
    raise TypeError(f"no JSON reading for {dtype}")


def _duck_structure(dtype: pl.DataType) -> object:
    """``json_transform``'s structure for ``dtype``."""
    if isinstance(dtype, pl.Struct):
        return {f.name: _duck_structure(f.dtype) for f in dtype.fields}
    if isinstance(dtype, pl.List):
        return [_duck_structure(dtype.inner)]
    return {pl.Utf8: "VARCHAR", pl.Float64: "DOUBLE", pl.Boolean: "BOOLEAN"}[dtype]


def _json_plan(schema: dict[str, pl.DataType]) -> tuple[str, str, str]:
    """(the structure parsing a line's keys as JSON, the typed structure, whether every value fits).

    A line's values are read by ``json_transform`` with the typed structure only once the line is
    known to fit it: on a line that fits, its result is the value each key's type says."""
    import json

    keys = "{" + ", ".join(f'"{k}": "JSON"' for k in schema) + "}"
    typed = json.dumps({k: _duck_structure(t) for k, t in schema.items()})
    fits = " AND ".join(ok for k, t in schema.items() if (ok := _json_fits(f'j."{k}"', t)) != "TRUE") or "TRUE"
    return keys, typed, fits


#: RE2: a line prefix that ends outside any JSON string (what follows it is JSON syntax, not a string's text)
_OUTSIDE_STRINGS = r'^(?:[^"\\]|"(?:[^"\\]|\\.)*")*'


def _json_screen(schema: dict[str, pl.DataType]) -> str | None:
    """RE2 pattern that matches every line that might hold a value of the wrong JSON type for its key (and
    some lines that do not); None when the schema has a type it cannot vouch for (then every line is checked).

    Lines it does not match are parsed once, typed; the lines it matches take the full check (the keys
    parsed as JSON, each value's JSON type, ``_json_fits``), which gives the same records and reasons.
    What it looks for, outside strings: a typed key whose value starts with a character its JSON type
    cannot start with (a number ``-``, a digit or ``null``; a boolean ``t``, ``f``, ``n``; an object ``{``
    or ``n``; an array ``[`` or ``n``), at any depth (a key of another object with the same name is only
    checked more); an array element that is not an object (the lists are lists of objects); and ``\\u``
    anywhere, since an escaped key (``"l\\u0061t"``) would not be seen."""
    classes: dict[str, list[str]] = {}

    def walk(name: str, dtype: pl.DataType, top: bool) -> bool:
        def add(cls: str) -> None:
            classes.setdefault(cls, []).append(re.escape(name))
        if dtype == pl.Utf8:
            return True
        if dtype == pl.Float64:
            add(r"[^-0-9n\s]")
            return True
        if dtype == pl.Boolean:
            add(r"[^tfn\s]")
            return True
        if isinstance(dtype, pl.Struct):
            add(r"[^{n\s]")
            return all(walk(f.name, f.dtype, False) for f in dtype.fields)
        if isinstance(dtype, pl.List) and top and isinstance(dtype.inner, pl.Struct):
            add(r"[^\[n\s]")
            return all(walk(f.name, f.dtype, False) for f in dtype.inner.fields)
        return False

    if not all(walk(k, t, True) for k, t in schema.items()):
        return None
    misfits = [f'"(?:{"|".join(sorted(set(names)))})"\\s*:\\s*{cls}' for cls, names in sorted(classes.items())]
    elements = [r'[\[,]\s*[^"{\s\]]', r'[\[,]\s*"(?:[^"\\]|\\.)*"\s*[,\]]']
    return r"\\u|" + _OUTSIDE_STRINGS + "(?:" + "|".join(misfits + elements) + ")"


def _split_lines(data: bytes, before: int = 0) -> pa.Table:
    """Each line of ``data`` (its line break included) with its 1-based number (after ``before``
    lines): the line boundaries found by numpy, the bytes shared with ``data`` (zero copy), no loop
    over lines."""
    newlines = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 0x0A)
    offsets = np.concatenate(([0], newlines + 1)).astype(np.int64)
    if not data.endswith(b"\n"):
        offsets = np.append(offsets, len(data))
    n = len(offsets) - 1
    lines = pa.LargeBinaryArray.from_buffers(pa.large_binary(), n, [None, pa.py_buffer(offsets), pa.py_buffer(data)])
    return pa.table({"n": pa.array(np.arange(before + 1, before + n + 1, dtype=np.int64)), "line": lines})


def _line_blocks(path: Path, batch_bytes: int) -> Iterator[bytes]:
    """The file in blocks of whole lines of about ``batch_bytes`` (the last one as it ends)."""
    with open(path, "rb") as fh:
        carry = b""
        while True:
            block = fh.read(max(int(batch_bytes), 1 << 16))
            if not block:
                break
            data = carry + block
            cut = data.rfind(b"\n")
            if cut < 0:
                carry = data
                continue
            carry = data[cut + 1:]
            yield data[:cut + 1]
        if carry:
            yield carry


def iter_ndjson(path: Path, schema: dict[str, pl.DataType], batch_bytes: int
                ) -> Iterator[tuple[pl.DataFrame, pl.DataFrame]]:
    """JSON Lines with an explicit schema (unknown keys ignored, absent keys null), line by line, in
    batches of about ``batch_bytes``.

    Yields per batch the records (``_row`` = their line number) and the malformed lines as
    ``(record, reason)``: a line that is not UTF-8, not JSON, not a JSON object, or that holds a value of
    the wrong JSON type for its key (text where a number is due) is a quarantined record, and every other
    line goes on (one bad line must not cost the day's file). Parsing is DuckDB's: a line the screen passes
    (``_json_screen``) is parsed once, typed; a line it flags, its keys, the JSON types of its nested values
    (to check them), then its typed values once it fits. Blank lines
    are not records. The whole file is rejected (``RejectedFile``, raised once every batch has been
    read: a caller keeps nothing before the end) when it is empty, truncated (its last line cut
    without a line break and unparsable), not JSON Lines at all (no line is a JSON object), or when
    more than half of its lines are malformed; the reason says which.
    """
    from foundation import duck

    if path.stat().st_size == 0:
        raise RejectedFile("empty file")
    structure, typed, fits = _json_plan(schema)
    screen = _json_screen(schema)
    # a line the screen passes, that starts an object and parses, is read once with the typed structure
    fast = ("CASE WHEN s IS NOT NULL AND (ascii(s) = 123 OR ascii(ltrim(s, chr(32) || chr(9) || chr(13))) = 123) "
            f"AND NOT regexp_matches(s, {literal(screen)}) THEN try(json_transform(s, '{typed}')) END"
            if screen is not None else "NULL")
    con = duck.connect()
    total = bad = lines_before = 0
    starts_array = last_bad = False
    ends_with_newline = True
    try:
        for i, data in enumerate(_line_blocks(path, batch_bytes)):
            if i == 0:
                if data.startswith(b"\xef\xbb\xbf"):
                    data = data[3:]  # a UTF-8 byte-order mark is not part of the first record
                starts_array = data.lstrip()[:1] == b"["
            ends_with_newline = data.endswith(b"\n")
            lines = _split_lines(data, lines_before)
            lines_before += lines.num_rows
            con.register("raw_lines", lines)
            con.execute(f"""CREATE OR REPLACE TEMP TABLE checked AS
                WITH decoded AS (SELECT n, try(decode(line)) AS s FROM raw_lines),  -- the line break is JSON's blank
                screened AS MATERIALIZED (
                    SELECT n, s, {fast} AS v FROM decoded
                    WHERE s IS NULL OR ascii(s) NOT IN (9, 10, 13, 32)
                          OR trim(s, chr(32) || chr(9) || chr(10) || chr(13)) <> ''),
                parsed AS (SELECT n, s, try(json_transform(s, '{structure}')) AS j  -- NULL: not JSON, or null
                           FROM screened WHERE v IS NULL)
                SELECT n, s, v, NULL::VARCHAR AS reason FROM screened WHERE v IS NOT NULL
                UNION ALL
                SELECT n, s, NULL AS v, {_LINE_REASONS.format(conforms=fits)} AS reason FROM parsed""")
            con.unregister("raw_lines")
            malformed = con.sql("SELECT n AS record, reason FROM checked WHERE reason IS NOT NULL ORDER BY n").pl()
            count, last = con.execute("SELECT count(*), arg_max(reason IS NOT NULL, n) FROM checked").fetchall()[0]
            total, bad = total + count, bad + malformed.height
            last_bad = bool(last) if count else last_bad
            records = con.sql(f"SELECT n AS {ROW}, unnest(coalesce(v, json_transform(s, '{typed}'))) FROM checked "
                              "WHERE reason IS NULL ORDER BY n").to_arrow_table()
            df = pl.from_arrow(records)
            assert isinstance(df, pl.DataFrame)
            df = df.cast({ROW: pl.Int64, **schema})
            yield df, malformed.cast({"record": pl.Int64, "reason": pl.Utf8})
    finally:
        con.close()
    if not total:
        raise RejectedFile("empty file: no records, only blank lines")
    if last_bad and not ends_with_newline:
        raise RejectedFile("truncated: the last line is cut off (no line break, and not valid JSON)")
    if starts_array:
        raise RejectedFile("not JSON Lines: the file is one JSON array, not one JSON object per line")
    if bad == total:
        raise RejectedFile("not JSON Lines: no line is a JSON object")
    if bad * 2 > total:
        raise RejectedFile(f"not JSON Lines: {bad:,} of {total:,} lines are malformed (more than half)")


def explode_children(parent: pl.DataFrame, list_col: str) -> pl.DataFrame:
    """One row per element of ``parent[list_col]`` (a list of structs), keyed to its parent."""
    kids = (
        parent.select(pl.int_range(pl.len(), dtype=pl.Int64).alias(PARENT), pl.col(list_col))
        .filter(pl.col(list_col).list.len() > 0)
        .explode(list_col)
    )
    kids = kids.with_columns(pl.int_range(1, pl.len() + 1, dtype=pl.Int64).over(PARENT).alias(ROW))
    return kids.unnest(list_col)


# --------------------------------------------------------------------------- XML
_XSLT_HEAD = ('<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">'
              '<xsl:output method="text" encoding="UTF-8"/><xsl:template match="/">')
_XSLT_TAIL = "</xsl:template></xsl:stylesheet>"


def xslt_rows(record_xpath: str, fields: list[str], child_xpath: str | None = None) -> str:
    """An XSLT that prints one tab-separated line per record (or per child of a record).

    Values pass through ``normalize-space`` so a tab or a line break in a value cannot
    split a record. With ``child_xpath`` each line starts with the parent's position.
    """
    cells = "<xsl:text>&#9;</xsl:text>".join(f'<xsl:value-of select="normalize-space({f})"/>' for f in fields)
    if child_xpath is None:
        body = f'<xsl:for-each select="{record_xpath}">{cells}<xsl:text>&#10;</xsl:text></xsl:for-each>'
    else:
        body = (f'<xsl:for-each select="{record_xpath}"><xsl:variable name="p" select="position()"/>'
                f'<xsl:for-each select="{child_xpath}"><xsl:value-of select="$p"/><xsl:text>&#9;</xsl:text>'
                f'<xsl:value-of select="position()"/><xsl:text>&#9;</xsl:text>{cells}'
                f'<xsl:text>&#10;</xsl:text></xsl:for-each></xsl:for-each>')
    return _XSLT_HEAD + body + _XSLT_TAIL


def _tsv(text: bytes, names: list[str]) -> pa.Table:
    if not text:
        return pa.table({n: pa.array([], pa.string()) for n in names})
    return pacsv.read_csv(
        io.BytesIO(text),
        read_options=pacsv.ReadOptions(column_names=names),
        parse_options=pacsv.ParseOptions(delimiter="\t", quote_char=False),
        convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in names},
                                             strings_can_be_null=True),
    )


def iter_xml_records(path: Path, root: str, record: str, fields: dict[str, str],
                     child: str | None = None, child_fields: dict[str, str] | None = None,
                     chunk_bytes: int = 32 << 20) -> Iterator[tuple[pl.DataFrame, pl.DataFrame | None]]:
    """Records of a flat XML report, parsed in bounded chunks and flattened by XSLT (in C).

    The file is memory-mapped and cut at record boundaries into chunks of about
    ``chunk_bytes``; each chunk is parsed by lxml and flattened by two XSLT programs,
    so memory stays bounded and no Python code runs per record. Yields per chunk the
    records (``_row`` their number in the file) and, with ``child``, their children
    (``_parent`` the record's position in that chunk's records). At least one chunk, maybe empty.
    """
    from lxml import etree

    size = path.stat().st_size
    if size == 0:
        raise RejectedFile("empty file")
    rec_t = etree.XSLT(etree.XML(xslt_rows(f"/*/{record}", list(fields.values())).encode()))
    kid_t = (etree.XSLT(etree.XML(xslt_rows(f"/*/{record}", list((child_fields or {}).values()), child).encode()))
             if child else None)
    kid_names = [PARENT, ROW, *(child_fields or {})]
    names = list(fields)
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True, load_dtd=False)
    end_tag = f"</{record}>".encode()

    def frames(doc: Any, first: int) -> tuple[pl.DataFrame, pl.DataFrame | None]:
        df = pl.from_arrow(_tsv(bytes(rec_t(doc)) if doc is not None else b"", names))
        assert isinstance(df, pl.DataFrame)
        df = df.with_row_index(ROW, offset=first).with_columns(pl.col(ROW).cast(pl.Int64))
        if kid_t is None:
            return df, None
        kids = pl.from_arrow(_tsv(bytes(kid_t(doc)) if doc is not None else b"", kid_names))
        assert isinstance(kids, pl.DataFrame)
        return df, kids.with_columns((pl.col(PARENT).cast(pl.Int64) - 1).alias(PARENT), pl.col(ROW).cast(pl.Int64))

    with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        head = re.match(rb"\s*(?:\xef\xbb\xbf)?\s*(<\?xml[^>]*\?>)?\s*(<" + root.encode() + rb"\b[^>]*>)", mm[:4096])
        if not head:
            raise RejectedFile(f"not an XML document with a <{root}> root element")
        try:
            etree.fromstring(head.group(2).replace(b">", b"/>", 1) if not head.group(2).endswith(b"/>")
                             else head.group(2))
        except etree.XMLSyntaxError:
            raise RejectedFile(f"malformed <{root}> element") from None
        closing = f"</{root}>".encode()
        if not mm[max(0, size - 1024):].rstrip().endswith(closing):
            raise RejectedFile(f"truncated: the document does not end with </{root}>")
        body_end = mm.rfind(closing)
        pos, first, released = head.end(), 1, 0
        while pos < body_end:
            cut = mm.find(end_tag, min(pos + chunk_bytes, body_end))
            stop = body_end if cut < 0 or cut >= body_end else cut + len(end_tag)
            chunk = b"<R>" + mm[pos:stop] + b"</R>"
            pos = stop
            done = (pos // mmap.PAGESIZE) * mmap.PAGESIZE
            if done > released:  # the pages read so far leave this process's memory (the file keeps them)
                mm.madvise(mmap.MADV_DONTNEED, released, done - released)
                released = done
            try:
                doc = etree.fromstring(chunk, parser=parser)
            except (etree.XMLSyntaxError, ValueError) as exc:
                raise RejectedFile(f"malformed XML: {safe_parser_message(exc)}") from None
            del chunk
            recs, kids = frames(doc, first)
            del doc
            first += recs.height
            yield recs, kids
        if first == 1:
            yield frames(None, 1)
