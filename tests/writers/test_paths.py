"""Tests of `writers.paths`: destinations normalised to a local `Path` or a `UPath`, shown without secrets."""

from __future__ import annotations

from pathlib import Path

import pytest
from upath import UPath

from airflow_provider_logfire.writers import destination_exists, to_upath_or_path
from airflow_provider_logfire.writers.paths import display_path, is_local


def test_to_upath_or_path() -> None:
    assert to_upath_or_path("/tmp/x/records.parquet") == Path("/tmp/x/records.parquet")
    assert to_upath_or_path("relative/records.parquet") == Path("relative/records.parquet")
    assert to_upath_or_path("file:///tmp/a%20b/records.csv") == Path("/tmp/a b/records.csv")
    assert to_upath_or_path("file://localhost/tmp/x.csv") == Path("/tmp/x.csv")
    assert to_upath_or_path(Path("/tmp/y")) == Path("/tmp/y")
    assert to_upath_or_path(UPath("file:///tmp/z.csv")) == Path("/tmp/z.csv")
    assert type(to_upath_or_path(UPath("file:///tmp/z.csv"))) is type(Path("/tmp"))
    remote = to_upath_or_path("memory://bucket/x.parquet")
    assert isinstance(remote, UPath)
    assert remote.protocol == "memory"
    given = UPath("memory://bucket/y.parquet")
    assert to_upath_or_path(given) is given
    with pytest.raises(ValueError, match="remote host"):
        to_upath_or_path("file://server/share/x.csv")


def test_a_destination_of_another_type_is_rejected_by_name() -> None:
    with pytest.raises(TypeError, match="must be a str, os.PathLike or UPath, not int"):
        to_upath_or_path(42)  # type: ignore[arg-type]


def test_display_path_hides_credentials() -> None:
    assert display_path("s3://AKIA:very-secret@bucket/x.parquet") == "s3://***@bucket/x.parquet"
    assert "secret" not in display_path("https://user:secret@example.com/x")


def test_a_rejected_file_url_is_shown_without_its_credentials() -> None:
    with pytest.raises(ValueError, match="remote host") as caught:
        to_upath_or_path("file://admin:hunter2@server/x.csv")
    assert "hunter2" not in str(caught.value)


def test_destination_exists_locally_and_on_fsspec(tmp_path: Path, memory_root: str) -> None:
    local = tmp_path / "records.parquet"
    remote = UPath(f"{memory_root}/records.parquet")
    dangling = tmp_path / "dangling.parquet"
    dangling.symlink_to(tmp_path / "gone")
    assert not destination_exists(local)
    assert not destination_exists(str(remote))
    local.write_bytes(b"x")
    remote.parent.mkdir(parents=True, exist_ok=True)
    remote.write_bytes(b"x")
    assert destination_exists(local)
    assert destination_exists(f"file://{local}")
    assert destination_exists(remote)
    assert destination_exists(dangling)  # a link in the way is something that exists


def test_display_path_shows_an_object_storage_path_without_its_user_part() -> None:
    """Airflow's ObjectStoragePath keeps the connection id as the URL's user: the plain URL is shown."""
    from upath import UPath

    assert display_path(UPath("s3://aws_default@bucket/day/x.parquet")) == "s3://bucket/day/x.parquet"
    assert display_path(UPath("s3://AKIA:very-secret@bucket/x.parquet")) == "s3://bucket/x.parquet"


def test_only_plain_paths_are_local_whatever_universal_pathlib_makes_of_upath(tmp_path: Path) -> None:
    """universal_pathlib 0.2 (Airflow 3.0/3.1) makes every UPath a `pathlib.Path`; 0.3 does not."""
    assert is_local(tmp_path) and is_local(to_upath_or_path(f"file://{tmp_path}/x.parquet"))
    for remote in ("memory://bucket/x.parquet", "s3://bucket/x.parquet"):
        assert not is_local(UPath(remote)) and not is_local(to_upath_or_path(remote))
    assert not is_local("relative/x.parquet")  # a string is not normalised yet


def test_an_existing_object_is_seen_as_existing(tmp_path: Path) -> None:
    remote = UPath(f"memory://paths-test-{tmp_path.name}/records.parquet")
    remote.write_bytes(b"previous")
    try:
        assert destination_exists(remote) and destination_exists(str(remote))
        assert not destination_exists(remote.with_name("other.parquet"))
    finally:
        remote.unlink()
