"""onestop: queueing and signage for government one-stop service halls (政务服务中心)."""

__version__ = "0.1.0"
