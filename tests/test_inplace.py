"""Zero-copy in-place evaluation ``s(steps, out=lrs)`` into caller memory: numpy arrays and CPU torch tensors.

Every bad ``out`` (dtype, shape, device, read-only, non-contiguous, overlapping the steps) is a
TypeError/ValueError raised before anything is written: the buffer keeps its sentinel values.
"""

from __future__ import annotations

import numpy as np
import pytest
from tolerance import assert_agrees

import fastlr

torch = pytest.importorskip("torch")

SENTINEL = 7.25
N = 6


def _schedule():
    # one peak and one min per element: the per-parameter path
    peak = np.linspace(1e-3, 2e-3, N)
    return fastlr.WarmupCosine(peak_lr=peak, total_steps=100, warmup_steps=10, min_lr=peak * 0.1)


def _steps():
    return torch.tensor([0, 5, 10, 50, 100, 2**40], dtype=torch.int64)


def _expected(schedule, steps):
    with fastlr.use_backend("numpy"):
        return schedule(np.asarray(steps, dtype=np.int64))


@pytest.fixture(params=fastlr.backends())
def backend(request):
    with fastlr.use_backend(request.param):
        yield request.param


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_writes_into_tensor_memory(backend, dtype):
    schedule, steps = _schedule(), _steps()
    lrs = torch.full((N,), SENTINEL, dtype=dtype)
    pointer = lrs.data_ptr()
    result = schedule(steps, out=lrs)
    assert result is lrs
    assert lrs.data_ptr() == pointer
    expected = _expected(schedule, steps.numpy())
    assert_agrees(lrs.numpy(), expected, schedule, np.float64 if dtype == torch.float64 else np.float32)


def test_float_steps_and_scalar_schedule_into_tensor(backend):
    schedule = fastlr.Cosine(peak_lr=0.1, total_steps=1000)
    steps = torch.linspace(0, 1200, 31, dtype=torch.float64)
    lrs = torch.empty(31, dtype=torch.float64)
    schedule(steps, out=lrs)
    assert_agrees(lrs.numpy(), _expected(schedule, steps.numpy()), schedule)


def test_broadcast_table_into_2d_tensor(backend):
    # steps (T, 1) x per-group peaks (G,) -> a (T, G) table written in place
    schedule = fastlr.Cosine(peak_lr=np.array([1.0, 0.5, 0.25]), total_steps=20)
    steps = torch.arange(25, dtype=torch.int64).reshape(25, 1)
    table = torch.zeros(25, 3, dtype=torch.float64)
    pointer = table.data_ptr()
    schedule(steps, out=table)
    assert table.data_ptr() == pointer
    np.testing.assert_array_equal(table.numpy(), schedule.curve(25))  # one backend: the same bits


def test_curve_into_tensor_and_device_table(backend):
    schedule = fastlr.WarmupCosine(peak_lr=np.array([3e-4, 1e-4]), total_steps=50, warmup_steps=5)
    table = torch.empty(50, 2, dtype=torch.float64)
    schedule.curve(50, out=table)
    # the GPU recipe of fastlr.torch's docstring: a table moved once, indexed by a step tensor
    table = torch.from_numpy(schedule.curve())
    for step in (0, 5, 17, 49):
        np.testing.assert_array_equal(table[torch.tensor(step)].numpy(), schedule(step))


def test_writes_into_numpy_arrays(backend):
    schedule = _schedule()
    steps = _steps().numpy()
    for dtype in (np.float64, np.float32):
        out = np.full(N, SENTINEL, dtype=dtype)
        assert schedule(steps, out=out) is out
        assert_agrees(out, _expected(schedule, steps), schedule, dtype)


def test_numpy_view_of_tensor_shares_memory(backend):
    """``s(steps, out=lrs.numpy())`` also writes into the tensor."""
    schedule, steps = _schedule(), _steps()
    lrs = torch.zeros(N, dtype=torch.float64)
    schedule(steps.numpy(), out=lrs.numpy())
    assert_agrees(lrs.numpy(), _expected(schedule, steps.numpy()), schedule)


def test_writable_memoryview():
    buffer = bytearray(8 * N)
    view = memoryview(buffer).cast("d")
    schedule = _schedule()
    schedule(_steps().numpy(), out=view)
    assert_agrees(np.frombuffer(buffer), _expected(schedule, _steps().numpy()), schedule)


# ---------------------------------------------------------------------------------- rejected buffers


def _assert_rejected(out, error, match=None, steps=None, view=None):
    schedule = _schedule()
    steps = _steps() if steps is None else steps
    before = None if view is None else np.array(view, copy=True)
    with pytest.raises(error, match=match):
        schedule(steps, out=out)
    if view is not None:
        np.testing.assert_array_equal(np.asarray(view), before)


@pytest.mark.parametrize("dtype", [torch.int64, torch.int32, torch.float16, torch.bfloat16,
                                   torch.complex128])
def test_wrong_dtype(dtype):
    out = torch.full((N,), 3, dtype=dtype)
    before = out.clone()
    _assert_rejected(out, TypeError)
    assert torch.equal(out, before)


@pytest.mark.parametrize("shape", [(N + 1,), (N - 1,), (1, N), (N, 1), ()])
def test_wrong_shape(shape):
    out = torch.full(shape, SENTINEL, dtype=torch.float64)
    _assert_rejected(out, ValueError, match="shape", view=out.numpy())


