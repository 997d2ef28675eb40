"""Check digits of 個人番号 and 地方公共団体コード, scalar and vectorised, on known values."""

import random

import polars as pl
import pytest

from pipelines.checkdigit import (
    MY_NUMBER_WEIGHTS,
    agency_check_digit,
    agency_code_valid_expr,
    is_valid_agency_code,
    is_valid_my_number,
    my_number_check_digit,
    my_number_valid_expr,
)

MY_NUMBER_CASES = [
    # base11, expected check digit (domain-facts §2, re-derived by hand)
    ("12345678901", 8),
    ("98765432109", 3),
    ("00000000001", 9),
    ("59574890682", 0),  # r = 0 → 0
    ("25412248244", 0),  # r = 1 → 0
]


@pytest.mark.parametrize(("base", "check"), MY_NUMBER_CASES)
def test_my_number_check_digit(base: str, check: int) -> None:
    assert my_number_check_digit(base) == check
    assert is_valid_my_number(base + str(check))
    assert not is_valid_my_number(base + str((check + 1) % 10))


@pytest.mark.parametrize(
    "value",
    ["12345678901", "1234567890188", "１２３４５６７８９０１８", "12345678901a", "", "1234 5678 9018"],
)
def test_my_number_shapes_refused(value: str) -> None:
    assert not is_valid_my_number(value)


def test_my_number_vectorised_agrees_with_scalar() -> None:
    values = [b + str(c) for b, c in MY_NUMBER_CASES] + ["123456789012", "１２３４５６７８９０１８", "12345"]
    got = (
        pl.DataFrame({"n": values}).select(my_number_valid_expr(pl.col("n")).fill_null(False))["n"].to_list()
    )
    assert got == [is_valid_my_number(v) for v in values]


@pytest.mark.parametrize(
    ("code", "valid"),
    [
        ("392014", True),
        ("390003", True),
        ("131016", True),
        ("011002", True),
        ("011011", True),
        ("392015", False),
        ("39201", False),
        ("３９２０１４", False),
    ],
)
def test_agency_codes(code: str, valid: bool) -> None:
    assert is_valid_agency_code(code) is valid
    got = pl.DataFrame({"c": [code]}).select(agency_code_valid_expr(pl.col("c")).fill_null(False)).item()
    assert got is valid


def test_agency_check_digit_r0_gives_1() -> None:
    # find a base with r = 0 and check the (11 - r) mod 10 rule gives 1, r = 1 gives 0
    bases = {
        sum(int(d) * w for d, w in zip(f"{i:05d}", (6, 5, 4, 3, 2), strict=True)) % 11: f"{i:05d}"
        for i in range(2000)
    }
    assert agency_check_digit(bases[0]) == 1
    assert agency_check_digit(bases[1]) == 0


def test_every_shipped_municipality_code_has_a_valid_check_digit() -> None:
    import csv
    from importlib import resources

    text = resources.files("schemas").joinpath("data/municipalities.csv").read_text(encoding="utf-8")
    codes = [r["code"] for r in csv.DictReader(text.splitlines())]
    assert len(codes) > 1900
    assert [c for c in codes if not is_valid_agency_code(c)] == []


def test_my_number_vectorised_agrees_with_scalar_for_every_remainder_and_digit() -> None:
    rng = random.Random(20261205)
    bases = [f"{rng.randrange(10**11):011d}" for _ in range(1500)]
    remainders = {sum(int(d) * w for d, w in zip(b, MY_NUMBER_WEIGHTS, strict=True)) % 11 for b in bases}
    assert remainders == set(range(11))  # both sides of "0 when r ≤ 1, else 11 − r" are met
    values = [b + str(d) for b in bases for d in range(10)]
    got = (
        pl.DataFrame({"n": values}).select(my_number_valid_expr(pl.col("n")).fill_null(False))["n"].to_list()
    )
    assert got == [is_valid_my_number(v) for v in values]
    assert sum(got) == len(bases)  # exactly one check digit per base
