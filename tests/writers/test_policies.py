"""Tests of `writers.policies`: the one place a destination policy is validated."""

from __future__ import annotations

from typing import get_args

import pytest

from airflow_provider_logfire.writers.policies import IF_EXISTS_CHOICES, IfExists, check_if_exists


@pytest.mark.parametrize("policy", ["replace", "skip", "fail"])
def test_a_known_policy_is_returned_as_is(policy: str) -> None:
    assert check_if_exists(policy) == policy


@pytest.mark.parametrize("typo", ["overwrite", "fial", "", None])
def test_a_typo_raises_listing_the_choices(typo) -> None:
    with pytest.raises(
        ValueError, match=r"unknown if_exists .*; valid choices: replace, skip, fail$"
    ) as caught:
        check_if_exists(typo)
    assert repr(typo) in str(caught.value)  # the message quotes what was given


def test_the_choices_are_the_literal_type() -> None:
    """The runtime tuple and the static `IfExists` type must list the same policies."""
    assert get_args(IfExists) == IF_EXISTS_CHOICES
