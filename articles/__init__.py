"""Articles: content, sections, hashtags, read counting and the most-read ranking."""
