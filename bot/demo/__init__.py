"""The demo shop and its two scripted cases."""

from pathlib import Path

DEMO_ORDERS = Path(__file__).parent / "orders.json"
