"""Schemathesis hooks for iamd (loaded by tests/conformance/run.sh via SCHEMATHESIS_HOOKS).

Each check here replaces a built-in one where iamd deliberately differs from the spec, as
narrowly as possible, and says which entry of README.md § "Conformance: where iamd
deliberately differs" it implements. Everything else goes to the built-in check unchanged.
"""

import json

import schemathesis
from schemathesis.specs.openapi.checks import status_code_conformance


def _is_list_operation(case):
    """A list operation: a GET taking the `limit` paging parameter."""
    params = case.operation.definition.raw.get("parameters", [])
    return case.method.upper() == "GET" and any(
        p.get("in") == "query" and p.get("name") == "limit" for p in params
    )


def _rejects_query(response, case):
    """A 400 ErrorResponse that names only query parameters the request sent (or says the
    query string itself is malformed)."""
    try:
        body = json.loads(response.text)
    except ValueError:
        return False
    if not isinstance(body, dict) or body.get("object") != "error" or body.get("code") != 400:
        return False
    if body.get("message") == "The query string is malformed.":
        return True
    fields = body.get("fields") or []
    sent = set((case.query or {}).keys())
    return bool(fields) and all(f.get("name") in sent for f in fields)


@schemathesis.check
def iamd_status_code_conformance(ctx, response, case):
    """status_code_conformance, except: list operations answer 400 to a bad paging or filter
    parameter (README: "400 on list operations")."""
    if response.status_code == 400 and _is_list_operation(case) and _rejects_query(response, case):
        return None
    return status_code_conformance(ctx, response, case)


def _image_bytes(value):
    """Generated image bodies (`Image` is a binary string) as raw bytes."""
    from schemathesis.serializers import Binary  # schemathesis 3

    if isinstance(value, bytes):
        return value
    if isinstance(value, Binary):
        return value.data
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass")
    return json.dumps(value).encode()


# Schemathesis has no serializer for the spec's `image/png` and `image/jpeg` request bodies
# (the raw branding image uploads); without one it cannot call those operations at all.
@schemathesis.serializer("image/png", aliases=("image/jpeg",))
class ImageSerializer:
    def as_requests(self, context, value):
        return {"data": _image_bytes(value)}

    def as_werkzeug(self, context, value):
        return {"data": _image_bytes(value)}


from schemathesis.specs.openapi.checks import content_type_conformance


@schemathesis.check
def iamd_content_type_conformance(ctx, response, case):
    """content_type_conformance, except: a 204 No Content carries no body and so no
    Content-Type, although the spec lists `produces: application/json` on those operations
    (bulk color sets, image clears) (README: "204 without a Content-Type")."""
    if response.status_code == 204 and not response.content:
        return None
    return content_type_conformance(ctx, response, case)


@schemathesis.hook
def map_body(context, body):
    """The run authenticates with one admin key: a generated (valid) `PUT /v3/api-keys/me`
    that deactivates that very key would turn every later request into a 401 and test
    nothing (README: "The run keeps its own key"). Only that one value is changed."""
    op = context.operation
    if (
        op.method.upper() == "PUT"
        and op.path == "/v3/api-keys/me"
        and isinstance(body, dict)
        and body.get("status") == "INACTIVE"
    ):
        body = dict(body, status="ACTIVE")
    return body
