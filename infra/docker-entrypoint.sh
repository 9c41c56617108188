#!/bin/sh
# Every process of the image starts here (web, worker, beat, migration job, relay): a fresh
# Prometheus multiprocess directory (metrics of a previous run's processes would be counted
# again), then the command.
set -eu
if [ -n "${PROMETHEUS_MULTIPROC_DIR:-}" ]; then
    mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
    find "$PROMETHEUS_MULTIPROC_DIR" -mindepth 1 -delete
fi
exec "$@"
