"""How a broken law is reported: the error a law raises, the failure a search keeps (with the
fingerprint that tells one kind of failure from another), and the one-line accounts of an error and
of a failed graph capture that verdicts quote.
"""

from __future__ import annotations

import re
import traceback
from dataclasses import dataclass
from pathlib import Path

from properties.cases import ReplayCase


class LawBroken(AssertionError):
    pass


@dataclass
class Failure:
    """A law that an implementation broke, on which case, and the law's account of it."""

    case: ReplayCase
    law: str
    message: str
    fault: object = None  # the sticky CUDA fault it was (properties.faults.Fault), if it was one

    def fingerprint(self) -> tuple[str, ...]:
        """What kind of failure this is, numbers aside: the law and the headline of each buffer's
        report. Failures that share one are taken for the same defect."""
        headlines = (line for line in self.message.splitlines() if line and not line[0].isspace())
        return (self.law, *sorted(re.sub(r"-?\d+", "#", line) for line in headlines))



def require(holds: bool, message: str) -> None:
    if not holds:
        raise LawBroken(message)


def first_line(error: BaseException) -> str:
    """`Type: the message's first line`, for a one-line verdict; an error without words (a bare
    `assert` of the variant's) is named by the line that raised it."""
    text = str(error).strip()
    if text:
        return f"{type(error).__name__}: {text.splitlines()[0]}"
    return f"{type(error).__name__} {raised_at(error)}".rstrip()


def raised_at(error: BaseException) -> str:
    """`at file.py:LINE: its source`, where `error` was raised, or '' where that is not known."""
    frames = traceback.extract_tb(error.__traceback__)
    if not frames:
        return ""
    frame = frames[-1]
    return f"at {Path(frame.filename).name}:{frame.lineno}: {(frame.line or '').strip()}"


# What CUDA (and PyTorch's capture checks) say, and what it means of the variant, most specific
# first. The first are work on a stream the capture never joined, which the streams law reports too.
STREAM_ERRORS = (
    ("capturing stream has unjoined work", "works on a stream it forks from the capture and never joins back into the caller's"),
    ("dependency created on uncaptured work", "waits on work of a stream outside the capture (a stream the capture never joined)"),
    ("legacy stream depend on a capturing", "enqueues work on the legacy default stream, which the capturing stream never joined"),
    ("merge of separate capture sequences", "joins two separate captures through a stream of its own"),
)
CAPTURE_ERRORS = STREAM_ERRORS + (
    ("event last recorded in a capturing stream", "queries or waits on the host for an event of the capture"),
    ("operation not permitted when stream is capturing", "synchronizes with the host or copies through pageable memory during capture (`.item()`, `.tolist()`, `.cpu()`, a data-dependent shape)"),
    ("during CUDA graph capture", "calls an operation that graph capture forbids"),
    ("while capturing", "calls an operation that graph capture forbids"),
    ("operation failed due to a previous error during capture", "an earlier operation of the call invalidated the capture"),
)


def _chain(error: BaseException) -> list[BaseException]:
    """The error and what it was raised from or during, the original first."""
    seen = []
    while error is not None and error not in seen:
        seen.append(error)
        error = error.__cause__ or error.__context__
    return seen[::-1]


def capture_failure(error: BaseException) -> str:
    """Why a capture failed, read from the error itself and quoting it: a stream the capture never
    joined, a host sync or pageable copy, an operation capture forbids, or the variant's own
    exception. An error raised inside the capture makes its end fail too; the original is quoted."""
    chain = _chain(error)
    for sign, meaning in CAPTURE_ERRORS:
        for link in chain:
            if sign in str(link):
                return f"not capturable: it {meaning}: {first_line(link)}"
    return f"capture failed: the variant raised {first_line(chain[0])}"

