"""MFU from the full device name: an H100 PCIe is not an H100 SXM; unknown devices get none."""
import pytest

from training.metrics import mfu, peak_flops


def test_peak_table_is_keyed_on_the_full_device_name():
    assert peak_flops("NVIDIA H100 80GB HBM3") == 989e12
    assert peak_flops("NVIDIA H100 PCIe") == 756e12
    assert peak_flops("NVIDIA H200") == 989e12
    assert peak_flops("NVIDIA A100-SXM4-80GB") == 312e12
    assert peak_flops("NVIDIA H100") is None          # no prefix matching
    assert peak_flops("NVIDIA GeForce RTX 4090") is None and peak_flops(None) is None


def test_mfu_over_all_devices():
    assert mfu(6 * 124e6, 100_000, "NVIDIA A100-SXM4-40GB") == pytest.approx(6 * 124e6 * 1e5 / 312e12)
    assert mfu(1e9, 1e5, "NVIDIA H200", world_size=8) == pytest.approx(1e14 / (8 * 989e12))
    assert mfu(1e9, 1e5, "Some Future GPU") is None
