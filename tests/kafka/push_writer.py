"""Tag commands for the push latency test: after each, the time its commit was acknowledged."""

import sys
import time

from imagetrail.engine.adapters.registry.resolver import Resolver
from imagetrail.engine.adapters.store_urls import parse_store
from imagetrail.engine.service.application import ImageTrail
from imagetrail.engine.settings import Settings

store, count = sys.argv[1], int(sys.argv[2])
app = ImageTrail(parse_store(Settings(store=store)), Resolver())
for i in range(count):
    app.tag("push", f"quay.io/org/app@sha256:{i:064x}", [f"app:t{i}"])
    print(f"t{i} {time.time()}", flush=True)
    time.sleep(0.2)
