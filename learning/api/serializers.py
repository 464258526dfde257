"""Serializers of the learning API (explicit fields)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from core.api.serializers import StrictInputSerializer
from learning.selectors import ORDERINGS
from testengine.models import Test


class TopicBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    slug = serializers.SlugField()


class MasterySerializer(serializers.Serializer):
    topic = TopicBriefSerializer()
    mastery = serializers.FloatField(
        help_text="P(correct) on an average item at θ̂: 1 / (1 + e^(−θ̂)), 0–1."
    )
    confidence = serializers.FloatField(help_text="1 − SE, clipped to 0–1.")
    theta = serializers.FloatField(help_text="θ̂, ability on the IRT scale (0 = average).")
    se = serializers.FloatField(help_text="Standard error of θ̂.")
    responses = serializers.IntegerField(help_text="Scored answers counted.")
    correct = serializers.IntegerField(help_text="Of them, fully correct.")
    updated_at = serializers.DateTimeField()


class MasteryQuerySerializer(serializers.Serializer):
    order = serializers.ChoiceField(choices=list(ORDERINGS), default="weakest")


class RecommendedTestSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    title = serializers.CharField()
    mode = serializers.ChoiceField(choices=Test.Mode.choices)
    duration_seconds = serializers.IntegerField()


class RecommendationSerializer(MasterySerializer):
    reason = serializers.CharField(help_text="Why this topic, for the learner.")
    tests = RecommendedTestSerializer(
        many=True, help_text="Tests of your live enrollments that cover this topic."
    )


class RecommendationQuerySerializer(serializers.Serializer):
    limit = serializers.IntegerField(min_value=1, max_value=20, default=5)


class PracticeInputSerializer(StrictInputSerializer):
    topics = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        min_length=1,
        max_length=10,
        help_text="Topic ids; default: your three weakest topics.",
    )
    questions = serializers.IntegerField(min_value=1, max_value=50, default=10)
    timed = serializers.BooleanField(default=False)
    minutes = serializers.IntegerField(
        min_value=1,
        max_value=300,
        required=False,
        help_text="Timed practice only; default 1.5 minutes per question, rounded up.",
    )

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        if "minutes" in data and not data["timed"]:
            raise serializers.ValidationError({"minutes": ["Only for timed practice."]})
        return data
