"""Clients of the marketplaces' own APIs (docs/ozon.md). They know HTTP and the marketplace's
shapes, nothing of ReturnDesk's database or conversations."""
