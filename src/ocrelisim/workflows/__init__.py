"""Workflows: demo, immune, trial, power (later check, plan, forecast), each a function that
returns a :class:`ocrelisim.reports.Report`; no printing, no files."""
