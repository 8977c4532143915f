"""A rate bound shared by short-lived processes (the dashboard's CGI, one a request): a token bucket
in a small file of the run directory, taken under flock. A refusal costs a few system calls, not
the scrypt of a login."""

import errno
import fcntl
import os
import time
from collections import namedtuple

# tokens: what may still pass now; at: when that was reckoned; refusing: the last request was refused
# (a refusal is logged once, when it begins)
Bucket = namedtuple("Bucket", "tokens at refusing")


def now():
    return time.time()  # wall clock: processes share it; a clock set back only delays a refill


def refill(bucket, when, rate, burst=None):
    """The bucket at `when`, filled at `rate` a second up to `burst` (default: a second's worth)."""
    gained = max(0.0, when - bucket.at) * rate
    return Bucket(min(float(rate if burst is None else burst), bucket.tokens + gained), when, bucket.refusing)


class Budget:
    """A token bucket in one process's memory: `rate` a second, `burst` at once (full at the start)."""

    def __init__(self, rate, burst, clock=time.monotonic):
        self.rate, self.burst, self.clock = rate, burst, clock
        self.bucket = Bucket(float(burst), clock(), False)

    def take(self, amount=1):
        """Whether `amount` may pass now (and is taken)."""
        bucket = refill(self.bucket, self.clock(), self.rate, self.burst)
        passed = bucket.tokens >= amount
        self.bucket = Bucket(bucket.tokens - amount if passed else bucket.tokens, bucket.at, not passed)
        return passed


def take(path, rate):
    """(admitted, first refusal): one token from the bucket in the file at `path`. A file that is not
    this user's own regular file (a link, another's) is not trusted: no bound is kept then, and admitted."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    except OSError as e:
        if e.errno in (errno.ELOOP, errno.EACCES, errno.EPERM):
            return True, False
        raise
    try:
        if os.fstat(fd).st_uid != os.geteuid():
            return True, False
        fcntl.flock(fd, fcntl.LOCK_EX)
        bucket = refill(_read(fd, rate), now(), rate)
        admitted = bucket.tokens >= 1
        first = not admitted and not bucket.refusing
        bucket = Bucket(bucket.tokens - 1 if admitted else bucket.tokens, bucket.at, not admitted)
        os.pwrite(fd, f"{bucket.tokens:.6f} {bucket.at:.6f} {int(bucket.refusing)}\n".ljust(64).encode(), 0)
        return admitted, first
    finally:
        os.close(fd)


def _read(fd, rate):
    try:
        tokens, at, refusing = os.pread(fd, 64, 0).split()
        return Bucket(float(tokens), float(at), refusing == b"1")
    except ValueError:
        return Bucket(float(rate), now(), False)  # new, or not ours to understand: full
