"""Pure domain rules: money, durations, policy and offers. No I/O lives here."""
