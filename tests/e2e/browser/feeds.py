"""Fake-camera feeds for headless Chromium: ``.y4m`` files made with ffmpeg, cached off the repo.

Chromium plays a ``.y4m`` file as its camera (an ``.mjpeg`` gave a solid green frame here), at
the rate in the file's header, looping at the end.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

FEED_SIZE = "640:480"


def cache_dir() -> Path:
    root = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    path = root / "smilepay" / "camera-feeds"
    path.mkdir(parents=True, exist_ok=True)
    return path


def ffmpeg_available() -> bool:
    return shutil.which("ffmpeg") is not None


def make_y4m(source: Path, name: str, *, fps: int = 15, start_s: float = 0.0,
             duration_s: float | None = None) -> Path:
    """``source`` (a video or a still image) as a 640x480 yuv420p ``.y4m`` feed, cached by name."""
    out = cache_dir() / f"{name}.y4m"
    if out.exists() and out.stat().st_mtime >= source.stat().st_mtime:
        return out
    still = source.suffix.lower() in {".jpg", ".jpeg", ".png"}
    cmd = ["ffmpeg", "-loglevel", "error", "-y"]
    if still:
        cmd += ["-loop", "1", "-t", str(duration_s or 4.0)]
    elif start_s:
        cmd += ["-ss", str(start_s)]
    cmd += ["-i", str(source), "-an"]
    if duration_s and not still:
        cmd += ["-t", str(duration_s)]
    scale = (f"scale={FEED_SIZE}:force_original_aspect_ratio=decrease,"
             f"pad={FEED_SIZE}:(ow-iw)/2:(oh-ih)/2")
    cmd += ["-vf", f"fps={fps},{scale}", "-pix_fmt", "yuv420p", "-f", "yuv4mpegpipe"]
    tmp = out.with_suffix(".part")
    subprocess.run([*cmd, str(tmp)], check=True, timeout=300)
    tmp.replace(out)
    return out


def make_slideshow_y4m(stills: list[tuple[Path, float]], name: str, *, fps: int = 15) -> Path:
    """Photos shown one after another (EXIF orientation applied, letterboxed to 640x480)."""
    from PIL import Image, ImageOps

    out = cache_dir() / f"{name}.y4m"
    newest = max(p.stat().st_mtime for p, _ in stills)
    if out.exists() and out.stat().st_mtime >= newest:
        return out
    work = cache_dir() / f"{name}.parts"
    work.mkdir(exist_ok=True)
    lines = []
    for i, (path, seconds) in enumerate(stills):
        with Image.open(path) as img:
            picture = ImageOps.exif_transpose(img).convert("RGB")
        picture.thumbnail((640, 480))
        canvas = Image.new("RGB", (640, 480))
        canvas.paste(picture, ((640 - picture.width) // 2, (480 - picture.height) // 2))
        frame = work / f"{i:03d}.png"
        canvas.save(frame)
        lines += [f"file '{frame}'", f"duration {seconds}"]
    lines.append(f"file '{work / f'{len(stills) - 1:03d}.png'}'")
    listing = work / "list.txt"
    listing.write_text("\n".join(lines) + "\n")
    tmp = out.with_suffix(".part")
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "concat", "-safe", "0", "-i",
                    str(listing), "-vf", f"fps={fps}", "-pix_fmt", "yuv420p", "-f",
                    "yuv4mpegpipe", str(tmp)], check=True, timeout=300)
    tmp.replace(out)
    return out
