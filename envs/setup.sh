#!/usr/bin/env bash
# Installs everything on a fresh machine: .venv with the exact versions of envs/requirements.lock (pip only;
# refresh the lock with `python3 envs/lock.py`) and the package itself, plus Debian's Fashion-MNIST, the real
# data the quick scale runs on offline.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -r envs/requirements.lock
.venv/bin/python -m pip install --quiet --no-deps -e .

FASHION_MNIST=/usr/share/datasets/fashion-mnist
if [ ! -d "$FASHION_MNIST" ]; then
    if [ "$(id -u)" -eq 0 ] && command -v apt-get > /dev/null; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist
    else
        echo "note: $FASHION_MNIST is missing. Install it with 'sudo apt-get install dataset-fashion-mnist'," \
            "or let prepare_data download the files (config.yaml: data.datasets.fashion_mnist.urls)." >&2
    fi
fi
