"""What the kizuna snippet sends, to whom and why: the content of the external-transmission notice.

Japan's Telecommunications Business Act (電気通信事業法 第27条の12, 外部送信規律) asks a site that makes the
visitor's browser send information to be told, in a place the visitor can easily find: what is sent, to whom,
and for what purpose. The snippet sends only to the site operator's own kizuna server — no third party
receives anything from it — and the tracking purpose's consent decides whether it sends at all.
The HTTP API renders this list as a public page; a site may link it from its privacy policy.
"""

from __future__ import annotations

from dataclasses import dataclass

from kizuna.config import Settings
from kizuna.privacy.consent import Purpose, default_allows


@dataclass(frozen=True)
class Bilingual:
    """One text in Japanese and in English."""

    ja: str
    en: str

    def in_language(self, lang: str) -> str:
        """The Japanese text for ``ja``, the English one otherwise."""
        return self.ja if lang == "ja" else self.en


@dataclass(frozen=True)
class TransmissionItem:
    """One kind of information the snippet sends: what, to whom, for what."""

    name: Bilingual
    data_sent: Bilingual
    recipient: Bilingual
    purpose: Bilingual

    def in_language(self, lang: str) -> dict[str, str]:
        """The item's four texts in one language, keyed by field name."""
        return {
            "name": self.name.in_language(lang),
            "data_sent": self.data_sent.in_language(lang),
            "recipient": self.recipient.in_language(lang),
            "purpose": self.purpose.in_language(lang),
        }


def _recipient(server: str | None) -> Bilingual:
    where_ja = f"（{server}）" if server else ""
    where_en = f" ({server})" if server else ""
    return Bilingual(
        ja=f"本サイトの運営者が管理する kizuna サーバー{where_ja}。第三者には送信しません。",
        en=f"The kizuna server run by this site's operator{where_en}. Nothing is sent to third parties.",
    )


def _gate(settings: Settings) -> Bilingual:
    if not default_allows(Purpose.TRACKING, settings):
        return Bilingual(
            ja="トラッキングに同意された場合にのみ送信します。",
            en="Sent only after you consent to tracking.",
        )
    return Bilingual(
        ja="トラッキングを拒否された場合は送信しません。",
        en="Not sent once you decline tracking.",
    )


def transmission_notice(settings: Settings, *, server: str | None = None) -> list[TransmissionItem]:
    """The items of the external-transmission notice for this installation.

    ``server`` names the host the snippet sends to (the page's own kizuna server), when known.
    """
    to = _recipient(server)
    gate = _gate(settings)
    days = settings.snippet_cookie_days
    lifetime = Bilingual(ja=f"（保存期間 {days} 日）", en=f" (kept for {days} days)")

    def item(name: Bilingual, sent: Bilingual, purpose: Bilingual) -> TransmissionItem:
        return TransmissionItem(
            name,
            sent,
            to,
            Bilingual(ja=f"{purpose.ja}{gate.ja}", en=f"{purpose.en} {gate.en}"),
        )

    return [
        item(
            Bilingual("匿名ID（ファーストパーティ Cookie）", "Anonymous id (first-party cookie)"),
            Bilingual(
                f"ブラウザごとに発行するランダムな識別子{lifetime.ja}、初回訪問かどうか",
                f"A random identifier issued per browser{lifetime.en}, and whether this is a first visit",
            ),
            Bilingual(
                "同じブラウザからの閲覧をまとめ、再訪問を識別するため。",
                "To recognise visits from the same browser and tell first visits from returning ones.",
            ),
        ),
        item(
            Bilingual("ページ閲覧", "Page views"),
            Bilingual(
                "閲覧したページの URL・タイトル・参照元、閲覧日時",
                "The URL, title and referrer of each page viewed, and when",
            ),
            Bilingual(
                "サイトの利用状況を把握し、お客様に合った情報をお届けするため。",
                "To understand how the site is used and to show information that suits you.",
            ),
        ),
        item(
            Bilingual("端末・通信の情報", "Device and connection"),
            Bilingual(
                "IP アドレス、ユーザーエージェント（ブラウザと OS の種類）、言語、画面サイズ",
                "IP address, user agent (browser and operating system), language, screen size",
            ),
            Bilingual(
                "不正な送信の防止と、閲覧環境に合わせた表示のため。",
                "To prevent abuse and to fit the display to your device.",
            ),
        ),
        item(
            Bilingual("サイト内での行動", "Actions on the site"),
            Bilingual(
                "商品の閲覧、カートへの追加、購入などの操作と、その商品・金額",
                "Actions such as viewing a product, adding to the cart and ordering, with the products "
                "and amounts",
            ),
            Bilingual(
                "おすすめ商品の表示、キャンペーンの効果測定のため。",
                "To recommend products and to measure campaigns.",
            ),
        ),
        item(
            Bilingual("会員情報", "Member details"),
            Bilingual(
                "ログインまたは会員登録したときの会員 ID と、入力されたメールアドレス・氏名などの属性",
                "Your member id when you log in or sign up, and details you entered such as email and name",
            ),
            Bilingual(
                "閲覧履歴と会員情報を結び付け、お客様ごとのご案内を行うため。",
                "To connect browsing with your membership and contact you personally.",
            ),
        ),
        TransmissionItem(
            Bilingual("同意の選択", "Consent choices"),
            Bilingual(
                "利用目的ごとの同意・拒否・撤回と、その日時",
                "Your grant, refusal or withdrawal per purpose, and when",
            ),
            to,
            Bilingual(
                "お客様の選択を記録し、それに従ってデータを扱うため（選択の記録のみ送信します）。",
                "To record your choices and handle your data accordingly (only the choice is sent).",
            ),
        ),
    ]
