"""Safety: infusion and injection reactions, infections, and the pre-dose check (issue 13)."""
