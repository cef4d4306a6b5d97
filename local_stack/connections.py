"""Least-connections balancing between `make dev`'s API processes.

The processes accept on one shared listening socket. A keep-alive connection stays with the process
that accepted it, and every process wakes for a new one, so the quickest to call accept() won:
measured under 20 clients, 14-15 connections on one process and 2-3 on the other, whose clients
then waited on the busy one's interpreter lock. Each process counts its open connections in a
small shared file; a process that is not the least busy leaves a new connection to one that is
(for at most `MAX_DEFERRAL_SEC`, in case that one is stuck)."""

from __future__ import annotations

import mmap
import os
import select
import socket
import struct
import tempfile
import threading
import time

SLOT = struct.Struct("q")
MAX_DEFERRAL_SEC = 0.05  # then accept anyway: the least busy process may be stuck or gone
RECHECK_SEC = 0.001
COUNTS_FD = "OPENMRCS_CONNECTION_COUNTS_FD"  # set for the extra API processes: the shared counts
PROCESS_INDEX = "OPENMRCS_PROCESS_INDEX"  # which slot is this process's own
NOT_SERVING = -1  # a process still starting (importing every domain takes seconds) or stopped


class ConnectionCounts:
    """One slot per API process; a process writes only its own slot (so no lock is needed across
    processes) and reads the others' (a stale read costs at most one uneven connection). A process
    that is not serving yet, or any more, is left out: nobody waits for it."""

    def __init__(self, fd: int, processes: int, index: int) -> None:
        self.fd, self.processes, self.index = fd, processes, index
        self._memory = mmap.mmap(fd, SLOT.size * processes)
        self._lock = threading.Lock()  # this process's request threads update its slot

    @classmethod
    def create(cls, processes: int) -> ConnectionCounts:
        """The first process's counts; `inheritable_env` tells an extra process where they are."""
        descriptor, path = tempfile.mkstemp(prefix="openmrcs-connections-")
        os.unlink(path)  # the open descriptors keep it; nothing to clean up after a crash
        os.ftruncate(descriptor, SLOT.size * processes)
        os.set_inheritable(descriptor, True)
        counts = cls(descriptor, processes, 0)
        for index in range(processes):
            SLOT.pack_into(counts._memory, SLOT.size * index, NOT_SERVING)
        return counts

    @classmethod
    def inherited(cls) -> ConnectionCounts | None:
        """An extra process's view of the first one's counts (None when running alone)."""
        value = os.environ.get(COUNTS_FD)
        if value is None:
            return None
        fd, processes = (int(part) for part in value.split(":"))
        return cls(fd, processes, int(os.environ[PROCESS_INDEX]))

    def inheritable_env(self, index: int) -> dict[str, str]:
        return {COUNTS_FD: f"{self.fd}:{self.processes}", PROCESS_INDEX: str(index)}

    def count(self, index: int) -> int:
        return int(SLOT.unpack_from(self._memory, SLOT.size * index)[0])

    def serving(self) -> None:
        self._set(0)

    def stopped(self) -> None:
        self._set(NOT_SERVING)

    def add(self, delta: int) -> None:
        with self._lock:
            self._set(max(0, self.count(self.index) + delta))

    def _set(self, value: int) -> None:
        SLOT.pack_into(self._memory, SLOT.size * self.index, value)

    def all_serving(self, *, but: int) -> bool:
        return all(self.count(index) != NOT_SERVING for index in range(self.processes) if index != but)

    def least_busy(self) -> bool:
        own = self.count(self.index)
        others = (self.count(other) for other in range(self.processes) if other != self.index)
        return all(own <= other for other in others if other != NOT_SERVING)


def leave_to_a_less_busy_process(listening: socket.socket, counts: ConnectionCounts) -> bool:
    """Wait while a less busy process may take the pending connection. True when it did (this
    process should not accept); False when this process should accept it."""
    deadline = time.monotonic() + MAX_DEFERRAL_SEC
    while not counts.least_busy() and time.monotonic() < deadline:
        time.sleep(RECHECK_SEC)
        if not select.select([listening], [], [], 0)[0]:
            return True  # no connection is pending any more: another process accepted it
    return False
