"""Inflating gzip answer bodies, with ISA-L when it is installed.

Logfire gzips its answers: a 10,000-row Arrow page of about 8 MB arrives as 1.2 to 1.5 MB. On
the client, inflating it costs more CPU than anything else done with the page. zlib (which httpx
uses) takes about 20 ms for such a page. ISA-L's inflate (the `isal` package, installed by the
`speedups` extra) takes about 8 ms for the same standard gzip. So the clients read a body
whose only `Content-Encoding` is gzip raw and inflate it here, with ISA-L if it can be imported
and zlib otherwise. httpx decodes every other encoding, as before.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import Any

import httpx

#: zlib's window bits for a gzip header and trailer around a deflate stream.
_GZIP_WBITS = 16 + zlib.MAX_WBITS


def _inflater_factory() -> tuple[Callable[[int], Any], tuple[type[Exception], ...]]:
    """ISA-L's decompressobj (and its error) if installed, else zlib's: the same API."""
    try:
        from isal import isal_zlib
    except ImportError:
        return zlib.decompressobj, (zlib.error,)
    return isal_zlib.decompressobj, (isal_zlib.error, zlib.error)


class GzipBodyDecoder:
    """Push decoder of a gzip body: `decode(raw)` returns the bytes it completed, `flush()` the rest.

    A body may hold several gzip members one after another (RFC 1952); each is inflated in turn.
    A body that ends inside a member, or that is not gzip, raises `httpx.DecodingError`, which
    the clients report like any other broken body.
    """

    def __init__(self) -> None:
        self._new, self._errors = _inflater_factory()
        self._inflater = self._new(_GZIP_WBITS)
        self._in_member = False

    def decode(self, raw: bytes) -> bytes:
        out = []
        try:
            while raw:
                self._in_member = True
                out.append(self._inflater.decompress(raw))
                if not self._inflater.eof:
                    break
                raw = self._inflater.unused_data
                self._inflater = self._new(_GZIP_WBITS)
                self._in_member = False
        except self._errors as exc:
            raise httpx.DecodingError(f"The gzip body cannot be inflated: {exc}") from exc
        return b"".join(out)

    def flush(self) -> bytes:
        if self._in_member:
            raise httpx.DecodingError("The gzip body ended inside a gzip member")
        return b""


def gzip_decoder(headers: httpx.Headers) -> GzipBodyDecoder | None:
    """A decoder for a body whose only content encoding is gzip; None for any other body."""
    encodings = [value.strip().lower() for value in headers.get_list("content-encoding", split_commas=True)]
    return GzipBodyDecoder() if encodings == ["gzip"] else None
