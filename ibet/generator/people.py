"""A pool of synthetic persons who recur across agencies, each agency spelling them its own way."""
from __future__ import annotations

import unicodedata

import numpy as np
import polars as pl

SURNAMES = ["Gagné", "Tremblay", "Côté", "Bélanger", "Lévesque", "Roy", "Bouchard", "Gauthier", "Morin",
            "O'Brien", "MacDonald", "Smith", "Johnson", "Nguyen", "García", "Martínez", "Singh", "Chen",
            "Kowalski", "Müller", "Dubé", "Pelletier", "St-Pierre", "Hernández", "Wilson", "Brown", "Lee",
            "Thompson", "Leblanc", "Fournier", "Girard", "Ouellet", "Bergeron", "Poirier", "Sánchez", "Ramírez"]
GIVEN = ["Hélène", "François", "Jean-Pierre", "Marie", "Émilie", "André", "Zoë", "José", "Michael", "Sarah",
         "David", "Jennifer", "Luc", "Chloé", "Mathieu", "Nathalie", "Raphaël", "Ana", "Wei", "Priya",
         "Robert", "Linda", "Kevin", "Amélie", "Stéphane", "Geneviève", "Carlos", "Lucía", "Tom", "Anne"]
MIDDLE = ["Marie", "Joseph", "Ann", "Lee", "Paul", "Claire", "", "", ""]
NATIONALITIES = ["CAN", "USA", "MEX", "CHN", "IND", "GBR", "FRA", "VNM", "HTI", "COL"]
NAT_P = [0.34, 0.30, 0.08, 0.05, 0.05, 0.04, 0.04, 0.04, 0.03, 0.03]
JURISDICTIONS = ["BC", "AB", "SK", "MB", "ON", "QC", "NB", "WA", "MT", "ND", "MN", "MI", "NY", "VT", "ME"]
LETTERS = np.array(list("ABCDEFGHJKLMNPRSTUVWXYZ"))


def fold(text: str) -> str:
    """Accents folded, as a US system would hold a name."""
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def _codes(rng: np.random.Generator, n: int, letters: int, digits: int) -> list[str]:
    lets = LETTERS[rng.integers(0, len(LETTERS), size=(n, letters))]
    nums = rng.integers(0, 10, size=(n, digits)).astype(str)
    return ["".join(a) + "".join(b) for a, b in zip(lets, nums)]


def person_pool(rng: np.random.Generator, size: int) -> pl.DataFrame:
    """``size`` distinct persons with every identifier an agency may report."""
    sur = np.array(SURNAMES)[rng.integers(0, len(SURNAMES), size)]
    giv = np.array(GIVEN)[rng.integers(0, len(GIVEN), size)]
    mid = np.array(MIDDLE)[rng.integers(0, len(MIDDLE), size)]
    dob = np.datetime64("1950-01-01") + rng.integers(0, 365 * 55, size).astype("timedelta64[D]")
    df = pl.DataFrame({
        "person_id": np.arange(size, dtype=np.int64), "surname": sur, "given": giv, "middle": mid,
        "dob": dob.astype("datetime64[D]"), "sex": np.array(["M", "F", "X"])[rng.choice(3, size, p=[.6, .38, .02])],
        "nationality": np.array(NATIONALITIES)[rng.choice(len(NATIONALITIES), size, p=NAT_P)],
        "passport_no": _codes(rng, size, 2, 6), "a_number": [f"A{x:09d}" for x in rng.integers(0, 10**9, size)],
        "plate": _codes(rng, size, 3, 3), "plate_jurisdiction": np.array(JURISDICTIONS)[rng.integers(0, 15, size)],
        "hin": _codes(rng, size, 3, 9),
    }).with_columns(pl.col("dob").cast(pl.Date))
    # one person = one (surname, first given name, dob): drop accidental twins
    df = df.unique(subset=["surname", "given", "dob"], keep="first", maintain_order=True)
    return df.with_columns(  # ids stay 0..n-1: subject slots index the pool by position
        pl.int_range(pl.len(), dtype=pl.Int64).alias("person_id"),
        pl.col("surname").map_elements(fold, return_dtype=pl.Utf8).alias("surname_folded"),
        pl.col("given").map_elements(fold, return_dtype=pl.Utf8).alias("given_folded"),
    )
