"""Defaults of the workflows (and of the command line's options); no imports, so that the
command line can show its help without loading the engine."""

DEMO_SEED = 20240601
"""Default seed of the workflows' simulated populations and trials."""
DEMO_DAYS = 730.0
"""Default period of the demo, day (two years)."""
DEMO_REGIMENS = ("iv", "sc", "iv-short")
"""Presets compared by the demo: label IV, SC (Zunovo), shorter IV infusion."""
