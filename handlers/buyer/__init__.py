"""The buyer's side: the menu, picking an order, describing a problem, returns, cancellations,
and answering offers."""
