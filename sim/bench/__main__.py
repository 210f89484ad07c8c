"""``python -m sim.bench [SIZES...]`` runs the benchmark; ``python -m sim.bench --worker KIND ARGS...``
runs one worker in this process (see :func:`sim.bench.workers.worker`)."""

import sys

if len(sys.argv) > 1 and sys.argv[1] == "--worker":
    from .workers import worker

    worker(sys.argv[2:])
else:
    from .sizes import DEFAULT_SIZES
    from .suite import main

    main(sizes=sys.argv[1:] or DEFAULT_SIZES)
