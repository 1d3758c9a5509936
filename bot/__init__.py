"""ReturnDesk: a customer-service chatbot for e-commerce sellers."""

__version__ = "0.1.0"
