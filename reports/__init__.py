"""Renderers of the run record (JUnit XML, HTML, Markdown), the diff of two runs, run directories.

Everything here reads ``suites.record.RunRecord``; nothing here sends a request.
"""
