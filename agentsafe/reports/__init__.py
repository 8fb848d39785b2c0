"""Reports people look at: the self-contained HTML report with its trajectory viewer."""
