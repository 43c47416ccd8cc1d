"""Parallel page readers: every page arrives once, and a reader's error reaches the caller."""

from collections.abc import Callable, Iterator

import pytest

from governance.sync.readers import parallel_pages


def _job(name: str, pages: int) -> Callable[[], Iterator[list[str]]]:
    def read() -> Iterator[list[str]]:
        for page in range(pages):
            yield [f"{name}-{page}-{item}" for item in range(3)]

    return read


def test_it_yields_every_page_of_every_job_once() -> None:
    jobs = [_job(f"exp{i}", pages=i + 1) for i in range(6)]

    pages = list(parallel_pages(jobs, readers=3))

    items = [item for page in pages for item in page]
    assert len(pages) == 21 and len(items) == len(set(items)) == 63


def test_it_reads_in_the_callers_thread_with_one_reader() -> None:
    assert list(parallel_pages([_job("a", 2), _job("b", 1)], readers=1)) == [
        ["a-0-0", "a-0-1", "a-0-2"],
        ["a-1-0", "a-1-1", "a-1-2"],
        ["b-0-0", "b-0-1", "b-0-2"],
    ]


def test_it_raises_a_readers_error_in_the_caller() -> None:
    def broken() -> Iterator[list[str]]:
        yield ["fine"]
        raise ConnectionError("MLflow went away")

    jobs = [_job("a", 50), broken, _job("b", 50)]

    with pytest.raises(ConnectionError, match="MLflow went away"):
        list(parallel_pages(jobs, readers=2))
