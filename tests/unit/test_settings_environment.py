"""Settings.from_environment: what pydantic-settings did for this model, with pydantic alone."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from chalicelib.core.config import Settings

SECRET = "s" * 40


def test_each_field_is_read_from_its_variable_in_any_case_and_others_are_ignored():
    settings = Settings.from_environment(
        {"JWT_SECRET": SECRET, "suggest_max": "2", "Progress_Min_Score": "80.5", "PATH": "/usr/bin", "NOT_A_FIELD": "x"}
    )
    assert (settings.suggest_max, settings.progress_min_score) == (2, 80.5)
    assert settings.heartbeat_daily_cap_sec == Settings.model_fields["heartbeat_daily_cap_sec"].default


def test_an_aliased_field_is_read_from_its_alias_only():
    settings = Settings.from_environment({"JWT_SECRET": SECRET, "JWT_SECRET_INLINE": "ignored" * 10})
    assert settings.jwt_secret == SECRET
    with pytest.raises(ValidationError, match="JWT_SECRET"):  # the field's own name is not a source
        Settings.from_environment({"JWT_SECRET_INLINE": SECRET})


def test_values_are_parsed_by_the_model():
    settings = Settings.from_environment(
        {
            "JWT_SECRET": SECRET,
            "CORS_ALLOWED_ORIGINS": "https://a.example, https://b.example,",
            "FEATURE_FLAGS": '{"billing": false}',
            "REQUIRE_STAFF_2FA": "true",
            "REGISTER_PER_IP_PER_HOUR": "7",
        }
    )
    assert settings.cors_origins == ("https://a.example", "https://b.example")
    assert settings.flag("billing") is False and settings.flag("review_queue") is True
    assert settings.require_staff_2fa is True
    assert settings.register_per_ip_per_hour == 7


@pytest.mark.parametrize(
    ("name", "value"),
    [("FEATURE_FLAGS", "{billing: false}"), ("FEATURE_FLAGS", '{"billing": "maybe"}'), ("SUGGEST_MAX", "2.5")],
)
def test_a_malformed_value_is_a_validation_error_naming_its_field(name, value):
    with pytest.raises(ValidationError) as refused:
        Settings.from_environment({"JWT_SECRET": SECRET, name: value})
    assert [error["loc"][0] for error in refused.value.errors()] == [name.lower()]
