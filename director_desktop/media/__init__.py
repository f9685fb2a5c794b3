"""The local media library (PROTOCOL section 6): the user's videos, audio and images, and the
FFmpeg work done on them.

`ffmpeg.py` finds the binary and runs it as a child process (a crash or hang of FFmpeg is an
error, never the app's); `probe.py` tells what a file is, from FFmpeg's report of it
(`report.py`), and refuses what the library cannot take; `thumbnail.py` makes the JPEG shown in
the grid; `playable.py` makes a version the window can play; `files.py` has what they write
appear whole or not at all. `library.py` ties them to the store and the jobs.

May import `store`, `jobs`, `protocol`, `settings` and `errors` from the project, never `web`;
`imageio_ffmpeg` (the package that carries the FFmpeg binary) is imported here and nowhere else.
Import from the modules themselves (`from director_desktop.media.probe import probe`): a
re-exported `probe()` would hide the `probe` module behind it.
"""
