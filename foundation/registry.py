"""The agency registry: one entry per partner drives DAGs, contracts, docs and the generator.

Adding a sixth agency means one ``Agency`` entry here plus its contract
(``contracts/<source>.py``) and its transform (``transforms/<source>.py``, bound to the
contract by its line in ``transforms/pipelines.py``), and for synthetic data a writer in
``ibet/generator/{canada,us}.py``. Everything else (the ``ibet ingest`` command, the Airflow
DAGs, the docs) iterates over this registry.

The registry is data only (the foundation layer): it imports no contract or transform, so
that importing it (at DAG parse time, from a contract) costs nothing.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Source:
    """One kind of file an agency drops in its inbox."""

    name: str  #: unique source name, also the contract/transform module name
    agency: str  #: inbox folder name
    title: str
    file_template: str  #: file name with ``{key}`` where the date or fiscal year stands
    key_format: str  #: strftime format of ``key``; "" for a fiscal-year key (``2006-07``)
    partition: str = "extract_date"  #: lake partition column: extract_date or fiscal_year
    levels: tuple[str, ...] = ("rows",)  #: record levels a file nests (counted separately)
    required: bool = True  #: a daily file the agency always sends (the ingest DAG waits for it)

    @property
    def file_glob(self) -> str:
        return self.file_template.format(key="*")

    @property
    def file_regex(self) -> str:
        key = r"\d{4}-\d{2}" if not self.key_format else re.sub(
            r"%[Ymd]", lambda m: {"%Y": r"\d{4}", "%m": r"\d{2}", "%d": r"\d{2}"}[m.group(0)], self.key_format
        )
        head, tail = self.file_template.split("{key}")
        return re.escape(head) + f"(?P<key>{key})" + re.escape(tail)

    def match(self, filename: str) -> str | None:
        """Partition value (ISO date or fiscal year) of ``filename``, or None when it is not ours."""
        m = re.fullmatch(self.file_regex, filename)
        if not m:
            return None
        key = m.group("key")
        if not self.key_format:
            return key
        try:
            return dt.datetime.strptime(key, self.key_format).date().isoformat()
        except ValueError:
            return None

    def filename_for(self, day: dt.date) -> str:
        """The file name this source uses for ``day`` (extract-date sources only)."""
        return self.file_template.format(key=day.strftime(self.key_format))


@dataclass(frozen=True)
class Agency:
    code: str
    name: str
    country: str  #: CAN, USA, or "" for program-level data
    reports: str
    sources: tuple[Source, ...]
    fiscal_calendar: str = ""  #: "CAN" (April-March) or "USA" (October-September)
    owner: str = "ibet-data-engineering"
    extra_tags: tuple[str, ...] = field(default_factory=tuple)

    @property
    def daily_sources(self) -> tuple[Source, ...]:
        """The files it sends for each extract date (not the fiscal-year files): what a day's run waits for
        in the inbox and pulls from the agency's server."""
        return tuple(s for s in self.sources if s.partition == "extract_date")

    @property
    def conn_id(self) -> str:
        """The Airflow Connection naming where the agency publishes its files (SFTP or HTTPS); absent =
        the agency drops them in ``inbox/<agency>/`` itself (the default, and the demo's)."""
        return f"ibet_{self.code}"


AGENCIES: dict[str, Agency] = {
    a.code: a
    for a in (
        Agency(
            "rcmp", "Royal Canadian Mounted Police", "CAN",
            "police occurrences, joint operations, outreach",
            (Source("rcmp", "rcmp", "RCMP occurrence extract", "RCMP_IBET_OCC_{key}.csv", "%Y%m%d", levels=("occurrences",)),),
            fiscal_calendar="CAN",
        ),
        Agency(
            "cbsa", "Canada Border Services Agency", "CAN",
            "enforcement events: seizures, arrests, refusals",
            (Source("cbsa", "cbsa", "CBSA enforcement events", "cbsa_enforcement_{key}.jsonl", "%Y-%m-%d",
                    levels=("events", "persons", "goods")),),
            fiscal_calendar="CAN",
        ),
        Agency(
            "cbp", "U.S. Customs and Border Protection (Border Patrol)", "USA",
            "apprehensions and seizures, 8 northern sectors",
            (Source("cbp", "cbp", "CBP northern border apprehensions and seizures", "CBP_NB_{key}.csv", "%Y%m%d", levels=("events",)),),
            fiscal_calendar="USA",
        ),
        Agency(
            "ice", "U.S. Immigration and Customs Enforcement (HSI, BEST)", "USA",
            "investigations (cases)",
            (Source("ice", "ice", "ICE HSI investigation updates", "ice_hsi_cases_{key}.parquet", "%Y%m%d", levels=("cases", "subjects")),),
            fiscal_calendar="USA",
        ),
        Agency(
            "uscg", "U.S. Coast Guard", "USA",
            "maritime interdictions, ShipRider joint patrols",
            (Source("uscg", "uscg", "USCG maritime interdiction reports", "USCG_MIR_{key}.xml", "%Y%m%d", levels=("interdictions", "seizures")),),
            fiscal_calendar="USA",
        ),
        Agency(
            "program", "IBET program office", "",
            "program-level data: finance, outreach, radio interoperability tests",
            (
                Source("finance", "program", "Planned and actual spending per fiscal year",
                       "finance_{key}.csv", "",
                       partition="fiscal_year"),
                Source("outreach", "program", "Outreach events", "outreach_{key}.csv", "%Y%m%d", required=False),
                Source("radio_tests", "program", "Cross-border radio interoperability tests",
                       "radio_tests_{key}.csv", "%Y%m%d", required=False),
            ),
        ),
    )
}

#: The five partner agencies (program data excluded).
PARTNERS: tuple[str, ...] = tuple(c for c, a in AGENCIES.items() if a.country)


def sources() -> list[Source]:
    """Every source of every agency, in registry order."""
    return [s for a in AGENCIES.values() for s in a.sources]


def get_agency(code: str) -> Agency:
    try:
        return AGENCIES[code]
    except KeyError:
        raise KeyError(f"unknown agency {code!r}; known: {', '.join(AGENCIES)}") from None


def source_for(agency: str, filename: str) -> tuple[Source, str]:
    """The source of ``agency`` whose naming rule ``filename`` follows, and its partition value."""
    ag = get_agency(agency)
    for s in ag.sources:
        key = s.match(filename)
        if key is not None:
            return s, key
    expected = " or ".join(s.file_glob for s in ag.sources)
    raise ValueError(f"{filename}: not a {agency} file name (expected {expected} with a valid date)")
