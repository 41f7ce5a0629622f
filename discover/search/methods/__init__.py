"""Built-in search methods; importing this package registers them with the driver."""
