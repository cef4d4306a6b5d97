"""The local stack's long-lived processes hold a large heap that never dies (botocore's service
models, pydantic's schemas, every domain's modules: 74,000 objects in an API process after its
imports; moto's backends and the seeded table in the DynamoDB process). Every full collection
walked all of it: 100-270 ms pauses of an API process and 50-260 ms of the DynamoDB process
measured under `make dev`'s 20 clients, each stalling every request of that process (in the
DynamoDB process, of every process). Once a process has started, what it holds is moved out of
the collector's view."""

from __future__ import annotations

import gc


def settle() -> int:
    """Collect what is garbage now, then freeze the survivors: later collections scan only newer
    objects. Returns how many objects are frozen."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
