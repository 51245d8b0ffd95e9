"""dask: lazy schedules of dask arrays, evaluated per chunk by the C++ core (bit for bit the numpy path),
reductions and the atomic zarr writer on a two-process LocalCluster."""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import given, reject
from hypothesis import strategies as st
from strategies import assert_agrees, schedules, step_arrays, universe_shapes

import fastlr

da = pytest.importorskip("dask.array")
fastlr_dask = pytest.importorskip("fastlr.dask")


def _sweep():
    """Six configurations of a warmup-cosine schedule: (n,) parameters, one column each."""
    peaks = np.geomspace(1e-4, 1e-2, 6)
    return fastlr.WarmupCosine(peak_lr=peaks, total_steps=np.linspace(500, 1000, 6), warmup_steps=50,
                               min_lr=peaks * 0.01)


@given(data=st.data(), chunk=st.integers(1, 7))
def test_chunks_agree_bit_for_bit_with_the_numpy_path(data, chunk):
    shape = data.draw(universe_shapes(), label="shape")
    try:
        schedule = data.draw(schedules(shape), label="schedule")
    except ValueError:  # the strategies occasionally draw invalid parameters
        reject()
    steps, _ = data.draw(step_arrays(shape, schedule, allow_scalar=False), label="steps")
    steps = np.asarray(steps)
    lazy = schedule(da.from_array(steps, chunks=chunk))
    assert isinstance(lazy, da.Array)
    expected = schedule(steps)
    result = lazy.compute(scheduler="sync")
    assert result.shape == np.shape(expected) and result.dtype == np.float64
    np.testing.assert_array_equal(result, expected)


def test_parameter_columns_are_sliced_per_chunk():
    schedule = _sweep()
    lazy = fastlr_dask.curve(schedule, 1200, chunks=250)
    assert lazy.shape == (1200, 6) and lazy.chunks[0] == (250,) * 4 + (200,)
    with fastlr.use_backend("numpy"):
        expected = schedule.curve(1200)
    assert_agrees(lazy.compute(scheduler="sync"), expected, schedule)
    shifted = fastlr_dask.curve(schedule, 100, start=900, chunks=30, dtype=np.float32).compute(scheduler="sync")
    np.testing.assert_array_equal(shifted, schedule.curve(100, start=900, dtype=np.float32))


def test_errors():
    schedule = _sweep()
    with pytest.raises(TypeError, match="lazy"):
        schedule(fastlr_dask.steps(10), out=np.zeros((10, 6)))
    with pytest.raises(TypeError, match="integers or real numbers"):
        schedule(da.ones((3, 1), dtype=bool))
    with pytest.raises(ValueError, match="do not broadcast"):
        schedule(da.arange(5))
    with pytest.raises(ValueError, match="finite and >= 0"):
        schedule(da.from_array(np.array([[1], [-1]]), chunks=1)).compute(scheduler="sync")
    with pytest.raises(ValueError, match="n must be"):
        fastlr_dask.steps(-1)


@pytest.fixture(scope="module")
def client():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=40) as cluster, distributed.Client(cluster) as client:
        yield client


def test_sweep_reductions_on_a_local_cluster(client):
    schedule = _sweep()
    lazy = schedule(fastlr_dask.steps(20_000, chunks=3_000))
    mean_lr = lazy.mean(axis=0).compute()
    final_lr = lazy[-1].compute()
    curve = schedule.curve(20_000)
    # the values are the same bits; only the order of the sum differs (bound: n ulps of the sum)
    np.testing.assert_allclose(mean_lr, curve.mean(axis=0), rtol=len(curve) * np.finfo(np.float64).eps)
    np.testing.assert_array_equal(final_lr, curve[-1])
    # the tasks ran in the worker processes, not here
    assert len(client.scheduler_info()["workers"]) == 2


def test_to_zarr_is_atomic(client, tmp_path):
    zarr = pytest.importorskip("zarr")
    schedule = _sweep()
    lazy = fastlr_dask.curve(schedule, 1000, chunks=300)
    target = fastlr_dask.to_zarr(lazy, tmp_path / "sweep.zarr", progress=True)
    stored = zarr.open_array(str(target), mode="r")
    assert stored.shape == (1000, 6) and stored.chunks == (300, 6)
    np.testing.assert_array_equal(stored[...], schedule.curve(1000))
    with pytest.raises(FileExistsError, match="overwrite"):
        fastlr_dask.to_zarr(lazy, target)
    # a failing computation leaves the previous result and no partial directory behind
    bad = schedule(da.from_array(np.array([[1], [-1]]), chunks=1))
    with pytest.raises(ValueError, match="finite and >= 0"):
        fastlr_dask.to_zarr(bad, target, overwrite=True)
    assert sorted(os.listdir(tmp_path)) == ["sweep.zarr"]
    np.testing.assert_array_equal(zarr.open_array(str(target), mode="r")[...], schedule.curve(1000))
    fastlr_dask.to_zarr(lazy[:10], target, overwrite=True)
    assert zarr.open_array(str(target), mode="r").shape == (10, 6)
    assert sorted(os.listdir(tmp_path)) == ["sweep.zarr"]
