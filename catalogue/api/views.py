"""The learner-facing catalogue: public reads, free enrolment, my enrollments."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from catalogue import selectors, services
from catalogue.api import schema
from catalogue.api import serializers as s
from catalogue.cache import get_cached, put_cached
from catalogue.errors import ProductNotFound
from catalogue.models import Category, Enrollment, Product, ProductTest
from core.api.serializers import StrictInputSerializer
from core.api.views import OwnedViewSet

if TYPE_CHECKING:
    from accounts.authentication import AuthenticatedRequest


_ORDERINGS = {
    "featured": ("-is_featured", "sort_order", "-published_at", "id"),
    "newest": ("-published_at", "id"),
    "price": ("price_from_paise", "id"),
    "-price": ("-price_from_paise", "id"),
    "popularity": ("-live_enrollments", "id"),
    "relevance": ("-rank", "id"),
}


def _cache_path(request: HttpRequest) -> str:
    # The host is part of the key: paginated bodies carry absolute links.
    return request.get_host() + request.get_full_path()


def _hit_response(request: HttpRequest, entry: tuple[str, bytes]) -> HttpResponse:
    etag, body = entry
    headers = {"ETag": etag, "Cache-Control": "public, no-cache"}
    if request.headers.get("If-None-Match") == etag:
        not_modified = HttpResponse(status=status.HTTP_304_NOT_MODIFIED, headers=headers)
        del not_modified["Content-Type"]  # no body, so no type (as DRF sends it)
        return not_modified
    return HttpResponse(body, content_type="application/json", headers=headers)


class _AnonymousCacheMixin:
    """Serve GETs from the versioned cache, with an ETag for revalidation. Responses that
    carry per-user data (a product's ``ownership``) pass ``per_user=True`` and are cached
    for anonymous callers only.

    An entry holds the rendered JSON body, so a hit is one cache round trip and the bytes: no
    serializer, no renderer, and no validation of the query (``validate`` runs on a miss
    only: an entry exists only for a URL whose query was valid when it was built, and the
    key is the whole URL). Most hits never reach this view: :func:`cache_first` answers
    them before DRF; what comes here is a miss, or a hit :func:`cache_first` may not serve
    (a product page with a token)."""

    def _cached(
        self, request: Request, build: Callable[[], Any], *, per_user: bool = False
    ) -> HttpResponse:
        if per_user and request.user.is_authenticated:
            return Response(build())
        path = _cache_path(request)
        looked_up = getattr(request._request, "_catalogue_lookup", None)
        version, entry = looked_up if looked_up is not None else get_cached(path)
        if entry is None:
            body = JSONRenderer().render(build())
            # The ETag hashes the body itself: time-dependent fields (a test's "unlocked")
            # change it when the entry is rebuilt, even without a catalogue edit.
            entry = ('"' + hashlib.sha256(body).hexdigest()[:32] + '"', body)
            put_cached(path, version, entry)
        return _hit_response(request, entry)


# What DRF's read-only routes answer in ``Allow``: a hit served before DRF says the same.
_READ_ONLY_ALLOW = "GET, HEAD, OPTIONS"


def cache_first(
    view: Callable[..., HttpResponse], *, reads_token: bool
) -> Callable[..., HttpResponse]:
    """Wrap a read-only cached route (:class:`_AnonymousCacheMixin`) so that a GET whose
    answer is in the cache is served before DRF runs: one cache round trip and the bytes,
    the same body, status and headers DRF would send. A miss goes on to the view with the
    lookup it already made. ``reads_token``: the route reads a bearer token when one is
    sent (a product page: ownership, or 401 for a bad token), so a request carrying an
    ``Authorization`` header always goes through DRF."""

    @functools.wraps(view)
    def serve(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method == "GET" and not (reads_token and "HTTP_AUTHORIZATION" in request.META):
            version, entry = get_cached(_cache_path(request))
            if entry is not None:
                response = _hit_response(request, entry)
                response["Allow"] = _READ_ONLY_ALLOW
                return response
            request._catalogue_lookup = (version, None)  # type: ignore[attr-defined]
        return view(request, *args, **kwargs)

    return serve


class CategoryViewSet(_AnonymousCacheMixin, viewsets.GenericViewSet):
    permission_classes = [permissions.AllowAny]
    authentication_classes: list = []  # public: a stale token sent along is not read
    serializer_class = s.CategoryTreeSerializer
    pagination_class = None
    queryset = Category.objects.none()

    @schema.category_tree
    def list(self, request: Request) -> HttpResponse:
        def build() -> list[dict]:
            # No filters here: an unknown parameter is refused rather than silently ignored.
            StrictInputSerializer(data=request.query_params.dict()).is_valid(raise_exception=True)
            children: dict[int | None, list[Category]] = {}
            for category in Category.objects.order_by("order", "name"):
                children.setdefault(category.parent_id, []).append(category)
            return s.CategoryTreeSerializer(  # type: ignore[return-value]  # a list
                children.get(None, []), many=True, context={"children": children}
            ).data

        return self._cached(request, build)


class ProductViewSet(
    _AnonymousCacheMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Published products with at least one active plan. Drafts are 404."""

    permission_classes = [permissions.AllowAny]
    lookup_field = "slug"
    queryset = Product.objects.none()

    def get_permissions(self):
        if self.action == "enroll":
            return [permissions.IsAuthenticated()]
        return super().get_permissions()

    def get_authenticators(self):
        # The list is public and reads no credentials (a stale token sent along is not a
        # 401); a product page reads a token when one is sent (ownership), enroll needs one.
        # Authenticators are chosen before ``self.action`` is set: the action comes from
        # the method, as DRF maps it.
        request = getattr(self, "request", None)
        action_map = getattr(self, "action_map", {})
        if request is not None and action_map.get(request.method.lower()) == "list":
            return []
        return super().get_authenticators()

    def get_serializer_class(self):
        return s.ProductListSerializer if self.action == "list" else s.ProductDetailSerializer

    def get_queryset(self) -> QuerySet[Product]:
        return selectors.public_products().select_related("category")

    def _filtered(self, params: dict[str, Any]) -> QuerySet[Product]:
        queryset = self.get_queryset()
        if params.get("category"):
            category = Category.objects.filter(slug=params["category"]).first()
            if category is None:
                return queryset.none()
            queryset = queryset.filter(category_id__in=selectors.category_descendant_ids(category))
        for name in ("kind", "language", "level"):
            if params.get(name):
                queryset = queryset.filter(**{name: params[name]})
        if params.get("free") is not None:
            queryset = queryset.filter(is_free=params["free"])
        if params.get("price_min") is not None:
            queryset = queryset.filter(price_from_paise__gte=params["price_min"])
        if params.get("price_max") is not None:
            queryset = queryset.filter(price_from_paise__lte=params["price_max"])
        if params.get("tag"):
            queryset = queryset.filter(tags__contains=[params["tag"].strip().lower()])
        ordering = params.get("ordering")
        if params.get("q"):
            queryset = selectors.product_search(queryset, params["q"])
            ordering = ordering or "relevance"
        if ordering == "relevance" and not params.get("q"):
            ordering = "featured"
        return queryset.order_by(*_ORDERINGS[ordering or "featured"])

    @schema.product_list
    def list(self, request: Request) -> HttpResponse:  # type: ignore[override]  # a cached body
        def build() -> dict:
            params = s.ProductFilterSerializer(data=request.query_params.dict())
            params.is_valid(raise_exception=True)
            # Only the columns the list shows, as plain rows (see product_list_rows).
            queryset = self._filtered(params.validated_data).values(*selectors.LIST_FIELDS)
            page = self.paginate_queryset(queryset)
            rows = selectors.product_list_rows(page, request)  # type: ignore[arg-type]  # paginated
            return self.get_paginated_response(rows).data

        return self._cached(request, build)

    @schema.product_detail
    def retrieve(self, request: Request, slug: str) -> HttpResponse:  # type: ignore[override]  # a cached body
        def build() -> dict:
            # No parameters here: refusing unknown ones also keeps ?x=<random> from
            # filling the cache with copies.
            StrictInputSerializer(data=request.query_params.dict()).is_valid(raise_exception=True)
            product = (
                self.get_queryset()
                .prefetch_related(
                    selectors.active_plans_prefetch(),
                    Prefetch(
                        "product_tests",
                        queryset=ProductTest.objects.select_related("test").order_by("order", "id"),
                    ),
                )
                .filter(slug=slug)
                .first()
            )
            if product is None:
                raise ProductNotFound()
            context: dict[str, Any] = {
                "request": request,
                "question_counts": selectors.question_counts(
                    [row.test_id for row in product.product_tests.all()]
                ),
            }
            if request.user.is_authenticated:
                context["ownership"] = (
                    selectors.live_enrollments(user=request.user).filter(product=product).first()
                )
            return s.ProductDetailSerializer(product, context=context).data

        return self._cached(request, build, per_user=True)

    @schema.enroll
    @action(detail=True, methods=["post"])
    def enroll(self, request: AuthenticatedRequest, slug: str) -> Response:
        data = s.EnrollInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        enrollment, created = services.enrollment_enroll_free(
            user=request.user, product_slug=slug, plan_id=data.validated_data["plan"]
        )
        enrollment = _enrollments().get(pk=enrollment.pk)
        return Response(
            s.EnrollmentSerializer(enrollment).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


def _enrollments() -> QuerySet[Enrollment]:
    return Enrollment.objects.select_related("product", "plan").prefetch_related(
        Prefetch(
            "product__product_tests",
            queryset=ProductTest.objects.select_related("test").order_by("order", "id"),
        )
    )


class MyEnrollmentViewSet(mixins.ListModelMixin, OwnedViewSet):
    """The learner's own enrollments (never anyone else's)."""

    serializer_class = s.EnrollmentSerializer

    def get_owned_queryset(self) -> QuerySet[Enrollment]:
        queryset = _enrollments().order_by("-created_at")
        if self.request.query_params.get("live") in ("true", "1"):
            now = timezone.now()
            queryset = queryset.filter(revoked_at__isnull=True, starts_at__lte=now).exclude(
                expires_at__lte=now
            )
        return queryset

    @schema.my_enrollments
    def list(self, request: Request, *args, **kwargs) -> Response:
        return super().list(request, *args, **kwargs)
