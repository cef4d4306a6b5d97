"""What a Lambda container does once, at init, about its heap.

Init builds ~116,000 objects that live as long as the container: modules, classes, botocore's
service model and client, pydantic's schemas, the settings. The cyclic collector ran again and
again while they were being made, and every one of its passes walked all of them so far: ~30 ms of
the API function's init in `make bench` (packaged, compiled layout), for almost no garbage (a full
collection after init frees ~3,500 memory blocks, <0.5 MB). So init runs with the collector
paused, and what init built is then frozen: later full collections, while requests are served,
walk only what requests make, not the init heap again. (The local stack's long-lived processes
do the same after their own start-up: local_stack/heap.py.)"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused_then_frozen() -> Iterator[None]:
    """Pauses the cyclic collector for the block; when the block succeeds, freezes every object
    alive then (no collection first: its ~24 ms would cost more than the garbage it frees). The
    collector runs again afterwards whatever happened, so a failed init leaves no process without
    one."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
        gc.freeze()
    finally:
        if was_enabled:
            gc.enable()
