"""Names, contact details and addresses for one block of demo customers.

Names come from Faker's ja_JP (kanji, kana, romaji) pairs, so the kana always reads the kanji and the
gender matches the given name. Faker supplies only the word lists; every draw is a vectorised numpy draw,
so a million customers cost seconds. Emails live at the reserved example domains and are unique (they end
in the customer's number).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
from faker.providers.address.ja_JP import Provider as _JaAddress
from faker.providers.person.ja_JP import Provider as _JaPerson

from kizuna.ingest.demo.postal import PREFECTURES, draw_cities, draw_postal_codes, draw_prefectures

FEMALE, MALE = "female", "male"
EMAIL_DOMAINS = ("example.jp", "example.com", "example.net")
_DOMAIN_WEIGHTS = (0.5, 0.3, 0.2)
MOBILE_PREFIXES = ("090", "080", "070")
_MOBILE_WEIGHTS = (0.5, 0.4, 0.1)

_LAST: list[tuple[str, str, str]] = list(_JaPerson.last_name_pairs.keys())
_LAST_WEIGHTS = np.array(list(_JaPerson.last_name_pairs.values()), dtype=float)
_LAST_WEIGHTS /= _LAST_WEIGHTS.sum()
_FIRST_FEMALE: list[tuple[str, str, str]] = list(_JaPerson.first_name_female_pairs)
_FIRST_MALE: list[tuple[str, str, str]] = list(_JaPerson.first_name_male_pairs)
# Places people live: parks, palaces and office towers are in Faker's town list but have no residents.
_TOWNS: list[str] = [
    t for t in _JaAddress.towns if not any(w in t for w in ("公園", "タワー", "皇居", "外苑"))
]
_BUILDINGS: list[str] = [*_JaAddress.building_names, "メゾン", "レジデンス", "グランハイツ"]


@dataclass
class People:
    """One block's customers, column by column (each list has one entry per customer)."""

    name: list[str]
    name_kana: list[str]
    gender: list[str]
    birth_date: list[str]
    email: list[str]
    phone: list[str]
    postal_code: list[str]
    prefecture: list[str]
    city: list[str]
    address_line1: list[str]
    address_line2: list[str | None]


def _pick(rng: np.random.Generator, n: int, options: list[str]) -> list[str]:
    return [options[i] for i in rng.integers(0, len(options), n).tolist()]


def draw_people(rng: np.random.Generator, numbers: np.ndarray, as_of: date) -> People:
    """Draw the people with customer ``numbers`` (1-based), aged about 18 to 80 on ``as_of``."""
    n = len(numbers)
    female = rng.random(n) < 0.64
    last = rng.choice(len(_LAST), size=n, p=_LAST_WEIGHTS).tolist()
    first_f = rng.integers(0, len(_FIRST_FEMALE), n).tolist()
    first_m = rng.integers(0, len(_FIRST_MALE), n).tolist()
    firsts = [
        _FIRST_FEMALE[f] if is_f else _FIRST_MALE[m]
        for is_f, f, m in zip(female.tolist(), first_f, first_m, strict=True)
    ]
    lasts = [_LAST[i] for i in last]

    # Ages peak in the forties, as for most skincare and food D2C brands.
    age_days = (np.clip(rng.normal(45.0, 13.0, n), 18.0, 80.0) * 365.25).astype(np.int64)
    births = np.datetime64(as_of.isoformat()) - age_days.astype("timedelta64[D]")

    pattern = rng.integers(0, 4, n).tolist()
    domains = rng.choice(len(EMAIL_DOMAINS), size=n, p=_DOMAIN_WEIGHTS).tolist()
    emails = [
        _email(p, f[2].lower(), s[2].lower(), int(num), EMAIL_DOMAINS[d])
        for p, f, s, num, d in zip(pattern, firsts, lasts, numbers.tolist(), domains, strict=True)
    ]
    prefixes = rng.choice(3, size=n, p=_MOBILE_WEIGHTS).tolist()
    middles = rng.integers(1_000, 10_000, n).tolist()
    ends = rng.integers(0, 10_000, n).tolist()
    phones = [
        f"{MOBILE_PREFIXES[p]}-{m:04d}-{e:04d}" for p, m, e in zip(prefixes, middles, ends, strict=True)
    ]

    prefectures = draw_prefectures(rng, n)
    postal = draw_postal_codes(rng, prefectures)
    cities = draw_cities(rng, prefectures)
    towns = _pick(rng, n, _TOWNS)
    # Mostly low chome numbers (0: an address without chome); the numbers feed the customer barcode.
    chome = np.minimum(rng.geometric(0.3, n) - 1, 9)
    ban = rng.integers(1, 31, n).tolist()
    go = rng.integers(1, 26, n).tolist()
    line1 = [
        f"{t}{c}-{b}-{g}" if c else f"{t}{b}-{g}"
        for t, c, b, g in zip(towns, chome.tolist(), ban, go, strict=True)
    ]
    return People(
        name=[f"{s[0]} {f[0]}" for s, f in zip(lasts, firsts, strict=True)],
        name_kana=[f"{s[1]} {f[1]}" for s, f in zip(lasts, firsts, strict=True)],
        gender=[FEMALE if f else MALE for f in female.tolist()],
        birth_date=[str(b) for b in births.tolist()],
        email=emails,
        phone=phones,
        postal_code=postal,
        prefecture=[PREFECTURES[p].name for p in prefectures.tolist()],
        city=cities,
        address_line1=line1,
        address_line2=_buildings(rng, n, lasts, towns),
    )


def _email(pattern: int, first: str, last: str, number: int, domain: str) -> str:
    if pattern == 0:
        local = f"{first}.{last}{number}"
    elif pattern == 1:
        local = f"{last}.{first}{number}"
    elif pattern == 2:
        local = f"{first[0]}{last}{number}"
    else:
        local = f"{first}_{number}"
    return f"{local}@{domain}"


def _buildings(
    rng: np.random.Generator, n: int, lasts: list[tuple[str, str, str]], towns: list[str]
) -> list[str | None]:
    """A building and room for about a third of the people ("コーポ山田 203"); None for houses."""
    flat = (rng.random(n) < 0.35).tolist()
    kinds = rng.integers(0, len(_BUILDINGS), n).tolist()
    owner_named = (rng.random(n) < 0.5).tolist()
    floors = rng.integers(1, 9, n).tolist()
    rooms = rng.integers(1, 8, n).tolist()
    out: list[str | None] = []
    for i in range(n):
        if not flat[i]:
            out.append(None)
            continue
        building = _BUILDINGS[kinds[i]]
        place = lasts[i][0] if owner_named[i] else towns[i]
        out.append(f"{building}{place} {floors[i]}{rooms[i]:02d}")
    return out
