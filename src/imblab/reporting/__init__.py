"""Reporting: terminal tables, Markdown, plots and the self-contained HTML report."""
