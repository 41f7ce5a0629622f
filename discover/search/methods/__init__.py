"""Built-in search methods; importing this package registers them with the driver."""
from . import adam, lm, sgd  # noqa: F401,E402
from . import flip  # noqa: F401,E402
