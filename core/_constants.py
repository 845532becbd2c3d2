"""Defaults in one place, so a reader can find every number the client assumes."""

from __future__ import annotations

__all__ = [
    "API_KEY_ENV_VARS",
    "BASE_URL_ENV_VAR",
    "DEFAULT_BASE_URL",
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_MAX_CONNECTIONS",
    "DEFAULT_MAX_DOWNLOAD_BYTES",
    "DEFAULT_MAX_RESPONSE_BYTES",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_POLL_INTERVAL",
    "DEFAULT_STREAM_IDLE_TIMEOUT",
    "DEFAULT_STREAM_TIMEOUT",
    "DEFAULT_TASK_TIMEOUT",
    "DEFAULT_TIMEOUT",
    "MAX_POLL_INTERVAL",
    "MAX_RETRY_AFTER",
    "MAX_RETRY_DELAY",
    "MIN_POLL_HINT",
    "MIN_REQUEST_BUDGET",
    "MIN_RETRY_DELAY",
    "NOT_FOUND_GRACE_POLLS",
]

DEFAULT_BASE_URL = "https://api.302.ai"
# The first name is ours; the second is the one 302.AI's own tools read.
API_KEY_ENV_VARS = ("AI302_API_KEY", "302AI_API_KEY")
BASE_URL_ENV_VAR = "AI302_BASE_URL"

# Synchronous generations block for 5-20 s according to the docs; 120 s leaves room
# for slow queues without letting a dead connection hang a program for ever.
DEFAULT_TIMEOUT = 120.0
DEFAULT_CONNECT_TIMEOUT = 10.0

DEFAULT_MAX_RETRIES = 2

# Size caps, counted on the decoded bytes (a compressed body by what it turns into).
# An API answer is JSON, at most a few base64 images: 128 MiB is far above any
# documented answer and far below what would exhaust a machine's memory. A result file
# is an image or a short video; 512 MiB leaves room for long videos.
DEFAULT_MAX_RESPONSE_BYTES = 128 * 1024**2
DEFAULT_MAX_DOWNLOAD_BYTES = 512 * 1024**2
# Connections per client; all of them kept alive, so a burst of polls reuses them
# instead of opening (and closing) a connection per request.
DEFAULT_MAX_CONNECTIONS = 100
MIN_RETRY_DELAY = 0.5
MAX_RETRY_DELAY = 8.0
# A server asking us to wait longer than this is treated as "give up now".
MAX_RETRY_AFTER = 60.0

DEFAULT_POLL_INTERVAL = 1.0
MAX_POLL_INTERVAL = 10.0
# The shortest wait a server's Retry-After can ask of a poll loop.
MIN_POLL_HINT = 0.1
# Every wait has a deadline; generations documented by 302.AI finish well within it.
DEFAULT_TASK_TIMEOUT = 600.0
# A poll sent as a wait's deadline nears still gets this long to be answered, so a
# wait can overrun its timeout by at most this much.
MIN_REQUEST_BUDGET = 1.0
# Some task stores are eventually consistent: a task just submitted may answer 404 to
# its first polls. This many 404s in a row are taken as "not visible yet".
NOT_FOUND_GRACE_POLLS = 6

# Streams: language models can think for a while before their first token, and keep-alive
# comments are sent every few seconds by well-behaved servers; a minute of total
# silence means the stream is dead. A whole stream (a long answer) gets ten minutes.
DEFAULT_STREAM_IDLE_TIMEOUT = 60.0
DEFAULT_STREAM_TIMEOUT = 600.0
