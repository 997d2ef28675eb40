"""Check digits of 個人番号 and 地方公共団体コード, scalar and vectorised.

個人番号 (平成26年総務省令第85号 第5条): with the 11 base digits weighted 6 5 4 3 2 7 6 5 4 3 2
from the left, r = Σ mod 11 and the check digit is 0 when r ≤ 1, else 11 − r.

地方公共団体コード (JIS X 0402 + 検査数字): the 5 digits weighted 6 5 4 3 2, r = Σ mod 11,
check = (11 − r) mod 10 (so r = 0 gives 1 and r = 1 gives 0).
"""

from __future__ import annotations

import polars as pl

MY_NUMBER_WEIGHTS = (6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2)
AGENCY_WEIGHTS = (6, 5, 4, 3, 2)


def my_number_check_digit(base11: str) -> int:
    r = sum(int(d) * w for d, w in zip(base11, MY_NUMBER_WEIGHTS, strict=True)) % 11
    return 0 if r <= 1 else 11 - r


def is_valid_my_number(value: str) -> bool:
    """12 ASCII digits with a correct check digit (full-width digits are refused)."""
    return (
        len(value) == 12
        and value.isascii()
        and value.isdigit()
        and my_number_check_digit(value[:11]) == int(value[11])
    )


def with_my_number_check_digit(base11: str) -> str:
    return base11 + str(my_number_check_digit(base11))


def agency_check_digit(base5: str) -> int:
    r = sum(int(d) * w for d, w in zip(base5, AGENCY_WEIGHTS, strict=True)) % 11
    return (11 - r) % 10


def is_valid_agency_code(value: str) -> bool:
    return (
        len(value) == 6
        and value.isascii()
        and value.isdigit()
        and agency_check_digit(value[:5]) == int(value[5])
    )


def _weighted_mod11(column: pl.Expr, weights: tuple[int, ...]) -> pl.Expr:
    digits = [column.str.slice(i, 1).cast(pl.Int32, strict=False) * w for i, w in enumerate(weights)]
    return pl.sum_horizontal(digits) % 11


def my_number_valid_expr(column: pl.Expr) -> pl.Expr:
    """True where ``column`` is 12 ASCII digits with a correct check digit; null stays null."""
    r = _weighted_mod11(column, MY_NUMBER_WEIGHTS)
    # 0 when r ≤ 1, else 11 − r, as arithmetic: a when/then chain doubled the cost at 1M rows
    check = (11 - r) % 11 % 10
    return column.str.contains(r"^[0-9]{12}$") & (
        check == column.str.slice(11, 1).cast(pl.Int32, strict=False)
    )


def agency_code_valid_expr(column: pl.Expr) -> pl.Expr:
    r = _weighted_mod11(column, AGENCY_WEIGHTS)
    return column.str.contains(r"^[0-9]{6}$") & (
        (11 - r) % 10 == column.str.slice(5, 1).cast(pl.Int32, strict=False)
    )
