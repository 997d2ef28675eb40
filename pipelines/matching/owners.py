"""The likely true owner of a number: another row of the extract that holds exactly the
person 住基ネット returned for it.

When a family member's, a twin's or a neighbour's number was keyed into a record, the
person 住基ネット returns for that number is often in the same extract under their own
宛名番号. Naming that 宛名番号 tells staff whose number it is and which two records to
correct together.

"Exactly the registry's 4情報" means the same name (the comparison form: spaces, width and
異体字 folded) and the same birth date, and the same 性別 where the 事務 holds it. The name
is matched in 漢字 or in カナ, since a 外字 (〓) in the registry name hides a character that
the kana still shows. The address is not required (the owner may have moved), but where
several rows qualify, those living at the registry address are preferred. Only cases whose
own person is plainly not the registry person are looked up (``signals.identity_agrees``):
a record of the right person that merely moved has no other owner, even when a namesake
born the same day is in the extract.

Everything is joins on these keys; no row is looked at one by one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import polars as pl

from pipelines.matching.address import parse_addresses
from pipelines.matching.normalize import join_forms, kana_forms, name_forms, whole

#: one candidate row of the extract: who and under which keys
POPULATION_COLUMNS = ("atena_no", "name", "kana", "birth_date", "sex", "address")


@dataclass(frozen=True)
class Population:
    """The people of an extract (``POPULATION_COLUMNS`` but the address) and where their
    addresses are read.

    Only the candidates of a case that has several are placed by their address, so the
    addresses are read for those few when asked, not held for every row of the extract
    (at 10M rows the address column alone was 1.1 GB of the stage's memory).
    """

    people: pl.DataFrame
    addresses: pl.LazyFrame  # atena_no, address

    @classmethod
    def of(cls, rows: pl.DataFrame) -> Population:
        """From a frame of ``POPULATION_COLUMNS``."""
        return cls(rows.drop("address"), rows.lazy().select("atena_no", "address"))

    def address_of(self, atena_nos: pl.Series) -> pl.DataFrame:
        """``atena_no`` and ``address`` of these 宛名番号."""
        return self.addresses.filter(pl.col("atena_no").is_in(atena_nos.implode())).collect()


def population_from_extract(extract_records: pl.DataFrame | pl.LazyFrame) -> Population:
    """Every row of the extract that names a person (点検対象, 対象外, and 要修正 rows
    whose name and birth date could be read). A lazy extract is read for these columns only,
    and for the addresses again when they are asked for."""
    named = extract_records.lazy().filter(
        pl.col("atena_no").is_not_null() & pl.col("birth_date").is_not_null()
    )
    people = named.select(
        "atena_no",
        "name",
        pl.col("name_kana").alias("kana"),
        "birth_date",
        "sex",
    ).collect()
    return Population(people, named.select("atena_no", "address"))


def population_from_graded(graded: pl.DataFrame) -> pl.DataFrame:
    """The business side of graded records (``biz_*`` columns) as a population: for callers
    without the whole extract (its 点検対象 rows are then the only candidates)."""
    return graded.select(
        "atena_no",
        pl.col("biz_name").alias("name"),
        pl.col("biz_kana").alias("kana"),
        pl.col("biz_birth_date").alias("birth_date"),
        pl.col("biz_sex").alias("sex"),
        pl.col("biz_address").alias("address"),
    )


def find_owners(
    cases: pl.DataFrame,
    population: pl.DataFrame | Population,
    *,
    itaiji: Mapping[str, str],
    kana_width: Mapping[str, str],
    kana_folded: Mapping[str, str],
    holds_sex: bool,
) -> pl.DataFrame:
    """``atena_no`` of each case with a ``likely_owner`` (comma-separated when several).

    ``cases`` carries ``atena_no``, ``juki_name_fold``, ``juki_kana_fold``,
    ``juki_birth_date`` and ``juki_sex``; ``population`` is a ``Population`` or a frame of
    ``POPULATION_COLUMNS``.
    """
    if isinstance(population, pl.DataFrame):
        population = Population.of(population)
    same = ["birth_date", "sex"] if holds_sex else ["birth_date"]
    wanted = cases.select(
        "atena_no",
        pl.col("juki_name_fold").alias("name"),
        pl.col("juki_kana_fold").alias("kana"),
        pl.col("juki_birth_date").alias("birth_date"),
        pl.col("juki_sex").alias("sex"),
    ).filter(pl.col("birth_date").is_not_null())
    empty = pl.DataFrame(schema={"atena_no": pl.String, "likely_owner": pl.String})
    if wanted.height == 0:
        return empty
    # only people born on a date (and of a sex) some case asks about need their names folded
    people = population.people.join(wanted.select(same).unique(), on=same, how="semi")
    if people.height == 0:
        return empty
    people = join_forms(people, name_forms(people["name"], itaiji), "name", "n")
    people = join_forms(people, kana_forms(people["kana"], kana_width, kana_folded), "kana", "k")
    keys = people.select(
        pl.col("atena_no").alias("likely_owner"),
        whole(pl.col("n_parts")).alias("name"),
        whole(pl.col("k_parts")).alias("kana"),
        *same,
    )
    # the same person under either key; a null key (no kana) never matches
    hits = pl.concat(
        [
            wanted.select("atena_no", key, *same)
            .join(keys.select("likely_owner", key, *same), on=[key, *same])
            .select("atena_no", "likely_owner")
            for key in ("name", "kana")
        ]
    )
    hits = hits.filter(pl.col("likely_owner") != pl.col("atena_no")).unique()
    several = pl.len().over("atena_no") > 1
    if "juki_addr_numbers" in cases.columns and hits.filter(several).height:
        hits = pl.concat([hits.filter(~several), _prefer_same_place(hits.filter(several), cases, population)])
    return hits.group_by("atena_no").agg(pl.col("likely_owner").unique().sort().str.join(","))


def _prefer_same_place(hits: pl.DataFrame, cases: pl.DataFrame, population: Population) -> pl.DataFrame:
    """Where a case has several candidates, keep those at the registry address (if any)."""
    place = ("muni", "town_key", "numbers")
    candidates = population.address_of(hits["likely_owner"].unique())
    homes = hits.join(
        candidates.select(pl.col("atena_no").alias("likely_owner"), "address"), on="likely_owner", how="left"
    )
    parsed = parse_addresses(homes["address"].drop_nulls().unique()).select("_address", *place)
    homes = homes.join(parsed, left_on="address", right_on="_address", how="left").join(
        cases.select("atena_no", *[pl.col(f"juki_addr_{p}").alias(f"_juki_{p}") for p in place]),
        on="atena_no",
        how="left",
    )
    same = pl.all_horizontal([pl.col(p).eq(pl.col(f"_juki_{p}")).fill_null(False) for p in place])
    return (
        homes.with_columns(same.alias("_same"))
        .filter(pl.col("_same") | ~pl.col("_same").any().over("atena_no"))
        .select("atena_no", "likely_owner")
    )
