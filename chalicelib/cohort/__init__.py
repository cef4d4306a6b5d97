"""How the cohort answered: question statistics, exam score distributions, item analysis."""
