"""Personal editions: each reader's digest leaves out what they already read and leans to what
they click, measured against a hold-out.

- `ranking`: one reader's story list from the edition's candidates (pure; the formula is in its
  docstring).
"""
