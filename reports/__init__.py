"""Renderers of the run record: JUnit XML, HTML, Markdown, diffs (issue 5). Empty so far."""
