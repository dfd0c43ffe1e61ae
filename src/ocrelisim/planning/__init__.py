"""Treatment planning: a patient's calendar, the infusion day, the clinic's chairs (issue 14)."""
