"""The bundled seed data, and how a bad entity CSV is refused: file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from registry import SeedData, SeedDataError, load_seed_data
from registry.errors import NotFound
from registry.paths import SEEDS_DIR

HEADER = "name,sectors,province,zone,provenance,source,note,pilot_title\n"
NAMED_IN_PRESS = {"SAIC-GM-Wuling", "CNOOC", "Beijing Gas Group", "ICBC", "Haier", "China State Shipbuilding",
                  "Ningbo-Zhoushan Port", "Aisino", "Guizhou Province", "Guizhou Normal University"}


def test_bundled_counts(seed_data: SeedData) -> None:
    assert len(seed_data.zones) == 15
    assert len(seed_data.sectors) == 16
    assert len(seed_data.entities) == 164
    assert len(seed_data.pilots) >= len(seed_data.entities)
    assert {p.entity_index for p in seed_data.pilots} == set(range(164))  # at least one pilot each


def test_zones_are_the_fifteen_announced(seed_data: SeedData) -> None:
    assert [z.name for z in seed_data.zones] == [
        "Beijing", "Shanghai", "Chongqing", "Xiong'an New Area", "Wuxi", "Hangzhou", "Fuzhou", "Ganzhou", "Weifang",
        "Changsha", "Guangzhou", "Baise", "Haikou", "Chengdu", "Guiyang"]
    assert all(z.name_zh and z.provenance == "reported" for z in seed_data.zones)


def test_sectors_carry_chinese_names_and_four_categories(seed_data: SeedData) -> None:
    assert all(s.name_zh for s in seed_data.sectors)
    assert {s.category for s in seed_data.sectors} == {"real-economy", "social-governance", "livelihood", "fintech"}
    assert seed_data.sector_id("healthcare") == seed_data.sector_id("Healthcare")


def test_provenance_is_labelled(seed_data: SeedData) -> None:
    reported = {e.name for e in seed_data.entities if e.provenance == "reported"}
    assert reported == NAMED_IN_PRESS
    assert all(e.source for e in seed_data.entities if e.provenance == "reported")
    assert sum(e.provenance == "synthetic" for e in seed_data.entities) == 164 - len(NAMED_IN_PRESS)


def test_every_zone_hosts_entities(seed_data: SeedData) -> None:
    hosted = {e.zone for e in seed_data.entities}
    assert hosted == {z.code for z in seed_data.zones}


def test_names_resolve_in_any_spelling_and_suggest_when_unknown(seed_data: SeedData) -> None:
    assert seed_data.zone_id("xiongan") == seed_data.zone_id("Xiong'an New Area") == 4
    with pytest.raises(NotFound, match=r"unknown zone 'Chengdo'; did you mean 'Chengdu'"):
        seed_data.zone_id("Chengdo")


def write(tmp_path: Path, body: str, header: str = HEADER) -> Path:
    path = tmp_path / "entities.csv"
    path.write_text(header + body, encoding="utf-8")
    return path


def test_a_custom_entity_list_replaces_the_bundled_one(tmp_path: Path) -> None:
    path = write(tmp_path, "Acme Health,healthcare;education,Sichuan,Chengdu,synthetic,,,Acme records pilot\n"
                           "Beijing Ledger Co,Trade finance,Beijing,beijing,reported,My own list,,\n")
    data = load_seed_data(path)
    assert [e.name for e in data.entities] == ["Acme Health", "Beijing Ledger Co"]
    assert data.entities[0].sectors == ["healthcare", "education"]
    assert data.entities[1].zone == "beijing" and data.entities[1].sectors == ["trade-finance"]
    assert [p.title for p in data.pilots] == ["Acme records pilot", "Trade finance pilot"]
    assert data.entities_source == str(path)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("A,healthcare,Sichuan,Chengdoo,synthetic,,,\n", r":2: field 'zone': unknown zone 'Chengdoo'; did you mean"),
        ("A,helthcare,Sichuan,Chengdu,synthetic,,,\n", r":2: field 'sectors': unknown sector 'helthcare'"),
        ("A,healthcare,Sichuan,Chengdu,rumoured,,,\n", r":2: field 'provenance': Input should be 'reported' or"),
        ("A,healthcare,Sichuan,Chengdu,reported,,,\n", r":2: field 'row': .*a reported entity needs a source"),
        (",healthcare,Sichuan,Chengdu,synthetic,,,\n", r":2: field 'name': String should have at least 1"),
        ("A,,Sichuan,Chengdu,synthetic,,,\n", r":2: field 'sectors': List should have at least 1 item"),
        ("A,healthcare,Sichuan,Chengdu,synthetic,,,\nA,energy,Beijing,Beijing,synthetic,,,\n",
         r":3: field 'name': 'A' already on line 2"),
        ("A,healthcare,Sichuan,Chengdu,synthetic,,,,extra\n", r":2: more fields than the header has"),
        ("A,healthcare,Sichuan\n", r":2: field 'zone': missing \(row too short\)"),
        ("A,healthcare,Sichuan,Chengdu,synthetic,,," + "x" * 70 + "\n", r":2: field 'pilot_title': longer than 64"),
    ],
)
def test_bad_rows_name_file_line_and_field(tmp_path: Path, body: str, expected: str) -> None:
    path = write(tmp_path, body)
    with pytest.raises(SeedDataError, match=str(path).replace(".", r"\.") + expected):
        load_seed_data(path)


def test_missing_columns_missing_file_and_empty_file(tmp_path: Path) -> None:
    with pytest.raises(SeedDataError, match=r"missing column\(s\) zone, provenance"):
        load_seed_data(write(tmp_path, "A,energy,Beijing\n", header="name,sectors,province\n"))
    with pytest.raises(SeedDataError, match="cannot read"):
        load_seed_data(tmp_path / "nope.csv")
    with pytest.raises(SeedDataError, match="empty file"):
        load_seed_data(write(tmp_path, "", header=""))
    with pytest.raises(SeedDataError, match="no entities"):
        load_seed_data(write(tmp_path, ""))
    latin1 = "Caf\xe9,energy,Beijing,Beijing,synthetic,,,\n".encode("latin-1")
    (tmp_path / "latin1.csv").write_bytes(HEADER.encode() + latin1)
    with pytest.raises(SeedDataError, match="not UTF-8"):
        load_seed_data(tmp_path / "latin1.csv")


def test_bundled_csv_is_what_the_generator_makes() -> None:
    import subprocess
    import sys

    made = subprocess.run([sys.executable, str(SEEDS_DIR / "make_entities.py")], capture_output=True, text=True,
                          check=True).stdout
    assert made == (SEEDS_DIR / "entities.csv").read_text(encoding="utf-8")
