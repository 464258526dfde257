"""Cache invalidation only (CONTRIBUTING.md, "Where code goes"): any saved or deleted
question or topic bumps the bank version, whichever door it came through (API, admin,
shell). Bulk writes that send no signals (the importer) call ``bank_changed`` themselves."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from testengine.bank import bank_changed
from testengine.models import Question, Topic


@receiver(post_save, sender=Question, dispatch_uid="testengine-bank-question-saved")
@receiver(post_delete, sender=Question, dispatch_uid="testengine-bank-question-deleted")
@receiver(post_save, sender=Topic, dispatch_uid="testengine-bank-topic-saved")
@receiver(post_delete, sender=Topic, dispatch_uid="testengine-bank-topic-deleted")
def _bank_changed(sender, **kwargs) -> None:
    bank_changed()
