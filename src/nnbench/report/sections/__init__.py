"""The report's sections, one module each: every one turns the inputs into a context dict for the template."""
