"""Reports: what a workflow returns (tables, figures with their data, notes, the disclaimer,
the inputs) and the renderers that turn one into PNG/HTML/CSV files or bytes."""
