"""Cache invalidation only (CONTRIBUTING.md, "Where code goes"), whichever door a write
came through (API, admin, shell):

* any saved or deleted question, choice or topic bumps the bank version (the candidate
  pools' key, and the stamp of prepared papers); bulk writes that send no signals (the
  importer, a calibration) call ``bank_changed`` themselves;
* any saved or deleted section, rule or hand-picked question touches its test's
  ``updated_at``, the other stamp of prepared papers (``testengine.pool``), so a paper
  prepared from the old blueprint is never given;
* a saved test, and any saved or deleted rule or hand-picked question, sends
  ``testengine.signals.tests_changed`` for the caches of higher apps (the catalogue's).

All happen inside the writer's transaction.
"""

from typing import Any

from django.db.models import Model
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone

from testengine.bank import bank_changed
from testengine.models import Choice, Question, Section, SectionQuestion, SectionRule, Test, Topic
from testengine.signals import tests_changed


@receiver(post_save, sender=Question, dispatch_uid="testengine-bank-question-saved")
@receiver(post_delete, sender=Question, dispatch_uid="testengine-bank-question-deleted")
@receiver(post_save, sender=Choice, dispatch_uid="testengine-bank-choice-saved")
@receiver(post_delete, sender=Choice, dispatch_uid="testengine-bank-choice-deleted")
@receiver(post_save, sender=Topic, dispatch_uid="testengine-bank-topic-saved")
@receiver(post_delete, sender=Topic, dispatch_uid="testengine-bank-topic-deleted")
def _bank_changed(sender: type[Model], **kwargs: Any) -> None:
    bank_changed()


@receiver(post_save, sender=Section, dispatch_uid="testengine-blueprint-section-saved")
@receiver(post_delete, sender=Section, dispatch_uid="testengine-blueprint-section-deleted")
def _section_changed(sender: type[Section], instance: Section, **kwargs: Any) -> None:
    Test.objects.filter(pk=instance.test_id).update(updated_at=timezone.now())


@receiver(post_save, sender=SectionRule, dispatch_uid="testengine-blueprint-rule-saved")
@receiver(post_delete, sender=SectionRule, dispatch_uid="testengine-blueprint-rule-deleted")
@receiver(post_save, sender=SectionQuestion, dispatch_uid="testengine-blueprint-fixed-saved")
@receiver(post_delete, sender=SectionQuestion, dispatch_uid="testengine-blueprint-fixed-deleted")
def _blueprint_changed(
    sender: type[Model], instance: SectionRule | SectionQuestion, **kwargs: Any
) -> None:
    Test.objects.filter(sections=instance.section_id).update(updated_at=timezone.now())
    tests_changed.send(sender=Test)


@receiver(post_save, sender=Test, dispatch_uid="testengine-test-saved")
def _test_saved(sender, **kwargs) -> None:
    tests_changed.send(sender=Test)
