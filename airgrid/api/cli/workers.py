"""Several uvicorn worker processes, each listening on its own socket of one port.

uvicorn's own multi-worker mode binds one socket in the parent and shares it: every
worker waits on it, and the first to wake accepts every connection waiting, so a burst
of clients (8 connections opened together) can all land on one worker while the
others idle. Here each worker binds its own socket to the address with
``SO_REUSEPORT``, and the kernel spreads new connections over the listening sockets by
a hash of their addresses. uvicorn's supervisor still starts, watches and replaces the
workers and passes signals on.
"""

from __future__ import annotations

import socket

import uvicorn
from uvicorn.supervisors.multiprocess import Multiprocess

#: The application factory every worker loads.
APP = "airgrid.api.http.app:create_app"


def _family(host: str) -> socket.AddressFamily:
    """The address family of ``host`` (IPv4 or IPv6) as it resolves."""
    return socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)[0][0]


def reuse_port_socket(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` with ``SO_REUSEADDR`` and ``SO_REUSEPORT``, not yet
    listening (the server's event loop listens on it)."""
    sock = socket.socket(_family(host), socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


class PortListener:
    """Stands for a listening socket in the arguments uvicorn's supervisor hands to each
    worker; a worker unpickling it gets its own :func:`reuse_port_socket` on the address."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port

    def __reduce__(self) -> tuple:
        return reuse_port_socket, (self.host, self.port)


def free_port_for(host: str, port: int) -> int:
    """``port``, or for 0 a free one, checked by binding a reusable socket to it (and
    closing it again).

    Raises
    ------
    OSError
        The address cannot be bound (in use by a socket without ``SO_REUSEPORT``, or not
        an address of this host).
    """
    with reuse_port_socket(host, port) as probe:
        return int(probe.getsockname()[1])


def run_workers(host: str, port: int, workers: int, log_level: str) -> None:
    """Serve :data:`APP` from ``workers`` processes, each on its own ``SO_REUSEPORT``
    socket of ``host:port`` (a port, not 0: see :func:`free_port_for`), until the
    supervisor is told to stop."""
    config = uvicorn.Config(
        APP, factory=True, host=host, port=port, workers=workers, log_level=log_level
    )
    Multiprocess(config, sockets=[PortListener(host, port)]).run()  # type: ignore[list-item]


__all__ = ["APP", "PortListener", "free_port_for", "reuse_port_socket", "run_workers"]
