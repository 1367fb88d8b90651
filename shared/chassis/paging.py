"""The API side of keyset pagination: one query schema, one page shape, one Link header.

Every list operation takes ``?cursor=…&limit=…`` (``PageQuerySchema``) and answers

    {"items": [...], "next_cursor": "…" | null}

with ``Link: <…?cursor=…>; rel="next"`` when there is a next page. Views do
``return page_response(page)`` after ``@blp.response(200, page_schema(ItemSchema))``.
"""

from __future__ import annotations

from functools import cache
from typing import Any
from urllib.parse import urlencode

from flask import request
from marshmallow import Schema, fields, post_load, validate

from chassis.fields import Text
from chassis.pagination import DEFAULT_LIMIT, MAX_CURSOR_LENGTH, MAX_LIMIT, Page, PageRequest


class PageQuerySchema(Schema):
    """``cursor`` (opaque, from the previous page's ``next_cursor``) and ``limit``; loads a PageRequest."""

    cursor = Text(load_default=None, validate=validate.Length(max=MAX_CURSOR_LENGTH))
    limit = fields.Integer(load_default=DEFAULT_LIMIT, validate=validate.Range(min=1, max=MAX_LIMIT))

    @post_load
    def _request(self, data: dict[str, Any], **_: Any) -> PageRequest:
        return PageRequest(cursor=data["cursor"], limit=data["limit"])


@cache
def page_schema(item_schema: type[Schema]) -> type[Schema]:
    """The page schema of a list of ``item_schema`` (one class per item schema, for OpenAPI)."""
    name = item_schema.__name__.removesuffix("Schema") + "PageSchema"
    return type(
        name,
        (Schema,),
        {
            "items": fields.List(fields.Nested(item_schema), required=True),
            "next_cursor": fields.String(
                allow_none=True,
                required=True,
                metadata={"description": "Pass as `cursor` for the next page; null on the last page."},
            ),
        },
    )


def page_response(page: Page[Any]) -> tuple[dict[str, Any], int, dict[str, str]]:
    """The body, status and Link header of a page, for a flask-smorest view to return."""
    headers = {}
    if page.next_cursor is not None:
        args = request.args.to_dict()
        args["cursor"] = page.next_cursor
        headers["Link"] = f'<{request.base_url}?{urlencode(args)}>; rel="next"'
    return {"items": list(page.items), "next_cursor": page.next_cursor}, 200, headers
