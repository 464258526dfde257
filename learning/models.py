"""Per-learner mastery of each topic, estimated from every scored answer (docs/learning.md)."""

from __future__ import annotations

import math

from django.conf import settings
from django.db import models
from django.db.models import Q


class TopicMastery(models.Model):
    """One learner's ability on one topic: the EAP estimate θ̂ (IRT logit scale, N(0, 1)
    prior) and its standard error from all their scored answers to the topic's questions.
    Recomputed wholesale (never incremented), so a recompute is idempotent."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="topic_mastery"
    )
    topic = models.ForeignKey("testengine.Topic", on_delete=models.CASCADE, related_name="+")
    theta = models.FloatField(help_text="θ̂: ability on the items' IRT scale (0 = average).")
    se = models.FloatField(help_text="Standard error of θ̂ (the posterior SD).")
    responses = models.PositiveIntegerField(help_text="Scored answers counted.")
    correct = models.PositiveIntegerField(help_text="Of them, fully correct.")
    updated_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "topic mastery"
        constraints = [
            models.UniqueConstraint(fields=["user", "topic"], name="learning_one_mastery_row"),
            models.CheckConstraint(
                condition=Q(correct__lte=models.F("responses")),
                name="learning_correct_lte_responses",
            ),
            models.CheckConstraint(condition=Q(se__gt=0), name="learning_se_gt_0"),
        ]
        indexes = [models.Index(fields=["user", "theta"], name="learning_mastery_weakest")]

    def __str__(self) -> str:
        return f"{self.user_id} · {self.topic_id} · θ̂ {self.theta:.2f}"

    @property
    def mastery(self) -> float:
        return mastery_of(self.theta)

    @property
    def confidence(self) -> float:
        return confidence_of(self.se)


def mastery_of(theta: float) -> float:
    """P(correct) at θ̂ on an average item (a = 1, b = 0, c = 0): the logistic of θ̂,
    rounded to 4 places."""
    return round(1.0 / (1.0 + math.exp(-theta)), 4)


def confidence_of(se: float) -> float:
    """1 − SE clipped to [0, 1], rounded to 4 places: 0 with no evidence (the prior's SE
    is 1), rising towards 1 as answers accumulate."""
    return round(min(1.0, max(0.0, 1.0 - se)), 4)
