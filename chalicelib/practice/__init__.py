"""Practice Mode: sessions drawn from the bank, instant feedback per answer, scores on completion."""
