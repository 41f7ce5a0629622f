"""Built-in search methods, one module each; :mod:`discover.search.registry` loads them on demand."""
