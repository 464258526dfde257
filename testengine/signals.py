"""Domain signals of the test engine (docs/architecture.md): how higher apps hear that
something changed here without this app importing them."""

from django.dispatch import Signal

# A test was saved, or what decides its questions (a rule, a hand-picked question) was saved
# or deleted, through whichever door (API, admin, shell): what higher apps show of tests
# (the catalogue's question counts) is stale. Sent by ``testengine.receivers`` inside the
# writer's transaction, so a cache's version moves before the new rows can be read; no
# arguments. Receivers only invalidate their own caches.
tests_changed = Signal()
