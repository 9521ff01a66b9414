"""Server-rendered HTML pages: one shell (layout), inline SVG charts (svg), the evidence page (evidence)."""
