"""Template filters of the site (dates and numerals in the configured style)."""
