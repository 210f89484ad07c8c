"""Where a sweep's batches run: in this process (:class:`SerialExecutor`, ``workers = 0``) or on
a ``distributed.Client`` (:class:`DaskExecutor`): a new ``LocalCluster`` of single-threaded worker
processes, or a running cluster given by its scheduler address. Both take batches of tasks and
yield their results as they come back; the caller writes them.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import os
import time
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

from ..errors import UserInputError
from ..outputs import __version__
from .worker import code_fingerprint, failed_batch, one_line, run_batch, warm_up

LOGGER_NAMES = ("distributed", "tornado", "asyncio", "bokeh")


class SweepAborted(RuntimeError):
    """The sweep stopped before the end (lost scheduler, no workers); finished batches are on disk."""


# ------------------------------------------------------------------ executors
class SerialExecutor:
    """Runs batches one after the other in this process (``workers = 0``)."""

    name = "serial"
    workers = 1

    def __enter__(self) -> SerialExecutor:
        start = time.perf_counter()
        warm_up()
        self.setup_seconds = time.perf_counter() - start
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def run(self, jobs: Iterator[tuple[int, list[dict[str, Any]]]], outputs: str,
            series_columns: Sequence[str]) -> Iterator[tuple[int, list[dict[str, Any]], tuple]]:
        for batch, tasks in jobs:
            yield batch, tasks, run_batch(tasks, outputs, series_columns)


class DaskExecutor:
    """Runs batches on a ``distributed.Client``: a new LocalCluster or a scheduler address."""

    def __init__(self, *, scheduler: str | None = None, workers: int | None = None, wait_seconds: float = 60.0):
        self.scheduler = scheduler
        self.n_local = workers
        self.wait_seconds = wait_seconds
        self.name = f"dask scheduler {scheduler}" if scheduler else "local Dask cluster"
        self._stack = contextlib.ExitStack()
        self.workers = 0
        self.worker_info: list[dict[str, Any]] = []

    def __enter__(self) -> DaskExecutor:
        from distributed import Client, LocalCluster

        start = time.perf_counter()
        stack = self._stack
        try:
            names = [n for n in list(logging.root.manager.loggerDict)
                     if n in LOGGER_NAMES or n.startswith(tuple(f"{p}." for p in LOGGER_NAMES))]
            for name in {*LOGGER_NAMES, *names}:
                logger = logging.getLogger(name)
                previous = logger.level
                logger.setLevel(logging.CRITICAL)  # failures surface as one line (SweepAborted, failed runs)
                stack.callback(logger.setLevel, previous)
            if self.scheduler:
                try:
                    self.client = stack.enter_context(Client(self.scheduler, timeout="15s"))
                except (OSError, TimeoutError) as exc:
                    raise UserInputError(f"cannot connect to the Dask scheduler ({one_line(exc, 300)}); allowed: "
                                         "the address of a running `dask scheduler`, e.g. tcp://10.0.0.5:8786",
                                         source=str(self.scheduler), key="--scheduler") from None
                try:
                    self.client.wait_for_workers(1, timeout=self.wait_seconds)
                except (TimeoutError, OSError):
                    raise SweepAborted(f"the Dask scheduler {self.scheduler} has no workers after "
                                       f"{self.wait_seconds:.0f} s; start some with `dask worker {self.scheduler} "
                                       "--nthreads 1`") from None
            else:
                n = max(1, int(self.n_local or os.cpu_count() or 1))
                # The worker processes inherit NUMBA_NUM_THREADS=1 from their start, so numba reads
                # the same value at import and at every later compile (changing it after numba's
                # threads started is an error). Restored here at once: this process's numba is
                # untouched. run_batch also sets one thread per run wherever it runs.
                with _temporary_environ(NUMBA_NUM_THREADS="1"):
                    cluster = stack.enter_context(LocalCluster(
                        n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None,
                        silence_logs=logging.ERROR,
                        # no dashboard; the scheduler's small HTTP server on any free loopback port
                        scheduler_kwargs={"dashboard_address": "127.0.0.1:0"}))
                self.client = stack.enter_context(Client(cluster))
            self._warm_up()
        except BaseException:
            stack.close()
            raise
        self.setup_seconds = time.perf_counter() - start
        return self

    def _warm_up(self) -> None:
        """Load the kernels once in every worker (pinned tasks) and check the code version."""
        info = self.client.scheduler_info(n_workers=-1)["workers"] if _accepts_n_workers(self.client) \
            else self.client.scheduler_info()["workers"]
        futures = [self.client.submit(warm_up, key=f"warm-up-{uuid.uuid4().hex[:8]}", workers=[addr],
                                      allow_other_workers=False, pure=False) for addr in info]
        self.worker_info = self.client.gather(futures)
        self.workers = sum(int(w.get("nthreads", 1)) for w in info.values()) or len(info)
        mine = code_fingerprint()
        for addr, got in zip(info, self.worker_info):
            if got["version"] != __version__ or got["code_fingerprint"] != mine:
                raise UserInputError(f"worker {addr} runs other model code (socialsim {got['version']}, code "
                                     f"{got['code_fingerprint']}; here {__version__}, code {mine}); allowed: the same "
                                     "code on every worker (install this checkout there)",
                                     source=str(self.scheduler or "local cluster"), key="--scheduler")

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(Exception):
            self._stack.close()

    def run(self, jobs: Iterator[tuple[int, list[dict[str, Any]]]], outputs: str,
            series_columns: Sequence[str]) -> Iterator[tuple[int, list[dict[str, Any]], tuple]]:
        from distributed import as_completed

        try:
            from distributed.scheduler import KilledWorker
        except ImportError:  # pragma: no cover - older layouts
            from distributed import KilledWorker  # type: ignore[no-redef]

        in_flight = max(2, 2 * self.workers)
        pending: dict[Any, tuple[int, list[dict[str, Any]]]] = {}
        completed = as_completed()

        def submit_next() -> bool:
            job = next(jobs, None)
            if job is None:
                return False
            batch, tasks = job
            future = self.client.submit(run_batch, tasks, outputs, list(series_columns),
                                        key=f"run_batch-{batch:05d}-{uuid.uuid4().hex[:8]}", pure=False)
            pending[future] = job
            completed.add(future)
            return True

        for _ in range(in_flight):
            if not submit_next():
                break
        for future in completed:
            batch, tasks = pending.pop(future)
            try:
                result = future.result()
            except KilledWorker as exc:
                result = failed_batch(tasks, f"KilledWorker: {one_line(exc, 500)}", outputs, series_columns)
            except (Exception, asyncio.CancelledError, concurrent.futures.CancelledError) as exc:  # noqa: BLE001
                # lost scheduler, cancelled by someone else, ...
                for other in list(pending):
                    other.cancel()
                raise SweepAborted(f"batch {batch} did not come back ({type(exc).__name__}: {one_line(exc, 300)}); "
                                   "the finished batches are on disk: rerun the same command to resume") from None
            del future
            yield batch, tasks, result
            submit_next()


@contextlib.contextmanager
def _temporary_environ(**values: str) -> Iterator[None]:
    """Set environment variables for the duration of the block (for child processes started in it)."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _accepts_n_workers(client: Any) -> bool:
    import inspect

    try:
        return "n_workers" in inspect.signature(client.scheduler_info).parameters
    except (TypeError, ValueError):  # pragma: no cover
        return False
