"""Build the demo question bank's data files from the curriculum written below.

    python scripts/build_demo_bank.py          # rewrite testengine/demo_data/*.json
    python scripts/build_demo_bank.py --check  # exit 1 when they are not what this builds

``manage.py seed_demo`` loads the committed files (``testengine.demo``): ``topics.json``
is the topic tree and ``bank.json`` the questions, in the JSON format of the question
import (``testengine.importexport``), so every seed also exercises the import path. This
script is a development tool: the app never imports it, and the production image leaves
it out.

``HAND`` holds the hand-written questions. ``generated()`` adds drills built from tables of
facts (status codes, ports, isolation phenomena, Big-O, …) or whose answers Python itself
computes (join row counts, expression values, availability arithmetic), so every answer is
checkable. Each item has a stable ``key``; its question's ``external_id`` is
``"demo-" + key``, which the seeder uses to create only the missing ones.

Authoring shorthand: a choice starting with ``"* "`` is a correct one; bodies and
explanations are Markdown and are dedented, so they can be written as indented
triple-quoted strings.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import math
import random
import sys
import textwrap
import uuid
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

E, M, H = "easy", "medium", "hard"
PUBLISHED, DRAFT, RETIRED = "published", "draft", "retired"

# (name, slug, children): subject → chapter → topic. A chapter's slug doubles as a tag.
TOPIC_TREE: tuple = (
    (
        "Web & APIs",
        "web",
        (
            (
                "HTTP",
                "http",
                (
                    ("Methods", "http-methods"),
                    ("Status codes", "http-status-codes"),
                    ("Caching", "http-caching"),
                    ("Headers", "http-headers"),
                ),
            ),
            (
                "REST API design",
                "rest",
                (
                    ("Resources", "rest-resources"),
                    ("Idempotency", "rest-idempotency"),
                    ("Pagination", "rest-pagination"),
                    ("Versioning", "rest-versioning"),
                ),
            ),
            ("Networking", "networking", (("Ports & addressing", "net-ports"),)),
        ),
    ),
    (
        "Databases",
        "databases",
        (
            (
                "SQL & PostgreSQL",
                "postgresql",
                (
                    ("Joins", "pg-joins"),
                    ("Indexes", "pg-indexes"),
                    ("Transactions & isolation", "pg-transactions"),
                    ("Query plans", "pg-query-plans"),
                    ("Data types", "pg-data-types"),
                ),
            ),
        ),
    ),
    (
        "Python & Django",
        "python-django",
        (
            (
                "Python",
                "python",
                (
                    ("Data model", "py-data-model"),
                    ("Iterators & generators", "py-iterators"),
                    ("Async", "py-async"),
                    ("Typing", "py-typing"),
                    ("Complexity", "py-complexity"),
                ),
            ),
            (
                "Django",
                "django",
                (
                    ("ORM", "dj-orm"),
                    ("Migrations", "dj-migrations"),
                    ("Middleware", "dj-middleware"),
                    ("Django REST framework", "dj-drf"),
                    ("Management commands", "dj-commands"),
                ),
            ),
        ),
    ),
    (
        "Security",
        "security",
        (
            (
                "Application security",
                "appsec",
                (
                    ("OWASP Top 10", "sec-owasp"),
                    ("Authentication & JWT", "sec-auth"),
                    ("Password storage", "sec-passwords"),
                    ("CSRF & XSS", "sec-csrf-xss"),
                ),
            ),
        ),
    ),
    (
        "Architecture",
        "architecture",
        (
            (
                "System design",
                "system-design",
                (
                    ("Caching", "sd-caching"),
                    ("Queues", "sd-queues"),
                    ("Scaling", "sd-scaling"),
                    ("Consistency", "sd-consistency"),
                ),
            ),
        ),
    ),
    (
        "Science & mathematics",
        "science",
        (
            ("Physics", "physics", (("Kinematics", "phys-kinematics"),)),
            (
                "Mathematics",
                "mathematics",
                (("Algebra", "math-algebra"), ("Calculus", "math-calculus")),
            ),
            (
                "Chemistry",
                "chemistry",
                (("Stoichiometry", "chem-stoichiometry"), ("Equilibrium", "chem-equilibrium")),
            ),
        ),
    ),
)


@dataclass(frozen=True)
class Item:
    """One question as data; ``question_row`` turns it into a row of ``bank.json``."""

    key: str
    topic: str
    type: str
    difficulty: str
    body: str
    explanation: str
    choices: tuple[tuple[str, bool], ...] = ()
    answer: Decimal | None = None
    tolerance: Decimal = Decimal("0")
    relative: bool = False
    accepted: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    status: str = PUBLISHED


def _md(text: str) -> str:
    return textwrap.dedent(text).strip()


def _choices(options: list[str] | tuple[str, ...]) -> tuple[tuple[str, bool], ...]:
    parsed = []
    for option in options:
        correct = option.startswith("* ")
        parsed.append((_md(option[2:] if correct else option), correct))
    return tuple(parsed)


def single(key, topic, level, body, options, why, **extra) -> Item:
    return Item(key, topic, "single", level, _md(body), _md(why), _choices(options), **extra)


def multiple(key, topic, level, body, options, why, **extra) -> Item:
    return Item(key, topic, "multiple", level, _md(body), _md(why), _choices(options), **extra)


def true_false(key, topic, level, statement, truth: bool, why, **extra) -> Item:
    choices = (("True", truth), ("False", not truth))
    return Item(key, topic, "true_false", level, _md(statement), _md(why), choices, **extra)


def numeric(key, topic, level, body, answer, why, *, tolerance=0, relative=False, **extra):
    return Item(
        key,
        topic,
        "numeric",
        level,
        _md(body),
        _md(why),
        answer=Decimal(str(answer)),
        tolerance=Decimal(str(tolerance)),
        relative=relative,
        **extra,
    )


def short(key, topic, level, body, accepted, why, **extra) -> Item:
    return Item(key, topic, "text", level, _md(body), _md(why), accepted=tuple(accepted), **extra)


# --- HTTP -------------------------------------------------------------------------------------

HTTP = (
    single(
        "http-0001",
        "http-methods",
        M,
        """
        A mobile client times out on `PUT /users/42` and retries the identical request twice
        more. If the server implements `PUT` as RFC 9110 defines it, what is the state of
        `/users/42` afterwards?
        """,
        [
            "* The same as after a single successful request",
            "Three versions of the user, one per request",
            "Undefined: the server must reject the retries with `409 Conflict`",
            "The user is deleted, because duplicate `PUT`s cancel out",
        ],
        """
        `PUT` replaces the state of the target resource with the enclosed representation, so
        it is **idempotent**: sending the same request N times has the same intended effect on
        the server as sending it once. That is why clients and proxies may retry it after a
        network failure. The *responses* may differ (`201 Created` the first time, `200 OK`
        later): idempotency is about server state, not identical responses.
        """,
    ),
    single(
        "http-0002",
        "http-methods",
        M,
        "What must a server send in response to `HEAD /reports/2024.csv`?",
        [
            "* The status and headers a `GET` would produce, without the body",
            "Only the `Content-Length` header",
            "The first kilobyte of the body as a preview",
            "`405 Method Not Allowed`, because `HEAD` is deprecated",
        ],
        """
        `HEAD` is identical to `GET` except that the server **must not** send content. Clients
        use it to check existence, size (`Content-Length`) or freshness (`ETag`,
        `Last-Modified`) without downloading the body. RFC 9110 requires every general-purpose
        server to support both `GET` and `HEAD`.
        """,
    ),
    short(
        "http-0003",
        "http-methods",
        E,
        "Which HTTP method is idempotent and removes a resource?",
        ["DELETE"],
        """
        `DELETE` asks the origin server to remove the association between the target URI and
        its current functionality. Deleting twice leaves the server in the same state as
        deleting once (the second call may well answer `404`), so it is **idempotent** — but
        not **safe**, because it changes state.
        """,
    ),
    single(
        "http-0004",
        "http-methods",
        M,
        "Why does RFC 5789 say that `PATCH` is neither safe nor idempotent in general?",
        [
            "* A patch document may describe a relative change, so applying it twice can "
            "differ from applying it once",
            "Because `PATCH` requests cannot carry a body",
            "Because caches are allowed to replay `PATCH` requests",
            "Because `PATCH` always creates a new resource",
        ],
        """
        A JSON Patch that appends to an array adds two items when sent twice:

        ```http
        PATCH /carts/7 HTTP/1.1
        Content-Type: application/json-patch+json

        [{"op": "add", "path": "/items/-", "value": {"sku": "A1"}}]
        ```

        A particular patch *can* be idempotent (a merge patch setting absolute values), but the
        method makes no such promise. Send `If-Match` with the ETag you edited to make the
        request conditional on the version you saw.
        """,
    ),
    true_false(
        "http-0005",
        "http-methods",
        M,
        """
        Before a cross-origin `fetch()` that sends `PUT` with a JSON body, the browser first
        sends a CORS preflight request with the `OPTIONS` method.
        """,
        True,
        """
        A cross-origin request that is not *simple* — a method other than `GET`, `HEAD` or
        `POST`, a `Content-Type` other than the three form/plain types, or custom headers — is
        preceded by an `OPTIONS` preflight carrying `Access-Control-Request-Method` and
        `Access-Control-Request-Headers`. Only if the response allows them
        (`Access-Control-Allow-Methods`, `-Headers`) does the browser send the real `PUT`.
        """,
    ),
    short(
        "http-0006",
        "http-methods",
        E,
        """
        Which method does a client send to a forward proxy to open a TCP tunnel to the
        destination, as used for HTTPS through a corporate proxy?
        """,
        ["CONNECT"],
        """
        `CONNECT example.com:443` asks the proxy to open a TCP connection to the destination
        and then blindly relay bytes in both directions, so the TLS handshake happens
        end-to-end and the proxy cannot read the traffic.
        """,
    ),
    multiple(
        "http-0007",
        "http-methods",
        M,
        """
        A connection drops before any response arrives. For which requests may a client or
        proxy retry automatically, without knowing anything about the application?
        """,
        [
            "* `GET /orders/7`",
            "* `PUT /orders/7`",
            "* `DELETE /orders/7`",
            "`POST /orders`",
            "`PATCH /orders/7`",
        ],
        """
        RFC 9110 lets user agents retry requests whose methods are **idempotent** (`GET`,
        `HEAD`, `OPTIONS`, `TRACE`, `PUT`, `DELETE`). A non-idempotent `POST` or `PATCH` may
        already have been applied before the connection died; retrying could create a second
        order unless the API offers an idempotency key.
        """,
    ),
    single(
        "http-0010",
        "http-status-codes",
        M,
        """
        A logged-in user with the role `viewer` calls `DELETE /projects/9`, which only admins
        may do. Which response fits best?
        """,
        [
            "* `403 Forbidden`",
            "`401 Unauthorized`",
            "`405 Method Not Allowed`",
            "`400 Bad Request`",
        ],
        """
        `401` means the request lacks valid authentication credentials (the response must carry
        `WWW-Authenticate`; authenticating could help). Here the caller *is* authenticated but
        not permitted, so `403`. `405` is for a method the resource does not support at all.
        Some APIs answer `404` instead of `403` to avoid revealing that a resource exists —
        allowed, but a deliberate choice, not the default.
        """,
    ),
    single(
        "http-0011",
        "http-status-codes",
        H,
        """
        After a successful `POST /checkout` from an HTML form, the server wants the browser to
        load `/orders/991` with `GET`, so that refreshing the page does not resubmit the form.
        Which status code states that intent unambiguously?
        """,
        [
            "* `303 See Other`",
            "`307 Temporary Redirect`",
            "`308 Permanent Redirect`",
            "`301 Moved Permanently`",
        ],
        """
        This is the *Post/Redirect/Get* pattern. `303` tells the client to retrieve a
        **different** resource with `GET`. `307` and `308` require the client to repeat the
        **same** method and body at the new URI. Browsers historically turn a `POST` into a
        `GET` on `301`/`302`, but that is legacy behaviour, not what those codes mean.
        """,
    ),
    true_false(
        "http-0012",
        "http-status-codes",
        M,
        "On a `307 Temporary Redirect`, a client may change the request method from `POST` to "
        "`GET`.",
        False,
        """
        `307` and its permanent sibling `308` exist precisely to forbid that change: the client
        must resend the same method and body to the URI in `Location`. Use `303 See Other`
        when you want the client to follow up with a `GET`.
        """,
    ),
    multiple(
        "http-0013",
        "http-status-codes",
        M,
        """
        Which status codes tell a client that sending the *same* request again later may
        succeed, usually with a `Retry-After` header?
        """,
        [
            "* `429 Too Many Requests`",
            "* `503 Service Unavailable`",
            "`400 Bad Request`",
            "`422 Unprocessable Content`",
            "`501 Not Implemented`",
        ],
        """
        `429` (rate limited) and `503` (overloaded or in maintenance) are temporary conditions,
        and both may carry `Retry-After: <seconds>`. `400` and `422` say the request itself is
        wrong, so an unchanged retry fails again; `501` says the server does not support the
        functionality at all.
        """,
    ),
    single(
        "http-0014",
        "http-status-codes",
        M,
        """
        An API has permanently removed `/v1/legacy-report` and wants clients and crawlers to
        drop their links to it. Which status is the most precise?
        """,
        [
            "* `410 Gone`",
            "`404 Not Found`",
            "`204 No Content`",
            "`451 Unavailable For Legal Reasons`",
        ],
        """
        `410 Gone` says the resource is intentionally and permanently unavailable, and that
        links to it should be removed; it is cacheable by default. `404` says nothing about
        whether the absence is permanent.
        """,
    ),
    single(
        "http-0015",
        "http-status-codes",
        M,
        "`POST /exports` starts a job that takes several minutes. Which response fits best?",
        [
            "* `202 Accepted`, with a link to a status resource the client can poll",
            "`200 OK`, after blocking until the export finishes",
            "`201 Created`, pointing at an export file that does not exist yet",
            "`102 Processing`, repeated until the job is done",
        ],
        """
        `202 Accepted` means the request was accepted for processing that has not completed
        (and might still fail). Return a status URL (`Location` header or a link in the body)
        that later reports progress and, once done, where the result is. `102 Processing` was
        a WebDAV interim response and is deprecated.
        """,
    ),
    single(
        "http-0020",
        "http-caching",
        M,
        """
        A browser revalidates a cached response with `If-None-Match: "v7"`, and the resource's
        current `ETag` is still `"v7"`. What does the server send?
        """,
        [
            "* `304 Not Modified`, without a body",
            "`200 OK` with the full body and the same `ETag`",
            "`412 Precondition Failed`",
            "`204 No Content`",
        ],
        """
        For `GET` and `HEAD`, a matching `If-None-Match` means the client's copy is current. The
        server answers `304` (repeating headers such as `ETag`, `Cache-Control` and `Vary`)
        and the cache reuses the body it stored. `412` is what a failed precondition yields
        for state-changing requests, e.g. `PUT` with a stale `If-Match`.
        """,
    ),
    single(
        "http-0021",
        "http-caching",
        H,
        """
        A CDN caches `GET /products` responses, and the origin returns French or English
        content depending on the request's `Accept-Language`. What must the origin send so the
        CDN does not serve the French page to English readers?
        """,
        [
            "* `Vary: Accept-Language`",
            "`Cache-Control: no-transform`",
            "`Content-Language: *`",
            '`ETag: W/"fr"`',
        ],
        """
        `Vary` lists the request headers that select between representations; the cache adds
        their values to the cache key. Vary on as little as possible: `Vary: User-Agent`, for
        instance, fragments the cache into thousands of entries.
        """,
    ),
    single(
        "http-0022",
        "http-caching",
        M,
        'What does the weak validator `ETag: W/"42"` promise?',
        [
            "* Responses with the same weak ETag are semantically equivalent, but not "
            "necessarily byte-for-byte identical",
            "The response must not be cached",
            "The ETag is valid for 42 seconds",
            "The responses are byte-for-byte identical",
        ],
        """
        A strong ETag changes whenever the bytes change; a weak one (prefix `W/`) only when the
        meaning does — handy when compression or formatting varies. Weak comparison is enough
        for `If-None-Match` revalidation, but `If-Match` and range requests use strong
        comparison, so a weak ETag never matches there.
        """,
    ),
    true_false(
        "http-0023",
        "http-caching",
        M,
        "`Cache-Control: private` forbids the user's browser from caching the response.",
        False,
        """
        `private` means the response is meant for one user: **only private caches** (the
        browser) may store it, while shared caches such as CDNs and proxies must not. To forbid
        storing anywhere, use `no-store`.
        """,
    ),
    numeric(
        "http-0024",
        "http-caching",
        E,
        """
        A response arrives from a CDN with `Cache-Control: max-age=3600` and `Age: 600`. For
        how many more seconds is it fresh?
        """,
        3000,
        """
        The freshness lifetime is `max-age` = 3600 s; `Age` says the response has already spent
        600 s in caches. Remaining freshness: `3600 − 600 = 3000` seconds.
        """,
    ),
    single(
        "http-0025",
        "http-caching",
        H,
        "What does `Cache-Control: max-age=600, stale-while-revalidate=60` allow a cache to do?",
        [
            "* Serve the response for up to 60 s after it goes stale while it revalidates in "
            "the background",
            "Revalidate the response every 60 s during its 600 s lifetime",
            "Serve the response for 660 s without ever contacting the origin",
            "Serve a stale response for 60 s only if the origin answers with an error",
        ],
        """
        RFC 5861's `stale-while-revalidate` lets a cache answer immediately with the stale copy
        for up to N seconds past expiry while it fetches a fresh one asynchronously — hiding
        revalidation latency from users. Serving stale content *on errors* is the separate
        `stale-if-error` directive.
        """,
    ),
    single(
        "http-0026",
        "http-caching",
        M,
        """
        A page shows a user's bank statement. Which response header tells browsers and shared
        caches not to store the response at all?
        """,
        [
            "* `Cache-Control: no-store`",
            "`Cache-Control: no-cache`",
            "`Cache-Control: max-age=0`",
            "`Cache-Control: must-revalidate`",
        ],
        """
        `no-cache` and `max-age=0` still let caches **store** the response; they only require
        revalidation before reuse. `must-revalidate` applies once a response is stale. Only
        `no-store` forbids storing it in the first place.
        """,
    ),
    single(
        "http-0027",
        "http-caching",
        E,
        "Which pair of headers implements *date-based* revalidation?",
        [
            "* `Last-Modified` and `If-Modified-Since`",
            "`ETag` and `If-None-Match`",
            "`Expires` and `Age`",
            "`Date` and `Retry-After`",
        ],
        """
        The server sends `Last-Modified: <date>`; the client revalidates with
        `If-Modified-Since: <that date>` and gets `304 Not Modified` if nothing changed. ETags
        do the same with opaque version tokens and are preferred when one-second date
        resolution is too coarse.
        """,
    ),
    true_false(
        "http-0030",
        "http-headers",
        E,
        "HTTP field names are case-insensitive: `content-type` and `Content-Type` name the "
        "same header.",
        True,
        """
        Field names are case-insensitive in every HTTP version; HTTP/2 and HTTP/3 even require
        lowercase names on the wire. Frameworks normalise them, so in Django
        `request.headers["content-type"]` works. Field *values* may be case-sensitive,
        depending on the field.
        """,
    ),
    single(
        "http-0031",
        "http-headers",
        M,
        "Which request header must every HTTP/1.1 request include?",
        ["* `Host`", "`User-Agent`", "`Accept`", "`Connection`"],
        """
        RFC 9112 requires `Host` in every HTTP/1.1 request, and a server must answer `400` to a
        request that lacks it. It is what makes name-based virtual hosting possible. HTTP/2
        and HTTP/3 carry the same information in the `:authority` pseudo-header.
        """,
    ),
    single(
        "http-0032",
        "http-headers",
        H,
        """
        An API echoes the request's `Origin` into `Access-Control-Allow-Origin` when the origin
        is on its allow-list, and responses are cached by a CDN. What else must it send?
        """,
        [
            "* `Vary: Origin`",
            "`Access-Control-Allow-Credentials: false`",
            "`Cache-Control: public`",
            "`Access-Control-Max-Age: 0`",
        ],
        """
        Without `Vary: Origin`, the CDN may store the response made for `https://a.example`
        and serve it, with `Access-Control-Allow-Origin: https://a.example`, to a page on
        `https://b.example` — whose browser then blocks it. `Vary: Origin` makes the origin
        part of the cache key.
        """,
    ),
    single(
        "http-0033",
        "http-headers",
        M,
        """
        An HTTP/1.1 server streams a response whose size it does not know in advance and keeps
        the connection open afterwards. How does the client know where the body ends?
        """,
        [
            "* `Transfer-Encoding: chunked`: the body is sent in length-prefixed chunks ending "
            "with a zero-length chunk",
            "The server sends `Content-Length: -1`",
            "The client waits for a pause of a few seconds",
            "`Connection: keep-alive` marks the end of the body",
        ],
        """
        Each chunk starts with its size in hex; a `0` chunk ends the body (optionally followed
        by trailer fields). HTTP/2 and HTTP/3 frame the data themselves and do not use chunked
        transfer coding.
        """,
    ),
    single(
        "http-0034",
        "http-headers",
        M,
        """
        A client sends `Accept: application/json;q=0.9, application/xml`. Which representation
        does it prefer?
        """,
        [
            "* `application/xml`",
            "`application/json`",
            "Neither: it has no preference",
            "Whichever the server lists first",
        ],
        """
        A media range without a `q` parameter has the default quality `1`, so
        `application/xml` (q=1) beats `application/json` (q=0.9). Order within the header does
        not express preference; only `q` values do.
        """,
    ),
    short(
        "http-0035",
        "http-headers",
        M,
        """
        A server answers `405 Method Not Allowed`. Which response header must list the methods
        the resource does support?
        """,
        ["Allow"],
        """
        RFC 9110 requires an `Allow` header on a `405` response, e.g. `Allow: GET, HEAD,
        POST`. A client or tool can also learn it from an `OPTIONS` request.
        """,
    ),
    single(
        "http-0036",
        "http-headers",
        H,
        "Which statement about the `Connection: close` header in HTTP/1.1 is true?",
        [
            "* The sender will close the connection once the current response is complete",
            "It closes the connection immediately, discarding the response",
            "It disables TLS for the rest of the connection",
            "It is required on every HTTP/1.1 response",
        ],
        """
        HTTP/1.1 connections are persistent by default; `Connection: close` signals that the
        sender will not reuse the connection after this message. It is a hop-by-hop header, so
        proxies must not forward it, and it is forbidden in HTTP/2 and HTTP/3.
        """,
    ),
)

# --- REST API design --------------------------------------------------------------------------

REST = (
    single(
        "rest-0001",
        "rest-resources",
        E,
        "Which URI best follows REST resource naming for the orders of customer 42?",
        [
            "* `/customers/42/orders`",
            "`/getCustomerOrders?id=42`",
            "`/customer/42/getOrders`",
            "`/orders/list/customer=42`",
        ],
        """
        URIs name **resources** (plural nouns for collections, ids for members); the HTTP method
        says what to do with them. `GET /customers/42/orders` reads the collection,
        `POST /customers/42/orders` adds to it. Verbs in paths duplicate what the method
        already expresses.
        """,
    ),
    multiple(
        "rest-0002",
        "rest-resources",
        M,
        "Which of these are resource-oriented ways to cancel order 17?",
        [
            '* `PATCH /orders/17` with `{"status": "cancelled"}`',
            "* `POST /orders/17/cancellation`",
            "`GET /orders/17/cancel`",
            "`GET /cancelOrder?id=17`",
        ],
        """
        Both correct designs change state with an unsafe method: updating the order's state, or
        creating a *cancellation* resource (useful when it carries a reason, a refund, an
        audit trail). A `GET` must be **safe**: crawlers, link prefetchers and caches issue
        `GET`s freely, so a `GET` that cancels orders will eventually cancel the wrong ones.
        """,
    ),
    single(
        "rest-0003",
        "rest-resources",
        E,
        "`POST /orders` created order 123. What should the response carry?",
        [
            "* `201 Created` and `Location: /orders/123`",
            "`200 OK` and `Content-Location: /orders`",
            "`204 No Content` and the order in the body",
            "`302 Found` redirecting to `/orders/123`",
        ],
        """
        `201 Created` with a `Location` header pointing at the new resource is the standard
        answer; most APIs also return the created representation in the body so the client
        does not need a second request. A `204` has no body by definition.
        """,
    ),
    true_false(
        "rest-0004",
        "rest-resources",
        E,
        "`GET /orders/17` must not change any state that the client asked for or is "
        "responsible for.",
        True,
        """
        `GET` is a **safe** method: the client requests no state change. The server may still
        log the request or bump a view counter, but the client is not responsible for those
        side effects — which is why browsers, crawlers and caches may issue `GET`s freely.
        """,
    ),
    single(
        "rest-0005",
        "rest-resources",
        M,
        "In REST, what does *HATEOAS* mean?",
        [
            "* Responses contain links to related resources and available actions, so clients "
            "navigate by following them instead of building URIs",
            "Every response includes the full history of the resource",
            "The server keeps per-client session state between requests",
            "Clients must send `Accept: application/hal+json`",
        ],
        """
        *Hypermedia As The Engine Of Application State*: a response such as

        ```json
        {"id": 17, "status": "pending",
         "links": {"self": "/orders/17", "cancel": "/orders/17/cancellation"}}
        ```

        tells the client what it can do next. Few public APIs go all the way, but pagination
        links (`next`, `prev`) are hypermedia too.
        """,
    ),
    multiple(
        "rest-0006",
        "rest-idempotency",
        H,
        """
        `DELETE /sessions/abc` succeeded with `204`. The client, unsure whether the response
        arrived, sends it again. Which statements are true?
        """,
        [
            "* Answering the repeat with `404 Not Found` is consistent with `DELETE` being "
            "idempotent",
            "* Answering the repeat with `204 No Content` is also acceptable",
            "Idempotency requires the repeat to get exactly the same response as the first call",
            "The repeat must fail with `409 Conflict`, because the session no longer exists",
        ],
        """
        Idempotency is about the **effect on server state**: after one or two `DELETE`s the
        session is gone either way. Responses may differ; `404` on the repeat is common and
        fine, and some APIs answer `204` again to make client retries simpler.
        """,
    ),
    single(
        "rest-0007",
        "rest-idempotency",
        H,
        """
        `POST /payments` timed out at the client. What is the standard way to let the client
        retry without charging the customer twice?
        """,
        [
            "* The client sends a unique `Idempotency-Key` header; the server stores the "
            "outcome under that key and replays it for repeats",
            "The server rejects any payment whose amount equals the previous one",
            "The client switches to `PUT /payments` and lets the server pick the id",
            "The client waits 24 hours before retrying",
        ],
        """
        The client generates a key (e.g. a UUID) per logical operation and reuses it on retries.
        The server records the key with the result **in the same transaction** as the payment;
        a retry with the same key returns the stored response instead of charging again.
        Stripe popularised this and the IETF `httpapi` working group has drafted the
        `Idempotency-Key` header.
        """,
    ),
    single(
        "rest-0008",
        "rest-idempotency",
        H,
        """
        A server receives a second request with an `Idempotency-Key` it has already seen, but
        with a *different* request body. What is the most sensible behaviour?
        """,
        [
            "* Reject it as a misuse of the key instead of replaying or executing it",
            "Execute it as a new operation",
            "Replay the first response silently",
            "Merge the two request bodies and execute the result",
        ],
        """
        A key identifies **one** operation. Reusing it with different parameters is a client
        bug: replaying would hide it, executing would defeat the key. Stripe returns an error,
        and the IETF draft suggests `422`. Servers usually store a fingerprint (hash) of the
        request body next to the key to detect this.
        """,
    ),
    single(
        "rest-0009",
        "rest-idempotency",
        M,
        "Where should a server record a processed idempotency key?",
        [
            "* In the same database transaction as the business write it protects",
            "In an in-memory dictionary of the web process",
            "In a log file, written after the response is sent",
            "Only in the client's local storage",
        ],
        """
        If the key and the write commit together, a crash can never leave a charge without its
        key (which would allow a double charge) or a key without its charge. Process memory is
        lost on restart and is not shared with other instances behind the load balancer.
        """,
    ),
    true_false(
        "rest-0010",
        "rest-idempotency",
        M,
        "A `POST` endpoint can never be made idempotent.",
        False,
        """
        `POST` is not idempotent *by definition of the method*, but an API can make a specific
        `POST` endpoint idempotent — with an idempotency key, or with a natural unique key
        (e.g. an upsert on a client-chosen id).
        """,
    ),
    single(
        "rest-0011",
        "rest-pagination",
        M,
        "Why does `SELECT … ORDER BY id LIMIT 20 OFFSET 100000` get slow?",
        [
            "* The database still produces and throws away the first 100 000 rows",
            "`OFFSET` disables every index on the table",
            "PostgreSQL limits `OFFSET` to 65 535 rows and then scans the heap",
            "The query planner cannot use `LIMIT` together with `ORDER BY`",
        ],
        """
        `OFFSET n` does not *seek*: the executor walks n rows (through the index, if there is
        one) and discards them. Cost grows linearly with the page number. Keyset (cursor)
        pagination — `WHERE id > :last_seen ORDER BY id LIMIT 20` — seeks straight to the
        start of the page.
        """,
    ),
    single(
        "rest-0012",
        "rest-pagination",
        H,
        """
        A feed is ordered by `created_at DESC, id DESC`. The last row of the current page has
        `created_at = :t` and `id = :i`. Which condition fetches the next page with keyset
        pagination?
        """,
        [
            "* `WHERE (created_at, id) < (:t, :i)`",
            "`WHERE created_at < :t AND id < :i`",
            "`WHERE created_at <= :t OR id < :i`",
            "`WHERE id < :i`",
        ],
        """
        The row-value comparison `(created_at, id) < (:t, :i)` is lexicographic: earlier
        timestamps, or the same timestamp with a smaller id. `created_at < :t AND id < :i`
        skips rows with an earlier timestamp but a larger id. In PostgreSQL the row comparison
        can use an index on `(created_at, id)`:

        ```sql
        SELECT * FROM posts
        WHERE (created_at, id) < ($1, $2)
        ORDER BY created_at DESC, id DESC
        LIMIT 20;
        ```
        """,
    ),
    multiple(
        "rest-0013",
        "rest-pagination",
        M,
        """
        A client pages through `GET /events?page=N` (offset pagination, newest first) while
        new events keep arriving. What can happen?
        """,
        [
            "* An event appears on two consecutive pages",
            "* Deleted events make the client skip an event",
            "The server returns a negative total count",
            "The database raises a serialization error",
        ],
        """
        Offsets count rows, not positions in a fixed list. An insert at the top pushes every row
        down one place, so the last row of page N reappears as the first row of page N+1; a
        delete pulls rows up, so one is never shown. Cursor pagination anchored on a unique
        sort key avoids both.
        """,
    ),
    single(
        "rest-0014",
        "rest-pagination",
        M,
        "Why must a pagination cursor's sort key include a unique column such as `id`?",
        [
            "* Rows with equal values in a non-unique column have no defined order, so pages "
            "could skip or repeat them",
            "Because PostgreSQL cannot sort by non-unique columns",
            "Because cursors must be integers",
            "To make the cursor shorter",
        ],
        """
        With `ORDER BY created_at` alone, two rows with the same timestamp may come back in
        either order and the cursor cannot say which of them was seen last. Adding `id` as a
        tie-breaker makes the order total, so `WHERE (created_at, id) < (…)` is exact.
        """,
    ),
    short(
        "rest-0015",
        "rest-pagination",
        M,
        """
        An API paginates with the `Link` header (RFC 8288). Which link relation type (the
        `rel` value) points at the following page?
        """,
        ["next", 'rel="next"', "rel=next"],
        """
        ```http
        Link: <https://api.example.com/items?cursor=abc>; rel="next",
              <https://api.example.com/items?cursor=xyz>; rel="prev"
        ```

        `next`, `prev`, `first` and `last` are registered relation types; GitHub's API is a
        well-known user of this header.
        """,
    ),
    single(
        "rest-0016",
        "rest-versioning",
        M,
        "Which change to a JSON API is backwards compatible for existing clients?",
        [
            "* Adding a new optional field to a response",
            "Renaming a response field",
            "Making an optional request field required",
            "Changing a field's type from number to string",
        ],
        """
        Well-behaved clients ignore fields they do not know (the *tolerant reader* principle),
        so adding response fields is safe. Renames, new requirements and type changes break
        clients written against the old contract and need a new version or a migration period.
        """,
    ),
    multiple(
        "rest-0017",
        "rest-versioning",
        M,
        "Which of these changes break existing clients of a public API?",
        [
            "* Removing a response field",
            "* Adding a new required request field",
            "* Returning `404` instead of an empty list for an unknown filter value",
            "Adding a new endpoint",
            "Accepting a new optional query parameter",
        ],
        """
        Anything a client already relies on — fields, required inputs, status codes,
        semantics — is part of the contract. Additions that old clients can ignore are
        compatible; removals and new obligations are not.
        """,
    ),
    single(
        "rest-0018",
        "rest-versioning",
        E,
        "Which request uses media-type (content negotiation) versioning?",
        [
            "* `Accept: application/vnd.example.v2+json`",
            "`GET /api/v2/orders`",
            "`GET /orders?version=2`",
            "`GET /orders` to `v2.api.example.com`",
        ],
        """
        Media-type versioning puts the version in a vendor media type and negotiates it with
        `Accept`. URI versioning (`/api/v2/`) is more common because it is visible, easy to
        route and easy to try in a browser; both are legitimate.
        """,
    ),
    single(
        "rest-0019",
        "rest-versioning",
        M,
        "What does an RFC 8594 `Sunset: Sat, 31 Jan 2026 23:59:59 GMT` response header tell "
        "clients?",
        [
            "* The resource is expected to become unresponsive after that date",
            "The response may be cached until that date",
            "The server's maintenance window starts at that date",
            "The client's access token expires at that date",
        ],
        """
        `Sunset` announces when a resource (often a deprecated API version) will stop
        responding, so clients can plan their migration. It pairs with a `Deprecation` header
        and a `Link` with `rel="sunset"` pointing at migration docs.
        """,
    ),
    true_false(
        "rest-0020",
        "rest-versioning",
        M,
        "Following the *tolerant reader* principle, API clients should ignore response fields "
        "they do not recognise.",
        True,
        """
        A client that fails on unknown fields turns every additive server change into a
        breaking one. Deserialise only what you need and ignore the rest; in Python that means
        not validating responses with `extra="forbid"`-style strict models.
        """,
    ),
)

# --- SQL & PostgreSQL -------------------------------------------------------------------------

SQL = (
    numeric(
        "sql-0001",
        "pg-data-types",
        E,
        "What is the default TCP port of a PostgreSQL server?",
        5432,
        """
        PostgreSQL listens on port `5432` unless `port` in `postgresql.conf` (or `-p`) says
        otherwise. Clients read the same default, e.g. `psql -h db.internal` means
        `postgresql://db.internal:5432/`.
        """,
    ),
    single(
        "sql-0002",
        "pg-joins",
        E,
        """
        Which join returns every row of the left table, with the matching right-hand row, or
        `NULL`s where there is none?
        """,
        ["* `LEFT OUTER JOIN`", "`INNER JOIN`", "`CROSS JOIN`", "`RIGHT OUTER JOIN`"],
        """
        `a LEFT JOIN b ON …` keeps all rows of `a`; the columns of `b` are `NULL` for rows of
        `a` without a match. `OUTER` is optional. A `RIGHT JOIN` is the mirror image, rarely
        written because swapping the tables reads better.
        """,
    ),
    single(
        "sql-0003",
        "pg-joins",
        M,
        """
        What does this query return for customers who have no orders?

        ```sql
        SELECT c.id, o.id
        FROM customers c
        LEFT JOIN orders o ON o.customer_id = c.id
        WHERE o.status = 'paid';
        ```
        """,
        [
            "* Nothing: the `WHERE` clause rejects their `NULL` order columns, so the query "
            "behaves like an inner join",
            "One row each, with `o.id` set to `NULL`",
            "An error, because `WHERE` cannot reference the right table of a `LEFT JOIN`",
            "One row each, but only if they had a paid order in the past",
        ],
        """
        `WHERE` runs after the join, and `NULL = 'paid'` is not true. To keep customers without
        paid orders, move the condition into the join:

        ```sql
        LEFT JOIN orders o ON o.customer_id = c.id AND o.status = 'paid'
        ```
        """,
        tags=("gotcha",),
    ),
    multiple(
        "sql-0004",
        "pg-joins",
        H,
        """
        `orders.customer_id` is nullable and some orders have `customer_id IS NULL`. Which
        queries correctly return customers without any order?
        """,
        [
            "* `SELECT c.* FROM customers c WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE "
            "o.customer_id = c.id)`",
            "* `SELECT c.* FROM customers c LEFT JOIN orders o ON o.customer_id = c.id WHERE "
            "o.id IS NULL`",
            "`SELECT * FROM customers WHERE id NOT IN (SELECT customer_id FROM orders)`",
            "`SELECT c.* FROM customers c JOIN orders o ON o.customer_id = c.id WHERE o.id IS "
            "NULL`",
        ],
        """
        `x NOT IN (…, NULL)` is never true: it is `NULL` when `x` is absent from the non-null
        values, so the `NOT IN` query returns **no rows at all** once one order lacks a
        customer. `NOT EXISTS` and the `LEFT JOIN … IS NULL` anti-join handle `NULL`s
        correctly (and PostgreSQL plans both as an anti-join). An inner join cannot produce a
        row with `o.id IS NULL`.
        """,
        tags=("gotcha",),
    ),
    true_false(
        "sql-0005",
        "pg-joins",
        E,
        "`count(*)` and `count(email)` return the same number when some rows have `email IS NULL`.",
        False,
        """
        `count(*)` counts rows; `count(expr)` counts rows where `expr` is not `NULL`. The
        difference is exactly the number of `NULL` emails. `count(DISTINCT email)` additionally
        removes duplicates.
        """,
    ),
    single(
        "sql-0006",
        "pg-joins",
        H,
        "Which construct returns, for every customer, their three most recent orders?",
        [
            "* `FROM customers c LEFT JOIN LATERAL (SELECT … FROM orders o WHERE o.customer_id "
            "= c.id ORDER BY o.created_at DESC LIMIT 3) recent ON true`",
            "`FROM customers c JOIN orders o ON o.customer_id = c.id ORDER BY o.created_at "
            "DESC LIMIT 3`",
            "`FROM customers c JOIN (SELECT * FROM orders LIMIT 3) o ON o.customer_id = c.id`",
            "`SELECT DISTINCT ON (c.id) …` ordered by `created_at DESC`",
        ],
        """
        A `LATERAL` subquery may reference columns of tables to its left, so it runs once per
        customer — top-N-per-group with an index on `orders (customer_id, created_at DESC)`.
        The plain `LIMIT 3` limits the whole result; `DISTINCT ON` keeps only one row per
        customer. A window function (`row_number() OVER (PARTITION BY …)`) is the other
        common solution.
        """,
    ),
    multiple(
        "sql-0010",
        "pg-indexes",
        M,
        """
        `orders` has a B-tree index on `(customer_id, created_at)`. Which queries can use it
        with an index condition on its **leading** column?
        """,
        [
            "* `WHERE customer_id = 7`",
            "* `WHERE customer_id = 7 AND created_at >= '2025-01-01'`",
            "* `WHERE customer_id = 7 ORDER BY created_at DESC LIMIT 10`",
            "`WHERE created_at >= '2025-01-01'`",
        ],
        """
        A multicolumn B-tree is sorted by `customer_id`, then by `created_at` within each
        customer. Conditions on a leading prefix let PostgreSQL descend straight to the
        range — and the third query also gets its ordering for free (a backward index scan).
        A condition on `created_at` alone constrains no leading column.
        """,
    ),
    single(
        "sql-0011",
        "pg-indexes",
        M,
        """
        There is an index on `users (email)`, yet
        `SELECT * FROM users WHERE lower(email) = 'ann@example.com'` does a sequential scan.
        Why?
        """,
        [
            "* The index stores `email`, not `lower(email)`; the query needs an expression index",
            "PostgreSQL never uses indexes on text columns",
            "The planner ignores indexes for string literals",
            "`lower()` makes the query non-deterministic",
        ],
        """
        An index serves a condition only on the exact indexed expression. Create one on the
        expression, or store normalised emails (or use the `citext` type):

        ```sql
        CREATE INDEX users_email_lower_idx ON users (lower(email));
        ```
        """,
    ),
    single(
        "sql-0012",
        "pg-indexes",
        H,
        """
        What does `CREATE INDEX ON orders (customer_id) INCLUDE (total)` enable for
        `SELECT total FROM orders WHERE customer_id = 7`?
        """,
        [
            "* An index-only scan, when the visibility map shows the pages are all-visible",
            "Sorting by `total` without a sort step",
            "A unique constraint on `(customer_id, total)`",
            "Searching by `total` alone",
        ],
        """
        `INCLUDE` columns are stored in the index leaf entries but are not part of the search
        key. When every column a query needs is in the index, PostgreSQL can skip the heap —
        for pages the visibility map marks all-visible, which is why a well-vacuumed table
        matters.
        """,
    ),
    true_false(
        "sql-0013",
        "pg-indexes",
        M,
        "`CREATE INDEX CONCURRENTLY` cannot run inside a transaction block.",
        True,
        """
        It commits internally between its phases (build, then wait for older transactions,
        then validate), so PostgreSQL refuses it inside `BEGIN … COMMIT`. In a Django
        migration use `AddIndexConcurrently` with `atomic = False`. If it fails, it leaves an
        `INVALID` index behind that you must drop.
        """,
    ),
    single(
        "sql-0014",
        "pg-indexes",
        M,
        """
        Which index type supports the containment operator in
        `WHERE attributes @> '{"color": "red"}'` on a `jsonb` column?
        """,
        ["* GIN", "B-tree", "Hash", "BRIN"],
        """
        GIN (generalized inverted index) maps each key/value inside the documents to the rows
        containing it — the structure behind `@>`, `?` and full-text search. The default
        `jsonb_ops` class supports the key-existence operators too; `jsonb_path_ops` is
        smaller and faster but supports only `@>` and the jsonpath operators.
        """,
    ),
    single(
        "sql-0015",
        "pg-indexes",
        H,
        """
        When can PostgreSQL use the partial index
        `CREATE INDEX ON jobs (run_at) WHERE status = 'pending'`?
        """,
        [
            "* When the query's `WHERE` clause implies `status = 'pending'`",
            "For any query on `jobs` that filters by `run_at`",
            "Only when the query has no `WHERE` clause",
            "Only inside a transaction that set `enable_partial = on`",
        ],
        """
        A partial index contains only rows matching its predicate, so the planner uses it
        only when it can prove the query's conditions imply that predicate, e.g.
        `WHERE status = 'pending' AND run_at <= now()`. It is ideal for queue tables where the
        hot rows are a small fraction.
        """,
    ),
    numeric(
        "sql-0016",
        "pg-indexes",
        H,
        "What is the default `fillfactor` (in percent) of a PostgreSQL B-tree index?",
        90,
        """
        B-tree leaf pages are filled to 90 % on index builds, leaving room for later inserts
        before pages split. Tables default to `fillfactor = 100`; lowering a table's
        fillfactor leaves room for HOT updates.
        """,
    ),
    single(
        "sql-0017",
        "pg-indexes",
        H,
        """
        A database uses the `en_US.UTF-8` collation. Which index lets
        `WHERE name LIKE 'abc%'` use an index range scan?
        """,
        [
            "* A B-tree index declared with the `text_pattern_ops` operator class",
            "Any default B-tree index on `name`",
            "A hash index on `name`",
            "No index can help prefix `LIKE` queries",
        ],
        """
        With a non-C collation, the default B-tree order does not match byte-wise prefix
        matching, so the planner cannot turn `LIKE 'abc%'` into a range. An index with
        `text_pattern_ops` (or a `COLLATE "C"` index) compares character by character:

        ```sql
        CREATE INDEX ON products (name text_pattern_ops);
        ```
        """,
    ),
    single(
        "sql-0020",
        "pg-transactions",
        E,
        "What is PostgreSQL's default transaction isolation level?",
        ["* `READ COMMITTED`", "`READ UNCOMMITTED`", "`REPEATABLE READ`", "`SERIALIZABLE`"],
        """
        Each statement sees a snapshot taken when *that statement* starts, so two `SELECT`s in
        one transaction can see different committed data. Change it per transaction with
        `SET TRANSACTION ISOLATION LEVEL …` or globally with `default_transaction_isolation`.
        """,
    ),
    single(
        "sql-0021",
        "pg-transactions",
        H,
        """
        Transactions A and B both run at `REPEATABLE READ`. A updates row 1 and commits; B,
        which started before that commit, then runs `UPDATE … WHERE id = 1`. What happens to B?
        """,
        [
            "* Its update fails with `could not serialize access due to concurrent update`, "
            "and the application must retry the transaction",
            "It overwrites A's change silently",
            "It updates the new row version, like `READ COMMITTED` would",
            "It blocks until A's transaction is rolled back",
        ],
        """
        At `REPEATABLE READ` B must not act on a row version newer than its snapshot, so
        PostgreSQL raises a serialization failure (SQLSTATE `40001`). Applications using
        `REPEATABLE READ` or `SERIALIZABLE` must be ready to retry whole transactions.
        """,
    ),
    single(
        "sql-0022",
        "pg-transactions",
        M,
        """
        At `READ COMMITTED`, two transactions concurrently run
        `UPDATE accounts SET balance = balance - 10 WHERE id = 1` and both commit. What is the
        result?
        """,
        [
            "* Both decrements apply: the second update waits for the first, then re-evaluates "
            "against the newly committed row",
            "One decrement is lost",
            "The second transaction fails with a serialization error",
            "Both transactions deadlock",
        ],
        """
        The second `UPDATE` blocks on the row lock. When the first commits, PostgreSQL
        re-checks the `WHERE` clause on the latest row version and applies
        `balance - 10` to it. Lost updates happen with *read-modify-write in the application*
        (`SELECT`, compute, `UPDATE … SET balance = 90`), not with a single atomic `UPDATE`.
        """,
    ),
    single(
        "sql-0023",
        "pg-transactions",
        M,
        "What is `SELECT … FOR UPDATE SKIP LOCKED` typically used for?",
        [
            "* Letting several workers claim different rows of a job queue without blocking "
            "each other",
            "Reading rows without taking any locks",
            "Skipping rows that fail a `CHECK` constraint",
            "Updating rows that other transactions have locked",
        ],
        """
        Each worker runs something like

        ```sql
        SELECT id FROM jobs WHERE status = 'pending'
        ORDER BY id LIMIT 10 FOR UPDATE SKIP LOCKED;
        ```

        and gets rows no other worker holds; locked rows are skipped instead of waited for.
        The view is deliberately inconsistent, which is fine for a queue but wrong for
        general-purpose reads.
        """,
    ),
    short(
        "sql-0024",
        "pg-transactions",
        M,
        "Which SQLSTATE code does PostgreSQL raise for a serialization failure?",
        ["40001"],
        """
        `40001` (`serialization_failure`) — along with `40P01` (`deadlock_detected`) — means
        "retry the whole transaction". Retry loops should match on the SQLSTATE, not on the
        message text.
        """,
    ),
    true_false(
        "sql-0025",
        "pg-transactions",
        M,
        "In PostgreSQL, `ALTER TABLE … ADD COLUMN` inside a transaction is rolled back if the "
        "transaction is rolled back.",
        True,
        """
        PostgreSQL has transactional DDL: schema changes commit or roll back with the
        transaction (a few commands such as `CREATE INDEX CONCURRENTLY` and `VACUUM` cannot run
        in a transaction block at all). That is why Django runs each migration atomically on
        PostgreSQL.
        """,
    ),
    single(
        "sql-0026",
        "pg-transactions",
        H,
        """
        Two on-call doctors each check "at least one other doctor is on call" and then take
        themselves off call, concurrently, each in its own transaction. Both commit and nobody
        is on call. What is this anomaly called, and which PostgreSQL level prevents it?
        """,
        [
            "* Write skew; `SERIALIZABLE`",
            "Dirty read; `READ COMMITTED`",
            "Lost update; `REPEATABLE READ`",
            "Phantom read; `REPEATABLE READ`",
        ],
        """
        Each transaction read a consistent snapshot and wrote a *different* row, so no
        row-level conflict exists and `REPEATABLE READ` (snapshot isolation) lets both commit.
        PostgreSQL's `SERIALIZABLE` (SSI) tracks read/write dependencies and aborts one with
        SQLSTATE `40001`. Alternatively, lock the rows you read with `SELECT … FOR UPDATE`.
        """,
    ),
    single(
        "sql-0027",
        "pg-transactions",
        M,
        "What does a plain `VACUUM` (not `VACUUM FULL`) do?",
        [
            "* Marks the space of dead row versions reusable and updates the visibility map, "
            "without an exclusive lock",
            "Rewrites the table into a new file and returns all free space to the OS",
            "Deletes rows older than `vacuum_age`",
            "Rebuilds every index on the table from scratch",
        ],
        """
        MVCC leaves dead tuples behind on `UPDATE` and `DELETE`; `VACUUM` (usually autovacuum)
        makes their space reusable and freezes old transaction ids. It runs alongside reads
        and writes. `VACUUM FULL` rewrites the table under an `ACCESS EXCLUSIVE` lock.
        """,
    ),
    single(
        "sql-0030",
        "pg-query-plans",
        M,
        "What does `EXPLAIN ANALYZE` add to `EXPLAIN`?",
        [
            "* It executes the query and reports actual row counts and timings next to the "
            "estimates",
            "It runs `ANALYZE` on the tables first to refresh statistics",
            "It shows the plan in JSON",
            "It suggests missing indexes",
        ],
        """
        Comparing estimated `rows=` with `actual rows=` is the core of plan debugging. Add
        `BUFFERS` to see how many pages were read. Because the query really runs, wrap
        data-changing statements in a transaction you roll back.
        """,
    ),
    true_false(
        "sql-0031",
        "pg-query-plans",
        M,
        "`EXPLAIN ANALYZE DELETE FROM sessions WHERE expires_at < now()` deletes the rows.",
        True,
        """
        `ANALYZE` executes the statement. To look at the plan safely:

        ```sql
        BEGIN;
        EXPLAIN ANALYZE DELETE FROM sessions WHERE expires_at < now();
        ROLLBACK;
        ```
        """,
        tags=("gotcha",),
    ),
    single(
        "sql-0032",
        "pg-query-plans",
        H,
        """
        A plan shows a Nested Loop whose outer side is estimated at `rows=1` but returns
        `actual rows=48000`, and the query takes seconds. What is the most likely fix?
        """,
        [
            "* Fix the estimate: `ANALYZE` the table, raise the column's statistics target, or "
            "add extended statistics for correlated columns",
            "Add `LIMIT 1` to the query",
            "Run `VACUUM FULL` on the inner table",
            "Disable nested loops in `postgresql.conf` for all queries",
        ],
        """
        The planner chose a nested loop because it expected one outer row; with 48 000 it
        performs 48 000 inner lookups. Bad estimates usually come from stale statistics or
        from columns that are correlated (`city` and `zip`) — `CREATE STATISTICS … (dependencies)`
        tells the planner about those. Turning planner methods off globally hides the
        problem and hurts other queries.
        """,
    ),
    single(
        "sql-0033",
        "pg-query-plans",
        M,
        "When does PostgreSQL typically choose a *Bitmap Heap Scan*?",
        [
            "* When an index matches too many rows for a plain index scan but few enough to "
            "avoid reading the whole table",
            "Only for tables without a primary key",
            "When the query has no `WHERE` clause",
            "Only for `bitmap` columns",
        ],
        """
        The bitmap index scan collects matching row locations first, sorted by page; the heap
        scan then reads each page once, in physical order. Bitmaps from several indexes can be
        combined with `BitmapAnd`/`BitmapOr`.
        """,
    ),
    single(
        "sql-0034",
        "pg-query-plans",
        E,
        """
        A 40-row lookup table has an index on `code`, but
        `SELECT * FROM countries WHERE code = 'IN'` uses a Seq Scan. Why?
        """,
        [
            "* Reading the table's single page is cheaper than descending an index and then "
            "reading the page anyway",
            "The index is corrupt",
            "Sequential scans are always preferred for text columns",
            "Statistics are missing for small tables",
        ],
        """
        The planner compares costs. For tiny tables a sequential scan touches fewer pages than
        index + heap. Test index usage on realistic data volumes, not on a near-empty dev
        database.
        """,
    ),
    short(
        "sql-0035",
        "pg-query-plans",
        M,
        "Which `EXPLAIN (ANALYZE, …)` option reports shared-buffer hits and reads per plan node?",
        ["BUFFERS"],
        """
        `EXPLAIN (ANALYZE, BUFFERS) …` prints lines such as
        `Buffers: shared hit=120 read=4031`: pages found in shared buffers versus read from the
        OS. Since PostgreSQL 18, `EXPLAIN ANALYZE` includes buffer counts by default.
        """,
    ),
    single(
        "sql-0040",
        "pg-data-types",
        M,
        "What does a PostgreSQL `timestamptz` (`timestamp with time zone`) value store?",
        [
            "* An absolute instant (kept as UTC); input is converted from, and output shown in, "
            "the session's `TimeZone`",
            "A local time plus the original time zone name",
            "A local time without any time zone information",
            "A Unix timestamp in seconds, as text",
        ],
        """
        Despite its name, `timestamptz` does not store a zone: it stores the instant. Input
        with an offset is converted to UTC; output is rendered in the session's `TimeZone`.
        Store events as `timestamptz`; keep the user's zone in a separate column if you need
        it.
        """,
    ),
    single(
        "sql-0041",
        "pg-data-types",
        M,
        "Why do money amounts belong in `numeric` or integer minor units, never in "
        "`double precision`?",
        [
            "* Binary floating point cannot represent most decimal fractions exactly, so sums "
            "drift",
            "`double precision` cannot store negative numbers",
            "`double precision` is limited to two decimal places",
            "Floating point columns cannot be indexed",
        ],
        """
        `0.1 + 0.2` is `0.30000000000000004` in binary floating point. Store paise or cents as
        `bigint`, or use `numeric(12, 2)`, and do arithmetic with Python's `Decimal`.
        """,
    ),
    true_false(
        "sql-0042",
        "pg-data-types",
        H,
        "In PostgreSQL, `varchar(255)` is faster to read and write than `text`.",
        False,
        """
        `text`, `varchar` and `varchar(n)` use the same storage; the only difference is that
        `varchar(n)` checks the length on write. Use a length limit when it is a real business
        rule, not for performance.
        """,
    ),
)

# --- Python -----------------------------------------------------------------------------------

PYTHON = (
    single(
        "py-0001",
        "py-data-model",
        M,
        "A class defines `__eq__` but not `__hash__`. What happens to its instances?",
        [
            "* They become unhashable: Python sets `__hash__` to `None`, so they cannot be set "
            "members or dict keys",
            "They hash by identity, as before",
            "Python derives `__hash__` from `__eq__` automatically",
            "Defining the class raises `TypeError`",
        ],
        """
        Equal objects must have equal hashes, and Python cannot guess a hash that agrees with
        your `__eq__`, so it sets `__hash__ = None`. Define `__hash__` over the same fields
        `__eq__` compares — and only for immutable objects. `@dataclass(frozen=True)` does
        this for you.
        """,
    ),
    single(
        "py-0002",
        "py-data-model",
        H,
        'What does declaring `__slots__ = ("x", "y")` on a class do?',
        [
            "* Instances get fixed attribute slots instead of a per-instance `__dict__`, which "
            "saves memory and forbids other attributes",
            "It makes the attributes read-only",
            "It makes attribute access thread-safe",
            "It turns the class into a named tuple",
        ],
        """
        ```python
        class Point:
            __slots__ = ("x", "y")

        p = Point()
        p.x = 1
        p.z = 3  # AttributeError: 'Point' object has no attribute 'z'
        ```

        Useful when millions of small objects exist. Subclasses that do not declare
        `__slots__` get a `__dict__` again.
        """,
    ),
    true_false(
        "py-0003",
        "py-data-model",
        E,
        "`a is b` tests whether `a` and `b` are the same object, while `a == b` calls `__eq__`.",
        True,
        """
        Use `is` for identity — singletons such as `None` — and `==` for value equality.
        `x is 1000` may be true or false depending on interning details; CPython even warns
        about `is` with a literal (`SyntaxWarning`).
        """,
    ),
    single(
        "py-0004",
        "py-data-model",
        E,
        """
        ```python
        @dataclass(frozen=True)
        class Money:
            amount: int
            currency: str

        m = Money(100, "INR")
        m.amount = 200
        ```

        What happens on the last line?
        """,
        [
            "* `dataclasses.FrozenInstanceError` is raised",
            "`m.amount` becomes `200`",
            "A new `Money` object is returned",
            "The assignment is silently ignored",
        ],
        """
        Frozen dataclasses override `__setattr__` and `__delattr__` to raise
        `FrozenInstanceError` (a subclass of `AttributeError`). Use
        `dataclasses.replace(m, amount=200)` to get a modified copy. Frozen dataclasses with
        `eq=True` (the default) are also hashable.
        """,
    ),
    single(
        "py-0005",
        "py-data-model",
        H,
        "For `a + b`, `type(a).__add__(a, b)` returns `NotImplemented`. What does Python do next?",
        [
            "* It tries `type(b).__radd__(b, a)`; if that also returns `NotImplemented`, it "
            "raises `TypeError`",
            "It raises `NotImplementedError` immediately",
            "It returns `NotImplemented` as the result of `a + b`",
            "It falls back to `str(a) + str(b)`",
        ],
        """
        Returning `NotImplemented` (a constant, not the exception) means "I don't know how to
        handle this operand" and lets the other operand try its reflected method. If `b`'s type
        is a subclass of `a`'s type and overrides `__radd__`, Python even tries `b`'s method
        first.
        """,
    ),
    single(
        "py-0006",
        "py-data-model",
        H,
        """
        A class has a `@property` named `total`, and someone sets
        `obj.__dict__["total"] = 5`. What does `obj.total` return?
        """,
        [
            "* The property's value: a property is a data descriptor, which takes precedence "
            "over the instance dictionary",
            "`5`, because the instance dictionary is always checked first",
            "It raises `AttributeError`",
            "It depends on whether `__slots__` is defined",
        ],
        """
        Attribute lookup order: data descriptors on the type (those defining `__set__` or
        `__delete__`, like `property`), then the instance `__dict__`, then non-data
        descriptors (plain functions, `functools.cached_property`) and class attributes. That
        is how `cached_property` works: it stores its result in `__dict__`, which then shadows
        it.
        """,
    ),
    single(
        "py-0007",
        "py-data-model",
        M,
        "What does the Global Interpreter Lock (GIL) of a standard CPython build prevent?",
        [
            "* More than one thread of a process executing Python bytecode at the same time",
            "Two processes from writing to the same file",
            "Threads from performing blocking I/O concurrently",
            "Data races in your own code",
        ],
        """
        Threads still help for I/O-bound work (the GIL is released while waiting on sockets,
        files and many C extensions), but CPU-bound Python code does not run in parallel — use
        processes, or the optional free-threaded build (PEP 703, Python 3.13+). The GIL does
        **not** make compound operations such as `counter += 1` atomic.
        """,
    ),
    single(
        "py-0010",
        "py-iterators",
        E,
        "What happens when you call a generator function, e.g. `g = numbers()`?",
        [
            "* It returns a generator object; the body does not run until the first `next(g)`",
            "The body runs to the first `yield` immediately",
            "The body runs completely and the results are buffered",
            "It returns a list of the yielded values",
        ],
        """
        Generators are lazy. That is why a generator that validates its arguments raises on
        the first iteration, not at the call — wrap it in a regular function that validates
        and then returns the generator if you need eager checks.
        """,
    ),
    single(
        "py-0011",
        "py-iterators",
        M,
        "What does `yield from sub()` do inside a generator?",
        [
            "* Delegates to the sub-generator: yields its values, forwards `send()` and "
            "`throw()`, and evaluates to its `return` value",
            "Yields the sub-generator object itself",
            "Runs `sub()` in a new thread",
            "Collects all of `sub()`'s values into a list and yields the list",
        ],
        """
        ```python
        def inner():
            yield 1
            return "done"

        def outer():
            result = yield from inner()   # yields 1, then result == "done"
            yield result
        ```

        `yield from` is the foundation `async`/`await` was originally built on.
        """,
    ),
    single(
        "py-0012",
        "py-iterators",
        H,
        """
        ```python
        from itertools import groupby
        [(k, len(list(g))) for k, g in groupby("aabaa")]
        ```

        What is the result?
        """,
        [
            "* `[('a', 2), ('b', 1), ('a', 2)]`",
            "`[('a', 4), ('b', 1)]`",
            "`[('b', 1), ('a', 4)]`",
            "`{'a': 4, 'b': 1}`",
        ],
        """
        `groupby` groups **consecutive** equal keys only, like Unix `uniq`. Sort by the same
        key first if you want one group per key, or use `collections.Counter` /
        `defaultdict(list)`.
        """,
        tags=("gotcha",),
    ),
    true_false(
        "py-0013",
        "py-iterators",
        M,
        "`range(10)` returns an iterator.",
        False,
        """
        A `range` is a lazy **sequence**: it supports `len()`, indexing, slicing and `in` in
        O(1), and can be iterated any number of times. `iter(range(10))` returns a separate
        `range_iterator`, which is exhausted after one pass.
        """,
    ),
    single(
        "py-0014",
        "py-iterators",
        H,
        "Since Python 3.7 (PEP 479), what happens when a `StopIteration` escapes a generator's "
        "body?",
        [
            "* It is turned into a `RuntimeError`",
            "The generator silently stops, as if it had returned",
            "It propagates unchanged to the caller",
            "It is ignored and the generator continues",
        ],
        """
        Before PEP 479 a stray `StopIteration` — e.g. from a bare `next(it)` on an exhausted
        iterator inside the generator — silently ended the iteration and hid bugs. Now it
        surfaces as `RuntimeError("generator raised StopIteration")`. Use `return` to end a
        generator.
        """,
    ),
    single(
        "py-0015",
        "py-iterators",
        M,
        "What is the main advantage of `sum(x * x for x in rows)` over "
        "`sum([x * x for x in rows])`?",
        [
            "* The generator expression produces values one at a time, without building a "
            "list in memory",
            "It runs in parallel",
            "It is always at least twice as fast",
            "It caches the results for reuse",
        ],
        """
        For large inputs the generator keeps memory constant. Speed is similar (list
        comprehensions can even be slightly faster for small inputs); the difference is
        memory, and that a generator can be consumed only once.
        """,
    ),
    single(
        "py-0020",
        "py-async",
        M,
        "An `async def` view calls `time.sleep(2)`. What is the effect?",
        [
            "* The whole event loop is blocked for 2 s, stalling every other task",
            "Only that coroutine waits; other tasks keep running",
            "Python raises `RuntimeError`",
            "The call is converted to `asyncio.sleep(2)` automatically",
        ],
        """
        Coroutines yield control only at `await` points. Blocking calls — `time.sleep`,
        `requests.get`, synchronous database drivers — freeze the loop. Use
        `await asyncio.sleep(2)`, an async client, or `await asyncio.to_thread(func)`.
        """,
    ),
    numeric(
        "py-0021",
        "py-async",
        M,
        """
        ```python
        async def main():
            await asyncio.gather(asyncio.sleep(1), asyncio.sleep(1), asyncio.sleep(1))
        ```

        Roughly how many seconds does `asyncio.run(main())` take?
        """,
        1,
        """
        `gather` schedules the three coroutines as tasks that wait concurrently, so the total is
        about the longest, ≈ 1 s. Awaiting them one after another would take ≈ 3 s.
        """,
        tolerance="0.2",
    ),
    single(
        "py-0022",
        "py-async",
        H,
        "Why do the asyncio docs tell you to keep a reference to the result of "
        "`asyncio.create_task()`?",
        [
            "* The event loop keeps only weak references to tasks, so an unreferenced task may "
            "be garbage-collected before it finishes",
            "Without a reference the task runs synchronously",
            "Tasks without references cannot raise exceptions",
            "Otherwise the task is cancelled when the current function returns",
        ],
        """
        "Fire-and-forget" tasks can disappear mid-flight. Store them in a set and remove them
        with `task.add_done_callback(tasks.discard)`, or better, use `asyncio.TaskGroup`,
        which owns its tasks.
        """,
    ),
    true_false(
        "py-0023",
        "py-async",
        M,
        "`asyncio` runs CPU-bound Python code in parallel on several cores.",
        False,
        """
        asyncio is single-threaded concurrency: one coroutine runs at a time and switches only
        at `await`. It shines at waiting on many sockets. For CPU-bound work use a
        `ProcessPoolExecutor` (`loop.run_in_executor`) or separate worker processes.
        """,
    ),
    single(
        "py-0024",
        "py-async",
        M,
        "How should async code call a blocking library function such as `legacy_client.fetch()`?",
        [
            "* `await asyncio.to_thread(legacy_client.fetch)`",
            "`await legacy_client.fetch()`",
            "`asyncio.run(legacy_client.fetch())`",
            "`asyncio.create_task(legacy_client.fetch)`",
        ],
        """
        `asyncio.to_thread` (Python 3.9+) runs the function in the default thread pool and
        lets the event loop serve other tasks meanwhile. You cannot `await` a plain function's
        return value, and `asyncio.run` cannot be called from a running loop.
        """,
    ),
    single(
        "py-0025",
        "py-async",
        H,
        "In an `async with asyncio.TaskGroup() as tg:` block, one task raises `ValueError`. "
        "What happens?",
        [
            "* The remaining tasks are cancelled, and the block raises an `ExceptionGroup` "
            "containing the `ValueError`",
            "The other tasks keep running and the error is logged",
            "Only the failed task is restarted",
            "The `ValueError` is returned as a task result",
        ],
        """
        `TaskGroup` (Python 3.11) gives structured concurrency: no task outlives the block,
        and failures are not lost. Handle them with `except* ValueError:`. With
        `asyncio.gather` the other awaitables keep running after the first exception.
        """,
    ),
    single(
        "py-0030",
        "py-typing",
        E,
        "Which annotation is equivalent to `Optional[int]`?",
        [
            "* `int | None`",
            "`int | False`",
            "`Union[int, Any]`",
            "An `int` parameter with a default value",
        ],
        """
        `Optional[X]` means `X | None`; it does not mean "optional argument". A parameter
        `x: int = 0` is optional but not `Optional`.
        """,
    ),
    single(
        "py-0031",
        "py-typing",
        M,
        "What does subclassing `typing.Protocol` give you?",
        [
            "* Structural subtyping: any class with matching methods satisfies the protocol "
            "without inheriting from it",
            "Runtime enforcement of method signatures",
            "An abstract base class that must be inherited",
            "Automatic generation of `__init__`",
        ],
        """
        ```python
        class SupportsClose(Protocol):
            def close(self) -> None: ...

        def shutdown(resource: SupportsClose) -> None:
            resource.close()
        ```

        Any object with a compatible `close()` type-checks — "static duck typing". Add
        `@runtime_checkable` to allow `isinstance` checks, which verify only that the
        methods exist.
        """,
    ),
    true_false(
        "py-0032",
        "py-typing",
        E,
        "CPython checks type annotations at runtime and raises `TypeError` when a function "
        "gets an argument of the wrong type.",
        False,
        """
        Annotations are metadata; the interpreter ignores them when calling functions. Type
        checkers (mypy, pyright) check them statically; libraries such as pydantic can
        validate at runtime on purpose.
        """,
    ),
    single(
        "py-0033",
        "py-typing",
        H,
        """
        ```python
        def log_all(items: list[object]) -> None: ...

        ids: list[int] = [1, 2, 3]
        log_all(ids)
        ```

        Why does mypy reject the call, and what is the usual fix?
        """,
        [
            "* `list` is invariant, since `log_all` could append a `str` to it; annotate the "
            "parameter as `Sequence[object]`",
            "`int` is not a subtype of `object`; use `Any`",
            "Generic types cannot be used in annotations; use `list`",
            "mypy requires `ids` to be a tuple",
        ],
        """
        A mutable container must be invariant: if `list[int]` were a `list[object]`, the
        function could insert a string into your list of ints. The read-only
        `collections.abc.Sequence` is covariant, so `Sequence[int]` is a `Sequence[object]`.
        """,
    ),
    single(
        "py-0034",
        "py-typing",
        M,
        'What does `def sort(order: Literal["asc", "desc"]) -> None` express?',
        [
            '* `order` must be exactly the string `"asc"` or `"desc"`',
            "`order` may be any string",
            "`order` is a string constant defined elsewhere",
            "The function is only callable with keyword arguments",
        ],
        """
        `Literal` types restrict a value to specific constants, so a type checker flags
        `sort("ascending")`. It is checked statically only; validate at runtime if the value
        comes from user input.
        """,
    ),
    single(
        "py-0035",
        "py-typing",
        M,
        'What does `T = TypeVar("T")` let you express in `def first(xs: list[T]) -> T`?',
        [
            "* The return type is the same as the list's element type, whatever it is",
            "The function returns a value of type `TypeVar`",
            "The list may contain elements of any mixture of types, returned as `object`",
            "The function is generic only at runtime",
        ],
        """
        With `first([1, 2])` a type checker infers `int`; with `first(["a"])`, `str`. Since
        Python 3.12 you can write `def first[T](xs: list[T]) -> T` without declaring the
        `TypeVar`.
        """,
    ),
)

# --- Django -----------------------------------------------------------------------------------

DJANGO = (
    single(
        "dj-0001",
        "dj-orm",
        M,
        """
        A template lists 50 books and shows `book.author.name` for each. The view uses
        `Book.objects.all()`. How many queries run, and what fixes it?
        """,
        [
            '* 51 queries; use `select_related("author")`',
            "1 query; nothing to fix",
            '51 queries; use `prefetch_related("author")` only, since `select_related` '
            "cannot follow foreign keys",
            '2 queries; use `only("author")`',
        ],
        """
        One query for the books plus one per book for its author: the classic **N+1**.
        `select_related` follows forward `ForeignKey`/`OneToOne` relations with a SQL join in
        the same query. (`prefetch_related` would also work, with a second query, but
        `select_related` is the natural fix for a foreign key.)
        """,
    ),
    single(
        "dj-0002",
        "dj-orm",
        M,
        "Which tool loads the tags of many articles (a `ManyToManyField`) efficiently?",
        [
            '* `prefetch_related("tags")`: one extra query for all tags, joined in Python',
            '`select_related("tags")`',
            '`values("tags")`',
            '`defer("tags")`',
        ],
        """
        `select_related` works only for single-valued relations (a join would multiply rows).
        `prefetch_related` runs `SELECT … WHERE article_id IN (…)` once and attaches results
        to each object; use a `Prefetch("tags", queryset=…)` object to filter or order them.
        """,
    ),
    single(
        "dj-0003",
        "dj-orm",
        E,
        "When does `qs = Order.objects.filter(paid=True)` run SQL?",
        [
            "* Only when the queryset is evaluated, e.g. by iterating, `list()`, `len()` or "
            "`bool()`",
            "Immediately, on that line",
            "When the request ends",
            "When `qs.save()` is called",
        ],
        """
        QuerySets are lazy: chaining `filter()`, `exclude()` and `order_by()` only builds the
        query. Evaluation caches results on the queryset, so iterating twice runs one query —
        but slicing or calling `.count()` on an unevaluated queryset runs a new one.
        """,
    ),
    single(
        "dj-0004",
        "dj-orm",
        H,
        """
        Two requests run `product.stock -= 1; product.save()` on the same product at the same
        moment. What is a correct fix?
        """,
        [
            '* `Product.objects.filter(pk=pk, stock__gt=0).update(stock=F("stock") - 1)`',
            "Call `product.refresh_from_db()` before decrementing",
            "Wrap the two statements in `try/except IntegrityError`",
            'Use `product.save(update_fields=["stock"])`',
        ],
        """
        Read-modify-write in Python loses updates: both read `stock = 5` and both write `4`.
        An `F()` expression makes the database compute `stock = stock - 1` atomically, and the
        `stock__gt=0` filter prevents overselling — check the returned row count to know
        whether it succeeded. `select_for_update()` inside a transaction is the alternative.
        """,
    ),
    single(
        "dj-0005",
        "dj-orm",
        M,
        "What happens when a queryset using `select_for_update()` is evaluated in autocommit "
        "mode, outside `transaction.atomic()`?",
        [
            "* Django raises `TransactionManagementError`",
            "The rows stay locked until the connection closes",
            "The lock is silently skipped",
            "Django opens a transaction automatically and keeps it open",
        ],
        """
        A row lock lasts until the end of the transaction; in autocommit mode that is the end
        of the statement, so the lock would be useless. Django refuses:

        ```python
        with transaction.atomic():
            account = Account.objects.select_for_update().get(pk=pk)
            account.balance -= amount
            account.save()
        ```
        """,
    ),
    true_false(
        "dj-0006",
        "dj-orm",
        M,
        "`QuerySet.update()` calls each instance's `save()` method and sends `pre_save` and "
        "`post_save` signals.",
        False,
        """
        `update()` issues a single SQL `UPDATE`; no model instances are loaded, so neither
        overridden `save()` methods nor the save signals run — and `auto_now` fields are not
        touched either, so set them explicitly. `bulk_create()` and `bulk_update()` skip
        `save()` and the signals too.
        """,
    ),
    single(
        "dj-0007",
        "dj-orm",
        H,
        "When is `Model.objects.get_or_create(email=…)` safe under concurrent requests?",
        [
            "* When the lookup fields are covered by a unique constraint, so a racing insert "
            "fails and Django fetches the row instead",
            "Always: it locks the table",
            "Only inside `select_for_update()`",
            "Never; use two queries instead",
        ],
        """
        `get_or_create` does `get()`, then `create()` on `DoesNotExist`. Two requests may both
        miss and both insert. With a unique constraint the loser's insert raises
        `IntegrityError`, and Django catches it and retries the `get()`. Without the
        constraint you get duplicates.
        """,
    ),
    single(
        "dj-0008",
        "dj-orm",
        E,
        "How do you express `WHERE status = 'open' OR priority = 1` with the ORM?",
        [
            '* `Ticket.objects.filter(Q(status="open") | Q(priority=1))`',
            '`Ticket.objects.filter(status="open", priority=1)`',
            '`Ticket.objects.filter(status="open").filter(priority=1)`',
            '`Ticket.objects.filter(status__or_priority=("open", 1))`',
        ],
        """
        Keyword arguments in one `filter()` are combined with `AND`; so are chained
        `filter()`s. `Q` objects combine with `|` (or), `&` (and) and `~` (not).
        """,
    ),
    single(
        "dj-0009",
        "dj-orm",
        M,
        "What is the cheapest way to check whether a user has any unpaid invoice?",
        [
            "* `Invoice.objects.filter(user=user, paid=False).exists()`",
            "`len(Invoice.objects.filter(user=user, paid=False)) > 0`",
            "`Invoice.objects.filter(user=user, paid=False).count() > 0`",
            "`bool(list(user.invoice_set.all()))`",
        ],
        """
        `exists()` runs `SELECT 1 … LIMIT 1`, stopping at the first match. `count()` must count
        every matching row; `len()` and `list()` fetch and build all of them.
        """,
    ),
    single(
        "dj-0010",
        "dj-orm",
        H,
        "Inside `transaction.atomic()`, code calls "
        "`transaction.on_commit(lambda: send_receipt.enqueue(order_id=order.id))`. When does "
        "the task get enqueued?",
        [
            "* After the outermost transaction commits; never if it rolls back",
            "Immediately",
            "When the `atomic()` block where it was registered exits, even if it is nested",
            "At the end of the HTTP request, whatever happens",
        ],
        """
        Enqueuing inside the transaction risks a worker picking up the task before the order
        row is committed (or for an order that is rolled back). `on_commit` callbacks run
        after the **outermost** atomic block commits; a rollback discards them. In tests,
        `TestCase.captureOnCommitCallbacks()` runs them.
        """,
    ),
    single(
        "dj-0020",
        "dj-migrations",
        M,
        'Why must a `RunPython` data migration use `apps.get_model("shop", "Order")` rather '
        "than `from shop.models import Order`?",
        [
            "* `apps` gives the historical model matching the schema at that point of the "
            "migration graph; the imported class reflects today's code",
            "Direct imports are forbidden in Python files under `migrations/`",
            "`apps.get_model` is faster",
            "It skips validation",
        ],
        """
        Migrations must keep working years later, after fields are renamed or removed. The
        historical model has exactly the fields that existed then. (Historical models have no
        custom methods, and custom managers only with `use_in_migrations = True`.)

        ```python
        def forwards(apps, schema_editor):
            Order = apps.get_model("shop", "Order")
            Order.objects.filter(status="").update(status="new")
        ```
        """,
    ),
    true_false(
        "dj-0021",
        "dj-migrations",
        M,
        "On PostgreSQL, Django runs each migration inside a transaction unless the migration "
        "sets `atomic = False`.",
        True,
        """
        PostgreSQL supports transactional DDL, so a failed migration leaves no half-applied
        schema. Operations that cannot run in a transaction — `AddIndexConcurrently`, some
        large data migrations — need `atomic = False` on the migration.
        """,
    ),
    single(
        "dj-0022",
        "dj-migrations",
        H,
        "How do you add an index to a large, busy PostgreSQL table from a Django migration "
        "without blocking writes?",
        [
            "* Use `AddIndexConcurrently` from `django.contrib.postgres.operations` in a "
            "migration with `atomic = False`",
            "Use `AddIndex` with `db_tablespace`",
            "Add `concurrently=True` to `models.Index`",
            "Run `migrate --fake` and create the index by hand later",
        ],
        """
        A plain `CREATE INDEX` takes a `SHARE` lock that blocks `INSERT`/`UPDATE`/`DELETE` for
        the whole build. `CREATE INDEX CONCURRENTLY` avoids that but cannot run in a
        transaction, hence `atomic = False`.
        """,
    ),
    single(
        "dj-0023",
        "dj-migrations",
        M,
        "Two branches each added a `0005_…` migration to the same app. After merging, "
        "`migrate` reports conflicting leaf nodes. What is the standard fix?",
        [
            "* Run `makemigrations --merge` to create a merge migration depending on both",
            "Delete both migrations and run `makemigrations` again",
            "Rename one file to `0006_…`",
            "Run `migrate --fake`",
        ],
        """
        A merge migration has both leaves as dependencies and usually no operations. Renaming
        the file does not change its `dependencies`, and deleting migrations that have already
        been applied somewhere breaks those databases.
        """,
    ),
    single(
        "dj-0024",
        "dj-migrations",
        H,
        "With rolling deploys (old and new code run side by side for a while), how do you "
        "safely drop a model field?",
        [
            "* First deploy code that no longer uses the field, then deploy the migration that "
            "drops the column",
            "Drop the column and deploy the code in the same release",
            "Drop the column first, then deploy the code",
            "Rename the column, then drop it in the same migration",
        ],
        """
        Old code still selects the column (Django lists every field in its `SELECT`), so
        dropping it while old code runs causes errors. Expand/contract: stop using the field
        (make it nullable if old code writes it), deploy, and only then remove it.
        """,
    ),
    single(
        "dj-0030",
        "dj-middleware",
        M,
        "`MIDDLEWARE = [A, B, C]`. In which order do they see the request and the response?",
        [
            "* Request: A, B, C; response: C, B, A",
            "Request: A, B, C; response: A, B, C",
            "Request: C, B, A; response: A, B, C",
            "The order is undefined",
        ],
        """
        Middleware wraps the view like onion layers: each one's `__call__` runs code, calls
        `get_response(request)` (the next layer), then post-processes the response. That is
        why e.g. `SessionMiddleware` must come before `AuthenticationMiddleware`.
        """,
    ),
    short(
        "dj-0031",
        "dj-middleware",
        E,
        "Which Django middleware class sets `request.user`?",
        ["AuthenticationMiddleware", "django.contrib.auth.middleware.AuthenticationMiddleware"],
        """
        `django.contrib.auth.middleware.AuthenticationMiddleware` attaches a lazy
        `request.user` from the session, so it must come after `SessionMiddleware`. DRF's
        token authentication sets `request.user` on the DRF `Request` instead, when the view
        runs.
        """,
    ),
    single(
        "dj-0032",
        "dj-middleware",
        H,
        "A middleware returns an `HttpResponse` from `__call__` without calling "
        "`get_response(request)`. What happens?",
        [
            "* The view and the middleware listed after it never run; the middleware listed "
            "before it still process the response",
            "Django raises `ImproperlyConfigured`",
            "The view still runs, but its response is discarded",
            "All middleware, including those listed after it, process the response",
        ],
        """
        Short-circuiting is how middleware implements maintenance pages, IP blocks or cached
        responses: the onion is only peeled down to that layer, and the response travels back
        out through the outer layers.
        """,
    ),
    true_false(
        "dj-0033",
        "dj-middleware",
        M,
        "DRF views that authenticate with a JWT bearer token in the `Authorization` header "
        "need `CsrfViewMiddleware` protection.",
        False,
        """
        CSRF abuses credentials the browser attaches automatically (cookies). A bearer token in
        a header is never attached by the browser on its own, so a cross-site form cannot use
        it. DRF's `APIView` is CSRF-exempt; only its `SessionAuthentication` enforces CSRF,
        because it relies on the session cookie.
        """,
    ),
    single(
        "dj-0040",
        "dj-drf",
        M,
        "What does `serializer.is_valid(raise_exception=True)` do with invalid data in a DRF view?",
        [
            "* Raises `ValidationError`, which DRF's exception handler turns into a `400` "
            "response with the field errors",
            "Returns `False` so the view can build its own response",
            "Raises `ValueError` and produces a `500`",
            "Saves the valid fields and ignores the rest",
        ],
        """
        It keeps views short: no `if not serializer.is_valid(): return Response(…, 400)`
        boilerplate. The errors are in `serializer.errors`, shaped like the input.
        """,
    ),
    single(
        "dj-0041",
        "dj-drf",
        M,
        "What is the difference between `authentication_classes` and `permission_classes` in DRF?",
        [
            "* Authentication works out who the caller is; permissions decide whether that "
            "caller may perform the action",
            "They are synonyms",
            "Authentication runs after permissions",
            "Permissions set `request.user`",
        ],
        """
        Authenticators populate `request.user` and `request.auth` (or leave an anonymous
        user). Permission classes then check e.g. `IsAuthenticated` or object ownership
        (`has_object_permission`). A failed check gives `401` when authentication could help
        (and the authenticator provides a `WWW-Authenticate` header), otherwise `403`.
        """,
    ),
    multiple(
        "dj-0042",
        "dj-drf",
        E,
        "Which actions does a DRF `ModelViewSet` provide out of the box?",
        [
            "* `list`",
            "* `create`",
            "* `retrieve`",
            "* `partial_update`",
            "* `destroy`",
            "`bulk_delete`",
            "`search`",
        ],
        """
        `ModelViewSet` combines the create, retrieve, update (`update` and `partial_update`),
        destroy and list mixins. Extra endpoints are added with `@action`; search comes from
        filter backends, not from an action.
        """,
    ),
    single(
        "dj-0043",
        "dj-drf",
        H,
        "In a DRF viewset for invoices, how do you stop users from reading each other's "
        "invoices by changing the id in the URL?",
        [
            "* Override `get_queryset()` to return `Invoice.objects.filter(owner=self.request"
            ".user)`",
            "Use UUIDs instead of integer ids",
            "Hide the invoice ids in the web UI",
            'Set `lookup_field = "pk"`',
        ],
        """
        `get_object()` looks the id up **within** `get_queryset()`, so another user's invoice
        simply returns `404`. Unguessable ids are defence in depth, not access control
        (OWASP A01: broken access control / IDOR).
        """,
    ),
    short(
        "dj-0044",
        "dj-drf",
        M,
        "Which `Serializer` method do you override to validate a rule that involves several "
        "fields, e.g. `start < end`?",
        ["validate", "validate()", "def validate"],
        """
        ```python
        def validate(self, attrs):
            if attrs["start"] >= attrs["end"]:
                raise serializers.ValidationError({"end": "Must be after start."})
            return attrs
        ```

        Single-field rules go in `validate_<field_name>`.
        """,
    ),
    single(
        "dj-0045",
        "dj-drf",
        M,
        "A DRF throttle rejects a request. What does the client receive?",
        [
            "* `429 Too Many Requests`, with a `Retry-After` header when the wait is known",
            "`403 Forbidden`",
            "`503 Service Unavailable`",
            "`400 Bad Request`",
        ],
        """
        Throttles raise `Throttled`, which DRF renders as `429` with the number of seconds to
        wait. Throttle history lives in the cache, so use a shared cache (e.g. Redis) when
        several processes serve the API.
        """,
    ),
)

# --- Security ---------------------------------------------------------------------------------

SECURITY = (
    single(
        "sec-0001",
        "sec-owasp",
        M,
        'Why does a parameterised query such as `cursor.execute("SELECT … WHERE email = %s", '
        "[email])` prevent SQL injection?",
        [
            "* The value is passed separately from the SQL text, so it is never parsed as SQL",
            "The driver removes quotes from the value",
            "The database escapes every keyword in the value",
            "It limits the value's length",
        ],
        """
        With server-side parameters (psycopg's extended protocol) the statement and the values
        travel separately; even with client-side binding the driver quotes the value
        correctly for its type. String formatting (`f"… '{email}'"`) lets
        `' OR '1'='1` become part of the query. Identifiers (table or column names) cannot be
        parameters — allow-list them.
        """,
    ),
    single(
        "sec-0002",
        "sec-owasp",
        H,
        "A feature fetches a user-supplied image URL on the server. Which defence against SSRF "
        "is robust?",
        [
            "* Resolve the host, refuse private, loopback and link-local addresses, and connect "
            "to the vetted IP (or use an egress proxy enforcing an allow-list)",
            "Reject URLs containing the string `localhost`",
            "Only allow URLs starting with `http://`",
            "Check the URL with a regular expression before requesting it",
        ],
        """
        Attackers bypass string checks with `127.1`, `[::1]`, decimal IPs, redirects or DNS
        names that resolve to internal addresses (DNS rebinding between check and use). The
        classic target is the cloud metadata endpoint `169.254.169.254`. Check the *resolved*
        address, pin it for the connection, disable redirects or re-check each hop.
        """,
    ),
    multiple(
        "sec-0003",
        "sec-owasp",
        M,
        "Which measures actually prevent broken access control (e.g. IDOR)?",
        [
            "* Deny by default and check, on the server, that the caller may access each object",
            "* Scope queries to the current user or tenant (`filter(owner=request.user)`)",
            "Hide the edit button from users who may not edit",
            "Use random UUIDs as the only protection",
        ],
        """
        Authorisation must be enforced where the data is served. Hiding UI elements only
        stops honest users, and unguessable ids leak through logs, referrers and shared links.
        """,
    ),
    single(
        "sec-0010",
        "sec-auth",
        M,
        "What does the signature of a JWT (JWS, e.g. `HS256`) guarantee?",
        [
            "* Integrity and authenticity of header and payload — not confidentiality: anyone "
            "can base64url-decode the payload",
            "That the payload is encrypted",
            "That the token can be revoked",
            "That the token was issued over HTTPS",
        ],
        """
        Never put secrets in a JWT payload. If the content must be hidden, use JWE, or keep
        an opaque reference token instead. Always verify the signature, expiry (`exp`),
        issuer and audience before trusting the claims.
        """,
    ),
    single(
        "sec-0011",
        "sec-auth",
        H,
        'An attacker sends a JWT whose header says `"alg": "none"` and which has no '
        "signature. What prevents this attack?",
        [
            "* The verifier accepts only the algorithms it expects (e.g. "
            '`jwt.decode(token, key, algorithms=["HS256"])`), never the token\'s own choice',
            "Rejecting tokens longer than 1 KB",
            "Base64-decoding the header twice",
            "Checking that the `typ` header is `JWT`",
        ],
        """
        The header is attacker-controlled. Libraries that trusted `alg` accepted unsigned
        tokens (`none`) or verified an `RS256` token as `HS256` using the public key as the
        HMAC secret. Pin the algorithm list on the verifying side.
        """,
    ),
    single(
        "sec-0012",
        "sec-auth",
        M,
        "With refresh-token rotation, what should the server do when an already-used refresh "
        "token is presented again?",
        [
            "* Treat it as theft: revoke the whole token family, forcing a new login",
            "Issue a new access token as usual",
            "Extend the refresh token's lifetime",
            "Ignore it and return `200`",
        ],
        """
        With rotation every refresh returns a new refresh token and invalidates the old one.
        A reuse means two parties hold the same token — the legitimate client and an attacker —
        and the server cannot tell which is which, so it revokes the whole family. (Plain
        blacklisting after rotation, as in simplejwt, rejects the reused token but leaves the
        newer tokens valid.)
        """,
    ),
    numeric(
        "sec-0013",
        "sec-auth",
        E,
        "A signed JWT in compact serialisation (`xxxxx.yyyyy.zzzzz`) has how many "
        "dot-separated parts?",
        3,
        """
        Header, payload and signature, each base64url-encoded. An encrypted JWT (JWE) has five
        parts: header, encrypted key, IV, ciphertext and authentication tag.
        """,
    ),
    single(
        "sec-0014",
        "sec-auth",
        M,
        "Why might a system of many microservices prefer `RS256` (or `ES256`) over `HS256` "
        "for its JWTs?",
        [
            "* Services verify with the public key, so only the issuer holds the key that can "
            "sign tokens",
            "`RS256` tokens are smaller",
            "`HS256` cannot carry an expiry",
            "`RS256` encrypts the payload",
        ],
        """
        With `HS256` every verifier holds the shared secret and could therefore *mint* tokens.
        Asymmetric algorithms separate signing (private key, issuer only) from verification
        (public keys, often published as a JWKS).
        """,
    ),
    true_false(
        "sec-0015",
        "sec-auth",
        M,
        "Deleting a stateless JWT access token from the client revokes it everywhere at once.",
        False,
        """
        Whoever copied the token can use it until `exp`. That is why access tokens are
        short-lived (minutes), refresh tokens are revocable on the server (blacklist or
        rotation), and "log out everywhere" needs server-side state.
        """,
    ),
    short(
        "sec-0016",
        "sec-auth",
        E,
        "Which registered JWT claim holds the expiry time (as seconds since the Unix epoch)?",
        ["exp"],
        """
        RFC 7519 registers `exp` (expiration), `nbf` (not before), `iat` (issued at), `iss`
        (issuer), `sub` (subject), `aud` (audience) and `jti` (token id). Verifiers reject
        tokens past `exp`, usually with a small leeway for clock skew.
        """,
    ),
    single(
        "sec-0017",
        "sec-auth",
        M,
        "Which OAuth 2.0 flow should a mobile app or single-page app use to sign users in?",
        [
            "* Authorization code flow with PKCE",
            "Implicit flow",
            "Resource owner password credentials flow",
            "Client credentials flow",
        ],
        """
        Public clients cannot keep a client secret. PKCE binds the authorisation code to a
        secret the app generated for that login, so an intercepted code is useless. The
        OAuth 2.0 Security BCP deprecates the implicit and password flows; client credentials
        is for machine-to-machine calls.
        """,
    ),
    single(
        "sec-0020",
        "sec-passwords",
        M,
        "Why is a single round of SHA-256, even with a salt, a poor way to store passwords?",
        [
            "* It is fast: GPUs compute billions of hashes per second, so offline guessing is "
            "cheap",
            "SHA-256 collisions are easy to find",
            "SHA-256 output is too short to store",
            "SHA-256 cannot be salted",
        ],
        """
        Password hashing must be deliberately slow and, ideally, memory-hard: Argon2id,
        scrypt, bcrypt, or PBKDF2 with a high iteration count. Django uses PBKDF2-SHA256 by
        default and supports Argon2 via `argon2-cffi`.
        """,
    ),
    numeric(
        "sec-0021",
        "sec-passwords",
        M,
        "bcrypt only uses the first how many **bytes** of a password?",
        72,
        """
        Longer inputs are truncated (newer libraries reject them instead). Pre-hashing with
        SHA-256 and base64-encoding the digest works around it, but choosing Argon2id avoids
        the problem.
        """,
    ),
    single(
        "sec-0022",
        "sec-passwords",
        E,
        "What is the purpose of a unique random salt per password hash?",
        [
            "* Identical passwords get different hashes, and precomputed (rainbow) tables "
            "become useless",
            "It makes each hash computation slower",
            "It encrypts the hash",
            "It lets the server recover the original password",
        ],
        """
        The salt is not secret; it is stored next to the hash (Django stores
        `algorithm$iterations$salt$hash`). It forces an attacker to attack each hash
        separately.
        """,
    ),
    single(
        "sec-0023",
        "sec-passwords",
        H,
        "In password storage, what is a *pepper*?",
        [
            "* A secret added to every password hash and kept outside the database, e.g. in a "
            "secrets manager or HSM",
            "A per-user salt stored in the users table",
            "The number of hashing iterations",
            "A hash of the username",
        ],
        """
        If only the database leaks, the attacker cannot test guesses without the pepper. It
        complements — does not replace — per-user salts and a slow hash, and rotating it
        requires re-hashing on login or layering the hash.
        """,
    ),
    single(
        "sec-0024",
        "sec-passwords",
        M,
        "Which algorithm does the OWASP Password Storage Cheat Sheet recommend first?",
        ["* Argon2id", "MD5 with a salt", "SHA-512", "AES-256 encryption"],
        """
        Argon2id (winner of the Password Hashing Competition) is memory-hard, which blunts GPU
        and ASIC attacks. Alternatives: scrypt, bcrypt for legacy systems, and PBKDF2 where
        FIPS-140 compliance is required. Encryption is the wrong tool: it is reversible.
        """,
    ),
    true_false(
        "sec-0025",
        "sec-passwords",
        M,
        "Comparing an HMAC signature with `==` can leak information through timing; use "
        "`hmac.compare_digest`.",
        True,
        """
        `==` stops at the first differing byte, so response time reveals how many leading bytes
        matched. `hmac.compare_digest` (or Django's `constant_time_compare`) takes time
        independent of where the inputs differ.
        """,
    ),
    single(
        "sec-0026",
        "sec-passwords",
        M,
        "A Django site switches `PASSWORD_HASHERS` so that Argon2 comes first. What happens "
        "to existing PBKDF2 hashes?",
        [
            "* Each is re-hashed with Argon2 the next time that user logs in successfully",
            "All users must reset their passwords",
            "Django converts every hash during `migrate`",
            "Old hashes stop working",
        ],
        """
        Django identifies the hasher from the stored hash's prefix, verifies with it, and —
        when the first hasher in the list differs — re-hashes the plaintext it just checked.
        Keep the old hasher in the list, or those users cannot log in.
        """,
    ),
    single(
        "sec-0030",
        "sec-csrf-xss",
        M,
        "What makes a CSRF attack possible?",
        [
            "* The browser attaches the victim's cookies to a request that another site triggers",
            "The attacker steals the session cookie through JavaScript",
            "The server uses HTTP instead of HTTPS",
            "The API accepts JSON bodies",
        ],
        """
        A page on `evil.example` submits a form to `bank.example/transfer`; the browser sends
        the bank's session cookie along. Defences: anti-CSRF tokens (Django's
        `{% csrf_token %}`), `SameSite` cookies, checking `Origin`, and keeping state changes
        off `GET`.
        """,
    ),
    single(
        "sec-0031",
        "sec-csrf-xss",
        M,
        "What does a session cookie with `SameSite=Lax` do?",
        [
            "* The browser omits it on cross-site subrequests and `POST`s, but sends it on "
            "top-level `GET` navigations",
            "The browser never sends it to other sites' pages, even when the user follows a link",
            "It can only be read by JavaScript on the same site",
            "It is sent only over HTTPS",
        ],
        """
        `Lax` (what Chromium-based browsers assume when no `SameSite` is set) blocks the classic
        cross-site form `POST` while keeping users logged in when they follow a link to your
        site. `Strict` drops the cookie even on those navigations; `None` requires `Secure`.
        """,
    ),
    single(
        "sec-0032",
        "sec-csrf-xss",
        E,
        "How does *stored* XSS differ from *reflected* XSS?",
        [
            "* Stored XSS is saved by the server (e.g. in a comment) and served to every viewer; "
            "reflected XSS bounces off a single request, such as a crafted link",
            "Stored XSS only affects the attacker's own browser",
            "Reflected XSS requires database access",
            "They are two names for the same thing",
        ],
        """
        Both are prevented by context-aware output encoding (Django templates escape by
        default — be wary of `|safe` and `mark_safe`), sanitising user-supplied HTML with an
        allow-list sanitiser, and a Content-Security-Policy as defence in depth.
        """,
    ),
    single(
        "sec-0033",
        "sec-csrf-xss",
        H,
        "A page is served with `Content-Security-Policy: script-src 'self'`. An attacker "
        "manages to inject an inline script block running `alert(document.cookie)` into its "
        "HTML. What happens?",
        [
            "* The browser refuses to run it: inline scripts are blocked unless allowed by a "
            "nonce, a hash or `'unsafe-inline'`",
            "It runs, because it is on the same origin",
            "It runs, but cannot read cookies",
            "The server strips it before sending",
        ],
        """
        CSP makes the browser enforce where code may come from. With `'self'`, only scripts
        loaded from your own origin run; inline blocks and inline event handlers are refused.
        Nonce-based policies (`script-src 'nonce-r4nd0m'`) allow your own inline scripts.
        """,
    ),
    true_false(
        "sec-0034",
        "sec-csrf-xss",
        M,
        "Marking the session cookie `HttpOnly` prevents cross-site scripting.",
        False,
        """
        `HttpOnly` only stops JavaScript from **reading** the cookie, which limits session
        theft. Injected script can still act as the user from inside the page — submit forms,
        call APIs with the cookie attached. Prevent the injection itself.
        """,
    ),
    short(
        "sec-0035",
        "sec-csrf-xss",
        E,
        "Which cookie attribute stops JavaScript (`document.cookie`) from reading a cookie?",
        ["HttpOnly"],
        """
        `Set-Cookie: sessionid=…; HttpOnly; Secure; SameSite=Lax; Path=/`. Django sets
        `HttpOnly` on the session cookie by default (`SESSION_COOKIE_HTTPONLY = True`); the
        CSRF cookie is readable on purpose, so JavaScript can copy it into a header.
        """,
    ),
    single(
        "sec-0036",
        "sec-csrf-xss",
        H,
        "A template puts user input inside an inline script block: "
        '`var name = "{{ name }}";`. Why is Django\'s HTML auto-escaping not enough here?',
        [
            "* HTML escaping does not make text safe inside JavaScript; use `json_script` to "
            "pass data to scripts",
            "Browsers disable auto-escaping inside script blocks",
            "Django does not escape variables inside quotes",
            "It is enough; the code is safe",
        ],
        """
        Escaping is context-specific: what is safe in HTML text is not necessarily safe in a
        JavaScript string, a URL or a CSS value. Django's `{{ data|json_script:"user-data" }}`
        emits the value as JSON in a `script` element of type `application/json`, which your
        code reads with `JSON.parse(document.getElementById("user-data").textContent)`.
        """,
    ),
    single(
        "sec-0037",
        "sec-csrf-xss",
        M,
        "Which header should a site send to make browsers use HTTPS only, even if a user types "
        "`http://`?",
        [
            "* `Strict-Transport-Security`",
            "`Content-Security-Policy`",
            "`X-Frame-Options`",
            "`Referrer-Policy`",
        ],
        """
        `Strict-Transport-Security: max-age=31536000; includeSubDomains` (HSTS) makes the
        browser rewrite `http://` to `https://` for the host, defeating SSL-stripping attacks.
        In Django: `SECURE_HSTS_SECONDS`.
        """,
    ),
)

# --- System design ----------------------------------------------------------------------------

SYSTEM_DESIGN = (
    single(
        "sys-0001",
        "sd-caching",
        E,
        "What is the *cache-aside* (lazy loading) pattern?",
        [
            "* The application reads from the cache; on a miss it loads from the database and "
            "puts the result into the cache",
            "The database pushes every change into the cache",
            "Writes go to the cache, which writes them to the database later",
            "The cache sits in front of the database and loads data itself",
        ],
        """
        ```python
        def get_product(pk):
            product = cache.get(f"product:{pk}")
            if product is None:
                product = Product.objects.get(pk=pk)
                cache.set(f"product:{pk}", product, timeout=300)
            return product
        ```

        On writes, delete (rather than update) the cache entry so the next read reloads it.
        """,
    ),
    multiple(
        "sys-0002",
        "sd-caching",
        H,
        "A hot cache key expires and thousands of requests hit the database at once (a cache "
        "stampede). Which techniques help?",
        [
            "* Let one request recompute the value while the others wait or get the stale value "
            "(request coalescing / a lock)",
            "* Refresh popular keys probabilistically before they expire",
            "* Serve stale data while revalidating in the background",
            "Set the same TTL on every key so they expire together",
        ],
        """
        Synchronised expiry makes stampedes *worse*; add jitter to TTLs instead. Coalescing,
        early refresh ("XFetch") and stale-while-revalidate all ensure only one recomputation
        hits the database.
        """,
    ),
    single(
        "sys-0003",
        "sd-caching",
        M,
        "How does a *write-back* (write-behind) cache differ from a *write-through* cache?",
        [
            "* Write-back acknowledges after writing to the cache and persists later; "
            "write-through writes to the backing store before acknowledging",
            "Write-back never writes to the backing store",
            "Write-through writes only on cache eviction",
            "They differ only in eviction policy",
        ],
        """
        Write-back gives low write latency and can batch writes, but loses acknowledged data
        if the cache fails before flushing. Write-through keeps the store authoritative at the
        cost of write latency.
        """,
    ),
    single(
        "sys-0004",
        "sd-caching",
        M,
        "A Redis cache is configured with `maxmemory-policy allkeys-lru`. What happens when it "
        "reaches `maxmemory`?",
        [
            "* It evicts approximately least-recently-used keys, whether or not they have a TTL",
            "It rejects all writes with an error",
            "It evicts only keys that have a TTL",
            "It writes the oldest keys to disk",
        ],
        """
        `allkeys-lru` suits a pure cache. `volatile-lru` evicts only keys with an expiry;
        `noeviction` (the default) returns errors on writes — right for data you cannot lose,
        wrong for a cache. Redis's LRU is approximated by sampling.
        """,
    ),
    true_false(
        "sys-0005",
        "sd-caching",
        E,
        "Setting a TTL on cache entries guarantees that clients never see stale data.",
        False,
        """
        A TTL only **bounds** staleness: within the TTL, readers may see an old value after the
        source changed. Invalidate (delete) on write when staleness matters, and accept that
        there is still a small race window.
        """,
    ),
    single(
        "sys-0010",
        "sd-queues",
        M,
        "A queue guarantees *at-least-once* delivery. What does that require from consumers?",
        [
            "* Idempotent processing, because the same message may be delivered more than once",
            "Nothing: at-least-once means each message arrives exactly once",
            "Processing messages in strictly increasing id order",
            "Acknowledging a message before processing it",
        ],
        """
        A consumer that crashes after processing but before acknowledging gets the message
        again. Deduplicate by message id (a unique constraint on processed ids), or make
        the effect naturally idempotent (upserts, "set status to paid").
        """,
    ),
    single(
        "sys-0011",
        "sd-queues",
        E,
        "What is a dead-letter queue for?",
        [
            "* Holding messages that repeatedly failed processing, for inspection or replay "
            "instead of blocking or endless retries",
            "Storing messages for consumers that have shut down",
            "Delivering messages with the highest priority",
            "Archiving successfully processed messages",
        ],
        """
        After N failed attempts a message is moved aside, so one *poison message* cannot block
        a queue or burn CPU forever. Alert on DLQ depth and build a way to replay messages
        after fixing the bug.
        """,
    ),
    single(
        "sys-0012",
        "sd-queues",
        H,
        "An order service must save an order and publish `OrderPlaced` to a broker, and must "
        "never do one without the other. Which pattern solves this?",
        [
            "* Transactional outbox: insert the event into an outbox table in the same database "
            "transaction, and have a relay publish it afterwards",
            "Publish first, then save the order",
            "Save the order, then publish in a `finally:` block",
            "Two-phase commit between PostgreSQL and every broker, always",
        ],
        """
        A database transaction cannot include the broker. With an outbox, the event exists
        iff the order does; a relay (polling, or change data capture) publishes it
        **at least once**, so consumers must be idempotent.
        """,
    ),
    single(
        "sys-0013",
        "sd-queues",
        M,
        "Which ordering guarantee does Apache Kafka give?",
        [
            "* Order within a partition; none across partitions of a topic",
            "Total order across the whole topic",
            "No ordering at all",
            "Order per consumer group, across all topics",
        ],
        """
        Producers choose the partition, by default from the message key's hash, so all events
        for one key (e.g. one order id) stay in order. More partitions mean more parallelism
        but no global order.
        """,
    ),
    single(
        "sys-0014",
        "sd-queues",
        M,
        "What is *backpressure* in a pipeline of services?",
        [
            "* Slowing or rejecting producers when consumers cannot keep up, instead of "
            "buffering without limit",
            "Retrying failed messages with increasing delays",
            "Sending responses back to the producer",
            "Compressing messages to save bandwidth",
        ],
        """
        Unbounded queues turn overload into memory exhaustion and huge latency. Bounded
        queues, `429`/`503` responses, and credit-based flow control (as in TCP windows or
        reactive streams) push the signal upstream.
        """,
    ),
    true_false(
        "sys-0015",
        "sd-queues",
        H,
        "In practice, *exactly-once processing* between independent systems is achieved with "
        "at-least-once delivery plus idempotent or deduplicated processing.",
        True,
        """
        Networks can lose acknowledgements, so a sender can never know whether a message was
        processed; it must retry, which means duplicates. "Exactly-once" features (e.g.
        Kafka's transactions) provide effectively-once *within* one system; across systems,
        deduplicate on a message id.
        """,
    ),
    single(
        "sys-0020",
        "sd-scaling",
        E,
        "What is the key property that lets you run more copies of a web app behind a load "
        "balancer?",
        [
            "* The app servers are stateless: sessions, uploads and caches live in shared services",
            "Every server has its own database",
            "The load balancer pins each user to one server forever",
            "The servers share memory",
        ],
        """
        If any instance can serve any request, scaling out is just adding instances, and a
        crashed instance loses nothing. Keep sessions in the database or Redis (or use
        tokens), files in object storage, and caches in a shared cache.
        """,
    ),
    single(
        "sys-0021",
        "sd-scaling",
        M,
        "A user updates their profile, is redirected, and sees the old data. Reads go to "
        "asynchronous read replicas. What is a standard fix?",
        [
            "* Read-your-writes: route that user's reads to the primary for a short window "
            "after a write (or until the replica has caught up)",
            "Add more read replicas",
            "Cache the profile page for longer",
            "Switch the replicas to `READ UNCOMMITTED`",
        ],
        """
        Replication lag means replicas are eventually consistent. Pin recent writers to the
        primary, or compare the replica's replay position with the write's WAL LSN
        (`pg_last_wal_replay_lsn()`) before reading from it.
        """,
    ),
    single(
        "sys-0022",
        "sd-scaling",
        H,
        "A multi-tenant table is sharded by `tenant_id`. What is the main risk of this key?",
        [
            "* One very large tenant becomes a hot shard that a single node cannot handle",
            "Queries for one tenant must touch every shard",
            "Tenants cannot be added after sharding",
            "`tenant_id` cannot be indexed",
        ],
        """
        A good shard key spreads load evenly and keeps related data together. `tenant_id`
        does the latter, but tenant sizes often follow a power law; plan to move or split
        large tenants.
        """,
    ),
    single(
        "sys-0023",
        "sd-scaling",
        M,
        "Why put PgBouncer (in transaction pooling mode) in front of PostgreSQL?",
        [
            "* Many client connections share a few server connections, since each PostgreSQL "
            "connection is a process with its own memory",
            "To cache query results",
            "To shard data across servers",
            "To encrypt traffic between the app and the database",
        ],
        """
        Hundreds of app processes × pool size can exceed what PostgreSQL handles well.
        Transaction pooling hands a server connection to a client only for the duration of a
        transaction — so session state (`SET`, advisory locks, `LISTEN`) does not carry over.
        """,
    ),
    single(
        "sys-0030",
        "sd-consistency",
        M,
        "According to the CAP theorem, what must a distributed data store give up during a "
        "network partition?",
        [
            "* Either consistency (linearizability) or availability",
            "Both consistency and availability",
            "Partition tolerance",
            "Durability",
        ],
        """
        Partitions happen, so the real choice is what to do during one: refuse some requests
        (CP) or answer with possibly stale data (AP). PACELC adds that, even without
        partitions, you trade latency against consistency.
        """,
    ),
    single(
        "sys-0031",
        "sd-consistency",
        E,
        "What does *eventual consistency* promise?",
        [
            "* If no new writes arrive, all replicas converge to the same value eventually",
            "Every read returns the latest write",
            "Writes are applied in the same order everywhere immediately",
            "Data is never lost",
        ],
        """
        It says nothing about *when*: reads may be stale for a while. Session guarantees
        (read-your-writes, monotonic reads) make it easier to live with.
        """,
    ),
    single(
        "sys-0032",
        "sd-consistency",
        H,
        "Why does a read quorum R and write quorum W with `R + W > N` let reads see the latest "
        "acknowledged write?",
        [
            "* Any R replicas and any W replicas overlap in at least one replica, which has the "
            "latest write",
            "Because writes are sent to all N replicas synchronously",
            "Because R replicas always include the leader",
            "Because N is odd",
        ],
        """
        With N = 3, W = 2, R = 2, every pair of 2 replicas shares a member. The reader picks
        the newest version among the R responses (by version or timestamp). Sloppy quorums and
        concurrent writes weaken this in practice.
        """,
    ),
    single(
        "sys-0033",
        "sd-consistency",
        H,
        "What is the main weakness of two-phase commit (2PC)?",
        [
            "* It blocks: if the coordinator fails after participants voted yes, they hold "
            "locks until it recovers",
            "It cannot commit more than two participants",
            "It provides no atomicity",
            "It requires eventual consistency",
        ],
        """
        A participant that voted "prepared" may neither commit nor abort on its own. That is
        why microservices usually prefer sagas with compensating actions, and why prepared
        transactions in PostgreSQL (`max_prepared_transactions`) need careful monitoring.
        """,
    ),
    single(
        "sys-0034",
        "sd-consistency",
        M,
        "In the saga pattern, how is a multi-service operation undone when a later step fails?",
        [
            "* By running compensating actions for the steps already completed, in reverse order",
            "By rolling back a distributed database transaction",
            "By deleting the event log",
            "It cannot be undone",
        ],
        """
        E.g. book hotel → charge card → book flight fails → refund card → cancel hotel.
        Compensations are business operations (a refund, not a `DELETE`) and must be
        idempotent, since they may be retried.
        """,
    ),
    single(
        "sys-0035",
        "sd-consistency",
        H,
        "Replicas resolve conflicting writes with *last write wins* using wall-clock "
        "timestamps. What can go wrong?",
        [
            "* A node whose clock runs behind can have its later write silently discarded",
            "Writes are applied twice",
            "Reads block until clocks are synchronised",
            "Nothing: NTP keeps clocks exact",
        ],
        """
        Clock skew of even a few milliseconds reorders writes, and LWW drops the "older" one
        without a trace. Use logical clocks (version vectors) to detect concurrency, or
        conflict-free data types, when losing writes is unacceptable.
        """,
    ),
)

# --- Drafts and retired questions -------------------------------------------------------------
# Drafts are under review and not yet in any paper; retired ones document how things used to
# be and are kept for the statistics of past sittings.

LIFECYCLE = (
    single(
        "sql-0090",
        "pg-indexes",
        H,
        "Which PostgreSQL 18 feature lets a B-tree on `(region, created_at)` serve "
        "`WHERE created_at > now() - interval '1 day'` when `region` has few distinct values?",
        [
            "* B-tree skip scan",
            "Bitmap OR of partial indexes",
            "Incremental sort",
            "Parallel index build",
        ],
        """
        PostgreSQL 18 can *skip* through the distinct values of a leading column, running one
        index search per value, so a condition on a later column can still use the index
        efficiently when the leading column has low cardinality.
        """,
        status=DRAFT,
    ),
    single(
        "py-0090",
        "py-async",
        H,
        "What does `asyncio.timeout(5)` (Python 3.11+) do when the block takes longer?",
        [
            "* Cancels the running task and raises `TimeoutError` at the end of the "
            "`async with` block",
            "Returns `None` from the block",
            "Kills the whole event loop",
            "Raises `asyncio.CancelledError` to the caller",
        ],
        """
        ```python
        async with asyncio.timeout(5):
            await fetch_report()
        ```

        Internally the task is cancelled; the context manager converts the cancellation into
        `TimeoutError` on exit. It replaces most uses of `asyncio.wait_for`.
        """,
        status=DRAFT,
    ),
    true_false(
        "dj-0090",
        "dj-orm",
        M,
        "Since Django 5.0, `Field.db_default` sets a default that the database itself applies, "
        "so rows inserted with raw SQL get it too.",
        True,
        """
        `db_default=Now()` or `db_default=0` becomes a `DEFAULT` clause in the table
        definition, unlike `default=`, which Python applies when creating model instances.
        """,
        status=DRAFT,
    ),
    single(
        "sec-0090",
        "sec-auth",
        M,
        "What are *passkeys*?",
        [
            "* FIDO2/WebAuthn credentials: a key pair per site, with the private key kept on "
            "the user's device or synced by the platform",
            "Passwords stored in the browser's password manager",
            "One-time codes sent by SMS",
            "Long random passwords generated by the server",
        ],
        """
        The server stores only a public key, so a database leak reveals nothing reusable, and
        the signature is bound to the site's origin, which defeats phishing.
        """,
        status=DRAFT,
    ),
    single(
        "sys-0090",
        "sd-scaling",
        M,
        "What does a *circuit breaker* do when calls to a dependency keep failing?",
        [
            "* It fails calls fast for a while instead of waiting on the dependency, then lets a "
            "few trial calls through to check for recovery",
            "It retries every failed call immediately",
            "It restarts the dependency",
            "It queues the calls until the dependency recovers",
        ],
        """
        Closed → open after a failure threshold → half-open after a cool-down → closed again
        if the trial calls succeed. It keeps threads and connections from piling up behind a
        dead dependency.
        """,
        status=DRAFT,
    ),
    short(
        "rest-0090",
        "rest-resources",
        M,
        "Which media type does RFC 9457 define for machine-readable HTTP API error bodies?",
        ["application/problem+json"],
        """
        *Problem Details*: `{"type": …, "title": …, "status": 400, "detail": …, "instance": …}`,
        extensible with your own members. RFC 9457 obsoletes RFC 7807.
        """,
        status=DRAFT,
    ),
    short(
        "sec-0091",
        "sec-csrf-xss",
        M,
        "Which (now obsolete) response header switched on the XSS auditor of older browsers, "
        "e.g. with the value `1; mode=block`?",
        ["X-XSS-Protection"],
        """
        Browsers removed their XSS auditors (Chrome in 2019) because the auditors themselves
        could be abused to leak information. Current advice is to omit the header, or send
        `X-XSS-Protection: 0`, and rely on a Content-Security-Policy.
        """,
        status=RETIRED,
    ),
    single(
        "http-0091",
        "http-status-codes",
        M,
        "Under RFC 7231, what was the reason phrase of status `413`?",
        [
            "* `Payload Too Large`",
            "`Request Entity Too Large`",
            "`Content Too Large`",
            "`Body Too Large`",
        ],
        """
        RFC 7231 (2014) called it *Payload Too Large*; RFC 2616 had called it *Request Entity
        Too Large*. RFC 9110 (2022) renamed it **Content Too Large** — hence this question
        was retired in favour of the current name.
        """,
        status=RETIRED,
    ),
)

# --- Physics, mathematics and chemistry: TeX in bodies, choices and explanations -------------

SCIENCE = (
    numeric(
        "sci-kin-0001",
        "phys-kinematics",
        E,
        r"""
        A car starts from rest and accelerates uniformly at $a = 2\ \mathrm{m\,s^{-2}}$ for
        $t = 5\ \mathrm{s}$. How far does it travel, in metres?
        """,
        25,
        r"""
        With $u = 0$:

        $$s = ut + \frac{1}{2}at^2 = \frac{1}{2} \times 2 \times 5^2 = 25\ \mathrm{m}$$
        """,
    ),
    single(
        "sci-kin-0002",
        "phys-kinematics",
        M,
        r"""
        A ball is thrown straight up at $u = 20\ \mathrm{m\,s^{-1}}$. Taking
        $g = 10\ \mathrm{m\,s^{-2}}$ and ignoring air resistance, how high does it rise?
        """,
        [r"* $20\ \mathrm{m}$", r"$40\ \mathrm{m}$", r"$10\ \mathrm{m}$", r"$2\ \mathrm{m}$"],
        r"""
        At the top $v = 0$, so $v^2 = u^2 - 2gh$ gives

        $$h = \frac{u^2}{2g} = \frac{20^2}{2 \times 10} = 20\ \mathrm{m}$$
        """,
    ),
    numeric(
        "sci-kin-0003",
        "phys-kinematics",
        E,
        r"""
        A stone is dropped from rest. What is its speed after $t = 3\ \mathrm{s}$, in
        $\mathrm{m\,s^{-1}}$? Take $g = 9.8\ \mathrm{m\,s^{-2}}$.
        """,
        Decimal("29.4"),
        r"$v = u + gt = 0 + 9.8 \times 3 = 29.4\ \mathrm{m\,s^{-1}}$.",
        tolerance="0.1",
    ),
    multiple(
        "sci-kin-0004",
        "phys-kinematics",
        M,
        r"""
        Which equations hold for motion in a straight line with constant acceleration $a$,
        initial velocity $u$, final velocity $v$ and displacement $s$ after time $t$?
        """,
        [
            r"* $v = u + at$",
            r"* $v^2 = u^2 + 2as$",
            r"* $s = ut + \frac{1}{2}at^2$",
            r"$s = vt^2$",
        ],
        r"""
        The first three are the equations of uniformly accelerated motion (the third
        integrates the first; the second eliminates $t$). $s = vt^2$ is not even
        dimensionally right: $[\mathrm{m\,s^{-1}}] \times [\mathrm{s^2}] = [\mathrm{m\,s}]$.
        """,
    ),
    numeric(
        "sci-kin-0005",
        "phys-kinematics",
        H,
        r"""
        A projectile is launched from level ground at $u = 20\ \mathrm{m\,s^{-1}}$, at
        $\theta = 30^\circ$ above the horizontal. With $g = 10\ \mathrm{m\,s^{-2}}$, what is
        its range, in metres?
        """,
        round(20**2 * math.sin(math.radians(60)) / 10, 3),
        r"""
        $$R = \frac{u^2 \sin 2\theta}{g} = \frac{400 \times \sin 60^\circ}{10}
        = 40 \times \frac{\sqrt{3}}{2} \approx 34.64\ \mathrm{m}$$
        """,
        tolerance="0.05",
    ),
    single(
        "sci-alg-0001",
        "math-algebra",
        E,
        r"What are the roots of $x^2 - 5x + 6 = 0$?",
        [
            r"* $x = 2$ and $x = 3$",
            r"$x = -2$ and $x = -3$",
            r"$x = 1$ and $x = 6$",
            r"$x = -1$ and $x = 6$",
        ],
        r"$x^2 - 5x + 6 = (x - 2)(x - 3)$, which is zero at $x = 2$ and $x = 3$.",
    ),
    numeric(
        "sci-alg-0002",
        "math-algebra",
        M,
        r"""
        An arithmetic series has first term $a_1 = 3$ and common difference $d = 4$. What
        is the sum of its first $n = 20$ terms?
        """,
        20 * (2 * 3 + 19 * 4) // 2,
        r"""
        $$S_n = \frac{n}{2}\left(2a_1 + (n - 1)d\right)
        = \frac{20}{2}\left(6 + 19 \times 4\right) = 820$$
        """,
    ),
    true_false(
        "sci-alg-0003",
        "math-algebra",
        E,
        r"A quadratic $ax^2 + bx + c = 0$ with $b^2 - 4ac < 0$ has no real roots.",
        True,
        r"""
        The roots are $x = \frac{-b \pm \sqrt{b^2 - 4ac}}{2a}$: a negative discriminant has
        no real square root, so the two roots are complex conjugates.
        """,
    ),
    single(
        "sci-calc-0001",
        "math-calculus",
        M,
        r"What is the derivative of $f(x) = x^3 \sin x$?",
        [
            r"* $3x^2 \sin x + x^3 \cos x$",
            r"$3x^2 \cos x$",
            r"$3x^2 \sin x - x^3 \cos x$",
            r"$x^3 \cos x$",
        ],
        r"""
        By the product rule $(uv)' = u'v + uv'$ with $u = x^3$ and $v = \sin x$:
        $f'(x) = 3x^2 \sin x + x^3 \cos x$.
        """,
    ),
    numeric(
        "sci-calc-0002",
        "math-calculus",
        E,
        r"""
        Evaluate

        $$\int_0^2 3x^2\,dx$$
        """,
        8,
        r"$$\int_0^2 3x^2\,dx = \left[x^3\right]_0^2 = 8 - 0 = 8$$",
    ),
    numeric(
        "sci-calc-0003",
        "math-calculus",
        M,
        r"What is $\lim_{x \to 0} \frac{\sin 3x}{x}$?",
        3,
        r"""
        $$\lim_{x \to 0} \frac{\sin 3x}{x} = 3 \lim_{x \to 0} \frac{\sin 3x}{3x} = 3 \times 1
        = 3$$
        """,
    ),
    numeric(
        "sci-chem-0001",
        "chem-stoichiometry",
        E,
        r"""
        Hydrogen burns in oxygen:

        $$2\mathrm{H_2} + \mathrm{O_2} \rightarrow 2\mathrm{H_2O}$$

        How many moles of $\mathrm{H_2O}$ form when $4\ \mathrm{mol}$ of $\mathrm{H_2}$ burn
        completely?
        """,
        4,
        r"""
        The equation gives $n(\mathrm{H_2O}) : n(\mathrm{H_2}) = 2 : 2$, so 4 mol of
        $\mathrm{H_2}$ give 4 mol of water (and use 2 mol of $\mathrm{O_2}$).
        """,
    ),
    numeric(
        "sci-chem-0002",
        "chem-stoichiometry",
        M,
        r"""
        What mass of $\mathrm{CO_2}$, in grams, forms when $16\ \mathrm{g}$ of methane burn
        completely? Take $M(\mathrm{C}) = 12$, $M(\mathrm{H}) = 1$ and
        $M(\mathrm{O}) = 16\ \mathrm{g\,mol^{-1}}$.

        $$\mathrm{CH_4} + 2\mathrm{O_2} \rightarrow \mathrm{CO_2} + 2\mathrm{H_2O}$$
        """,
        44,
        r"""
        $n(\mathrm{CH_4}) = \frac{16}{16} = 1\ \mathrm{mol}$, which gives 1 mol of
        $\mathrm{CO_2}$: $1 \times 44 = 44\ \mathrm{g}$.
        """,
        tolerance="0.5",
    ),
    single(
        "sci-chem-0003",
        "chem-stoichiometry",
        E,
        r"""
        What is the molar mass of sulfuric acid, $\mathrm{H_2SO_4}$? ($M(\mathrm{H}) = 1$,
        $M(\mathrm{S}) = 32$, $M(\mathrm{O}) = 16\ \mathrm{g\,mol^{-1}}$.)
        """,
        [
            r"* $98\ \mathrm{g\,mol^{-1}}$",
            r"$96\ \mathrm{g\,mol^{-1}}$",
            r"$49\ \mathrm{g\,mol^{-1}}$",
            r"$194\ \mathrm{g\,mol^{-1}}$",
        ],
        r"$2 \times 1 + 32 + 4 \times 16 = 98\ \mathrm{g\,mol^{-1}}$.",
    ),
    short(
        "sci-chem-0004",
        "chem-stoichiometry",
        M,
        r"""
        Limestone decomposes on heating:

        $$\mathrm{CaCO_3} \xrightarrow{\Delta} \mathrm{CaO} + \mathrm{X}$$

        Give the formula of the gas $\mathrm{X}$ (plain text, e.g. `NO2`).
        """,
        ["CO2", "carbon dioxide"],
        r"""
        Atoms balance: $\mathrm{CaCO_3} - \mathrm{CaO}$ leaves one C and two O, so
        $\mathrm{X} = \mathrm{CO_2}$.
        """,
    ),
    single(
        "sci-eq-0001",
        "chem-equilibrium",
        E,
        r"What is the equilibrium constant $K_c$ of "
        r"$\mathrm{N_2O_4} \rightleftharpoons 2\mathrm{NO_2}$?",
        [
            r"* $K_c = \frac{[\mathrm{NO_2}]^2}{[\mathrm{N_2O_4}]}$",
            r"$K_c = \frac{[\mathrm{N_2O_4}]}{[\mathrm{NO_2}]^2}$",
            r"$K_c = \frac{2[\mathrm{NO_2}]}{[\mathrm{N_2O_4}]}$",
            r"$K_c = [\mathrm{NO_2}]^2[\mathrm{N_2O_4}]$",
        ],
        r"""
        Products over reactants, each concentration raised to its stoichiometric
        coefficient: the 2 in $2\mathrm{NO_2}$ becomes the exponent.
        """,
    ),
    single(
        "sci-eq-0002",
        "chem-equilibrium",
        M,
        r"""
        The Haber process:

        $$\mathrm{N_2} + 3\mathrm{H_2} \rightleftharpoons 2\mathrm{NH_3}
        \qquad \Delta H^\circ = -92\ \mathrm{kJ\,mol^{-1}}$$

        What does raising the temperature do?
        """,
        [
            r"* Shifts the equilibrium to the left and lowers $K_c$",
            r"Shifts the equilibrium to the right and raises $K_c$",
            r"Shifts the equilibrium to the right; $K_c$ is unchanged",
            r"Nothing: a catalyst is needed to move the equilibrium",
        ],
        r"""
        The forward reaction is exothermic ($\Delta H^\circ < 0$). Le Chatelier: heating
        favours the endothermic (reverse) direction, and by van 't Hoff
        $\frac{d \ln K}{dT} = \frac{\Delta H^\circ}{RT^2} < 0$, so $K_c$ falls. (A catalyst
        only speeds both directions.)
        """,
    ),
    numeric(
        "sci-eq-0003",
        "chem-equilibrium",
        H,
        r"""
        Acetic acid, $\mathrm{CH_3COOH} \rightleftharpoons \mathrm{CH_3COO^-} + \mathrm{H^+}$,
        has $K_a = 1.8 \times 10^{-5}$. What is the pH of a $0.1\ \mathrm{mol\,L^{-1}}$
        solution? (Assume $[\mathrm{H^+}] \ll 0.1$.)
        """,
        round(-math.log10(math.sqrt(1.8e-5 * 0.1)), 2),
        r"""
        $$[\mathrm{H^+}] \approx \sqrt{K_a c} = \sqrt{1.8 \times 10^{-5} \times 0.1}
        \approx 1.34 \times 10^{-3}\ \mathrm{mol\,L^{-1}}$$

        $\mathrm{pH} = -\log_{10} [\mathrm{H^+}] \approx 2.87$.
        """,
        tolerance="0.02",
    ),
)

HAND = HTTP + REST + SQL + PYTHON + DJANGO + SECURITY + SYSTEM_DESIGN + LIFECYCLE + SCIENCE


# === Generated drills =========================================================================
# Every answer below comes from a table of standard facts or is computed by Python itself.


def _distractors(key: str, correct: str, pool: list[str], count: int = 3) -> list[str]:
    """``count`` wrong options from ``pool``, the same ones on every run for ``key``."""
    # Deterministic shuffling of demo content, not security-relevant.
    rng = random.Random(key)  # noqa: S311
    options = [option for option in dict.fromkeys(pool) if option != correct]
    return rng.sample(options, min(count, len(options)))


def _options(key: str, correct: str, pool: list[str], count: int = 3) -> list[str]:
    """The correct option (marked) among distractors, in a stable order."""
    options = [f"* {correct}", *_distractors(key, correct, pool, count)]
    rng = random.Random(key + ":order")  # noqa: S311 - stable option order, not security
    rng.shuffle(options)
    return options


# --- HTTP status codes --------------------------------------------------------------------------
# (code, reason phrase, definition, situation for the "which code?" drill or None, level)
STATUS_CODES = (
    (
        100,
        "Continue",
        "the server received the request headers and the client should send the body",
        "A client sent `Expect: 100-continue` before uploading a 2 GB body, and the "
        "server is willing to accept it.",
        H,
    ),
    (
        101,
        "Switching Protocols",
        "the server switches to the protocol the client requested in `Upgrade`",
        "The server accepts a WebSocket handshake (`Upgrade: websocket`) and switches "
        "the connection's protocol.",
        M,
    ),
    (
        200,
        "OK",
        "the request succeeded and the body carries the result",
        "`GET /users/42` succeeds and the body contains the user.",
        E,
    ),
    (
        201,
        "Created",
        "the request created a new resource, usually identified by `Location`",
        "`POST /orders` created an order, and the response gives its URI in `Location`.",
        E,
    ),
    (
        202,
        "Accepted",
        "the request was accepted for processing that has not completed yet",
        "A request to transcode a video was queued for a background worker that has not run yet.",
        M,
    ),
    (
        204,
        "No Content",
        "the request succeeded and there is no content to send",
        "`DELETE /sessions/abc` succeeded, and the server has nothing to put in the body.",
        E,
    ),
    (
        206,
        "Partial Content",
        "the server sends only the requested range(s) of the representation",
        "The server answers `Range: bytes=0-1048575` with just the first MiB of a video.",
        M,
    ),
    (
        301,
        "Moved Permanently",
        "the resource has a new permanent URI; clients historically may "
        "switch `POST` to `GET` when following it",
        "A site moved to a new domain for good and "
        "uses the classic permanent redirect — the one under which browsers historically turn a "
        "`POST` into a `GET`.",
        M,
    ),
    (
        302,
        "Found",
        "the resource is temporarily under another URI; clients historically may "
        "switch `POST` to `GET`",
        "A temporary redirect — the classic one under which browsers "
        "historically turn a `POST` into a `GET`.",
        M,
    ),
    (303, "See Other", "the client should retrieve another resource with `GET`", None, M),
    (
        304,
        "Not Modified",
        "a conditional `GET` found the client's cached copy still valid",
        None,
        E,
    ),
    (
        307,
        "Temporary Redirect",
        "a temporary redirect that keeps the method and body",
        "A temporary redirect that requires the client to repeat the same method and body at the "
        "new URI.",
        M,
    ),
    (
        308,
        "Permanent Redirect",
        "a permanent redirect that keeps the method and body",
        "A permanent redirect that requires the client to repeat the same method and body at the "
        "new URI.",
        M,
    ),
    (
        400,
        "Bad Request",
        "the server cannot process the request because of a client error such as malformed syntax",
        "The request body is not valid JSON, so the server cannot even parse it.",
        E,
    ),
    (
        401,
        "Unauthorized",
        "the request lacks valid authentication credentials; the response "
        "carries `WWW-Authenticate`",
        "A request to a protected endpoint carries no access token, or an expired one.",
        E,
    ),
    (403, "Forbidden", "the server understood the request but refuses to fulfil it", None, E),
    (
        404,
        "Not Found",
        "the server has no current representation of the target resource (or will not reveal one)",
        "`GET /users/999` for a user id that never existed.",
        E,
    ),
    (
        405,
        "Method Not Allowed",
        "the target resource does not support the method; `Allow` lists those it does",
        "A client sends `DELETE` to a collection that only supports `GET` and `POST`.",
        M,
    ),
    (
        406,
        "Not Acceptable",
        "the server cannot produce a representation matching the request's "
        "`Accept` headers and will not send a default one",
        "A client sends "
        "`Accept: application/xml` to an API that can only produce JSON, and the server refuses "
        "rather than ignoring the header.",
        H,
    ),
    (
        409,
        "Conflict",
        "the request conflicts with the current state of the target resource",
        "A request to delete a folder fails because the folder still contains files.",
        M,
    ),
    (410, "Gone", "the resource is intentionally and permanently gone", None, M),
    (
        412,
        "Precondition Failed",
        "a precondition in the request headers, such as `If-Match`, evaluated to false",
        'A `PUT` sent with `If-Match: "v3"` fails because the resource\'s current ETag is `"v4"`.',
        H,
    ),
    (
        413,
        "Content Too Large",
        "the request content is larger than the server is willing to "
        "process (called *Payload Too Large* before RFC 9110)",
        "A client uploads a 50 MB avatar to an endpoint whose limit is 5 MB.",
        M,
    ),
    (
        414,
        "URI Too Long",
        "the request target is longer than the server is willing to interpret",
        "A `GET` with a 20 000-character query string exceeds the server's limit on "
        "the request target.",
        H,
    ),
    (
        415,
        "Unsupported Media Type",
        "the content is in a format the resource does not support for this method",
        "A client posts `Content-Type: text/xml` to an endpoint that only "
        "accepts `application/json`.",
        M,
    ),
    (
        416,
        "Range Not Satisfiable",
        "none of the requested ranges overlap the representation",
        "A client requests `Range: bytes=5000-6000` of a 1 000-byte file.",
        H,
    ),
    (
        422,
        "Unprocessable Content",
        "the content is well-formed and of a supported type, but its "
        "instructions cannot be processed (semantic errors)",
        "The JSON is well-formed and of the "
        "right media type, but `end_date` is before `start_date`.",
        M,
    ),
    (
        428,
        "Precondition Required",
        "the server requires the request to be conditional, to prevent lost updates",
        "The server requires `PUT` requests to carry `If-Match`, and the "
        "client sent one without it.",
        H,
    ),
    (
        429,
        "Too Many Requests",
        "the client sent too many requests in a given time; "
        "`Retry-After` may say when to try again",
        "A client exceeded its rate limit of 100 requests per minute.",
        E,
    ),
    (
        431,
        "Request Header Fields Too Large",
        "the server refuses the request because its header fields are too large",
        "A request carries 60 KB of cookies, and the server refuses to process its headers.",
        H,
    ),
    (
        451,
        "Unavailable For Legal Reasons",
        "access is denied as a consequence of a legal demand",
        "A page is blocked in one country because of a court order.",
        H,
    ),
    (
        500,
        "Internal Server Error",
        "the server hit an unexpected condition",
        "An unhandled exception in the view code produced no useful response.",
        E,
    ),
    (
        501,
        "Not Implemented",
        "the server does not support the functionality required, e.g. it "
        "does not recognise the method",
        "The server does not recognise the request method at all "
        "and cannot support it for any resource.",
        H,
    ),
    (
        502,
        "Bad Gateway",
        "a gateway or proxy received an invalid response from the upstream server",
        "A reverse proxy got a reset connection instead of a valid response from the "
        "application server behind it.",
        M,
    ),
    (
        503,
        "Service Unavailable",
        "the server is temporarily unable to handle the request (overload or maintenance)",
        "The server is temporarily overloaded or down for maintenance, and may send `Retry-After`.",
        E,
    ),
    (
        504,
        "Gateway Timeout",
        "a gateway or proxy did not get a timely response from the upstream server",
        "A load balancer gave up waiting for the application server behind it to respond.",
        M,
    ),
)


def _status_code_items() -> list[Item]:
    items = []
    phrases = {code: phrase for code, phrase, *_ in STATUS_CODES}
    for code, phrase, meaning, situation, level in STATUS_CODES:
        same_class = [p for c, p in phrases.items() if c // 100 == code // 100]
        others = [p for c, p in phrases.items() if c // 100 != code // 100]
        pool = same_class if len(same_class) > 3 else same_class + others
        key = f"http-status-{code}-name"
        items.append(
            single(
                key,
                "http-status-codes",
                E if level == E else M,
                f"What is the standard reason phrase of HTTP status `{code}`?",
                _options(key, phrase, pool),
                f"`{code} {phrase}`: {meaning}. The reason phrase is informational — clients "
                "must act on the number (HTTP/2 and HTTP/3 do not even transmit the phrase).",
                tags=("drill",),
            )
        )
        if situation:
            items.append(
                numeric(
                    f"http-status-{code}-use",
                    "http-status-codes",
                    level,
                    f"Which HTTP status code fits this situation?\n\n> {situation}",
                    code,
                    f"`{code} {phrase}`: {meaning}.",
                    tags=("drill",),
                )
            )
    return items


# --- Well-known ports and address blocks --------------------------------------------------------
# (service, port, transport, level, note)
PORTS = (
    ("HTTP", 80, "TCP", E, "Browsers omit it from URLs: `http://example.com/` means port 80."),
    ("HTTPS (HTTP over TLS)", 443, "TCP", E, "HTTP/3 runs over QUIC on UDP port 443."),
    ("SSH", 22, "TCP", E, "Moving SSH to another port reduces log noise, not risk."),
    ("DNS", 53, "UDP", E, "DNS also uses TCP 53 for large responses and zone transfers."),
    (
        "SMTP relay (server-to-server mail)",
        25,
        "TCP",
        M,
        "Many cloud providers block outbound port 25 to fight spam.",
    ),
    (
        "SMTP message submission with STARTTLS",
        587,
        "TCP",
        M,
        "Mail clients and applications submit mail here, authenticated.",
    ),
    (
        "SMTP submission over implicit TLS",
        465,
        "TCP",
        H,
        "RFC 8314 re-standardised 465 for submission over implicit TLS.",
    ),
    ("IMAP over TLS (IMAPS)", 993, "TCP", H, "Plain IMAP is 143."),
    ("FTP (control connection)", 21, "TCP", E, "Active-mode data connections use port 20."),
    ("Telnet", 23, "TCP", M, "Unencrypted; replaced by SSH."),
    ("NTP", 123, "UDP", H, "Clock sync matters for TLS, JWT expiry and log correlation."),
    ("LDAP", 389, "TCP", H, "LDAP over TLS (LDAPS) uses 636."),
    ("MySQL", 3306, "TCP", M, "MariaDB uses the same default."),
    ("Microsoft SQL Server", 1433, "TCP", H, "The default instance listens on 1433."),
    ("Redis", 6379, "TCP", M, "Never expose it to the internet without authentication."),
    ("MongoDB", 27017, "TCP", M, "`mongod`'s default port."),
    (
        "Memcached",
        11211,
        "TCP",
        H,
        "Exposed UDP 11211 was abused for huge DDoS amplification attacks in 2018.",
    ),
    ("RabbitMQ (AMQP 0-9-1)", 5672, "TCP", M, "AMQP over TLS uses 5671."),
    (
        "the RabbitMQ management UI and HTTP API",
        15672,
        "TCP",
        H,
        "Provided by the `rabbitmq_management` plugin.",
    ),
    ("an Apache Kafka broker", 9092, "TCP", M, "Clients bootstrap from `host:9092`."),
    ("the Elasticsearch HTTP API", 9200, "TCP", M, "Node-to-node transport uses 9300."),
    ("Apache ZooKeeper client connections", 2181, "TCP", H, "Kafka used it before KRaft mode."),
    ("the etcd client API", 2379, "TCP", H, "Peer (cluster) traffic uses 2380."),
    ("a Prometheus server", 9090, "TCP", M, "Exporters use their own ports, e.g. 9100."),
    ("Grafana", 3000, "TCP", M, "Set `http_port` in `grafana.ini` to change it."),
    ("Apache Cassandra's CQL native transport", 9042, "TCP", H, "Used by the CQL drivers."),
    (
        "Django's development server (`manage.py runserver`)",
        8000,
        "TCP",
        E,
        "`runserver 0.0.0.0:8080` changes address and port.",
    ),
)


def _port_items() -> list[Item]:
    items = []
    for index, (service, port, transport, level, note) in enumerate(PORTS, start=1):
        items.append(
            numeric(
                f"net-port-{index:02d}",
                "net-ports",
                level,
                f"What is the default port of {service}?",
                port,
                f"{service[0].upper()}{service[1:]} listens on {transport} port `{port}` by "
                f"default. {note}",
                tags=("drill",),
            )
        )
    for prefix, level in ((24, E), (16, M), (28, M), (20, H), (30, M)):
        size = 2 ** (32 - prefix)
        items.append(
            numeric(
                f"net-cidr-{prefix}",
                "net-ports",
                level,
                f"How many IPv4 addresses does the block `10.0.0.0/{prefix}` contain, counting "
                "the network and broadcast addresses?",
                size,
                f"A `/{prefix}` fixes the first {prefix} of 32 bits, leaving {32 - prefix} host "
                f"bits: 2^{32 - prefix} = {size} addresses. Usable hosts are fewer — the "
                "network and broadcast addresses are reserved, and clouds such as AWS reserve "
                "a few more per subnet.",
                tags=("drill",),
            )
        )
    return items


# --- Method properties -------------------------------------------------------------------------
METHODS = (
    ("GET", True, True, E),
    ("HEAD", True, True, M),
    ("OPTIONS", True, True, M),
    ("TRACE", True, True, H),
    ("PUT", False, True, E),
    ("DELETE", False, True, E),
    ("POST", False, False, E),
    ("PATCH", False, False, M),
    ("CONNECT", False, False, H),
)
_METHOD_TABLE = "| Method | Safe | Idempotent |\n| --- | --- | --- |\n" + "\n".join(
    f"| `{name}` | {'yes' if safe else 'no'} | {'yes' if idem else 'no'} |"
    for name, safe, idem, _ in METHODS
)


def _method_items() -> list[Item]:
    items = []
    for name, safe, idempotent, level in METHODS:
        for prop, truth, meaning in (
            ("safe", safe, "the client asks for no state change (read-only semantics)"),
            (
                "idempotent",
                idempotent,
                "repeating the request has the same intended effect "
                "on the server as sending it once",
            ),
        ):
            items.append(
                true_false(
                    f"http-method-{name.lower()}-{prop}",
                    "http-methods",
                    level,
                    f"Per RFC 9110 (and RFC 5789 for `PATCH`), `{name}` is a **{prop}** method.",
                    truth,
                    f"A method is *{prop}* when {meaning}. Every safe method is also "
                    f"idempotent.\n\n{_METHOD_TABLE}",
                    tags=("drill",),
                )
            )
    return items


# --- Headers and cache directives ---------------------------------------------------------------
# (header, what it does, example, level)
HEADERS = (
    (
        "ETag",
        "Response header carrying an opaque version identifier of the representation, "
        "later echoed in `If-None-Match` or `If-Match`.",
        'ETag: "33a64df5"',
        E,
    ),
    (
        "Location",
        "Response header giving the URI of a newly created resource (with `201`) or "
        "of the redirect target (with `3xx`).",
        "Location: /orders/123",
        E,
    ),
    (
        "Retry-After",
        "Response header telling the client how long to wait — seconds or an HTTP "
        "date — before retrying, typically with `429` or `503`.",
        "Retry-After: 120",
        M,
    ),
    (
        "WWW-Authenticate",
        "Response header that a `401` must include, naming the authentication "
        "scheme(s) the server accepts.",
        'WWW-Authenticate: Bearer realm="api"',
        M,
    ),
    (
        "Content-Type",
        "Header stating the media type of the enclosed content.",
        "Content-Type: application/json; charset=utf-8",
        E,
    ),
    (
        "Accept",
        "Request header listing the media types the client can handle, with optional `q` weights.",
        "Accept: application/json, text/plain;q=0.5",
        E,
    ),
    (
        "Authorization",
        "Request header carrying the client's credentials, such as a bearer token.",
        "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9…",
        E,
    ),
    (
        "Strict-Transport-Security",
        "Response header telling browsers to reach the host only over HTTPS for `max-age` seconds.",
        "Strict-Transport-Security: max-age=31536000; includeSubDomains",
        M,
    ),
    (
        "Content-Security-Policy",
        "Response header restricting where scripts, styles, images "
        "and frames may load from — defence in depth against XSS.",
        "Content-Security-Policy: default-src 'self'",
        M,
    ),
    (
        "X-Content-Type-Options",
        "Response header whose only value, `nosniff`, stops browsers "
        "from guessing a different media type than the declared one.",
        "X-Content-Type-Options: nosniff",
        H,
    ),
    (
        "Set-Cookie",
        "Response header that stores a cookie in the browser, with attributes such "
        "as `HttpOnly`, `Secure` and `SameSite`.",
        "Set-Cookie: sessionid=abc; HttpOnly; Secure",
        E,
    ),
    (
        "Origin",
        "Request header that browsers add to cross-origin requests (and to `POST`s), "
        "naming the scheme, host and port of the page that made the request.",
        "Origin: https://app.example.com",
        M,
    ),
    (
        "Access-Control-Allow-Origin",
        "Response header with which a server tells the browser "
        "which origin may read the response of a cross-origin request.",
        "Access-Control-Allow-Origin: https://app.example.com",
        M,
    ),
    (
        "If-Match",
        "Request header that makes a `PUT`, `PATCH` or `DELETE` conditional on the "
        "resource's current ETag, preventing lost updates.",
        'If-Match: "v3"',
        M,
    ),
    (
        "Range",
        "Request header asking for only part of a representation, answered with `206`.",
        "Range: bytes=0-1023",
        M,
    ),
    (
        "Content-Encoding",
        "Response header naming the compression applied to the content.",
        "Content-Encoding: br",
        M,
    ),
    (
        "Accept-Encoding",
        "Request header listing the compression codings the client understands.",
        "Accept-Encoding: gzip, br, zstd",
        M,
    ),
    (
        "Content-Disposition",
        "Response header that makes the browser download the content as a "
        "file with a suggested name.",
        'Content-Disposition: attachment; filename="report.csv"',
        M,
    ),
    (
        "Cache-Control",
        "Header carrying caching directives such as `max-age`, `no-store` and `private`.",
        "Cache-Control: private, max-age=60",
        E,
    ),
    (
        "Last-Modified",
        "Response header with the date the origin believes the representation "
        "last changed; clients revalidate with `If-Modified-Since`.",
        "Last-Modified: Tue, 15 Oct 2024 08:12:31 GMT",
        M,
    ),
    (
        "Referer",
        "Request header carrying the address of the page from which the request was "
        "made (its name is a famous misspelling).",
        "Referer: https://example.com/pricing",
        H,
    ),
    ("User-Agent", "Request header identifying the client software.", "User-Agent: curl/8.5.0", E),
)

# (directive, meaning, level)
CACHE_DIRECTIVES = (
    ("no-store", "caches must not store any part of the request or response", E),
    (
        "no-cache",
        "a cache may store the response but must revalidate it with the origin before every reuse",
        M,
    ),
    (
        "private",
        "only a private cache (the user's browser) may store the response; shared caches must not",
        M,
    ),
    (
        "public",
        "any cache may store the response, even one that would normally not be "
        "cacheable, such as a response to a request with `Authorization`",
        H,
    ),
    (
        "max-age",
        "the response stays fresh for the given number of seconds after it was generated",
        E,
    ),
    ("s-maxage", "overrides `max-age` for shared caches (CDNs, proxies) only", M),
    (
        "must-revalidate",
        "once stale, the response must not be reused without successful "
        "revalidation, even if the origin is unreachable",
        H,
    ),
    (
        "immutable",
        "the response will not change while fresh, so clients need not revalidate it "
        "even when the user reloads the page",
        H,
    ),
    (
        "stale-if-error",
        "a cache may serve the stale response for the given number of seconds "
        "when revalidation fails with a server error",
        H,
    ),
    ("no-transform", "intermediaries must not modify the content, e.g. by recompressing images", M),
)


def _header_items() -> list[Item]:
    items = []
    for index, (name, description, example, level) in enumerate(HEADERS, start=1):
        items.append(
            short(
                f"http-header-{index:02d}",
                "http-headers",
                level,
                f"Which HTTP header is this?\n\n> {description}",
                [name],
                f"`{name}`, for example:\n\n```http\n{example}\n```",
                tags=("drill",),
            )
        )
    directives = [f"`{directive}`" for directive, _, _ in CACHE_DIRECTIVES]
    for directive, meaning, level in CACHE_DIRECTIVES:
        key = f"http-cache-{directive}"
        items.append(
            single(
                key,
                "http-caching",
                level,
                f"Which `Cache-Control` directive means: *{meaning}*?",
                _options(key, f"`{directive}`", directives),
                f"`Cache-Control: {directive}` — {meaning}. Directives combine, e.g. "
                "`Cache-Control: private, max-age=0, must-revalidate`.",
                tags=("drill",),
            )
        )
    return items


# --- PostgreSQL isolation levels ----------------------------------------------------------------
PHENOMENA = (
    ("dirty read", "reading data written by a concurrent transaction that has not committed"),
    (
        "nonrepeatable read",
        "re-reading a row and finding it changed by a transaction that committed in between",
    ),
    (
        "phantom read",
        "re-running a query with a search condition and getting a different set "
        "of rows because another transaction committed",
    ),
    (
        "serialization anomaly",
        "committing a result that no serial (one-at-a-time) ordering of "
        "the transactions could have produced",
    ),
)
# What PostgreSQL allows at each level (its documentation's table, not the SQL standard's).
ISOLATION = (
    ("READ UNCOMMITTED", (False, True, True, True), H),
    ("READ COMMITTED", (False, True, True, True), M),
    ("REPEATABLE READ", (False, False, False, True), H),
    ("SERIALIZABLE", (False, False, False, False), M),
)
_ISOLATION_TABLE = (
    "| Level (PostgreSQL) | Dirty read | Nonrepeatable read | Phantom read | Serialization "
    "anomaly |\n| --- | --- | --- | --- | --- |\n"
    + "\n".join(
        f"| `{level}` | " + " | ".join("possible" if ok else "—" for ok in allowed) + " |"
        for level, allowed, _ in ISOLATION
    )
)


def _isolation_items() -> list[Item]:
    items = []
    for level, allowed, difficulty in ISOLATION:
        for (phenomenon, definition), possible in zip(PHENOMENA, allowed, strict=True):
            note = ""
            if level == "READ UNCOMMITTED" and phenomenon == "dirty read":
                note = (
                    " The SQL standard allows dirty reads at this level, but PostgreSQL runs "
                    "`READ UNCOMMITTED` exactly like `READ COMMITTED`."
                )
            if level == "REPEATABLE READ" and phenomenon == "phantom read":
                note = (
                    " The SQL standard allows phantoms at this level, but PostgreSQL's "
                    "snapshot-based `REPEATABLE READ` prevents them."
                )
            items.append(
                true_false(
                    f"pg-iso-{level.lower().replace(' ', '-')}-{phenomenon.split()[0]}",
                    "pg-transactions",
                    difficulty,
                    f"In PostgreSQL, a transaction running at `{level}` can experience a "
                    f"**{phenomenon}**.",
                    possible,
                    f"A {phenomenon} means {definition}.{note}\n\n{_ISOLATION_TABLE}",
                    tags=("drill",),
                )
            )
    return items


# --- Big-O of Python operations -------------------------------------------------------------
BIG_O = ("O(1)", "O(log n)", "O(n)", "O(n log n)", "O(n²)")
# (operation, what the names are, answer, level, note) — CPython, average/amortised case.
COMPLEXITY = (
    (
        "lst.append(x)",
        "`lst` is a list of n items",
        "O(1)",
        E,
        "Amortised: the list over-allocates, so occasional resizes average out.",
    ),
    ("lst.pop()", "`lst` is a list of n items", "O(1)", E, "Removing from the end moves nothing."),
    (
        "lst.pop(0)",
        "`lst` is a list of n items",
        "O(n)",
        M,
        "Every remaining element shifts one slot left; use `collections.deque.popleft()`.",
    ),
    (
        "lst.insert(0, x)",
        "`lst` is a list of n items",
        "O(n)",
        M,
        "Every element shifts one slot right.",
    ),
    (
        "x in lst",
        "`lst` is a list of n items",
        "O(n)",
        E,
        "A linear scan; convert to a `set` for repeated membership tests.",
    ),
    (
        "lst[i]",
        "`lst` is a list of n items",
        "O(1)",
        E,
        "A list is an array of pointers, so indexing is direct.",
    ),
    (
        "lst.sort()",
        "`lst` is a list of n items",
        "O(n log n)",
        E,
        "Timsort; O(n) when the data is already sorted.",
    ),
    ("len(lst)", "`lst` is a list of n items", "O(1)", E, "The length is stored."),
    ("key in d", "`d` is a dict with n keys", "O(1)", E, "Average case of a hash lookup."),
    (
        "d[key] = value",
        "`d` is a dict with n keys",
        "O(1)",
        E,
        "Average case; amortised over occasional resizes.",
    ),
    ("x in s", "`s` is a set of n items", "O(1)", E, "Average case of a hash lookup."),
    (
        "dq.appendleft(x)",
        "`dq` is a `collections.deque` of n items",
        "O(1)",
        M,
        "Deques are doubly linked blocks, fast at both ends.",
    ),
    (
        "dq.popleft()",
        "`dq` is a `collections.deque` of n items",
        "O(1)",
        M,
        "The idiomatic FIFO queue operation.",
    ),
    (
        "dq[len(dq) // 2]",
        "`dq` is a `collections.deque` of n items",
        "O(n)",
        H,
        "Indexing a deque is O(1) at both ends but O(n) in the middle.",
    ),
    (
        "heapq.heappush(heap, x)",
        "`heap` is a heap of n items",
        "O(log n)",
        M,
        "The new item sifts up the binary heap.",
    ),
    (
        "heapq.heappop(heap)",
        "`heap` is a heap of n items",
        "O(log n)",
        M,
        "The last item moves to the root and sifts down.",
    ),
    (
        "heapq.heapify(lst)",
        "`lst` is a list of n items",
        "O(n)",
        H,
        "Bottom-up heap construction is linear, not O(n log n).",
    ),
    (
        "heap[0]",
        "`heap` is a heap of n items",
        "O(1)",
        M,
        "The smallest item is always at index 0.",
    ),
    (
        "bisect.bisect_left(lst, x)",
        "`lst` is a sorted list of n items",
        "O(log n)",
        M,
        "Binary search.",
    ),
    (
        "bisect.insort(lst, x)",
        "`lst` is a sorted list of n items",
        "O(n)",
        H,
        "Finding the position is O(log n), but inserting shifts elements: O(n) overall.",
    ),
    (
        "sorted(items)",
        "`items` is an iterable of n items",
        "O(n log n)",
        E,
        "Builds a new list, then sorts it.",
    ),
    ("min(lst)", "`lst` is a list of n items", "O(n)", E, "Every element must be inspected."),
    (
        "lst.remove(x)",
        "`lst` is a list of n items",
        "O(n)",
        M,
        "Searches for the first match, then shifts the rest.",
    ),
    ("lst[:]", "`lst` is a list of n items", "O(n)", M, "A shallow copy copies n references."),
    ("s.add(x)", "`s` is a set of n items", "O(1)", E, "Average case of a hash insert."),
    ("del d[key]", "`d` is a dict with n keys", "O(1)", M, "Average case of a hash delete."),
    (
        "[x for x in lst if x in other]",
        "`lst` and `other` are lists of n items each",
        "O(n²)",
        H,
        "n membership tests of O(n) each; make `other` a set to get O(n).",
    ),
)


def _complexity_items() -> list[Item]:
    items = []
    for index, (operation, context, answer, level, note) in enumerate(COMPLEXITY, start=1):
        items.append(
            single(
                f"py-bigo-{index:02d}",
                "py-complexity",
                level,
                f"In CPython, what is the average (amortised) time complexity of "
                f"`{operation}`, where {context}?",
                [f"* {option}" if option == answer else option for option in BIG_O],
                f"**{answer}**. {note}",
                tags=("drill",),
            )
        )
    return items


# --- Special methods ------------------------------------------------------------------------------
# (expression, method, level, note)
DUNDERS = (
    ("len(obj)", "__len__", E, "It must return an `int` ≥ 0."),
    ("obj[key]", "__getitem__", E, "Also drives iteration for old-style sequences."),
    ("obj[key] = value", "__setitem__", E, ""),
    ("del obj[key]", "__delitem__", M, ""),
    (
        "item in obj",
        "__contains__",
        M,
        "Without it, Python falls back to iterating with `__iter__`.",
    ),
    ("iter(obj)", "__iter__", E, "A `for` loop calls it too."),
    ("next(iterator)", "__next__", E, "It raises `StopIteration` when exhausted."),
    ("obj()", "__call__", E, "Instances of such classes are callable, like functions."),
    ("a + b", "__add__", E, "If it returns `NotImplemented`, Python tries `b.__radd__(a)`."),
    ("a == b", "__eq__", E, "Defining it without `__hash__` makes instances unhashable."),
    ("a < b", "__lt__", M, "`functools.total_ordering` derives the other comparisons."),
    ("hash(obj)", "__hash__", M, "Equal objects must have equal hashes."),
    ("bool(obj)", "__bool__", M, "Without it, Python uses `__len__`; without both, `True`."),
    ("repr(obj)", "__repr__", E, "Aim for an unambiguous, ideally `eval`-able text."),
    ("str(obj)", "__str__", E, "Falls back to `__repr__` when not defined."),
    ('f"{obj:>10}"', "__format__", M, "It receives the format spec (`>10`)."),
    ("a @ b", "__matmul__", M, "Matrix multiplication, added for NumPy (PEP 465)."),
    ("abs(x)", "__abs__", E, ""),
    (
        "entering a `with obj:` block",
        "__enter__",
        E,
        "Leaving the block calls `__exit__`, even on exceptions.",
    ),
    ("entering an `async with obj:` block", "__aenter__", M, "Leaving it awaits `__aexit__`."),
    ("await obj", "__await__", H, "It must return an iterator."),
    ("async for x in obj", "__aiter__", H, "The returned async iterator defines `__anext__`."),
    ("reversed(obj)", "__reversed__", M, "Without it, Python uses `__len__` and `__getitem__`."),
    (
        "obj.missing when normal attribute lookup fails",
        "__getattr__",
        M,
        "Unlike `__getattribute__`, it runs only after normal lookup fails.",
    ),
    ("a += b", "__iadd__", M, "Without it, Python falls back to `a = a + b`."),
)


def _dunder_items() -> list[Item]:
    items = []
    for index, (expression, method, level, note) in enumerate(DUNDERS, start=1):
        if expression.startswith("entering"):
            what = expression
        elif expression.startswith("obj.missing"):
            what = "`obj.missing` when normal attribute lookup fails"
        else:
            what = f"`{expression}`"
        items.append(
            short(
                f"py-dunder-{index:02d}",
                "py-data-model",
                level,
                f"Which special (dunder) method does Python call for {what}?",
                [method],
                f"`{method}`. {note}".strip(),
                tags=("drill",),
            )
        )
    return items


# --- Django ---------------------------------------------------------------------------------------
# (field, accepted PostgreSQL types, level)
DJANGO_FIELDS = (
    ("models.BigAutoField(primary_key=True)", ("bigint", "int8"), M),
    ("models.UUIDField()", ("uuid",), E),
    ("models.JSONField()", ("jsonb",), M),
    ("models.DateTimeField()", ("timestamp with time zone", "timestamptz"), M),
    ("models.TextField()", ("text",), E),
    ("models.BooleanField()", ("boolean", "bool"), E),
    ("models.DurationField()", ("interval",), H),
    ("models.GenericIPAddressField()", ("inet",), H),
    ("models.BinaryField()", ("bytea",), H),
    ("models.FloatField()", ("double precision", "float8"), M),
    ("models.SmallIntegerField()", ("smallint", "int2"), M),
    ("models.CharField(max_length=100)", ("varchar(100)", "character varying(100)"), E),
    (
        "models.DecimalField(max_digits=10, decimal_places=2)",
        ("numeric(10, 2)", "numeric(10,2)", "decimal(10, 2)", "decimal(10,2)"),
        M,
    ),
)
# (command, what it does, level)
COMMANDS = (
    ("makemigrations", "creates new migration files from changes to your models", E),
    ("migrate", "applies unapplied migrations to the database", E),
    ("sqlmigrate", "prints the SQL a given migration would run, without running it", M),
    ("showmigrations", "lists each app's migrations and whether each is applied", M),
    ("squashmigrations", "combines a range of an app's migrations into one", H),
    (
        "dbshell",
        "opens the database's command-line client (e.g. `psql`) with the project's "
        "connection settings",
        M,
    ),
    ("inspectdb", "generates model classes from the tables of an existing database", H),
    (
        "collectstatic",
        "copies static files from every app into `STATIC_ROOT` for production serving",
        E,
    ),
    (
        "check",
        "runs the system checks framework; with `--deploy`, also the production settings checks",
        M,
    ),
    ("dumpdata", "exports database contents as fixture data (JSON by default)", M),
    ("loaddata", "loads fixture files into the database", M),
    ("createsuperuser", "creates an admin user, interactively or from options", E),
    ("createcachetable", "creates the tables used by the database cache backend", H),
    ("runserver", "starts the lightweight development web server", E),
    ("clearsessions", "deletes expired sessions from the session store", H),
    ("shell", "opens an interactive Python shell with Django set up", E),
)


def _django_items() -> list[Item]:
    items = []
    for index, (field, accepted, level) in enumerate(DJANGO_FIELDS, start=1):
        items.append(
            short(
                f"dj-field-{index:02d}",
                "dj-orm",
                level,
                f"Which PostgreSQL column type does Django create for `{field}`?",
                accepted,
                f"`{accepted[0]}`. See the SQL with `manage.py sqlmigrate <app> <migration>`.",
                tags=("drill",),
            )
        )
    for command, does, level in COMMANDS:
        items.append(
            short(
                f"dj-cmd-{command}",
                "dj-commands",
                level,
                f"Which `manage.py` command {does}?",
                [
                    command,
                    f"manage.py {command}",
                    f"python manage.py {command}",
                    f"django-admin {command}",
                ],
                f"`python manage.py {command}` {does}. `manage.py help {command}` lists its "
                "options.",
                tags=("drill",),
            )
        )
    return items


# --- OWASP Top 10 (2021) --------------------------------------------------------------------------
OWASP = (
    (
        "A01:2021 – Broken Access Control",
        "Changing the number in `/api/invoices/1043` to `1044` shows another customer's invoice.",
        "Check on the server that the caller may access *this* object — e.g. scope every query "
        "to the current user — and deny by default.",
    ),
    (
        "A02:2021 – Cryptographic Failures",
        "Passwords are stored as unsalted MD5 hashes, and the login form is served over plain "
        "HTTP.",
        "Use TLS everywhere (with HSTS) and a slow, salted password hash such as Argon2id.",
    ),
    (
        "A03:2021 – Injection",
        'A search endpoint builds `"SELECT … WHERE name LIKE \'%" + q + "%\'"` from the query '
        "string.",
        "Use parameterised queries or the ORM; never concatenate input into SQL.",
    ),
    (
        "A04:2021 – Insecure Design",
        'Account recovery relies on security questions such as "What was your first pet\'s name?"',
        "Threat-model flows before building them; no amount of careful coding fixes "
        "a flawed design.",
    ),
    (
        "A05:2021 – Security Misconfiguration",
        "Production runs with `DEBUG = True`, showing stack traces and settings to anyone who "
        "triggers an error.",
        "Harden defaults, automate configuration, and run `manage.py check --deploy`.",
    ),
    (
        "A06:2021 – Vulnerable and Outdated Components",
        "A service still bundles Log4j 2.14, which is affected by the widely exploited "
        "Log4Shell vulnerability.",
        "Track dependencies (SBOM), scan them, and patch promptly.",
    ),
    (
        "A07:2021 – Identification and Authentication Failures",
        "The login endpoint allows unlimited attempts, so attackers replay leaked username and "
        "password lists (credential stuffing).",
        "Rate-limit logins, add multi-factor "
        "authentication, and check passwords against breached-password lists.",
    ),
    (
        "A08:2021 – Software and Data Integrity Failures",
        "The server unpickles (`pickle.loads`) data taken from a cookie the client controls.",
        "Never deserialise untrusted data with formats that can construct arbitrary objects; "
        "sign and verify data and software updates.",
    ),
    (
        "A09:2021 – Security Logging and Monitoring Failures",
        "Thousands of failed logins and a bulk export of customer data went unnoticed for months "
        "because nothing was logged or alerted on.",
        "Log security events with context and alert on suspicious patterns.",
    ),
    (
        "A10:2021 – Server-Side Request Forgery",
        "A link-preview feature lets users make the server fetch "
        "`http://169.254.169.254/latest/meta-data/`.",
        "Validate resolved destination addresses against an allow-list and block internal ranges.",
    ),
)


def _owasp_items() -> list[Item]:
    items = []
    names = [name for name, _, _ in OWASP]
    for index, (name, scenario, fix) in enumerate(OWASP, start=1):
        key = f"sec-owasp-{index:02d}"
        items.append(
            single(
                key,
                "sec-owasp",
                M if index in (4, 8, 9) else E,
                f"Which OWASP Top 10 (2021) category does this issue belong to?\n\n> {scenario}",
                _options(key, name, names),
                f"**{name}**. {fix}",
                tags=("drill", "owasp"),
            )
        )
    return items


# --- Python: what does this evaluate to? ----------------------------------------------------------
# The answer is computed by running the snippet: its last line is the expression asked about.
# (key, topic, level, code, why)
SNIPPETS = (
    (
        "py-eval-01",
        "py-data-model",
        M,
        """
        def add(item, bucket=[]):
            bucket.append(item)
            return bucket

        add(1)
        add(2)
        len(add(3))
        """,
        "The default list is created once, when `def` runs, and shared by every call "
        "that omits `bucket`. Use `bucket=None` and create the list inside the function.",
    ),
    (
        "py-eval-02",
        "py-data-model",
        H,
        """
        len({1: "a", True: "b", 1.0: "c"})
        """,
        "`1 == True == 1.0` and they hash equally, so they are one key: the dict keeps the "
        "first key object and overwrites the value twice, ending as `{1: 'c'}`.",
    ),
    (
        "py-eval-03",
        "py-data-model",
        M,
        """
        round(2.5) + round(3.5)
        """,
        "Python 3 rounds halves to the nearest even number (banker's rounding): "
        "`round(2.5) == 2` and `round(3.5) == 4`. For commercial rounding use "
        "`Decimal.quantize(…, rounding=ROUND_HALF_UP)`.",
    ),
    (
        "py-eval-04",
        "py-data-model",
        E,
        """
        -7 // 2
        """,
        "`//` floors towards negative infinity, so −3.5 becomes −4. C and Java truncate "
        "towards zero and give −3, as does `int(-7 / 2)` in Python.",
    ),
    (
        "py-eval-05",
        "py-data-model",
        M,
        """
        -7 % 3
        """,
        "The result of `%` has the sign of the divisor, so that "
        "`(a // b) * b + a % b == a` holds: `(-3) * 3 + 2 == -7`.",
    ),
    (
        "py-eval-06",
        "py-data-model",
        E,
        """
        0.1 + 0.2 == 0.3
        """,
        "`0.1 + 0.2` is `0.30000000000000004` in binary floating point. Compare floats "
        "with `math.isclose`, and use `Decimal` for money.",
    ),
    (
        "py-eval-07",
        "py-iterators",
        M,
        """
        squares = (n * n for n in range(4))
        total = sum(squares)
        sum(squares)
        """,
        "A generator can be consumed only once: the first `sum` exhausts it "
        "(`total == 14`), so the second sees no items.",
    ),
    (
        "py-eval-08",
        "py-iterators",
        E,
        """
        sum(x for x in range(10) if x % 2)
        """,
        "`x % 2` is truthy for odd numbers: 1 + 3 + 5 + 7 + 9.",
    ),
    (
        "py-eval-09",
        "py-iterators",
        E,
        """
        len(list(zip(range(5), "abc")))
        """,
        "`zip` stops at the shortest input. `zip(…, strict=True)` (Python 3.10+) raises "
        "instead when lengths differ; `itertools.zip_longest` pads.",
    ),
    (
        "py-eval-10",
        "py-data-model",
        H,
        """
        funcs = [lambda: i for i in range(3)]
        [f() for f in funcs]
        """,
        "Closures capture variables, not values: all three lambdas look `i` up when they "
        "are called, after the loop ended with `i == 2`. Bind the value with a default argument, "
        "`lambda i=i: i`.",
    ),
    (
        "py-eval-11",
        "py-data-model",
        M,
        """
        grid = [[0] * 2] * 2
        grid[0][0] = 1
        grid
        """,
        "`* 2` on the outer list repeats a reference to the *same* inner list. Build rows "
        "independently: `[[0] * 2 for _ in range(2)]`.",
    ),
    (
        "py-eval-12",
        "py-data-model",
        M,
        """
        len("héllo".encode("utf-8"))
        """,
        "`é` (U+00E9) takes two bytes in UTF-8. `len()` of a `str` counts code points "
        "(5); `len()` of `bytes` counts bytes.",
    ),
    (
        "py-eval-13",
        "py-data-model",
        E,
        """
        int("101", 2) + int("ff", 16)
        """,
        "`0b101` is 5 and `0xff` is 255.",
    ),
    (
        "py-eval-14",
        "py-iterators",
        H,
        """
        it = iter([1, 2, 3, 4])
        list(zip(it, it))
        """,
        "Both arguments are the *same* iterator, so `zip` takes alternate items — the "
        "classic idiom for pairing up a flat sequence (Python 3.12 adds `itertools.batched`).",
    ),
    (
        "py-eval-15",
        "py-iterators",
        M,
        """
        from itertools import count, islice
        sum(islice(count(1), 5))
        """,
        "`count(1)` is infinite; `islice` lazily takes 1, 2, 3, 4, 5.",
    ),
    (
        "py-eval-16",
        "py-iterators",
        H,
        """
        def inner():
            yield 1
            return 10

        def outer():
            result = yield from inner()
            yield result

        list(outer())
        """,
        "`yield from` passes on `inner`'s values and evaluates to its `return` value.",
    ),
    (
        "py-eval-17",
        "py-data-model",
        M,
        """
        sorted(["b", "A", "a", "B"])
        """,
        "Strings compare by code point, and uppercase letters (65–90) come before "
        "lowercase ones (97–122). Sort with `key=str.casefold` for case-insensitive order.",
    ),
    (
        "py-eval-18",
        "py-data-model",
        E,
        """
        len(set("hello"))
        """,
        "The set of characters is `{'h', 'e', 'l', 'o'}`.",
    ),
    (
        "py-eval-19",
        "py-data-model",
        M,
        """
        x = 10

        def f():
            return x

        x = 20
        f()
        """,
        "A function looks global names up when it runs, not when it is defined.",
    ),
    (
        "py-eval-20",
        "py-data-model",
        M,
        """
        class Cart:
            items = []

        a, b = Cart(), Cart()
        a.items.append("book")
        len(b.items)
        """,
        "`items` is a class attribute shared by all instances, and `append` mutates it. "
        "Create per-instance state in `__init__` (or `field(default_factory=list)` in a "
        "dataclass).",
    ),
    (
        "py-eval-21",
        "py-data-model",
        H,
        """
        d = dict.fromkeys("abc", [])
        d["a"].append(1)
        len(d["c"])
        """,
        'Every key shares the same list object. Use `{k: [] for k in "abc"}`.',
    ),
    (
        "py-eval-22",
        "py-data-model",
        M,
        """
        f"{7:03d}-{3.14159:.2f}"
        """,
        "`03d` pads with zeros to width 3; `.2f` rounds to two decimals.",
    ),
    (
        "py-eval-23",
        "py-iterators",
        E,
        """
        list(range(10))[-3:]
        """,
        "Negative slice starts count from the end.",
    ),
    (
        "py-eval-24",
        "py-data-model",
        E,
        """
        (lambda *args, **kwargs: len(args) + len(kwargs))(1, 2, x=3)
        """,
        "Two positional arguments land in `args`, one keyword argument in `kwargs`.",
    ),
    (
        "py-eval-25",
        "py-data-model",
        M,
        """
        {1, 2, 3} ^ {2, 3, 4}
        """,
        "`^` is the symmetric difference: items in exactly one of the sets.",
    ),
    (
        "py-eval-26",
        "py-iterators",
        H,
        """
        import functools

        @functools.lru_cache(maxsize=None)
        def fib(n):
            return n if n < 2 else fib(n - 1) + fib(n - 2)

        fib(50)
        """,
        "With memoisation each `fib(k)` is computed once, so this is instant; without the "
        "cache the naive recursion would make billions of calls.",
    ),
    (
        "py-eval-27",
        "py-data-model",
        M,
        """
        a = [1, 2, 3]
        b = a
        b += [4]
        a is b and len(a) == 4
        """,
        "`+=` on a list calls `__iadd__`, which extends the list in place, so `a` and `b` "
        "still name the same, longer list. On a tuple, `+=` would rebind `b` to a new tuple.",
    ),
)


def _run_snippet(code: str):
    """The value of the snippet's last line, after running the lines before it."""
    *setup, last = code.rstrip().splitlines()
    namespace: dict = {}
    # Constant snippets written above in this module, evaluated to compute their answers.
    exec("\n".join(setup), namespace)  # noqa: S102
    return eval(last, namespace)  # noqa: S307


def _spellings(value) -> list[str]:
    """Ways a learner may reasonably write ``value``: its repr, with or without spaces after
    commas, with either quote style (and a string without quotes)."""
    reprs = [repr(value)]
    if isinstance(value, set):
        reprs.append("{" + ", ".join(repr(item) for item in sorted(value, reverse=True)) + "}")
    forms = []
    for text in reprs:
        for variant in (text, text.replace(", ", ",")):
            forms += [variant, variant.replace("'", '"')]
    if isinstance(value, str):
        forms.insert(0, value)
    return list(dict.fromkeys(forms))


def _snippet_items() -> list[Item]:
    items = []
    for key, topic, level, source, why in SNIPPETS:
        code = textwrap.dedent(source).strip()
        value = _run_snippet(code)
        block = f"```python\n{code}\n```"
        if isinstance(value, bool):
            items.append(
                true_false(
                    key,
                    topic,
                    level,
                    f"{block}\n\nThe last line evaluates to `True`.",
                    value,
                    f"It evaluates to `{value!r}`. {why}",
                    tags=("drill",),
                )
            )
        elif isinstance(value, int):
            items.append(
                numeric(
                    key,
                    topic,
                    level,
                    f"{block}\n\nWhat does the last line evaluate to?",
                    value,
                    f"`{value!r}`. {why}",
                    tags=("drill",),
                )
            )
        else:
            items.append(
                short(
                    key,
                    topic,
                    level,
                    f"{block}\n\nWhat does the last line evaluate to? Write it as the REPL "
                    "would show it.",
                    _spellings(value),
                    f"`{value!r}`. {why}",
                    tags=("drill",),
                )
            )
    return items


# --- SQL: how many rows? --------------------------------------------------------------------------
# Row counts computed with SQL's rules (NULL matches nothing; NOT IN with a NULL is never true).
JOIN_DATASETS = {
    "a": ((1, 2, 3, 4), (1, 1, 2, 5, None)),
    "b": ((1, 2, 3, 4, 5), (2, 2, 2, 3, 7)),
}


def _join_counts(customers: tuple, orders: tuple) -> dict[str, tuple[int, str]]:
    matched = sum(1 for c in customers for o in orders if o is not None and o == c)
    lonely_customers = sum(1 for c in customers if c not in orders)
    lonely_orders = sum(1 for o in orders if o is None or o not in customers)
    known = {o for o in orders if o is not None}
    not_in = 0 if None in orders else sum(1 for c in customers if c not in known)
    union = len(set(customers) | set(orders))  # UNION treats NULLs as duplicates of each other
    return {
        "inner": (matched, f"{matched} matching (customer, order) pairs"),
        "left": (
            matched + lonely_customers,
            f"{matched} matching pairs + {lonely_customers} "
            "customers without orders, padded with NULLs",
        ),
        "right": (
            matched + lonely_orders,
            f"{matched} matching pairs + {lonely_orders} orders "
            "without a matching customer (a NULL `customer_id` matches nothing)",
        ),
        "full": (
            matched + lonely_customers + lonely_orders,
            f"{matched} matching pairs + "
            f"{lonely_customers} unmatched customers + {lonely_orders} unmatched orders",
        ),
        "left-count-col": (
            matched,
            f"`count(o.customer_id)` skips the NULLs of the "
            f"{lonely_customers} padded rows, leaving the {matched} matches",
        ),
        "cross": (
            len(customers) * len(orders),
            f"every customer with every order: {len(customers)} × {len(orders)}",
        ),
        "not-in": (
            not_in,
            "a NULL in the subquery makes `NOT IN` unknown for every id not found, "
            "so no row qualifies"
            if None in orders
            else f"{not_in} ids appear in no order; without NULLs, `NOT IN` behaves as expected",
        ),
        "not-exists": (
            lonely_customers,
            f"{lonely_customers} customers have no order; `NOT EXISTS` is unaffected by NULLs",
        ),
        "distinct": (len(known), "`count(DISTINCT …)` ignores NULLs and duplicates"),
        "union": (union, "`UNION` removes duplicates (treating NULLs as equal) across both inputs"),
        "union-all": (len(customers) + len(orders), "`UNION ALL` keeps every row of both inputs"),
    }


JOIN_QUERIES = {
    "inner": ("SELECT count(*) FROM customers c\nJOIN orders o ON o.customer_id = c.id;", E),
    "left": ("SELECT count(*) FROM customers c\nLEFT JOIN orders o ON o.customer_id = c.id;", M),
    "right": ("SELECT count(*) FROM customers c\nRIGHT JOIN orders o ON o.customer_id = c.id;", M),
    "full": ("SELECT count(*) FROM customers c\nFULL JOIN orders o ON o.customer_id = c.id;", H),
    "left-count-col": (
        "SELECT count(o.customer_id) FROM customers c\nLEFT JOIN orders o ON o.customer_id = c.id;",
        H,
    ),
    "cross": ("SELECT count(*) FROM customers CROSS JOIN orders;", E),
    "not-in": (
        "SELECT count(*) FROM customers\nWHERE id NOT IN (SELECT customer_id FROM orders);",
        H,
    ),
    "not-exists": (
        "SELECT count(*) FROM customers c\nWHERE NOT EXISTS (\n"
        "    SELECT 1 FROM orders o WHERE o.customer_id = c.id\n);",
        M,
    ),
    "distinct": ("SELECT count(DISTINCT customer_id) FROM orders;", M),
    "union": (
        "SELECT count(*) FROM (\n    SELECT id FROM customers\n    UNION\n"
        "    SELECT customer_id FROM orders\n) u;",
        H,
    ),
    "union-all": (
        "SELECT count(*) FROM (\n    SELECT id FROM customers\n    UNION ALL\n"
        "    SELECT customer_id FROM orders\n) u;",
        E,
    ),
}
JOIN_PLAN = {
    "a": tuple(JOIN_QUERIES),
    "b": ("inner", "left", "full", "not-in"),
}


def _sql_value(value) -> str:
    return "NULL" if value is None else str(value)


def _join_items() -> list[Item]:
    items = []
    for name, (customers, orders) in JOIN_DATASETS.items():
        counts = _join_counts(customers, orders)
        data = (
            "```sql\n"
            f"-- customers.id (primary key): {', '.join(map(_sql_value, customers))}\n"
            f"-- orders.customer_id (nullable): {', '.join(map(_sql_value, orders))}\n"
            "```"
        )
        for query_name in JOIN_PLAN[name]:
            sql, level = JOIN_QUERIES[query_name]
            answer, reason = counts[query_name]
            items.append(
                numeric(
                    f"pg-rows-{name}-{query_name}",
                    "pg-joins",
                    level,
                    f"Given these rows:\n\n{data}\n\nWhat does this query return?\n\n"
                    f"```sql\n{sql}\n```",
                    answer,
                    f"**{answer}**: {reason}.",
                    tags=("drill",),
                )
            )
    return items


# --- Sizes and lengths ----------------------------------------------------------------------------
# (PostgreSQL type, bytes, level)
PG_SIZES = (
    ("smallint", 2, E),
    ("integer", 4, E),
    ("bigint", 8, E),
    ("uuid", 16, E),
    ("timestamptz", 8, M),
    ("date", 4, M),
    ("double precision", 8, M),
    ("real", 4, M),
    ("boolean", 1, M),
    ("interval", 16, H),
    ("time", 8, H),
)


def _size_items() -> list[Item]:
    items = []
    for type_name, size, level in PG_SIZES:
        note = {
            "uuid": "A UUID is 128 bits; stored as text it would take 36 characters plus a "
            "length header.",
            "timestamptz": "Microsecond resolution, stored as a 64-bit integer.",
            "bigint": "Range ±9.2 × 10¹⁸; the safe default for primary keys.",
            "integer": "Range ±2 147 483 647 — busy tables do run out.",
            "interval": "Months, days and microseconds are stored separately.",
        }.get(type_name, "")
        items.append(
            numeric(
                f"pg-size-{type_name.replace(' ', '-')}",
                "pg-data-types",
                level,
                f"How many bytes does a PostgreSQL `{type_name}` value take, not counting row "
                "headers and alignment padding?",
                size,
                f"`{type_name}`: {size} byte{'s' if size > 1 else ''}. {note}".strip(),
                tags=("drill",),
            )
        )
    for algorithm, level in (("sha256", E), ("sha1", M), ("sha512", M), ("md5", M)):
        length = hashlib.new(algorithm, usedforsecurity=False).digest_size * 2
        items.append(
            numeric(
                f"sec-hexlen-{algorithm}",
                "sec-passwords",
                level,
                f"How many characters long is `hashlib.{algorithm}(data).hexdigest()`?",
                length,
                f"{algorithm.upper()} digests are {length // 2} bytes; hex encoding uses two "
                "characters per byte. (MD5 and SHA-1 are broken for collision resistance, and "
                "no plain hash is suitable for passwords.)",
                tags=("drill",),
            )
        )
    tokens = (
        ("secrets.token_hex(16)", len(bytes(16).hex()), E, "Two hex characters per byte."),
        (
            "secrets.token_urlsafe(32)",
            len(base64.urlsafe_b64encode(bytes(32)).rstrip(b"=")),
            M,
            "Base64url without padding: ⌈32 × 4 / 3⌉ characters.",
        ),
        (
            "secrets.token_urlsafe(16)",
            len(base64.urlsafe_b64encode(bytes(16)).rstrip(b"=")),
            H,
            "Base64url without padding: ⌈16 × 4 / 3⌉ characters.",
        ),
        (
            "base64.b64encode(os.urandom(32))",
            len(base64.b64encode(bytes(32))),
            M,
            "Padded base64 produces 4 characters per started 3-byte group: 4 × ⌈32 / 3⌉.",
        ),
        (
            "str(uuid.uuid4())",
            len(str(uuid.UUID(int=0))),
            E,
            "32 hex digits plus 4 hyphens (8-4-4-4-12).",
        ),
        ("uuid.uuid4().hex", len(uuid.UUID(int=0).hex), E, "32 hex digits, no hyphens."),
    )
    for index, (expression, length, level, why) in enumerate(tokens, start=1):
        items.append(
            numeric(
                f"sec-token-{index:02d}",
                "sec-auth",
                level,
                f"How many characters long is the string returned by `{expression}`?",
                length,
                f"{length}. {why}",
                tags=("drill",),
            )
        )
    return items


# --- Back-of-the-envelope arithmetic --------------------------------------------------------------


def _arithmetic_items() -> list[Item]:
    items: list[Item] = []

    def add(key, topic, level, body, answer, why, **extra):
        value = round(answer, 4) if isinstance(answer, float) else answer
        items.append(numeric(key, topic, level, body, value, why, tags=("drill",), **extra))

    # Pagination.
    for page, size, level in ((7, 25, E), (12, 20, E), (40, 100, M)):
        add(
            f"rest-offset-{page}-{size}",
            "rest-pagination",
            level,
            f"An API serves page {page} (pages numbered from 1) with `LIMIT {size} OFFSET ?`. "
            "What is the offset?",
            (page - 1) * size,
            f"`OFFSET (page − 1) × size` = ({page} − 1) × {size} = {(page - 1) * size}. The "
            "database reads and discards that many rows before returning the page.",
        )
    add(
        "rest-pages-1001-50",
        "rest-pagination",
        E,
        "A collection has 1 001 items and the API returns 50 per page. How many pages are there?",
        math.ceil(1001 / 50),
        "⌈1001 / 50⌉ = 21: twenty full pages and one page with a single item.",
    )

    # Retries with exponential backoff.
    add(
        "sys-backoff-total",
        "sd-queues",
        M,
        "A client retries up to 6 times with exponential backoff: 100 ms before the first retry, "
        "doubling each time, no jitter. How many milliseconds does it wait in total if every "
        "attempt fails?",
        sum(100 * 2**k for k in range(6)),
        "100 + 200 + 400 + 800 + 1600 + 3200 = 6300 ms, i.e. 100 × (2⁶ − 1). In production add "
        "random jitter, so that clients that failed together do not retry together.",
    )
    add(
        "sys-backoff-fifth",
        "sd-queues",
        E,
        "With exponential backoff starting at 200 ms before the first retry and doubling each "
        "time, how many milliseconds does the client wait before the 5th retry?",
        200 * 2**4,
        "200 × 2⁴ = 3200 ms (200, 400, 800, 1600, 3200).",
    )
    capped = [min(100 * 2**k, 2000) for k in range(8)]
    add(
        "sys-backoff-capped",
        "sd-queues",
        H,
        "Backoff starts at 100 ms, doubles after each failure and is capped at 2 000 ms. What is "
        "the total wait, in milliseconds, across 8 failed retries?",
        sum(capped),
        " + ".join(map(str, capped)) + f" = {sum(capped)} ms.",
    )

    # Consumer groups.
    add(
        "sys-kafka-idle",
        "sd-queues",
        M,
        "A Kafka topic has 6 partitions, and a consumer group runs 8 consumers. How many "
        "consumers sit idle?",
        8 - 6,
        "Within a group each partition is assigned to exactly one consumer, so at most 6 "
        "consumers get work; the other 2 idle as hot standbys.",
    )
    add(
        "sys-kafka-share",
        "sd-queues",
        E,
        "A Kafka topic has 12 partitions, evenly assigned to a consumer group of 4 consumers. How "
        "many partitions does each consumer read?",
        12 // 4,
        "12 / 4 = 3. Choose partition counts with many divisors so groups of different sizes "
        "stay balanced.",
    )

    # Availability.
    for nines, period, unit, per_unit, level in (
        ("99.9", "year (365 days)", "hours", 365 * 24, M),
        ("99.99", "year (365 days)", "minutes", 365 * 24 * 60, M),
        ("99.999", "year (365 days)", "minutes", 365 * 24 * 60, H),
        ("99.9", "30-day month", "minutes", 30 * 24 * 60, E),
        ("99.95", "30-day month", "minutes", 30 * 24 * 60, M),
        ("99", "year (365 days)", "days", 365, E),
    ):
        downtime = (100 - float(nines)) / 100 * per_unit
        add(
            f"sys-sla-{nines.replace('.', '')}-{unit}-{per_unit}",
            "sd-scaling",
            level,
            f"A service promises {nines} % availability. How many **{unit}** of downtime does "
            f"that allow per {period}?",
            downtime,
            f"(100 % − {nines} %) × {per_unit:,} {unit} = {round(downtime, 4)} {unit}.",
            tolerance="0.01",
            relative=True,
        )
    add(
        "sys-sla-series",
        "sd-scaling",
        H,
        "A request must pass through two independent services, each 99.9 % available. What is "
        "the availability of the combination, in percent?",
        0.999 * 0.999 * 100,
        "In series, availabilities multiply: 0.999 × 0.999 = 0.998001 → 99.8001 %. Every "
        "synchronous dependency lowers your ceiling.",
        tolerance="0.005",
    )
    add(
        "sys-sla-parallel",
        "sd-scaling",
        H,
        "Two independent replicas each 99 % available serve the same traffic, and the system "
        "works while at least one is up. What is its availability, in percent?",
        (1 - 0.01 * 0.01) * 100,
        "It fails only when both fail: 1 − 0.01 × 0.01 = 0.9999 → 99.99 %, assuming failures "
        "are independent (shared power or deploys break that assumption).",
        tolerance="0.005",
    )

    # Little's law: L = λ × W.
    add(
        "sys-little-200",
        "sd-scaling",
        M,
        "An API receives 200 requests per second, and each takes 50 ms on average. By Little's "
        "law, how many requests are in flight on average?",
        200 * 0.05,
        "L = λ × W = 200 /s × 0.05 s = 10 requests in flight.",
    )
    add(
        "sys-little-1200",
        "sd-scaling",
        M,
        "A service handles 1 200 requests per second with an average latency of 250 ms. How "
        "many concurrent requests must it hold on average?",
        1200 * 0.25,
        "L = λ × W = 1200 × 0.25 = 300 — size connection and worker pools accordingly.",
    )
    add(
        "sys-little-workers",
        "sd-scaling",
        H,
        "A server has 64 worker threads, and each request occupies a worker for 200 ms. What is "
        "its maximum throughput in requests per second?",
        64 / 0.2,
        "λ = L / W = 64 / 0.2 s = 320 requests per second; beyond that, requests queue.",
    )
    add(
        "sys-little-gunicorn",
        "sd-scaling",
        M,
        "gunicorn runs 4 sync workers (one request at a time each), and responses take 40 ms on "
        "average. What throughput, in requests per second, can it sustain at most?",
        4 / 0.04,
        "Each worker completes 1 / 0.04 s = 25 requests per second; 4 × 25 = 100.",
    )

    # Token bucket.
    for capacity, rate, seconds, level in ((10, 5, 4, M), (100, 10, 60, H)):
        add(
            f"sys-bucket-{capacity}-{rate}-{seconds}",
            "sd-scaling",
            level,
            f"A token-bucket rate limiter holds up to {capacity} tokens, refills {rate} tokens "
            f"per second and starts full. At most how many requests can it admit during the "
            f"first {seconds} seconds?",
            capacity + rate * seconds,
            f"The initial burst of {capacity} plus {rate} × {seconds} refilled tokens = "
            f"{capacity + rate * seconds}.",
        )

    # Amdahl's law.
    for parallel, workers, level in ((0.9, 10, H), (0.5, 4, M)):
        speedup = 1 / ((1 - parallel) + parallel / workers)
        add(
            f"sys-amdahl-{int(parallel * 100)}-{workers}",
            "sd-scaling",
            level,
            f"{int(parallel * 100)} % of a job parallelises perfectly and the rest is serial. "
            f"What speed-up does Amdahl's law predict on {workers} cores?",
            speedup,
            f"1 / ((1 − {parallel}) + {parallel} / {workers}) ≈ {speedup:.3f}.",
            tolerance="0.05",
        )
    add(
        "sys-amdahl-limit",
        "sd-scaling",
        H,
        "5 % of a job is inherently serial. What is the maximum speed-up, with unlimited cores?",
        1 / 0.05,
        "As the core count grows, the parallel part's time goes to zero: 1 / 0.05 = 20×.",
    )

    # Quorums and consensus.
    for replicas, writes, level in ((3, 2, M), (5, 3, M), (5, 1, H), (7, 5, H)):
        add(
            f"sys-quorum-{replicas}-{writes}",
            "sd-consistency",
            level,
            f"A Dynamo-style store keeps N = {replicas} replicas and acknowledges writes after "
            f"W = {writes}. What is the smallest read quorum R that guarantees reads see the "
            "latest acknowledged write?",
            replicas - writes + 1,
            f"R + W > N ⇒ R ≥ {replicas} − {writes} + 1 = {replicas - writes + 1}, so every "
            "read set overlaps every write set.",
        )
    for nodes, level in ((3, E), (5, M), (4, H), (6, H), (7, M)):
        add(
            f"sys-raft-{nodes}",
            "sd-consistency",
            level,
            f"A Raft (or etcd) cluster has {nodes} voting members. How many can fail while it "
            "still accepts writes?",
            (nodes - 1) // 2,
            f"A majority of {nodes // 2 + 1} must stay up, so ⌊({nodes} − 1) / 2⌋ = "
            f"{(nodes - 1) // 2} may fail."
            + (
                " An even-sized cluster tolerates no more failures than the odd size below it."
                if nodes % 2 == 0
                else ""
            ),
        )
    return items


def generated() -> list[Item]:
    """Every templated question, built fresh (cheap: a few milliseconds)."""
    return [
        *_status_code_items(),
        *_port_items(),
        *_method_items(),
        *_header_items(),
        *_isolation_items(),
        *_complexity_items(),
        *_dunder_items(),
        *_django_items(),
        *_owasp_items(),
        *_snippet_items(),
        *_join_items(),
        *_size_items(),
        *_arithmetic_items(),
    ]


def all_items() -> list[Item]:
    return [*HAND, *generated()]


# === The data files ==============================================================================

DATA_DIR = Path(__file__).resolve().parent.parent / "testengine" / "demo_data"
EXTERNAL_PREFIX = "demo-"
MARKS = {E: Decimal("1"), M: Decimal("2"), H: Decimal("3")}
# A wrong answer costs a quarter of the marks where guessing can score; nothing otherwise.
PENALISED_TYPES = {"single", "multiple", "true_false"}


def _text(number: Decimal | None) -> str | None:
    """A number as the shortest text that keeps its value, as the question export writes it."""
    if number is None:
        return None
    text = format(number.normalize(), "f")
    return "0" if text == "-0" else text


def chapter_of() -> dict[str, str]:
    """Topic slug → the slug of its chapter (every question carries it as its first tag)."""
    return {
        topic_slug: chapter_slug
        for _, _, chapters in TOPIC_TREE
        for _, chapter_slug, topics in chapters
        for _, topic_slug in topics
    }


def question_row(item: Item, chapter: str) -> dict:
    """One question in the import's JSON format; keys a question does not use are left out
    (the import gives them the defaults of a new question, which are the same)."""
    marks = MARKS[item.difficulty]
    penalty = marks / 4 if item.type in PENALISED_TYPES else Decimal("0")
    row = {
        "external_id": EXTERNAL_PREFIX + item.key,
        "topic": item.topic,
        "type": item.type,
        "body": item.body,
        "explanation": item.explanation,
        "difficulty": item.difficulty,
        "status": item.status,
        "tags": [chapter, *item.tags],
        "marks": _text(marks),
        "negative_marks": _text(penalty),
        "choices": [{"text": text, "correct": ok} for text, ok in item.choices],
        "numeric_answer": _text(item.answer),
        "numeric_tolerance": _text(item.tolerance),
        "tolerance_kind": "relative" if item.relative else "absolute",
        "accepted_answers": list(item.accepted),
    }
    if item.type != "numeric":
        for key in ("numeric_answer", "numeric_tolerance", "tolerance_kind"):
            del row[key]
    return {key: value for key, value in row.items() if value not in (None, [])}


def topics_document() -> list[dict]:
    """The topic tree: subject → chapter → topic, each ``{"name", "slug", "children"}``."""

    def node(name: str, slug: str, children: tuple = ()) -> dict:
        return {"name": name, "slug": slug, "children": [node(*child) for child in children]}

    return [node(*subject) for subject in TOPIC_TREE]


def bank_document() -> list[dict]:
    chapters = chapter_of()
    return [question_row(item, chapters[item.topic]) for item in all_items()]


def _dump(document: list[dict]) -> str:
    return json.dumps(document, ensure_ascii=False, indent=1) + "\n"


def documents() -> dict[Path, str]:
    """Each data file's path and the text this script writes into it."""
    return {
        DATA_DIR / "topics.json": _dump(topics_document()),
        DATA_DIR / "bank.json": _dump(bank_document()),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="only report whether the files are up to date"
    )
    args = parser.parse_args(argv)
    stale = []
    for path, text in documents().items():
        if path.exists() and path.read_text(encoding="utf-8") == text:
            continue
        stale.append(path)
        if not args.check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    for path in stale:
        verb = "is out of date" if args.check else "written"
        sys.stdout.write(f"{path.relative_to(DATA_DIR.parent.parent)}: {verb}\n")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
