"""Function blueprints: each trigger parses its input, calls one service, maps the result."""
