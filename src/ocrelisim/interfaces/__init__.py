"""Thin layers over the workflows: the command line (:mod:`.cli`), later the web app."""
