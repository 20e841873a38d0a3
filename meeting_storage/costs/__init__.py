"""What storing meetings costs: pure arithmetic over dated AWS prices (Decimal, no I/O)."""
