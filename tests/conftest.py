import sys
from pathlib import Path

import pytest
import torch

# One intra-op thread: on 2-core machines two threads make small models several times slower.
torch.set_num_threads(1)
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))


@pytest.fixture(scope="session")
def synthetic_dataset(tmp_path_factory) -> Path:
    """A small learnable dataset in the prepared-tensor format, shared by the training tests."""
    from plasticity.data import prepare_dataset

    folder = tmp_path_factory.mktemp("data")
    spec = {"source": "synthetic", "classes": 10, "train_size": 1000, "test_size": 300, "seed": 0,
            "shape": [1, 28, 28]}
    prepare_dataset("synthetic", spec, folder / "raw", folder / "synthetic.pt")
    return folder / "synthetic.pt"
