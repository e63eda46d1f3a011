"""Regenerate entities.csv: the entities named in the press, then synthetic rows up to 164.

Per-sector counts of the real 164 are not public. Assumption (documented, configurable by loading
another CSV with `--entities`): the 16 sectors get 11, 11, 11, 11, then 10 each (4*11 + 12*10 =
164), counting the reported rows; synthetic rows go round-robin over the 15 zones so every zone
hosts 10 or 11 entities. Run: python seeds/make_entities.py > seeds/entities.csv
"""

import csv
import sys
from pathlib import Path

HERE = Path(__file__).parent
TOTAL = 164
REPORTED = [
    # name, sectors, province, zone, source, note
    ("SAIC-GM-Wuling", "manufacturing", "Guangxi", "baise", "Reuters, 31 Jan 2022", ""),
    ("CNOOC", "energy", "Beijing", "beijing", "Reuters, 31 Jan 2022", "sector assumed from its business"),
    ("Beijing Gas Group", "energy", "Beijing", "beijing", "Reuters, 31 Jan 2022", "sector assumed from its business"),
    ("ICBC", "trade-finance;cross-border-finance", "Beijing", "beijing", "Reuters, 31 Jan 2022",
     "sectors assumed from its business"),
    ("Haier", "manufacturing", "Shandong", "weifang", "Global Times, shortlist Dec 2021", ""),
    ("China State Shipbuilding", "manufacturing", "Shanghai", "shanghai", "Global Times, shortlist Dec 2021", ""),
    ("Ningbo-Zhoushan Port", "trade-finance", "Zhejiang", "hangzhou", "Global Times, shortlist Dec 2021",
     "sector assumed from its business"),
    ("Aisino", "taxation", "Beijing", "beijing", "Global Times, shortlist Dec 2021",
     "sector assumed from its business"),
    ("Guizhou Province", "healthcare", "Guizhou", "guiyang", "press reports of the final list, Feb 2022", ""),
    ("Guizhou Normal University", "education", "Guizhou", "guiyang", "press reports of the final list, Feb 2022", ""),
]


def main() -> None:
    with open(HERE / "sectors.csv", encoding="utf-8") as handle:
        sectors = list(csv.DictReader(handle))
    with open(HERE / "zones.csv", encoding="utf-8") as handle:
        zones = list(csv.DictReader(handle))
    quota = {s["code"]: (11 if i < 4 else 10) for i, s in enumerate(sectors)}
    assert sum(quota.values()) == TOTAL
    per_zone = {z["code"]: 0 for z in zones}
    rows = []
    for name, sector_codes, province, zone, source, note in REPORTED:
        quota[sector_codes.split(";")[0]] -= 1
        per_zone[zone] += 1
        rows.append([name, sector_codes, province, zone, "reported", source, note, ""])
    zone_cycle = 0
    for sector in sectors:
        for n in range(quota[sector["code"]]):
            # next zone with the fewest entities, in list order: an even spread
            zone = min(zones, key=lambda z: (per_zone[z["code"]], (zones.index(z) - zone_cycle) % len(zones)))
            zone_cycle = (zones.index(zone) + 1) % len(zones)
            per_zone[zone["code"]] += 1
            name = f"{zone['name']} {sector['name'].split(' and ')[0].lower()} pilot {n + 1:02d}"
            rows.append([name, sector["code"], zone["province"], zone["code"], "synthetic", "",
                         "placeholder: the official list is not public in this form", ""])
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(["name", "sectors", "province", "zone", "provenance", "source", "note", "pilot_title"])
    writer.writerows(rows)


if __name__ == "__main__":
    main()
