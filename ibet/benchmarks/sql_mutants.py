"""Hand-written mutants of the warehouse SQL and the audience settings (cosmic-ray does not read SQL):
each is one plausible way the caveat filters, the suppression predicates or the audience definitions
could be broken. ``python -m ibet.benchmarks.mutation --only sql`` runs them."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TextMutant:
    """A hand-written mutant: replace ``old`` (which must occur exactly once) by ``new`` in ``file``."""

    file: str
    old: str
    new: str
    what: str


#: the caveat filters, audience definitions and suppression predicates, broken one way at a time
SQL_MUTANTS: list[TextMutant] = [
    TextMutant("foundation/settings.py", '"evaluator": (REL_IBET, REL_CAN, REL_USA),',
               '"evaluator": (REL_IBET, REL_CAN, REL_USA, "ORCON"),', "ORCON counted for evaluators"),
    TextMutant("foundation/settings.py", '"can": (REL_IBET, REL_CAN),', '"can": (REL_IBET, REL_CAN, REL_USA),',
               "REL_USA shown to Canada"),
    TextMutant("foundation/settings.py", '"usa": (REL_IBET, REL_USA),', '"usa": (REL_IBET, REL_USA, REL_CAN),',
               "REL_CAN shown to the US"),
    TextMutant("foundation/settings.py", '"ibet": (REL_IBET,),', '"ibet": (REL_IBET, REL_CAN),',
               "REL_CAN shown to every partner"),
    TextMutant("foundation/settings.py", "SUPPRESSION_THRESHOLD = 5", "SUPPRESSION_THRESHOLD = 4", "threshold 4"),
    TextMutant("foundation/settings.py", "SUPPRESSION_THRESHOLD = 5", "SUPPRESSION_THRESHOLD = 6", "threshold 6"),
    TextMutant("warehouse/sql/00_staging/00_macros.sql", "record_caveat IN (SELECT caveat FROM ibet_build_caveats)",
               "record_caveat NOT IN (SELECT caveat FROM ibet_build_caveats)", "visible() inverted"),
    TextMutant("warehouse/sql/00_staging/00_macros.sql", "record_caveat IN (SELECT caveat FROM ibet_build_caveats)",
               "record_caveat IS NOT NULL", "visible() lets every caveat through"),
    TextMutant("warehouse/sql/00_staging/10_stg_events.sql", "AND m.file = e.source_file\nWHERE visible(e.caveat);",
               "AND m.file = e.source_file;", "events not filtered by caveat"),
    TextMutant("warehouse/sql/00_staging/10_stg_events.sql",
               "ON l.event_uid = e.event_uid AND l._partition = e._partition AND l.source_row = e.source_row",
               "ON l.event_uid = e.event_uid", "every version of an event kept"),
    TextMutant("warehouse/staging.py", "AS versions FROM stg_events {where})",
               "AS versions FROM (SELECT * FROM stg_events WHERE caveat <> 'ORCON') AS stg_events {where})",
               "a version re-marked ORCON skipped when the latest version is chosen"),
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
    TextMutant("warehouse/sql/90_evaluator/10_mart_indicators.sql",
               "\n              OR (unit = 'count' AND value < ibet_suppression_threshold())\n", "\n",
               "counts below 5 on a large basis published"),
    TextMutant("warehouse/sql/90_evaluator/10_mart_indicators.sql",
               "OR basis_count - numerator < ibet_suppression_threshold()", "",
               "a share whose complement is small published"),
    TextMutant("warehouse/sql/90_evaluator/10_mart_indicators.sql", "coalesce(basis_count < ibet_suppression_threshold(), FALSE)",
               "coalesce(basis_count <= ibet_suppression_threshold(), FALSE)", "basis of exactly 5 withheld"),
    TextMutant("warehouse/sql/90_evaluator/10_mart_indicators.sql", "(unit = 'count' AND value < ibet_suppression_threshold())",
               "(unit = 'count' AND value <= ibet_suppression_threshold())", "count of exactly 5 withheld"),
    TextMutant("warehouse/sql/90_evaluator/10_mart_indicators.sql", "coalesce(basis_count < ibet_suppression_threshold(), FALSE)",
               "coalesce(basis_count < ibet_suppression_threshold(), TRUE)", "no basis: withheld"),
    TextMutant("warehouse/sql/90_evaluator/10_mart_indicators.sql", "CASE WHEN hidden THEN NULL ELSE value END AS value",
               "value", "a withheld value still published"),
    TextMutant("warehouse/sql/90_evaluator/10_mart_indicators.sql",
               "CASE WHEN hidden THEN NULL ELSE basis_count END AS basis_count", "basis_count",
               "a withheld cell's basis still published"),
    TextMutant("warehouse/sql/90_evaluator/10_mart_indicators.sql", "hidden AS suppressed", "FALSE AS suppressed",
               "withheld cells not flagged"),
    TextMutant("warehouse/sql/90_evaluator/00_copied_tables.yml", "  - fact_finance\n",
               "  - fact_finance\n  - fact_events\n", "event-level table copied into the evaluator file"),
    TextMutant("warehouse/audience_build.py", "ibet_suppression_threshold() AS {int(SUPPRESSION_THRESHOLD)}",
               "ibet_suppression_threshold() AS {int(SUPPRESSION_THRESHOLD) - 1}", "macro threshold off by one"),
]
