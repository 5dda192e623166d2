"""Channels: the interface every channel implements (:mod:`.base`), the dispatcher that sends the outbox
(:mod:`.dispatch`), the channels that can send (:mod:`.registry`), and one module per channel."""
