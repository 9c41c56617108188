"""Everything served on a department's own domain: the resident portal."""
