"""kizuna (絆): one-to-one marketing, from each customer's data to every channel."""

__version__ = "0.1.0"
