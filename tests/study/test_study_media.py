"""Videos are served by id and only from the study's folders (path traversal is refused)."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import select, update

from evaluate.study import media
from evaluate.study.store import VideoRow


def _video_ids(store) -> list[int]:
    with store.session() as s:
        return list(s.scalars(select(VideoRow.id).order_by(VideoRow.id)))


def test_study_videos_are_served_by_id(sqlite_url, make_study):
    store = make_study(sqlite_url)
    for vid in _video_ids(store):
        data, mime = media.read(store, vid)
        assert mime == "video/mp4" and data[4:8] == b"ftyp"  # an mp4 container
        assert data == open(store.video_path(vid), "rb").read()
    assert media.read(store, str(_video_ids(store)[0]))[0]  # digits from a URL are fine


@pytest.mark.parametrize(
    "bad_id", ["../../etc/passwd", "/etc/passwd", "1/../2", "..", "-1", "0", "1.0", "١", "99999999", True, None, 3.0]
)
def test_ids_that_are_paths_or_garbage_are_refused(sqlite_url, make_study, bad_id):
    store = make_study(sqlite_url)
    with pytest.raises(media.MediaError):
        media.read(store, bad_id)


def test_rows_pointing_outside_the_study_folders_are_refused(sqlite_url, make_study, tmp_path):
    store = make_study(sqlite_url)
    outside = tmp_path / "secret.mp4"
    outside.write_bytes(b"\x00\x00\x00\x18ftypmp42 not for participants")
    vid = _video_ids(store)[1]
    inside = store.video_path(vid)
    for path in (str(outside), inside + "/../../../../../../../etc/passwd", os.path.dirname(inside) + "/../x/../../" + "secret.mp4"):
        with store.session(write=True) as s:
            s.execute(update(VideoRow).where(VideoRow.id == vid).values(path=path))
        with pytest.raises(media.MediaError):
            media.read(store, vid)


def test_symlink_inside_a_method_folder_cannot_escape(sqlite_url, make_study, predictions, tmp_path):
    store = make_study(sqlite_url)
    secret = tmp_path / "outside.mp4"
    secret.write_bytes(b"secret")
    link = predictions / "oracle-hidden" / "escape.mp4"
    link.symlink_to(secret)
    try:
        vid = _video_ids(store)[2]
        with store.session(write=True) as s:
            s.execute(update(VideoRow).where(VideoRow.id == vid).values(path=str(link)))
        with pytest.raises(media.MediaError, match="outside"):
            media.read(store, vid)
    finally:
        link.unlink()


def test_only_video_files_inside_the_folders(sqlite_url, make_study, toy_dataset):
    store = make_study(sqlite_url)
    vid = _video_ids(store)[0]
    for path in (toy_dataset / "toy_0000" / "metadata.json", toy_dataset / "toy_0000" / "lossless"):
        with store.session(write=True) as s:
            s.execute(update(VideoRow).where(VideoRow.id == vid).values(path=str(path)))
        with pytest.raises(media.MediaError, match="not a video"):
            media.read(store, vid)
