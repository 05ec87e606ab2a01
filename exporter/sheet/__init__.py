"""The PDF side: the sheet's HTML, laid out with WeasyPrint in columns and chunks, joined."""
