"""Terminal output: tables, answers, the diff report, `info`, `ls` and progress bars."""
