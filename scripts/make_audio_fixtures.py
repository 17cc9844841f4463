"""Write the tiny audio files tests/test_audio.py reads headers from (not part of the course runtime).

The course only reads headers (mutagen), so the test files need real encoders once, not in CI: this script
encodes a half-second 440 Hz tone with ffmpeg (from the imageio-ffmpeg wheel, or any ffmpeg on PATH) into
FLAC (8 kHz), MP3 (44.1 kHz, 32 kbit/s) and OGG Vorbis (48 kHz), each a few KB, under tests/fixtures/audio/.
WAV files are written by the tests themselves with the standard library's wave module.

Usage:
    pip install imageio-ffmpeg   # into a throwaway environment
    python scripts/make_audio_fixtures.py
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "audio"
TONE = "sine=frequency=440:duration=0.5"
FILES = {  # name -> ffmpeg output options
    "tone_8000.flac": ["-ar", "8000", "-c:a", "flac"],
    "tone_44100.mp3": ["-ar", "44100", "-c:a", "libmp3lame", "-b:a", "32k"],
    "tone_48000.ogg": ["-ar", "48000", "-c:a", "libvorbis", "-q:a", "0"],
}


def ffmpeg() -> str:
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except ImportError:
        found = shutil.which("ffmpeg")
        if not found:
            raise SystemExit("needs ffmpeg: pip install imageio-ffmpeg, or put ffmpeg on PATH") from None
        return found


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, options in FILES.items():
        target = OUT / name
        subprocess.run([ffmpeg(), "-loglevel", "error", "-y", "-f", "lavfi", "-i", TONE, "-ac", "1",
                        "-map_metadata", "-1", *options, str(target)], check=True)
        print(f"wrote {target.relative_to(OUT.parent.parent.parent)} ({target.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
