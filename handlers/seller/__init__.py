"""The seller's side: decisions on offers, return inspections, marking work done, answers,
and the list of what waits for a decider."""
