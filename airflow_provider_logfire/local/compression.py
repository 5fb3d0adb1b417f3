"""gzip for the local server's answers, by ISA-L: the same gzip stream at a fraction of the CPU.

The service gzips its answers, so the local server does too. An export asks for one 10,000-row
Arrow answer after another, about 8 MB each, and zlib at its fastest level spends more CPU
compressing one of them (~60 ms) than the query, the encoding and the HTTP around it together:
on a small machine the server, not the network, then sets the pace. ISA-L's deflate (the `isal`
package) writes standard gzip, which every client decompresses as before, about five times
faster, for answers a little larger (~1.4 MB instead of ~1.1 MB for such a page).
"""

from __future__ import annotations

import inspect

from isal import isal_zlib
from starlette.datastructures import Headers
from starlette.middleware.gzip import GZipMiddleware, GZipResponder
from starlette.types import Receive, Scope, Send

#: ISA-L's levels go from 0 to 3; 1 compresses nearly as well as zlib's 1, several times faster.
LEVEL = 1
_GZIP_WBITS = 16 + 15


class FastGZipMiddleware(GZipMiddleware):
    """Starlette's `GZipMiddleware` (same rules: `Accept-Encoding`, minimum size, excluded
    types, streaming), compressing with ISA-L."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and "gzip" in Headers(scope=scope).get("Accept-Encoding", ""):
            responder = _IsalResponder(
                self.app,
                self.minimum_size,
                compresslevel=LEVEL,
                thread_minimum_size=self.thread_minimum_size,
                exclude_content_types=self.exclude_content_types,
            )
            await responder(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


class _IsalResponder(GZipResponder):
    @property
    def compressor(self) -> isal_zlib.Compress:  # type: ignore[override]
        if self._compressor is None:
            self._compressor = isal_zlib.compressobj(self.compresslevel, isal_zlib.DEFLATED, _GZIP_WBITS)
        return self._compressor


def gzip_middleware() -> type[GZipMiddleware]:
    """`FastGZipMiddleware` where Starlette's responder compresses through a `compressor` (recent
    Starlette, which this subclass builds on); Starlette's own zlib middleware on older releases
    (Airflow 3.0 pins Starlette 0.47): the same answers, at zlib's cost."""
    responder = inspect.signature(GZipResponder.__init__).parameters
    if isinstance(inspect.getattr_static(GZipResponder, "compressor", None), property) and {
        "thread_minimum_size",
        "exclude_content_types",
    } <= set(responder):
        return FastGZipMiddleware
    return GZipMiddleware
