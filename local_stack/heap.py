"""The local stack's long-lived processes hold a large heap that never dies (botocore's service
models, pydantic's schemas, moto's backends and the seeded table: ~675,000 objects in an API
process). Every full collection walked all of it: 150-650 ms pauses measured under `make dev`'s
20 clients, each stalling every request of that process (and, in the DynamoDB process, of every
process). Once a process has started, what it holds is moved out of the collector's view."""

from __future__ import annotations

import gc


def settle() -> int:
    """Collect what is garbage now, then freeze the survivors: later collections scan only newer
    objects. Returns how many objects are frozen."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
