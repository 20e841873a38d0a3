"""The one rendering of a meeting: the page's view, the CLI's lines and the Markdown report."""
