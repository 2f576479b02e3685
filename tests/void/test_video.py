import numpy as np
import pytest

from void import quadmask, video


def test_mask_round_trip_is_exact_for_all_four_values(tmp_path):
    rng = np.random.default_rng(0)
    m = rng.choice(quadmask.VALUES, size=(6, 30, 34)).astype(np.uint8)
    video.write_mask(tmp_path / "mask.mp4", m, fps=12)
    assert np.array_equal(video.read_mask(tmp_path / "mask.mp4", strict=True), m)


def test_gray_levels_survive_the_mask_codec(tmp_path):
    # the codec itself is lossless for every level (docs/dependencies.md): write raw levels via ffmpeg gray
    levels = np.tile(np.arange(256, dtype=np.uint8).reshape(16, 16), (3, 2, 2))
    video._write(tmp_path / "g.mp4", levels, 12, "gray", "libx264", ["-qp", "0", "-color_range", "pc"], "gray")
    assert np.array_equal(video.read_video(tmp_path / "g.mp4")[..., 0], levels)


def test_write_mask_refuses_other_values(tmp_path):
    with pytest.raises(quadmask.QuadmaskError):
        video.write_mask(tmp_path / "m.mp4", np.full((2, 8, 8), 100, np.uint8), 12)
    assert not (tmp_path / "m.mp4").exists()


def test_lossless_rgb_round_trip(tmp_path):
    rgb = np.random.default_rng(1).integers(0, 256, (5, 31, 33, 3), dtype=np.uint8)
    video.write_video(tmp_path / "x.mkv", rgb, 12, codec="lossless")
    assert np.array_equal(video.read_video(tmp_path / "x.mkv"), rgb)


def test_h264_is_close_and_reports_info(tmp_path):
    yy, xx = np.mgrid[0:32, 0:48]
    frame = np.stack([xx * 5, yy * 7, (xx + yy) * 3], -1).astype(np.uint8)
    rgb = np.repeat(frame[None], 4, 0)
    video.write_video(tmp_path / "x.mp4", rgb, 12)
    back = video.read_video(tmp_path / "x.mp4")
    assert back.shape == rgb.shape
    assert np.abs(back.astype(int) - rgb).mean() < 3
    info = video.video_info(tmp_path / "x.mp4")
    assert (info.width, info.height, info.num_frames, info.fps) == (48, 32, 4, 12.0)


def test_corrupt_and_missing_files_name_the_file(tmp_path):
    good = tmp_path / "good.mp4"
    video.write_video(good, np.zeros((4, 16, 16, 3), np.uint8), 12)
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(good.read_bytes()[:200])
    with pytest.raises(video.VideoError, match="bad.mp4"):
        video.read_video(bad)
    with pytest.raises(video.VideoError, match="nope.mp4: no such"):
        video.read_video(tmp_path / "nope.mp4")
    (tmp_path / "empty.mp4").write_bytes(b"")
    with pytest.raises(video.VideoError, match="empty"):
        video.read_video(tmp_path / "empty.mp4")


def test_failed_write_leaves_previous_file_intact(tmp_path):
    path = tmp_path / "x.mp4"
    video.write_video(path, np.zeros((2, 16, 16, 3), np.uint8), 12)
    before = path.read_bytes()
    with pytest.raises(video.VideoError):
        video.write_video(path, np.zeros((2, 16, 16), np.uint8), 12)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["x.mp4"]


def test_tensor_conversion_round_trip():
    rgb = np.random.default_rng(2).integers(0, 256, (3, 8, 10, 3), dtype=np.uint8)
    t = video.to_tensor(rgb)
    assert tuple(t.shape) == (3, 3, 8, 10)
    assert float(t.min()) >= -1 and float(t.max()) <= 1
    assert np.array_equal(video.from_tensor(t), rgb)


def test_reader_returns_every_frame_writable_and_counts_agree(tmp_path):
    # frames are read straight into one array: the count, the order and the last frame must
    # survive (a header whose duration under- or over-states the length included)
    rgb = np.random.default_rng(2).integers(0, 256, (23, 18, 26, 3), dtype=np.uint8)
    video.write_video(tmp_path / "x.mkv", rgb, 12, codec="lossless")
    got = video.read_video(tmp_path / "x.mkv")
    assert np.array_equal(got, rgb) and got.flags.writeable and got.flags.c_contiguous
    got[0, 0, 0] = 1  # callers may write into what they read
    decoded, counted = video.video_info(tmp_path / "x.mkv"), video.video_info(tmp_path / "x.mkv", decode=False)
    assert decoded == counted == video.VideoInfo(26, 18, 12.0, 23)
    (tmp_path / "bad.mkv").write_bytes(b"\1" * 4000)
    for read in (video.read_video, video.video_info):
        with pytest.raises(video.VideoError, match="bad.mkv: corrupt or unreadable video"):
            read(tmp_path / "bad.mkv")
