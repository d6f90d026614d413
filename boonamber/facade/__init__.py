"""The handwritten Amber client (``AmberClient``) that wraps the generated ``boonamber.v2``."""
