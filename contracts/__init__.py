"""pandera data contracts: one module per extract, the single source of truth for the
types, allowed codes, ranges, uniqueness and privacy class of every column the ICD names."""
