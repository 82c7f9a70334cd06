"""Running dbt projects as they stand: what differs from a stockx project lives here."""