def test_meta_device():
    out = torch.empty(N, dtype=torch.float64, device="meta")
    with pytest.raises((TypeError, ValueError)):
        _schedule()(_steps(), out=out)
    with pytest.raises((TypeError, ValueError)):
        _schedule()(torch.arange(N, device="meta"))


class _FakeDeviceArray:
    """Quacks like a CUDA tensor through DLPack; exporting it must never be attempted."""

    def __init__(self, device_type):
        self.device_type = device_type
        self.exported = False

    def __dlpack_device__(self):
        return (self.device_type, 0)

    def __dlpack__(self, *args, **kwargs):  # pragma: no cover - must not be reached
        self.exported = True
        raise AssertionError("__dlpack__ called on a non-CPU array")


@pytest.mark.parametrize("device_type", [2, 3, 10, 13])  # CUDA, CUDA host, ROCm, CUDA managed... all non-CPU
def test_non_cpu_device_out(device_type):
    fake = _FakeDeviceArray(device_type)
    with pytest.raises(ValueError, match="CPU"):
        _schedule()(_steps(), out=fake)
    assert not fake.exported


def test_non_cpu_device_steps():
    fake = _FakeDeviceArray(2)
    out = torch.full((N,), SENTINEL, dtype=torch.float64)
    with pytest.raises(ValueError, match="CPU"):
        _schedule()(fake, out=out)
    assert torch.all(out == SENTINEL)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_cuda_tensor_out():  # pragma: no cover - needs a GPU
    out = torch.full((N,), SENTINEL, dtype=torch.float64, device="cuda")
    with pytest.raises(ValueError, match="CPU"):
        _schedule()(_steps(), out=out)
    assert torch.all(out.cpu() == SENTINEL)


def test_read_only_numpy():
    out = np.full(N, SENTINEL)
    out.flags.writeable = False
    _assert_rejected(out, ValueError, match="read-only", view=out)


def test_read_only_memoryview():
    out = memoryview(np.full(N, SENTINEL).tobytes()).cast("d")
    _assert_rejected(out, (TypeError, ValueError), view=np.frombuffer(out.obj))


@pytest.mark.parametrize("make", [
    lambda: torch.full((2 * N,), SENTINEL, dtype=torch.float64)[::2],
    lambda: torch.full((N, 3), SENTINEL, dtype=torch.float64).t(),
    lambda: torch.full((1,), SENTINEL, dtype=torch.float64).expand(N),
    lambda: torch.full((N, 2), SENTINEL, dtype=torch.float64)[:, 0],
], ids=["strided", "transposed", "expanded", "column"])
def test_non_contiguous_out(make):
    out = make()
    steps = _steps() if out.ndim == 1 else torch.zeros(out.shape, dtype=torch.int64)
    _assert_rejected(out, ValueError, match="contiguous", steps=steps, view=out.numpy())


def test_non_contiguous_numpy_out():
    base = np.full(2 * N, SENTINEL)
    _assert_rejected(base[::2], ValueError, match="contiguous", view=base)


def test_out_overlapping_steps():
    buffer = torch.zeros(N, dtype=torch.float64)  # bit pattern 0 == int64 0: valid steps
    steps = buffer.view(torch.int64)
    _assert_rejected(buffer, ValueError, match="overlap", steps=steps, view=buffer.numpy())


def test_out_partially_overlapping_steps():
    storage = torch.zeros(2 * N, dtype=torch.float64)
    steps = storage[:N].view(torch.int64)
    out = storage[N // 2: N // 2 + N]
    _assert_rejected(out, ValueError, match="overlap", steps=steps, view=storage.numpy())


def test_requires_grad_tensor():
    out = torch.full((N,), SENTINEL, dtype=torch.float64, requires_grad=True)
    with pytest.raises(TypeError):
        _schedule()(_steps(), out=out)
    assert torch.all(out.detach() == SENTINEL)


@pytest.mark.parametrize("out", [[0.0] * N, tuple([0.0] * N), 3.0, "lrs", None.__class__])
def test_not_an_array(out):
    with pytest.raises(TypeError):
        _schedule()(_steps(), out=out)


@pytest.mark.parametrize("steps, error", [
    (torch.tensor([0, 1, 2, -1, 4, 5]), ValueError),
    (torch.tensor([0.0, 1.0, float("nan"), 3.0, 4.0, 5.0], dtype=torch.float64), ValueError),
    (torch.tensor([0.0, 1.0, 2.0, float("inf"), 4.0, 5.0]), ValueError),
    (torch.ones(N, dtype=torch.bool), TypeError),
    (torch.ones(N, dtype=torch.float64, requires_grad=True), TypeError),
], ids=["negative", "nan", "inf", "bool", "requires-grad"])
def test_bad_steps_leave_out_untouched(steps, error):
    out = torch.full((N,), SENTINEL, dtype=torch.float64)
    with pytest.raises(error):
        _schedule()(steps, out=out)
    assert torch.all(out == SENTINEL)


def test_negative_view_tensor():
    """A tensor with torch's lazy negation bit exports its raw storage through DLPack: writing into it
    would make the caller read ``-lr``. It must be refused (or written correctly)."""
    out = torch.zeros(N, dtype=torch.float64)._neg_view()
    schedule, steps = _schedule(), _steps()
    with pytest.raises(TypeError, match="out is a lazily negated"):
        schedule(steps, out=out)
    assert torch.all(out == 0)
