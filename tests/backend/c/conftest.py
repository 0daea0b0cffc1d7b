from .compiling import private_cache  # noqa: F401  (autouse: compiled code in a test folder)
