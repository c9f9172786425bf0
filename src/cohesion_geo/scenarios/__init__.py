"""cohesion-geo subpackage."""
