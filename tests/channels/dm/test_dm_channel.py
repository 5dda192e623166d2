"""The direct mail channel passes the channel contract: pieces spooled as PDF files named by key."""

from __future__ import annotations

from pathlib import Path

import pytest
from channel_contract import ChannelContract
from dm_seed import BASE, SECRET

from kizuna.channels.base import Channel
from kizuna.channels.dm.channel import DirectMailChannel, key_of, spool_name
from kizuna.channels.registry import make_channel
from kizuna.config import Settings
from kizuna.errors import ConfigError


class TestDirectMailContract(ChannelContract):
    template = "postcard"

    @pytest.fixture(autouse=True)
    def _spool(self, tmp_path: Path) -> None:
        self.spool = tmp_path / "spool"

    def make(self) -> Channel:
        return DirectMailChannel(spool_dir=self.spool, public_base_url=BASE, link_secret=SECRET)

    def delivered_keys(self) -> list[str]:
        files = sorted(self.spool.glob("*.pdf"), key=lambda p: (p.stat().st_mtime_ns, p.name))
        return [key_of(p.name) for p in files]

    def make_failing(self) -> list[Channel]:
        blocked = self.spool.parent / "not-a-folder"
        blocked.write_text("a file where the spool folder should be")
        return [DirectMailChannel(spool_dir=blocked, public_base_url=BASE, link_secret=SECRET)]


def test_spool_names_are_safe_and_reversible() -> None:
    key = "dm:spring/sale:42"
    assert "/" not in spool_name(key) and ":" not in spool_name(key)
    assert key_of(spool_name(key)) == key


def test_sending_again_writes_the_same_file(tmp_path: Path) -> None:
    from channel_contract import NOW, RECIPIENT, sample_delivery

    from kizuna.channels.base import RenderContext

    channel = DirectMailChannel(spool_dir=tmp_path, public_base_url=BASE, link_secret=SECRET)
    rendered = channel.render(sample_delivery("direct_mail", "postcard"), RECIPIENT, RenderContext(NOW, "w"))
    channel.send(rendered)
    channel.send(rendered)
    [only] = list(tmp_path.iterdir())
    assert only.read_bytes() == rendered.body


def test_the_dispatcher_gets_direct_mail_only_with_a_spool_folder(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="KIZUNA_DM_SPOOL_DIR"):
        make_channel("direct_mail", Settings(public_base_url=BASE, link_secret=SECRET))
    made = make_channel(
        "direct_mail", Settings(public_base_url=BASE, link_secret=SECRET, dm_spool_dir=tmp_path)
    )
    assert made.name == "direct_mail" and made.purpose == "direct_mail"
