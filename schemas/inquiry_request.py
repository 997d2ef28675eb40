"""住基照会要求 (inquiry_request): F2 個人番号検索要求CSV and the request records.

Grain of ``InquiryRequests``: one row per 点検対象 record sent to 住基ネット (two 宛名番号
holding the same 個人番号 give two rows; that duplicate is itself a finding).
"""

from __future__ import annotations

import pandera.polars as pa

#: F2 has no header; these are its fields, in order
F2_FIELDS = ("照会番号", "個人番号")
#: 照会番号 (contract: 10 digits, zero-padded) = the round's tag (3 digits) + a sequence
#: within the round (7 digits, from 0000001): 0260000001 is the first number of round 2026.
#: The tag tells one round's requests from another's (``pipelines.stages.inquiry_request``).
INQUIRY_NO_DIGITS = 10
ROUND_TAG_DIGITS = 3
SEQUENCE_DIGITS = INQUIRY_NO_DIGITS - ROUND_TAG_DIGITS
#: the tag of numbers given before rounds had tags (0000000001, …) and of numbers made
#: outside a tenken home (tests, the simulator)
LEGACY_TAG = "0" * ROUND_TAG_DIGITS


class InquiryRequests(pa.DataFrameModel):
    round_id: str
    extract_id: str
    inquiry_no: str = pa.Field(unique=True, str_matches=r"^\d{10}$", description="照会番号（10桁）")
    atena_no: str = pa.Field(unique=True, description="宛名番号")
    my_number: str = pa.Field(str_matches=r"^\d{12}$", description="個人番号（特定個人情報）")
    request_file: str = pa.Field(description="この行を載せた F2 ファイル名")

    class Config:
        strict = True
