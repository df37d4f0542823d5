"""Query parameters shared by routes: pagination and the grid view (sort, filter, search)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from datamill.schemas.common import MAX_LIMIT

# Far beyond any real table, and within every engine's integer range.
MAX_OFFSET = 2**53
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Index of the first item.")]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page (at most 500).")]
RowLimit = Annotated[int, Query(ge=1, le=1000, description="Rows per page.")]
SortParam = Annotated[
    str | None,
    Query(description='JSON list: `[{"column": "price", "desc": true}, {"column": "id"}]`.'),
]
FilterParam = Annotated[
    str | None,
    Query(
        description=(
            'JSON list combined with AND: `[{"column": "city", "op": "eq", "value": "Oslo"}]`.'
        )
    ),
]
SearchParam = Annotated[
    str | None, Query(max_length=1000, description="Case-insensitive text in any text column.")
]
