"""The shared row locks: the user's row is held until the transaction ends, by the ORM
function and by the statement hot paths batch."""

from __future__ import annotations

import threading

import pytest
from django.contrib.auth import get_user_model
from django.db import OperationalError, connection, transaction

from core.locks import lock_user, lock_user_sql
from tests.accounts.factories import UserFactory


def _by_orm(pk) -> None:
    assert lock_user(pk).pk == pk


def _by_sql(pk) -> None:
    with connection.cursor() as cursor:
        cursor.execute(lock_user_sql(), [pk])
        assert cursor.fetchall() == [(1,)]


def _probe(pk) -> str:
    """From another connection: can the row be locked right now?"""
    found: list[str] = []
    table = connection.ops.quote_name(get_user_model()._meta.db_table)

    def run() -> None:
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(f"SELECT 1 FROM {table} WHERE id = %s FOR UPDATE NOWAIT", [pk])  # noqa: S608
            found.append("free")
        except OperationalError:
            found.append("locked")
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    return found[0]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("take", [_by_orm, _by_sql])
def test_the_users_row_stays_locked_until_the_transaction_ends(take):
    learner, other = UserFactory(), UserFactory()

    with transaction.atomic():
        take(learner.pk)
        during = (_probe(learner.pk), _probe(other.pk))

    assert during == ("locked", "free")
    assert _probe(learner.pk) == "free"


@pytest.mark.django_db
def test_lock_user_returns_the_row_and_refuses_an_unknown_user():
    learner = UserFactory(full_name="Asha")

    assert lock_user(learner.pk).full_name == "Asha"
    with pytest.raises(get_user_model().DoesNotExist):
        lock_user(learner.pk + 1000)
