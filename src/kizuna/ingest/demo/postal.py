"""Japan's prefectures for the demo store: population weights, postal-code ranges and a few real cities.

Postal-code ranges follow Japan Post's allocation of the first three digits. Hokkaido owns 001-009 and
040-099: the 010-039 block in between belongs to Akita, Iwate and Aomori. Population figures are the 2020
census in units of 10,000 people and only weight how often each prefecture is drawn.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Prefecture:
    """One prefecture: its name, 2020 population (10,000s), postal-code prefix ranges and some cities."""

    name: str
    population: int
    ranges: tuple[tuple[int, int], ...]
    cities: tuple[str, ...]


def _p(name: str, population: int, ranges: str, cities: str) -> Prefecture:
    spans = tuple((int(lo), int(hi)) for lo, hi in (part.split("-") for part in ranges.split(",")))
    return Prefecture(name, population, spans, tuple(cities.split()))


PREFECTURES: tuple[Prefecture, ...] = (
    _p("北海道", 522, "001-009,040-099", "札幌市中央区 札幌市北区 旭川市 函館市 帯広市 釧路市"),
    _p("青森県", 124, "030-039", "青森市 弘前市 八戸市"),
    _p("岩手県", 121, "020-029", "盛岡市 一関市 奥州市"),
    _p("宮城県", 230, "980-989", "仙台市青葉区 仙台市泉区 石巻市 名取市"),
    _p("秋田県", 96, "010-019", "秋田市 横手市 大仙市"),
    _p("山形県", 107, "990-999", "山形市 米沢市 鶴岡市"),
    _p("福島県", 183, "960-979", "福島市 郡山市 いわき市 会津若松市"),
    _p("茨城県", 287, "300-319", "水戸市 つくば市 日立市 土浦市"),
    _p("栃木県", 193, "320-329", "宇都宮市 小山市 日光市 那須塩原市"),
    _p("群馬県", 194, "370-379", "前橋市 高崎市 太田市 伊勢崎市"),
    _p("埼玉県", 734, "330-369", "さいたま市浦和区 さいたま市大宮区 川口市 川越市 所沢市 越谷市"),
    _p("千葉県", 628, "260-299", "千葉市中央区 船橋市 松戸市 柏市 市川市 浦安市 八千代市"),
    _p(
        "東京都",
        1405,
        "100-208",
        "千代田区 中央区 港区 新宿区 文京区 台東区 世田谷区 渋谷区 杉並区 練馬区 江東区 "
        "品川区 大田区 足立区 八王子市 町田市 武蔵野市 三鷹市 調布市 立川市",
    ),
    _p(
        "神奈川県",
        924,
        "210-259",
        "横浜市港北区 横浜市青葉区 横浜市中区 川崎市中原区 川崎市高津区 相模原市中央区 藤沢市 "
        "鎌倉市 横須賀市 茅ヶ崎市",
    ),
    _p("新潟県", 220, "940-959", "新潟市中央区 長岡市 上越市"),
    _p("富山県", 103, "930-939", "富山市 高岡市 射水市"),
    _p("石川県", 113, "920-929", "金沢市 白山市 小松市"),
    _p("福井県", 77, "910-919", "福井市 坂井市 敦賀市"),
    _p("山梨県", 81, "400-409", "甲府市 甲斐市 富士吉田市"),
    _p("長野県", 205, "380-399", "長野市 松本市 上田市 軽井沢町"),
    _p("岐阜県", 198, "500-509", "岐阜市 大垣市 各務原市 高山市"),
    _p("静岡県", 363, "410-439", "静岡市葵区 浜松市中区 沼津市 富士市"),
    _p("愛知県", 754, "440-499", "名古屋市中区 名古屋市千種区 豊田市 岡崎市 一宮市 豊橋市"),
    _p("三重県", 177, "510-519", "津市 四日市市 鈴鹿市 伊勢市"),
    _p("滋賀県", 141, "520-529", "大津市 草津市 彦根市"),
    _p("京都府", 258, "600-629", "京都市中京区 京都市左京区 宇治市 長岡京市"),
    _p("大阪府", 884, "530-599", "大阪市北区 大阪市中央区 堺市堺区 豊中市 吹田市 高槻市 枚方市 東大阪市"),
    _p("兵庫県", 547, "650-679", "神戸市中央区 神戸市東灘区 姫路市 西宮市 尼崎市 明石市"),
    _p("奈良県", 132, "630-639", "奈良市 橿原市 生駒市"),
    _p("和歌山県", 92, "640-649", "和歌山市 田辺市 橋本市"),
    _p("鳥取県", 55, "680-689", "鳥取市 米子市 倉吉市"),
    _p("島根県", 67, "690-699", "松江市 出雲市 浜田市"),
    _p("岡山県", 189, "700-719", "岡山市北区 倉敷市 津山市"),
    _p("広島県", 280, "720-739", "広島市中区 広島市南区 福山市 呉市 東広島市"),
    _p("山口県", 134, "740-759", "山口市 下関市 宇部市 周南市"),
    _p("徳島県", 72, "770-779", "徳島市 阿南市 鳴門市"),
    _p("香川県", 95, "760-769", "高松市 丸亀市 坂出市"),
    _p("愛媛県", 133, "790-799", "松山市 今治市 新居浜市"),
    _p("高知県", 69, "780-789", "高知市 南国市 四万十市"),
    _p("福岡県", 514, "800-839", "福岡市中央区 福岡市博多区 北九州市小倉北区 久留米市 飯塚市"),
    _p("佐賀県", 81, "840-849", "佐賀市 唐津市 鳥栖市"),
    _p("長崎県", 131, "850-859", "長崎市 佐世保市 諫早市"),
    _p("熊本県", 174, "860-869", "熊本市中央区 八代市 天草市"),
    _p("大分県", 112, "870-879", "大分市 別府市 中津市"),
    _p("宮崎県", 107, "880-889", "宮崎市 都城市 延岡市"),
    _p("鹿児島県", 159, "890-899", "鹿児島市 霧島市 鹿屋市"),
    _p("沖縄県", 147, "900-909", "那覇市 沖縄市 浦添市 宜野湾市"),
)

#: Prefecture name → its record.
BY_NAME: dict[str, Prefecture] = {p.name: p for p in PREFECTURES}

_WEIGHTS = np.array([p.population for p in PREFECTURES], dtype=float)
_WEIGHTS /= _WEIGHTS.sum()


def prefix_in_range(prefecture: str, postal_code: str) -> bool:
    """Whether ``postal_code`` ("NNN-NNNN") starts with a three-digit prefix allocated to ``prefecture``."""
    first = int(postal_code[:3])
    return any(lo <= first <= hi for lo, hi in BY_NAME[prefecture].ranges)


def draw_prefectures(rng: np.random.Generator, n: int) -> np.ndarray:
    """Indices into :data:`PREFECTURES` for ``n`` people, weighted by population."""
    return rng.choice(len(PREFECTURES), size=n, p=_WEIGHTS)


def draw_postal_codes(rng: np.random.Generator, prefectures: np.ndarray) -> list[str]:
    """A "NNN-NNNN" postal code per person, its first three digits inside the prefecture's ranges."""
    spans = rng.random(len(prefectures))
    tails = rng.integers(0, 10_000, size=len(prefectures))
    codes: list[str] = []
    for index, u, tail in zip(prefectures.tolist(), spans.tolist(), tails.tolist(), strict=True):
        ranges = PREFECTURES[index].ranges
        size = sum(hi - lo + 1 for lo, hi in ranges)
        offset = int(u * size)
        for lo, hi in ranges:
            if offset <= hi - lo:
                codes.append(f"{lo + offset:03d}-{tail:04d}")
                break
            offset -= hi - lo + 1
    return codes


def draw_cities(rng: np.random.Generator, prefectures: np.ndarray) -> list[str]:
    """A real city (or ward) of each person's prefecture."""
    picks = rng.random(len(prefectures))
    return [
        PREFECTURES[p].cities[int(u * len(PREFECTURES[p].cities))]
        for p, u in zip(prefectures.tolist(), picks.tolist(), strict=True)
    ]
