"""Fast JSON responses: orjson writes UTF-8 directly (Chinese text stays readable, not \\u-escaped)."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi.responses import JSONResponse

__all__ = ["JsonResponse"]


class JsonResponse(JSONResponse):
    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)
