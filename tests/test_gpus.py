"""Which GPU a worker gets (properties/gpus.py), for `campaign --workers` and for `pytest -n`."""

from __future__ import annotations

from properties.gpus import RUNNER_GPUS, pin_xdist_worker, visible_gpus, worker_gpu


def no_gpus() -> int:
    return 0


def two_gpus() -> int:
    return 2


def test_workers_index_the_callers_own_list():
    gpus = visible_gpus("2,3")
    assert [worker_gpu(gpus, index) for index in range(3)] == ["2", "3", "2"]


def test_gpus_named_by_uuid_keep_their_names():
    gpus = visible_gpus("GPU-5c1c7f5e-1d7e-3a4b-9f00-2b8e4c1d0a11,MIG-GPU-aa/1/0")
    assert worker_gpu(gpus, 1) == "MIG-GPU-aa/1/0"
    assert worker_gpu(gpus, 0) == "GPU-5c1c7f5e-1d7e-3a4b-9f00-2b8e4c1d0a11"


def test_without_a_list_the_gpus_are_the_installed_ones():
    assert visible_gpus(None, two_gpus) == ["0", "1"]
    assert visible_gpus(None, no_gpus) == []


def test_cuda_stops_reading_the_list_at_an_entry_it_cannot_parse():
    assert visible_gpus("") == []
    assert visible_gpus("-1") == []
    assert visible_gpus("1, 0,-1,2") == ["1", "0"]


def test_each_xdist_worker_is_pinned_to_one_of_the_callers_gpus():
    environ = {"PYTEST_XDIST_WORKER": "gw1", "CUDA_VISIBLE_DEVICES": "2,3"}
    pin_xdist_worker(environ, no_gpus)
    assert environ == {"PYTEST_XDIST_WORKER": "gw1", "CUDA_VISIBLE_DEVICES": "3", RUNNER_GPUS: "2,3"}

    environ = {"PYTEST_XDIST_WORKER": "gw2"}
    pin_xdist_worker(environ, two_gpus)
    assert environ["CUDA_VISIBLE_DEVICES"] == "0" and environ[RUNNER_GPUS] == "0,1"


def test_pinning_leaves_the_environment_alone_without_gpus_or_outside_xdist():
    for environ, installed in (
        ({"PYTEST_XDIST_WORKER": "gw1"}, no_gpus),
        ({"PYTEST_XDIST_WORKER": "gw1", "CUDA_VISIBLE_DEVICES": ""}, two_gpus),
        ({"CUDA_VISIBLE_DEVICES": "2,3"}, two_gpus),
        ({}, two_gpus),
    ):
        before = dict(environ)
        pin_xdist_worker(environ, installed)
        assert environ == before
